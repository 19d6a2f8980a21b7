// SPDX-License-Identifier: Apache-2.0
// The process sampler: how many processes a `match:` selects on this host, their CPU and memory, and every pid that
// came or went between two samples (process.event samples), so a crash or relaunch during a recording is placed in
// time.
//
// Which processes: the process.* faults' matcher (agent/faults/process_match.h), with its network-namespace fence,
// so "the processes of this spec" means the same thing to a fault and to the evidence about it. Per-process numbers
// come from one plain read of /proc/PID/stat: utime + stime (field 14, 15) and rss (field 24, the same count of
// resident pages statm shows), checked against the start time (field 22) so a reused pid is never mixed up.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <cstdio>
#include <map>
#include <optional>
#include <string_view>

#include "agent/evidence/sampler.h"
#include "common/clock.h"

namespace xdc::agent::samplers {

namespace {

constexpr size_t kMaxEventCmdline = 200;

struct Usage {
	uint64_t startTime = 0;
	uint64_t ticks = 0;    // utime + stime
	uint64_t rssPages = 0;
};

// /proc/PID/stat through one read() into a stack buffer. nullopt when the process is gone or the text is odd.
std::optional<Usage> readUsage(const std::string &procRoot, pid_t pid)
{
	char path[256];
	const int n = std::snprintf(path, sizeof path, "%s/%d/stat", procRoot.c_str(), static_cast<int>(pid));
	if (n <= 0 || static_cast<size_t>(n) >= sizeof path)
		return std::nullopt;
	const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return std::nullopt;
	char buf[1024];
	ssize_t got;
	do {
		got = ::read(fd, buf, sizeof buf - 1);
	} while (got < 0 && errno == EINTR);
	::close(fd);
	if (got <= 0)
		return std::nullopt;
	std::string_view text(buf, static_cast<size_t>(got));
	// The name may contain spaces and parentheses: fields start after the last ')'. Field 3 (state) is index 0.
	const auto close = text.rfind(')');
	if (close == std::string_view::npos)
		return std::nullopt;
	text.remove_prefix(close + 1);
	Usage u;
	uint64_t utime = 0, stime = 0;
	int index = -1;
	size_t i = 0;
	while (i < text.size() && index < 21) {
		while (i < text.size() && text[i] == ' ')
			i++;
		size_t j = i;
		while (j < text.size() && text[j] != ' ' && text[j] != '\n')
			j++;
		index++;
		uint64_t *into = index == 11 ? &utime : index == 12 ? &stime : index == 19 ? &u.startTime
								: index == 21 ? &u.rssPages : nullptr;
		if (into) {
			auto [end, ec] = std::from_chars(text.data() + i, text.data() + j, *into);
			if (ec != std::errc() || end != text.data() + j)
				return std::nullopt;
		}
		i = j;
	}
	if (index < 21)
		return std::nullopt;
	u.ticks = utime + stime;
	return u;
}

class ProcessSampler final : public Sampler {
public:
	ProcessSampler(const evidence::SamplerSpec &spec, const SamplerEnv &env)
	    : spec_(spec), ctx_(env.proc), matchText_(describeMatch(spec.match))
	{
		const long tck = ::sysconf(_SC_CLK_TCK);
		const long page = ::sysconf(_SC_PAGESIZE);
		ticksPerSec_ = tck > 0 ? static_cast<double>(tck) : 100.0;
		pageBytes_ = page > 0 ? static_cast<double>(page) : 4096.0;
	}

	const evidence::SamplerSpec &spec() const override { return spec_; }

	void sample(std::vector<proto::Sample> &out) override
	{
		proto::Sample s;
		s.kind = "process";
		s.source = spec_.name;
		s.wallNs = clk::wallNs();
		s.monoNs = clk::monoNs();
		s.tags["match"] = matchText_;
		auto m = matchProcesses(spec_.match, ctx_);
		if (!m) {
			// Nothing was observed: no counts, no events, and the previous observation stays the reference.
			s.tags["error"] = m.error().message;
			out.push_back(std::move(s));
			return;
		}

		std::map<pid_t, Tracked> now;
		uint64_t deltaTicks = 0;
		double rss = 0;
		std::string pids, states;
		for (auto &p : m->selected) {
			auto u = readUsage(ctx_.procRoot, p.pid);
			if (!u || u->startTime != p.startTime)
				continue; // gone (or replaced) since the match: it is not there now
			if (auto it = prev_.find(p.pid); it != prev_.end() && it->second.startTime == u->startTime)
				deltaTicks += u->ticks >= it->second.ticks ? u->ticks - it->second.ticks : 0;
			rss += static_cast<double>(u->rssPages) * pageBytes_;
			if (!pids.empty()) {
				pids += ',';
				states += ',';
			}
			pids += std::to_string(p.pid);
			states += p.state;
			now.emplace(p.pid, Tracked{u->startTime, u->ticks, std::move(p.comm), std::move(p.cmdline)});
		}
		// A change is seen by the end of this scan, not its start: a process that exits while /proc is being read
		// (a kill landing in the scan) is gone from it after s.wallNs. So events carry the scan's end, and the next
		// events' prev_wall_ns is this scan's start (what it saw, it saw after then).
		const int64_t seenWall = clk::wallNs(), seenMono = clk::monoNs();
		s.values["count"] = static_cast<double>(now.size());
		s.values["rss_bytes"] = rss;
		if (observed_ && s.monoNs > prevMono_) {
			const double secs = static_cast<double>(s.monoNs - prevMono_) / 1e9;
			s.values["cpu_percent"] = 100.0 * static_cast<double>(deltaTicks) / ticksPerSec_ / secs;
		}
		s.tags["pids"] = pids;
		s.tags["states"] = states;
		const int64_t wall = s.wallNs, mono = s.monoNs;
		out.push_back(std::move(s));

		// Changes since the previous observation; the first one only sets the baseline. Exits first, so a relaunch
		// reads "exited" then "started".
		if (observed_) {
			for (const auto &[pid, t] : prev_) {
				auto it = now.find(pid);
				if (it == now.end() || it->second.startTime != t.startTime)
					out.push_back(event(seenWall, seenMono, "exited", pid, t));
			}
			for (const auto &[pid, t] : now) {
				auto it = prev_.find(pid);
				if (it == prev_.end() || it->second.startTime != t.startTime)
					out.push_back(event(seenWall, seenMono, "started", pid, t));
			}
		}
		prev_ = std::move(now);
		prevWall_ = wall;
		prevMono_ = mono;
		observed_ = true;
	}

private:
	struct Tracked {
		uint64_t startTime = 0;
		uint64_t ticks = 0;
		std::string comm;
		std::string cmdline;
	};

	// wallNs is the end of the scan that saw the change; prev_wall_ns the start of the scan before, so it happened
	// in between.
	proto::Sample event(int64_t wall, int64_t mono, const char *what, pid_t pid, const Tracked &t) const
	{
		proto::Sample e;
		e.kind = "process.event";
		e.source = spec_.name;
		e.wallNs = wall;
		e.monoNs = mono;
		e.values["pid"] = static_cast<double>(pid);
		e.values["prev_wall_ns"] = static_cast<double>(prevWall_);
		e.tags["event"] = what;
		e.tags["pid"] = std::to_string(pid);
		e.tags["comm"] = t.comm;
		e.tags["cmdline"] = t.cmdline.substr(0, kMaxEventCmdline);
		return e;
	}

	evidence::SamplerSpec spec_;
	ProcContext ctx_;
	std::string matchText_;
	double ticksPerSec_ = 100;
	double pageBytes_ = 4096;
	bool observed_ = false;
	std::map<pid_t, Tracked> prev_;
	int64_t prevWall_ = 0;
	int64_t prevMono_ = 0;
};

} // namespace

Result<std::unique_ptr<Sampler>> makeProcess(const evidence::SamplerSpec &spec, const SamplerEnv &env)
{
	if (spec.kind != evidence::SamplerKind::Process)
		return makeError(Errc::Invalid, "makeProcess: a {} spec", evidence::samplerKindName(spec.kind));
	if (spec.match.empty())
		return makeError(Errc::Invalid, "match: give one of name, cmdline, pidfile, cgroup, preset");
	return std::unique_ptr<Sampler>(std::make_unique<ProcessSampler>(spec, env));
}

} // namespace xdc::agent::samplers
