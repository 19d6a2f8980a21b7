// SPDX-License-Identifier: Apache-2.0
// data.tail: complete lines of a configured sink file from an offset (agent/data/sink_tail.h).
#include "agent/data/sink_tail.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/clock.h"

namespace xdc::agent {

namespace {

// Closes the descriptor on every path out.
struct Fd {
	int fd = -1;
	~Fd()
	{
		if (fd >= 0)
			::close(fd);
	}
};

Result<size_t> readAt(int fd, char *buf, size_t n, uint64_t off, const std::string &path)
{
	size_t got = 0;
	while (got < n) {
		const ssize_t r = ::pread(fd, buf + got, n - got, static_cast<off_t>(off + got));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return makeError(Errc::Io, "'{}': read: {}", path, std::strerror(errno));
		}
		if (r == 0)
			break; // shorter than fstat said: a truncation racing with the read; the next call sees it
		got += static_cast<size_t>(r);
	}
	return got;
}

// The offset just after the last '\n' at or before `size`, scanning back in chunks (0 when there is none).
Result<uint64_t> endOfLastLine(int fd, uint64_t size, const std::string &path)
{
	constexpr uint64_t kChunk = 64 * 1024;
	std::string buf;
	uint64_t end = size;
	while (end > 0) {
		const uint64_t start = end > kChunk ? end - kChunk : 0;
		buf.resize(end - start);
		auto got = readAt(fd, buf.data(), buf.size(), start, path);
		if (!got)
			return got.error();
		buf.resize(*got);
		const auto nl = buf.rfind('\n');
		if (nl != std::string::npos)
			return start + nl + 1;
		end = start;
	}
	return uint64_t{0};
}

} // namespace

bool validSinkName(const std::string &name)
{
	if (name.empty() || name.size() > 64)
		return false;
	return std::all_of(name.begin(), name.end(), [](char c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		       c == '-';
	});
}

Result<proto::DataTailReply> tailFile(const std::string &path, const proto::DataTailArgs &args, uint64_t cap)
{
	proto::DataTailReply rep;
	rep.readNs = clk::wallNs();
	Fd f;
	f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (f.fd < 0) {
		if (errno != ENOENT)
			return makeError(Errc::Io, "'{}': {}", path, std::strerror(errno));
		// Not there (yet, or removed): nothing to read; a reader that had read some of it starts again.
		rep.restarted = args.offset > 0 || args.inode != 0;
		return rep;
	}
	struct stat st{};
	if (::fstat(f.fd, &st) != 0)
		return makeError(Errc::Io, "'{}': fstat: {}", path, std::strerror(errno));
	if (!S_ISREG(st.st_mode))
		return makeError(Errc::Invalid, "'{}': not a regular file", path);
	rep.size = static_cast<uint64_t>(st.st_size);
	rep.inode = static_cast<uint64_t>(st.st_ino);
	uint64_t from = args.offset;
	if ((args.inode != 0 && args.inode != rep.inode) || rep.size < args.offset) {
		rep.restarted = true;
		from = 0;
	}
	rep.offset = from;
	if (args.fromEnd) {
		auto end = endOfLastLine(f.fd, rep.size, path);
		if (!end)
			return end.error();
		rep.offset = rep.nextOffset = *end;
		rep.restarted = false;
		return rep;
	}
	const uint64_t limit = std::min(args.maxBytes == 0 ? cap : args.maxBytes, cap);
	const uint64_t want = std::min(rep.size - from, limit);
	rep.nextOffset = from;
	if (want == 0)
		return rep;
	rep.data.resize(want);
	auto got = readAt(f.fd, rep.data.data(), want, from, path);
	if (!got)
		return got.error();
	rep.data.resize(*got);
	const auto nl = rep.data.rfind('\n');
	if (nl == std::string::npos) {
		rep.data.clear();
		// A partial line is normal while the writer is at it; one that fills the whole limit never ends in time.
		if (*got == limit)
			return makeError(Errc::Invalid, "'{}': the line at offset {} is longer than {} bytes", path, from,
					 limit);
		return rep;
	}
	rep.data.resize(nl + 1);
	rep.nextOffset = from + nl + 1;
	return rep;
}

Result<proto::DataTailReply> tailSink(const std::map<std::string, std::string> &sinks, const proto::DataTailArgs &args,
				      uint64_t cap)
{
	const auto it = sinks.find(args.sink);
	if (it == sinks.end()) {
		std::vector<std::string> names;
		for (const auto &kv : sinks)
			names.push_back(kv.first);
		return makeError(Errc::NotFound, "data.tail: no sink '{}' in this agent's data.sinks ({})", args.sink,
				 names.empty() ? std::string("none configured") : fmt::format("{}", fmt::join(names, ", ")));
	}
	auto r = tailFile(it->second, args, cap);
	if (!r)
		return r.error().context(fmt::format("data.tail '{}'", args.sink));
	return r;
}

Result<proto::DataDropReply> dropFile(const std::map<std::string, std::string> &drops, const proto::DataDropArgs &args)
{
	auto it = drops.find(args.drop);
	if (it == drops.end()) {
		std::vector<std::string> names;
		for (const auto &kv : drops)
			names.push_back(kv.first);
		return makeError(Errc::NotFound, "data.drop: no drop directory '{}' here (data.drops: {})", args.drop,
				 names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", ")));
	}
	if (args.data.size() > kDataTailMaxBytes)
		return makeError(Errc::Invalid, "data.drop: {} bytes is more than the {} a drop may hold", args.data.size(),
				 kDataTailMaxBytes);
	if (args.data.empty() || args.data.back() != '\n')
		return makeError(Errc::Invalid, "data.drop: the data must be complete lines");
	if (static_cast<uint64_t>(std::count(args.data.begin(), args.data.end(), '\n')) != args.lines)
		return makeError(Errc::Invalid, "data.drop: the data holds another number of lines than {}", args.lines);
	static std::atomic<uint64_t> counter{0};
	const uint64_t n = ++counter;
	const std::string dir = it->second;
	const std::string tmp = fmt::format("{}/.xdc-drop-{}-{}.tmp", dir, ::getpid(), n);
	proto::DataDropReply rep;
	rep.file = fmt::format("xdc-{}-{}-{}.jsonl", clk::wallNs(), ::getpid(), n);
	const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return makeError(Errc::Io, "data.drop: cannot create a file in '{}': {}", dir, std::strerror(errno));
	size_t off = 0;
	while (off < args.data.size()) {
		const ssize_t w = ::write(fd, args.data.data() + off, args.data.size() - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			const int e = errno;
			::close(fd);
			::unlink(tmp.c_str());
			return makeError(Errc::Io, "data.drop: writing into '{}': {}", dir, std::strerror(e));
		}
		off += static_cast<size_t>(w);
	}
	::fsync(fd);
	::close(fd);
	if (::rename(tmp.c_str(), (dir + "/" + rep.file).c_str()) != 0) {
		const int e = errno;
		::unlink(tmp.c_str());
		return makeError(Errc::Io, "data.drop: renaming into '{}': {}", dir, std::strerror(e));
	}
	rep.bytes = args.data.size();
	rep.droppedNs = clk::wallNs();
	return rep;
}

} // namespace xdc::agent
