// SPDX-License-Identifier: Apache-2.0
// The log sampler: follows the files of one log source that the agent's own config declares (evidence.logs: a file,
// or the files of a directory whose base name matches a glob) and reports each new complete line that matches the
// spec's regex as a `log.line` sample, plus one `log` summary per round, so a Streams PE trace line or a monitor
// program's message is placed in time. The wire only names the source; no path ever comes from it.
//
// Contract (what docs/EVIDENCE.md promises):
//   - The first round only positions: every file that exists then is followed from the end of its last complete line,
//     so only lines completed after the recording began are reported. A file that appears later is read from 0; a
//     file that got shorter than the position or whose inode changed (truncated, or replaced by a rename) is read
//     again from 0.
//   - Only complete lines ('\n'-terminated) are consumed; a partial last line waits for a later round.
//   - One round reads at most kRoundLines lines and kRoundBytes bytes over all files; what is left waits for the next
//     round (nothing is skipped), which starts with the file after the one where the cap struck. Lines longer than
//     kMaxLineBytes are cut to that length (the rest is read and dropped).
//   - Plain open/pread/fstat and opendir/readdir; no shell, no iostreams.
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
// GCC 12 reports a false -Wmaybe-uninitialized inside <regex> when built with sanitizers at -O2.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>

#include <fmt/ranges.h>

#include "agent/evidence/sampler.h"
#include "common/clock.h"

namespace xdc::agent::samplers {

namespace {

constexpr size_t kRoundLines = 2000;                // lines consumed per round, over all files
constexpr uint64_t kRoundBytes = 4u << 20;          // bytes read per round, over all files
constexpr size_t kMaxLineBytes = 8 * 1024;          // longer lines are truncated
constexpr size_t kMaxLineTag = 1000;                // the `line` tag
constexpr size_t kMaxLogFiles = 1024;               // files followed per source
constexpr size_t kLogChunk = 64 * 1024;             // one pread
constexpr size_t kMaxErrorTag = 500;

// A descriptor closed on every way out.
class LogFile {
public:
	explicit LogFile(int fd) : fd_(fd) {}
	~LogFile()
	{
		if (fd_ >= 0)
			::close(fd_);
	}
	LogFile(const LogFile &) = delete;
	LogFile &operator=(const LogFile &) = delete;
	int fd() const { return fd_; }

private:
	int fd_;
};

// pread until n bytes or the end; -1 on an error (errno set).
ssize_t preadFull(int fd, char *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		const ssize_t r = ::pread(fd, buf + got, n - got, static_cast<off_t>(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += static_cast<size_t>(r);
	}
	return static_cast<ssize_t>(got);
}

// At most max bytes of s, not cutting a UTF-8 sequence in two.
std::string clipUtf8(std::string_view s, size_t max)
{
	if (s.size() <= max)
		return std::string(s);
	size_t n = max;
	while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
		n--;
	return std::string(s.substr(0, n));
}

// The files of a directory source, relative to its path: regular files whose base name matches the glob, walking
// subdirectories (never through symbolic links) up to kLogMaxDepth levels when recursive.
void walkLogDir(const LogSourceDef &def, const std::string &rel, int depth, std::vector<std::string> &out,
		std::string &error)
{
	const std::string dir = rel.empty() ? def.path : def.path + "/" + rel;
	DIR *d = ::opendir(dir.c_str());
	if (!d) {
		if (errno != ENOENT && error.empty()) // a missing directory (or one gone since the listing) has no files
			error = fmt::format("{}: {}", dir, std::strerror(errno));
		return;
	}
	std::vector<std::string> subdirs;
	while (dirent *e = ::readdir(d)) {
		const std::string name = e->d_name;
		if (name == "." || name == "..")
			continue;
		struct stat st{};
		if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue; // gone since readdir
		const std::string r = rel.empty() ? name : rel + "/" + name;
		if (S_ISDIR(st.st_mode) && def.recursive && depth < kLogMaxDepth)
			subdirs.push_back(r);
		else if (S_ISREG(st.st_mode) && ::fnmatch(def.glob.c_str(), e->d_name, 0) == 0)
			out.push_back(r);
	}
	::closedir(d);
	for (const auto &s : subdirs)
		walkLogDir(def, s, depth + 1, out, error);
}

// Two to four decimal digits at s[at..at+n).
bool timeDigits(std::string_view s, size_t at, size_t n, int &out)
{
	if (at + n > s.size())
		return false;
	out = 0;
	for (size_t i = at; i < at + n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		out = out * 10 + (s[i] - '0');
	}
	return true;
}

class LogSampler final : public Sampler {
public:
	LogSampler(const evidence::SamplerSpec &spec, LogSourceDef def, std::regex re, bool literal)
		: spec_(spec), def_(std::move(def)), re_(std::move(re)), literal_(literal)
	{
	}

	const evidence::SamplerSpec &spec() const override { return spec_; }

	void sample(std::vector<proto::Sample> &out) override
	{
		Round r;
		r.wall = clk::wallNs();
		r.mono = clk::monoNs();
		std::vector<std::string> files = listFiles(r);
		// Forget the files that are gone: one that comes back is new (read from 0).
		for (auto it = tails_.begin(); it != tails_.end();)
			it = std::binary_search(files.begin(), files.end(), it->first) ? std::next(it) : tails_.erase(it);
		// Fairness under the cap: start with the file after the one where the previous round ran out (the order
		// stays the sorted one, turned around).
		if (!resumeAfter_.empty()) {
			std::rotate(files.begin(), std::upper_bound(files.begin(), files.end(), resumeAfter_), files.end());
			resumeAfter_.clear();
		}
		const size_t firstLine = out.size();
		for (size_t i = 0; i < files.size(); i++) {
			if (r.linesLeft == 0 || r.bytesLeft == 0) { // the previous file used the budget up exactly
				r.capped = true;
				resumeAfter_ = files[i - 1];        // i > 0: the first file starts with the whole budget
				break;
			}
			followFile(files[i], r, out);
			if (r.capped) {
				resumeAfter_ = files[i];
				break;
			}
		}
		// A line is known to be written by the end of the round that read it, not its start: one appended while
		// this round read the files can be read in it. So lines carry the round's end, and their prev_wall_ns is
		// the previous round's start (a line this round read was not there yet when that round read its file).
		const int64_t seenWall = clk::wallNs(), seenMono = clk::monoNs();
		for (size_t i = firstLine; i < out.size(); i++) {
			out[i].wallNs = seenWall;
			out[i].monoNs = seenMono;
		}
		proto::Sample s;
		s.kind = "log";
		s.source = spec_.name;
		s.wallNs = r.wall;
		s.monoNs = r.mono;
		s.values["lines"] = static_cast<double>(r.lines);
		s.values["skipped_lines"] = static_cast<double>(r.skipped);
		s.values["read_bytes"] = static_cast<double>(r.readBytes);
		s.values["files"] = static_cast<double>(files.size());
		s.values["capped"] = r.capped ? 1 : 0;
		if (!r.error.empty())
			s.tags["error"] = clipUtf8(r.error, kMaxErrorTag);
		out.push_back(std::move(s));
		prevWall_ = r.wall;
		started_ = true;
	}

private:
	// Where one file is followed from.
	struct Tail {
		uint64_t dev = 0, ino = 0;
		uint64_t offset = 0;     // the next byte not consumed
		bool inLong = false;     // inside a line longer than kMaxLineBytes (its bytes up to offset are consumed)
		bool dropLong = false;   // ... that began before the recording: not reported
		std::string longPrefix;  // ... its first kMaxLineBytes
	};
	struct Round {
		int64_t wall = 0, mono = 0;
		size_t linesLeft = kRoundLines;
		uint64_t bytesLeft = kRoundBytes;
		uint64_t lines = 0, skipped = 0, readBytes = 0;
		bool capped = false;
		std::string error;
		void fail(const std::string &e)
		{
			if (error.empty())
				error = e;
		}
	};

	// Relative names, sorted: the one file's base name, or the directory's matching files.
	std::vector<std::string> listFiles(Round &r) const
	{
		std::vector<std::string> files;
		if (!def_.directory) {
			struct stat st{};
			if (::stat(def_.path.c_str(), &st) == 0)
				files.push_back(baseName(def_.path));
			else if (errno != ENOENT)
				r.fail(fmt::format("{}: {}", def_.path, std::strerror(errno)));
			return files;
		}
		walkLogDir(def_, "", 0, files, r.error);
		std::sort(files.begin(), files.end());
		if (files.size() > kMaxLogFiles) {
			r.fail(fmt::format("{} files match in {}; only the first {} are followed", files.size(), def_.path,
					   kMaxLogFiles));
			files.resize(kMaxLogFiles);
		}
		return files;
	}

	static std::string baseName(const std::string &p)
	{
		const auto slash = p.rfind('/');
		return slash == std::string::npos ? p : p.substr(slash + 1);
	}

	std::string fullPath(const std::string &rel) const { return def_.directory ? def_.path + "/" + rel : def_.path; }

	void followFile(const std::string &rel, Round &r, std::vector<proto::Sample> &out)
	{
		const std::string path = fullPath(rel);
		LogFile f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
		if (f.fd() < 0) {
			if (errno != ENOENT) // gone since the listing: nothing to read
				r.fail(fmt::format("{}: {}", path, std::strerror(errno)));
			return;
		}
		struct stat st{};
		if (::fstat(f.fd(), &st) != 0) {
			r.fail(fmt::format("{}: fstat: {}", path, std::strerror(errno)));
			return;
		}
		if (!S_ISREG(st.st_mode)) {
			r.fail(fmt::format("{}: not a regular file", path));
			return;
		}
		const uint64_t size = static_cast<uint64_t>(st.st_size);
		auto [it, fresh] = tails_.try_emplace(rel);
		Tail &t = it->second;
		if (fresh || t.dev != st.st_dev || t.ino != st.st_ino || size < t.offset) {
			t = Tail{};
			t.dev = st.st_dev;
			t.ino = st.st_ino;
			if (fresh && !started_) {
				position(f.fd(), size, t);
				return;
			}
		}
		consume(f.fd(), size, rel, t, r, out);
	}

	// The first round: after the last complete line. A line in progress that is already over-long is dropped.
	static void position(int fd, uint64_t size, Tail &t)
	{
		const uint64_t from = size > kMaxLineBytes ? size - kMaxLineBytes : 0;
		std::string buf(size - from, '\0');
		const ssize_t got = preadFull(fd, buf.data(), buf.size(), from);
		const auto nl = got > 0 ? std::string_view(buf.data(), static_cast<size_t>(got)).rfind('\n')
					: std::string_view::npos;
		if (nl != std::string_view::npos) {
			t.offset = from + nl + 1;
		} else if (from == 0) {
			t.offset = 0; // one short line in progress: reported once complete
		} else {
			t.offset = size;
			t.inLong = t.dropLong = true;
		}
	}

	// Reads complete lines from t.offset within the round's budget.
	void consume(int fd, uint64_t size, const std::string &rel, Tail &t, Round &r, std::vector<proto::Sample> &out)
	{
		std::string buf;
		while (t.offset < size) {
			if (r.linesLeft == 0 || r.bytesLeft == 0) {
				r.capped = true;
				return;
			}
			const uint64_t from = t.offset;
			const size_t want = static_cast<size_t>(std::min<uint64_t>({kLogChunk, size - from, r.bytesLeft}));
			buf.resize(want);
			const ssize_t n = preadFull(fd, buf.data(), want, from);
			if (n < 0) {
				r.fail(fmt::format("{}: read: {}", fullPath(rel), std::strerror(errno)));
				return;
			}
			const size_t got = static_cast<size_t>(n);
			if (got == 0)
				return; // shorter than fstat said: truncated while read; the next round sees it
			buf.resize(got);
			r.bytesLeft -= got;
			r.readBytes += got;
			size_t start = 0;
			for (size_t nl; (nl = buf.find('\n', start)) != std::string::npos;) {
				if (t.inLong) {
					if (!t.dropLong)
						emit(rel, t.longPrefix, r, out);
					t = Tail{t.dev, t.ino, t.offset};
				} else {
					emit(rel, std::string_view(buf.data() + start, std::min(nl - start, kMaxLineBytes)), r, out);
				}
				start = nl + 1;
				t.offset = from + start;
				if (--r.linesLeft == 0) {
					r.capped = t.offset < size;
					return;
				}
			}
			const size_t rest = got - start;
			if (t.inLong) {
				t.offset = from + got; // the rest of an over-long line: read, not kept
			} else if (rest >= kMaxLineBytes) {
				t.inLong = true;
				t.longPrefix.assign(buf.data() + start, kMaxLineBytes);
				t.offset = from + got;
			} else if (start == 0 || got < want || from + got >= size) {
				// A partial line at the end of the file (it waits for its newline), a file that shrank while
				// read, or the byte budget spent in the middle of a line.
				if (r.bytesLeft == 0 && from + got < size)
					r.capped = true;
				return;
			}
		}
	}

	bool matches(std::string_view line) const
	{
		if (spec_.lineMatch.empty())
			return true;
		if (literal_)
			return line.find(spec_.lineMatch) != std::string_view::npos;
		return std::regex_search(line.begin(), line.end(), re_);
	}

	void emit(const std::string &rel, std::string_view line, Round &r, std::vector<proto::Sample> &out) const
	{
		if (!line.empty() && line.back() == '\r')
			line.remove_suffix(1);
		if (!matches(line)) {
			r.skipped++;
			return;
		}
		r.lines++;
		proto::Sample s;
		s.kind = "log.line";
		s.source = spec_.name;
		s.wallNs = r.wall;
		s.monoNs = r.mono;
		s.values["prev_wall_ns"] = static_cast<double>(prevWall_);
		if (auto t = parseLineTime(line))
			s.values["line_wall_ns"] = static_cast<double>(*t + clk::testSkew());
		s.tags["file"] = rel;
		s.tags["line"] = clipUtf8(line, kMaxLineTag);
		out.push_back(std::move(s));
	}

	evidence::SamplerSpec spec_;
	LogSourceDef def_;
	std::regex re_;
	bool literal_ = false;           // the match has no regex syntax: a plain substring search
	bool started_ = false;
	int64_t prevWall_ = 0;
	std::map<std::string, Tail> tails_; // by relative name
	std::string resumeAfter_;
};

} // namespace

std::optional<int64_t> parseLineTime(std::string_view s)
{
	int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
	if (!timeDigits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !timeDigits(s, 5, 2, mon) || s[7] != '-' ||
	    !timeDigits(s, 8, 2, day) || s[10] != 'T' || !timeDigits(s, 11, 2, hour) || s[13] != ':' ||
	    !timeDigits(s, 14, 2, min) || s[16] != ':' || !timeDigits(s, 17, 2, sec))
		return std::nullopt;
	size_t i = 19;
	int64_t frac = 0;
	if (s[i] == '.' || s[i] == ',') {
		size_t digits = 0;
		for (i++; i < s.size() && s[i] >= '0' && s[i] <= '9'; i++, digits++)
			if (digits < 9)
				frac = frac * 10 + (s[i] - '0');
		if (digits == 0 || digits > 9)
			return std::nullopt;
		for (; digits < 9; digits++)
			frac *= 10;
	}
	if (i >= s.size())
		return std::nullopt;
	int64_t zoneSec = 0;
	if (s[i] == '+' || s[i] == '-') {
		int zh = 0, zm = 0;
		const size_t mAt = i + 3 < s.size() && s[i + 3] == ':' ? i + 4 : i + 3;
		if (!timeDigits(s, i + 1, 2, zh) || !timeDigits(s, mAt, 2, zm) || zh > 23 || zm > 59)
			return std::nullopt;
		zoneSec = (s[i] == '-' ? -1 : 1) * (zh * 3600 + zm * 60);
	} else if (s[i] != 'Z') {
		return std::nullopt;
	}
	static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
	if (mon < 1 || mon > 12 || day < 1 || day > kDays[mon - 1] + (mon == 2 && leap) || hour > 23 || min > 59 ||
	    sec > 59 || year < 1678 || year > 2261) // the years whose nanoseconds fit in 64 bits
		return std::nullopt;
	struct tm tm{};
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	const int64_t epoch = static_cast<int64_t>(::timegm(&tm)) - zoneSec;
	return epoch * clk::kSec + frac;
}

Result<std::unique_ptr<Sampler>> makeLog(const evidence::SamplerSpec &spec, const SamplerEnv &env)
{
	if (spec.kind != evidence::SamplerKind::Log)
		return makeError(Errc::Invalid, "makeLog: a {} spec", evidence::samplerKindName(spec.kind));
	auto it = env.logs.find(spec.source);
	if (it == env.logs.end()) {
		std::vector<std::string> names;
		for (const auto &kv : env.logs)
			names.push_back(kv.first);
		return makeError(Errc::Refused, "source: '{}' is not declared in this agent's config (evidence.logs: {})",
				 spec.source, names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")));
	}
	std::regex re;
	try {
		if (!spec.lineMatch.empty())
			re = std::regex(spec.lineMatch, std::regex::ECMAScript | std::regex::optimize);
	} catch (const std::regex_error &e) {
		return makeError(Errc::Invalid, "match: invalid regular expression '{}': {}", spec.lineMatch, e.what());
	}
	const bool literal = spec.lineMatch.find_first_of("\\^$.|?*+()[]{}") == std::string::npos;
	return std::unique_ptr<Sampler>(std::make_unique<LogSampler>(spec, it->second, std::move(re), literal));
}

} // namespace xdc::agent::samplers
