// SPDX-License-Identifier: Apache-2.0
// The file sampler: size and modification time of the files in one place the agent's own config declares
// (evidence.files: a file, or a directory's regular files, not recursive), e.g. the cross-DC toolkit's snapshot
// directory, and every file that appeared, changed or went away between two rounds (file.event samples), so a
// checkpoint written or lost during a failover is placed in time. The wire only names the source.
//
// Contract (what docs/EVIDENCE.md promises):
//   - Every round: one `file` sample per file present (at most kMaxListedFiles, by name), then the `file.event` samples of
//     the changes since the previous round (none in the first round, which only sets the baseline), then one
//     `file.summary`.
//   - A missing path is not an error: zero files (exists 0). A path that exists but cannot be read gives an `error`
//     tag on the summary.
//   - mtime is the kernel's, shifted onto the agent's wall clock (the test clock skew, 0 outside tests).
//   - Plain stat/opendir/readdir/fstatat; symbolic links inside the directory are not followed.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include <fmt/ranges.h>

#include "agent/evidence/sampler.h"
#include "common/clock.h"

namespace xdc::agent::samplers {

namespace {

constexpr size_t kMaxListedFiles = 256;

struct FileSeen {
	int64_t size = 0;
	int64_t mtimeNs = 0;  // agent wall clock
	bool operator==(const FileSeen &) const = default;
};

FileSeen seenOf(const struct stat &st)
{
	// An mtime set beyond what ns since the epoch can hold (touch -d 3000-01-01) is clamped, never overflowed.
	constexpr int64_t kMaxSec = 9'000'000'000;
	const int64_t sec = std::clamp<int64_t>(st.st_mtim.tv_sec, -kMaxSec, kMaxSec);
	return {static_cast<int64_t>(st.st_size), sec * clk::kSec + st.st_mtim.tv_nsec + clk::testSkew()};
}

class FileSampler final : public Sampler {
public:
	FileSampler(const evidence::SamplerSpec &spec, std::string path) : spec_(spec), path_(std::move(path)) {}

	const evidence::SamplerSpec &spec() const override { return spec_; }

	void sample(std::vector<proto::Sample> &out) override
	{
		const int64_t wall = clk::wallNs(), mono = clk::monoNs();
		Listing now = list();
		// A change is seen by the end of the listing, not its start (a file created while the directory is read
		// can be in it): events carry the listing's end, and prev_wall_ns is the previous listing's start.
		const int64_t seenWall = clk::wallNs(), seenMono = clk::monoNs();
		auto base = [&](const char *kind) {
			proto::Sample s;
			s.kind = kind;
			s.source = spec_.name;
			s.wallNs = wall;
			s.monoNs = mono;
			return s;
		};
		for (const auto &[name, f] : now.files) {
			proto::Sample s = base("file");
			s.values["size_bytes"] = static_cast<double>(f.size);
			s.values["mtime_ns"] = static_cast<double>(f.mtimeNs);
			s.tags["file"] = name;
			out.push_back(std::move(s));
		}
		// The changes since the previous round: each lies in (prev_wall_ns, wallNs].
		auto event = [&](const char *what, const std::string &name, const FileSeen &f) {
			proto::Sample e = base("file.event");
			e.wallNs = seenWall;
			e.monoNs = seenMono;
			e.values["prev_wall_ns"] = static_cast<double>(prevWall_);
			e.values["size_bytes"] = static_cast<double>(f.size);
			e.values["mtime_ns"] = static_cast<double>(f.mtimeNs);
			e.tags["event"] = what;
			e.tags["file"] = name;
			out.push_back(std::move(e));
		};
		if (observed_) {
			for (const auto &[name, f] : prev_)
				if (!now.files.count(name))
					event("deleted", name, f);
			for (const auto &[name, f] : now.files) {
				auto it = prev_.find(name);
				if (it == prev_.end())
					event("created", name, f);
				else if (!(it->second == f))
					event("modified", name, f);
			}
		}
		proto::Sample s = base("file.summary");
		s.values["files"] = static_cast<double>(now.files.size());
		s.values["exists"] = now.exists ? 1 : 0;
		s.values["omitted"] = static_cast<double>(now.omitted);
		if (!now.error.empty())
			s.tags["error"] = now.error;
		out.push_back(std::move(s));
		prev_ = std::move(now.files);
		prevWall_ = wall;
		observed_ = true;
	}

private:
	struct Listing {
		std::map<std::string, FileSeen> files; // by base name
		bool exists = false;
		size_t omitted = 0;
		std::string error;
	};

	// The path itself when it is a regular file; a directory's regular files (by name, the first kMaxListedFiles).
	Listing list() const
	{
		Listing l;
		struct stat st{};
		if (::stat(path_.c_str(), &st) != 0) {
			if (errno != ENOENT)
				l.error = fmt::format("{}: {}", path_, std::strerror(errno));
			return l;
		}
		l.exists = true;
		if (S_ISREG(st.st_mode)) {
			const auto slash = path_.rfind('/');
			l.files[path_.substr(slash + 1)] = seenOf(st);
			return l;
		}
		if (!S_ISDIR(st.st_mode)) {
			l.error = fmt::format("{}: neither a regular file nor a directory", path_);
			return l;
		}
		DIR *d = ::opendir(path_.c_str());
		if (!d) {
			l.error = fmt::format("{}: {}", path_, std::strerror(errno));
			return l;
		}
		while (dirent *e = ::readdir(d)) {
			struct stat fst{};
			if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0')))
				continue;
			if (::fstatat(::dirfd(d), e->d_name, &fst, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(fst.st_mode))
				continue; // gone since readdir, or not a regular file
			l.files[e->d_name] = seenOf(fst);
			if (l.files.size() > kMaxListedFiles) { // keep the first by name, in bounded memory
				l.files.erase(std::prev(l.files.end()));
				l.omitted++;
			}
		}
		::closedir(d);
		return l;
	}

	evidence::SamplerSpec spec_;
	std::string path_;
	bool observed_ = false;
	int64_t prevWall_ = 0;
	std::map<std::string, FileSeen> prev_;
};

} // namespace

Result<std::unique_ptr<Sampler>> makeFile(const evidence::SamplerSpec &spec, const SamplerEnv &env)
{
	if (spec.kind != evidence::SamplerKind::File)
		return makeError(Errc::Invalid, "makeFile: a {} spec", evidence::samplerKindName(spec.kind));
	auto it = env.files.find(spec.source);
	if (it == env.files.end()) {
		std::vector<std::string> names;
		for (const auto &kv : env.files)
			names.push_back(kv.first);
		return makeError(Errc::Refused, "source: '{}' is not declared in this agent's config (evidence.files: {})",
				 spec.source, names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")));
	}
	return std::unique_ptr<Sampler>(std::make_unique<FileSampler>(spec, it->second));
}

} // namespace xdc::agent::samplers
