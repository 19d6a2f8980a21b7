// SPDX-License-Identifier: Apache-2.0
#include "common/sys/file.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace xdc::sys {

Result<std::string> readFile(const std::string &path, size_t limit)
{
	const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return makeError(errno == ENOENT ? Errc::NotFound : Errc::Io, "{}: {}", path, strerror(errno));
	std::string out;
	char buf[65536];
	while (out.size() < limit) {
		const ssize_t n = ::read(fd, buf, std::min(sizeof buf, limit - out.size()));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			const int e = errno;
			::close(fd);
			return makeError(Errc::Io, "{}: {}", path, strerror(e));
		}
		if (n == 0)
			break;
		out.append(buf, static_cast<size_t>(n));
	}
	::close(fd);
	return out;
}

} // namespace xdc::sys
