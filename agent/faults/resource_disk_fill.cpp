// SPDX-License-Identifier: Apache-2.0
// resource.disk_fill with one preallocated file.
#include "agent/faults/resource_disk_fill.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "agent/faults/undo.h"

namespace xdc::agent {

namespace {

std::optional<std::string> realPath(const std::string &p)
{
	char buf[PATH_MAX];
	if (!::realpath(p.c_str(), buf))
		return std::nullopt;
	return std::string(buf);
}

bool under(const std::string &path, const std::string &dir)
{
	if (dir == "/")
		return true;
	return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
			       path[dir.size()] == '/');
}

struct FsSpace {
	uint64_t total = 0, avail = 0;
};

Result<FsSpace> space(const std::string &dir)
{
	struct statvfs v;
	if (::statvfs(dir.c_str(), &v) != 0)
		return makeError(Errc::Io, "statvfs {}: {}", dir, strerror(errno));
	return FsSpace{static_cast<uint64_t>(v.f_blocks) * v.f_frsize, static_cast<uint64_t>(v.f_bavail) * v.f_frsize};
}

// Zeros, for file systems without fallocate.
Result<void> writeZeros(int fd, uint64_t size)
{
	std::vector<char> zeros(1 << 20, 0);
	uint64_t done = 0;
	while (done < size) {
		const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), size - done));
		const ssize_t w = ::write(fd, zeros.data(), n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return makeError(Errc::Io, "write: {}", strerror(errno));
		}
		done += static_cast<uint64_t>(w);
	}
	return success();
}

} // namespace

ResourceDiskFill::ResourceDiskFill(std::string id, DiskFillParams p) : id_(std::move(id)), p_(std::move(p)) {}

std::string ResourceDiskFill::mechanism() const
{
	return fmt::format("file {} of {} bytes (fallocate, fsync), unlinked on revert", file_, size_);
}

std::vector<std::string> ResourceDiskFill::plan() const
{
	return {fmt::format("open {} O_CREAT|O_EXCL|O_NOFOLLOW", file_), fmt::format("fallocate 0..{}", size_),
		"fsync"};
}

Result<void> ResourceDiskFill::prepare()
{
	auto dir = realPath(p_.path);
	if (!dir)
		return makeError(Errc::Invalid, "path: {}: {}", p_.path, strerror(errno));
	struct stat st;
	if (::stat(dir->c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
		return makeError(Errc::Invalid, "path: {} is not a directory", p_.path);
	// Compared after resolving symlinks on both sides, so a link under an allowed directory cannot lead out of it.
	bool allowed = false;
	for (const auto &a : p_.allow) {
		auto ra = realPath(a);
		if (ra && under(*dir, *ra))
			allowed = true;
	}
	if (!allowed)
		return makeError(Errc::Refused, "path: {} ({}) is not under the agent's allowed directories ({}; agent "
				 "setting faults.disk_fill_allow)", p_.path, *dir, fmt::join(p_.allow, ", "));
	dir_ = *dir;
	file_ = dir_ + "/xdc-fill-" + id_;
	auto sp = space(dir_);
	XDC_TRY(sp);
	if (p_.freePercent >= 0) {
		const auto keep = static_cast<uint64_t>(static_cast<double>(sp->total) * p_.freePercent / 100.0);
		if (sp->avail <= keep)
			return makeError(Errc::Invalid, "free_percent: the file system of {} already has only {:.1f}% "
					 "available (at or below {}%): nothing to fill", dir_,
					 100.0 * static_cast<double>(sp->avail) / static_cast<double>(sp->total),
					 p_.freePercent);
		size_ = sp->avail - keep;
	} else {
		size_ = p_.bytes;
	}
	const char *field = p_.freePercent >= 0 ? "free_percent" : "bytes";
	if (size_ > p_.maxBytes)
		return makeError(Errc::Invalid, "{}: the fill would be {} bytes, over this agent's cap of {} bytes "
				 "(agent setting faults.disk_fill_max)", field, size_, p_.maxBytes);
	if (size_ > sp->avail)
		return makeError(Errc::Invalid, "{}: {} bytes do not fit: the file system of {} has {} bytes available",
				 field, size_, dir_, sp->avail);
	return success();
}

Undo ResourceDiskFill::undo() const { return Undo::array({{{"op", "unlink"}, {"path", file_}}}); }

Result<std::string> ResourceDiskFill::apply()
{
	auto before = space(dir_);
	XDC_TRY(before);
	// A file of this name can only be a leftover of this same fault id (the journal would have removed it).
	(void)::unlink(file_.c_str());
	int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return makeError(Errc::Io, "create {}: {}", file_, strerror(errno));
	auto fail = [&](Error e) -> Result<std::string> {
		::close(fd);
		(void)runUndo(undo());
		return e;
	};
	std::string how = "fallocate";
	if (::fallocate(fd, 0, 0, static_cast<off_t>(size_)) != 0) {
		if (errno != EOPNOTSUPP && errno != ENOSYS)
			return fail(makeError(Errc::Io, "fallocate {} bytes in {}: {}", size_, file_, strerror(errno)));
		how = "written with zeros (no fallocate on this file system)";
		if (auto w = writeZeros(fd, size_); !w)
			return fail(w.error().context(fmt::format("fill {}", file_)));
	}
	if (::fsync(fd) != 0)
		return fail(makeError(Errc::Io, "fsync {}: {}", file_, strerror(errno)));
	struct stat st;
	if (::fstat(fd, &st) != 0)
		return fail(makeError(Errc::Io, "stat {}: {}", file_, strerror(errno)));
	::close(fd);
	fd = -1;
	// Read back: the size, the blocks really allocated, and the file system's available space gone down.
	if (static_cast<uint64_t>(st.st_size) != size_)
		return fail(makeError(Errc::Io, "{} has {} bytes, not {}", file_, st.st_size, size_));
	const uint64_t allocated = static_cast<uint64_t>(st.st_blocks) * 512;
	if (allocated < size_)
		return fail(makeError(Errc::Io, "{} has only {} of {} bytes allocated", file_, allocated, size_));
	auto after = space(dir_);
	if (!after)
		return fail(after.error());
	// Other writers share the file system, so the drop is only required to be most of the file.
	const uint64_t drop = before->avail > after->avail ? before->avail - after->avail : 0;
	if (drop < size_ / 2)
		return fail(makeError(Errc::Io, "available space on {} went from {} to {} bytes; the {}-byte fill does "
				      "not show", dir_, before->avail, after->avail, size_));
	return fmt::format("{}: {} bytes ({} bytes allocated, {}); available {} -> {} bytes ({:.1f}% free)", file_,
			   st.st_size, allocated, how, before->avail, after->avail,
			   100.0 * static_cast<double>(after->avail) / static_cast<double>(after->total));
}

Result<void> ResourceDiskFill::revert() { return runUndo(undo(), &revertEffectiveNs); }

} // namespace xdc::agent
