// SPDX-License-Identifier: Apache-2.0
// Recording ingest, clock mapping and the evidence bundle.
#include "controller/evidence/recording.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fmt/format.h>
#include <fstream>
#include <queue>
#include <string_view>
#include <sys/stat.h>

#include "common/evidence/outage.h"
#include "common/log.h"

namespace xdc::controller::evidence {

using namespace xdc::proto;

namespace {

Result<void> mkdirs(const std::string &path)
{
	std::string cur;
	size_t pos = 0;
	while (pos != std::string::npos) {
		pos = path.find('/', pos + 1);
		cur = path.substr(0, pos);
		if (cur.empty())
			continue;
		if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
			return makeError(Errc::Io, "cannot create {}: {}", cur, strerror(errno));
	}
	return success();
}

bool emptyOrMissing(const std::string &dir)
{
	DIR *d = ::opendir(dir.c_str());
	if (!d)
		return errno == ENOENT;
	bool empty = true;
	while (dirent *e = ::readdir(d))
		if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
			empty = false;
	::closedir(d);
	return empty;
}

Result<void> writeLines(const std::string &path, const std::vector<json> &lines)
{
	FILE *f = ::fopen(path.c_str(), "we");
	if (!f)
		return makeError(Errc::Io, "cannot write {}: {}", path, strerror(errno));
	for (const auto &l : lines) {
		const std::string s = l.dump(-1, ' ', false, json::error_handler_t::replace);
		fwrite(s.data(), 1, s.size(), f);
		fputc('\n', f);
	}
	const bool bad = ::ferror(f) != 0;
	if (::fclose(f) != 0 || bad)
		return makeError(Errc::Io, "cannot write {}: {}", path, strerror(errno));
	return success();
}

json outageJson(const xdc::evidence::Outage &o)
{
	return {{"start_ns", o.startNs}, {"start_bound_ns", o.startBoundNs}, {"end_ns", o.endNs},
		{"end_bound_ns", o.endBoundNs}, {"open", o.open}, {"failed", o.failed},
		{"duration_ms", static_cast<double>(o.durationNs()) / 1e6}, {"first_error", o.firstError}};
}

// Fault record values that are agent wall-clock times (mapped like the sample time).
constexpr const char *kFaultTimes[] = {"requested_ns", "applied_ns", "verified_ns", "expires_ns",
				       "revert_started_ns", "reverted_ns"};

// Sample values that are agent wall-clock times (process.event, log.line, file, file.event). They move onto the
// controller's timeline by the same offset as the entry's own time, so an interval such as (prev_wall_ns, t_ns]
// stays on one clock. 0 means "none" (prev_wall_ns of a first observation) and stays 0.
constexpr const char *kAgentTimeValues[] = {"prev_wall_ns", "line_wall_ns", "mtime_ns"};

void mapAgentTimeValues(json &values, int64_t offsetNs)
{
	if (offsetNs == 0 || !values.is_object())
		return;
	for (const char *k : kAgentTimeValues) {
		auto it = values.find(k);
		if (it == values.end() || !it->is_number())
			continue;
		const double v = it->get<double>();
		if (v != 0)
			*it = v - static_cast<double>(offsetNs);
	}
}

} // namespace

void ClockMap::add(const ClockPoint &p)
{
	if (p.boundNs < 0)
		return;
	if (!points_.empty() && p.ctlNs < points_.back().ctlNs)
		return;
	points_.push_back(p);
}

ClockMap::Mapped ClockMap::map(int64_t agentWallNs) const
{
	if (points_.empty())
		return {agentWallNs, -1};
	// The estimate nearest in time: first place the time roughly with the latest offset, then search.
	const int64_t rough = agentWallNs - points_.back().offsetNs;
	auto it = std::lower_bound(points_.begin(), points_.end(), rough,
				   [](const ClockPoint &p, int64_t t) { return p.ctlNs < t; });
	const ClockPoint *best = nullptr;
	if (it != points_.end())
		best = &*it;
	if (it != points_.begin()) {
		const ClockPoint &prev = *std::prev(it);
		if (!best || rough - prev.ctlNs < best->ctlNs - rough)
			best = &prev;
	}
	const int64_t t = agentWallNs - best->offsetNs;
	const int64_t dist = std::llabs(t - best->ctlNs);
	return {t, best->boundNs + static_cast<int64_t>(static_cast<double>(dist) * driftPpm_ * 1e-6)};
}

Recording::Recording(std::string id, std::string dir) : id_(std::move(id)), dir_(std::move(dir)) {}

Recording::~Recording()
{
	for (auto &[a, h] : hosts_)
		if (h.raw)
			::fclose(h.raw);
}

Result<void> Recording::open(const std::vector<HostInfo> &hosts, const json &specs, int64_t startCtlNs)
{
	if (!emptyOrMissing(dir_))
		return makeError(Errc::Exists, "--out {}: the directory exists and is not empty (a bundle is never "
				 "overwritten)", dir_);
	XDC_TRY(mkdirs(dir_ + "/hosts"));
	startCtlNs_ = startCtlNs;
	specs_ = specs;
	for (const auto &hi : hosts) {
		Host h;
		h.info = hi;
		XDC_TRY(mkdirs(dir_ + "/hosts/" + hi.host));
		const std::string raw = dir_ + "/hosts/" + hi.host + "/raw.jsonl";
		h.raw = ::fopen(raw.c_str(), "we");
		if (!h.raw)
			return makeError(Errc::Io, "cannot write {}: {}", raw, strerror(errno));
		hosts_.emplace(hi.agent, std::move(h));
	}
	return success();
}

std::vector<std::string> Recording::agents() const
{
	std::vector<std::string> out;
	for (const auto &[a, h] : hosts_)
		out.push_back(a);
	return out;
}

void Recording::advance(Host &h)
{
	for (;;) {
		const uint64_t next = h.contiguous + 1;
		if (h.above.count(next)) {
			h.above.erase(next);
			h.contiguous = next;
			continue;
		}
		bool moved = false;
		for (const auto &[first, last] : h.lost)
			if (first <= next && next <= last) {
				h.contiguous = last;
				moved = true;
			}
		if (!moved)
			return;
	}
}

uint64_t Recording::ingest(const std::string &agent, const EvidenceBatch &b)
{
	auto it = hosts_.find(agent);
	if (it == hosts_.end())
		return 0;
	Host &h = it->second;
	for (size_t i = 0; i + 1 < b.lost.size(); i += 2) {
		std::pair<uint64_t, uint64_t> r{b.lost[i], b.lost[i + 1]};
		if (r.first <= r.second && std::find(h.lost.begin(), h.lost.end(), r) == h.lost.end()) {
			h.lost.push_back(r);
			log::get("evidence")->error("recording {}: agent {} lost samples {}..{} (its spool was full)", id_,
						    agent, r.first, r.second);
		}
	}
	for (const auto &s : b.samples) {
		if (s.seq == 0 || s.seq <= h.contiguous || h.above.count(s.seq)) {
			h.duplicates++;
			continue;
		}
		json j = {{"seq", s.seq}, {"kind", s.kind}, {"source", s.source}, {"wall_ns", s.wallNs},
			  {"mono_ns", s.monoNs}, {"values", s.values}, {"tags", s.tags}};
		const std::string line = j.dump(-1, ' ', false, json::error_handler_t::replace);
		if (h.raw) {
			fwrite(line.data(), 1, line.size(), h.raw);
			fputc('\n', h.raw);
		}
		h.received++;
		track(h, s);
		if (s.seq == h.contiguous + 1)
			h.contiguous = s.seq;
		else
			h.above.insert(s.seq);
	}
	// Flushed per batch: what is acked is in the file, and a controller that dies loses nothing acked.
	if (h.raw)
		::fflush(h.raw);
	advance(h);
	return h.contiguous;
}

void Recording::clock(const std::string &agent, const ClockPoint &p)
{
	auto it = hosts_.find(agent);
	if (it != hosts_.end())
		it->second.clock.add(p);
}

void Recording::stopped(const std::string &agent, const EvidenceStopReply &r)
{
	auto it = hosts_.find(agent);
	if (it == hosts_.end())
		return;
	it->second.stopAnswered = true;
	it->second.stop = r;
}

void Recording::stopFailed(const std::string &agent, const std::string &why)
{
	auto it = hosts_.find(agent);
	if (it == hosts_.end())
		return;
	it->second.stopAnswered = true;
	it->second.stopError = why;
}

bool Recording::drained() const
{
	for (const auto &[a, h] : hosts_) {
		if (!h.stopAnswered)
			return false;
		if (h.stopError.empty() && h.contiguous < h.stop.lastSeq)
			return false;
	}
	return true;
}

namespace {

// One line of a per-host file, kept as its text: a long recording is millions of these, and a parsed JSON object
// costs several times the text.
struct Line {
	int64_t t;
	std::string text;
};

Result<void> writeText(const std::string &path, const std::vector<Line> &lines)
{
	FILE *f = ::fopen(path.c_str(), "we");
	if (!f)
		return makeError(Errc::Io, "cannot write {}: {}", path, strerror(errno));
	for (const auto &l : lines) {
		fwrite(l.text.data(), 1, l.text.size(), f);
		fputc('\n', f);
	}
	const bool bad = ::ferror(f) != 0;
	if (::fclose(f) != 0 || bad)
		return makeError(Errc::Io, "cannot write {}: {}", path, strerror(errno));
	return success();
}

// Merges per-host files, each sorted by t_ns, plus a few extra lines, into one sorted file, holding one line per
// input in memory.
Result<void> mergeSorted(const std::vector<std::string> &inputs, std::vector<Line> extra, const std::string &out)
{
	std::vector<std::ifstream> in;
	for (const auto &p : inputs)
		in.emplace_back(p);
	struct Head {
		int64_t t;
		size_t src; // inputs.size() = extra
		std::string text;
		bool operator>(const Head &o) const { return t != o.t ? t > o.t : src > o.src; }
	};
	std::priority_queue<Head, std::vector<Head>, std::greater<Head>> q;
	auto pull = [&](size_t i) {
		std::string line;
		if (std::getline(in[i], line)) {
			// t_ns is the first key of every line we write.
			static constexpr std::string_view kKey = "{\"t_ns\":";
			const int64_t t = line.compare(0, kKey.size(), kKey) == 0
						  ? std::strtoll(line.c_str() + kKey.size(), nullptr, 10)
						  : 0;
			q.push({t, i, std::move(line)});
		}
	};
	for (size_t i = 0; i < in.size(); i++)
		pull(i);
	for (auto &e : extra)
		q.push({e.t, inputs.size(), std::move(e.text)});
	FILE *f = ::fopen(out.c_str(), "we");
	if (!f)
		return makeError(Errc::Io, "cannot write {}: {}", out, strerror(errno));
	while (!q.empty()) {
		Head h = q.top();
		q.pop();
		fwrite(h.text.data(), 1, h.text.size(), f);
		fputc('\n', f);
		if (h.src < inputs.size())
			pull(h.src);
	}
	const bool bad = ::ferror(f) != 0;
	if (::fclose(f) != 0 || bad)
		return makeError(Errc::Io, "cannot write {}: {}", out, strerror(errno));
	return success();
}

// One timeline line with "t_ns" as its first key (nlohmann::json sorts keys, so it is written by hand): the
// merge reads the time from the start of a line without parsing the rest.
std::string dumpLine(json j)
{
	const int64_t t = j.value("t_ns", int64_t{0});
	j.erase("t_ns");
	std::string rest = j.dump(-1, ' ', false, json::error_handler_t::replace);
	std::string out = fmt::format("{{\"t_ns\":{}", t);
	if (rest.size() > 2)
		out += "," + rest.substr(1);
	else
		out += "}";
	return out;
}

// What one host's raw.jsonl holds, mapped to the controller's clock and sorted by time.
struct HostSamples {
	std::vector<Line> samples, faults;
	std::map<std::string, uint64_t> got; // samples received per sampler
	std::map<std::string, std::vector<xdc::evidence::ProbePoint>> probes;
	std::map<std::string, std::string> targets; // per probe
	std::vector<uint64_t> seen;                 // every seq read, ascending
};

// The timeline entry of one raw sample: t_ns first, as the timeline merge reads it from the start of the line.
json sampleEntry(const json &r, const ClockMap::Mapped &m, const Recording::HostInfo &info, const std::string &agent)
{
	const int64_t wall = r.value("wall_ns", int64_t{0});
	json e = json::object();
	e["t_ns"] = m.tNs;
	e["bound_ns"] = m.boundNs;
	e["host"] = info.host;
	e["dc"] = info.dc;
	e["agent"] = agent;
	e["kind"] = r.value("kind", "");
	e["source"] = r.value("source", "");
	e["seq"] = r["seq"];
	e["agent_wall_ns"] = wall;
	e["values"] = r["values"];
	mapAgentTimeValues(e["values"], wall - m.tNs);
	e["tags"] = r["tags"];
	return e;
}

// Reads one host's raw.jsonl: timeline entries of samples and faults, per sampler counts and each probe's points.
HostSamples readRawSamples(const std::string &path, const ClockMap &clock, const Recording::HostInfo &info,
			   const std::string &agent)
{
	HostSamples hs;
	std::ifstream in(path);
	std::string line;
	while (std::getline(in, line)) {
		json r = json::parse(line, nullptr, false);
		if (r.is_discarded() || !r.contains("seq"))
			continue;
		const auto m = clock.map(r.value("wall_ns", int64_t{0}));
		const std::string kind = r.value("kind", ""), source = r.value("source", "");
		json e = sampleEntry(r, m, info, agent);
		hs.seen.push_back(r["seq"].get<uint64_t>());
		if (kind == "fault") {
			json times = json::object();
			for (const char *k : kFaultTimes)
				if (r["values"].contains(k))
					times[k] = clock.map(static_cast<int64_t>(r["values"][k].get<double>())).tNs;
			e["times"] = times;
			hs.faults.push_back({m.tNs, dumpLine(e)});
		} else {
			hs.got[source]++;
		}
		if (kind == "probe.tcp" || kind == "probe.http") {
			xdc::evidence::ProbePoint p;
			p.tNs = m.tNs;
			p.boundNs = std::max<int64_t>(0, m.boundNs);
			p.ok = r["values"].value("ok", 0.0) > 0.5;
			p.error = r["tags"].value("error", "");
			hs.probes[source].push_back(std::move(p));
			if (r["tags"].contains("target"))
				hs.targets[source] = r["tags"]["target"].get<std::string>();
		}
		hs.samples.push_back({m.tNs, dumpLine(e)});
	}
	auto byTime = [](const Line &a, const Line &b) { return a.t < b.t; };
	std::stable_sort(hs.samples.begin(), hs.samples.end(), byTime);
	std::stable_sort(hs.faults.begin(), hs.faults.end(), byTime);
	std::sort(hs.seen.begin(), hs.seen.end());
	return hs;
}

// clock.jsonl of one host: every clock point the controller took.
std::vector<json> clockLines(const ClockMap &clock)
{
	std::vector<json> out;
	for (const auto &p : clock.points())
		out.push_back({{"t_ns", p.ctlNs}, {"offset_ns", p.offsetNs}, {"bound_ns", p.boundNs}, {"rtt_ns", p.rttNs}});
	return out;
}

// agent.log of one host: the agent's log lines of the recording's window, on the controller's clock.
std::vector<json> agentLogLines(const std::vector<std::string> &log, const ClockMap &clock)
{
	std::vector<json> out;
	for (const auto &l : log) {
		json j = json::parse(l, nullptr, false);
		if (j.is_discarded())
			continue;
		const auto m = clock.map(j.value("wall_ns", int64_t{0}));
		j["t_ns"] = m.tNs;
		j["bound_ns"] = m.boundNs;
		out.push_back(j);
	}
	return out;
}

// The outages of each probe of one host.
void addProbeOutages(HostSamples &hs, const Recording::HostInfo &info, std::vector<OutageReport> &out)
{
	for (auto &[source, pts] : hs.probes) {
		OutageReport rep;
		rep.host = info.host;
		rep.source = source;
		rep.target = hs.targets[source];
		rep.intervalNs = info.intervalNs.count(source) ? info.intervalNs.at(source) : 0;
		xdc::evidence::OutageOptions opt;
		opt.intervalNs = rep.intervalNs;
		for (const auto &o : xdc::evidence::findOutages(std::move(pts), opt))
			rep.outages.push_back(outageJson(o));
		out.push_back(std::move(rep));
	}
}

// Gaps of one host: every seq up to last the agent took and we do not have (seen ascending), whether it said it
// lost them or not.
json seqGaps(const std::string &host, const std::vector<uint64_t> &seen, uint64_t last,
	     const std::vector<std::pair<uint64_t, uint64_t>> &lost)
{
	json gaps = json::array();
	auto addGap = [&](uint64_t first, uint64_t lastMissing) {
		bool declared = false;
		for (const auto &[f, l] : lost)
			declared |= f <= first && lastMissing <= l;
		gaps.push_back({{"host", host}, {"first_seq", first}, {"last_seq", lastMissing},
				{"count", lastMissing - first + 1},
				{"reason", declared ? "lost on the agent (spool full)" : "not delivered"}});
	};
	uint64_t expect = 1;
	for (uint64_t q : seen) {
		if (q > last)
			break;
		if (q > expect)
			addGap(expect, q - 1);
		expect = std::max(expect, q + 1);
	}
	if (expect <= last)
		addGap(expect, last);
	return gaps;
}

// A per-sampler value of an agent's map, or the type's zero when the agent did not report it.
template <typename V>
V valueOr0(const std::map<std::string, V> &m, const std::string &key)
{
	auto it = m.find(key);
	return it == m.end() ? V{} : it->second;
}

// Per sampler of one host: received, and taken and missed slots when the agent answered the stop.
json samplerCounts(const Recording::HostInfo &info, const HostSamples &hs, const proto::EvidenceStopReply *stop)
{
	json counts = json::object();
	for (const auto &name : info.samplers) {
		json c = {{"received", valueOr0(hs.got, name)}};
		if (stop) {
			c["taken"] = valueOr0(stop->counts, name);
			c["missed_slots"] = valueOr0(stop->missed, name);
		}
		c["interval_ns"] = valueOr0(info.intervalNs, name);
		c["kind"] = valueOr0(info.kinds, name);
		counts[name] = c;
	}
	return counts;
}

// The recording's own start and stop on the timeline.
Line recordingMark(int64_t t, const char *event, const std::string &id)
{
	json e = json::object();
	e["t_ns"] = t;
	e["bound_ns"] = 0;
	e["host"] = "controller";
	e["kind"] = "recording";
	e["source"] = id;
	e["tags"] = {{"event", event}};
	return Line{t, dumpLine(e)};
}

// meta.json's outages: one entry per probe.
json outagesJson(const std::vector<OutageReport> &reports)
{
	json outages = json::array();
	for (const auto &o : reports)
		outages.push_back({{"host", o.host}, {"source", o.source}, {"target", o.target},
				   {"interval_ns", o.intervalNs}, {"outages", o.outages}});
	return outages;
}

} // namespace

Result<json> Recording::finalize(int64_t stopCtlNs)
{
	json meta = {{"recording", id_}, {"format", 1}, {"started_ns", startCtlNs_}, {"stopped_ns", stopCtlNs},
		     {"specs", specs_}};
	json hostsMeta = json::array();
	json gaps = json::array();
	bool complete = true;
	std::vector<std::string> perHostFiles;
	std::vector<OutageReport> outageReports;
	for (auto &[agent, h] : hosts_) {
		if (!h.stopAnswered)
			h.stopError = "did not answer evidence.stop before the drain deadline";
		if (h.raw) {
			::fclose(h.raw);
			h.raw = nullptr;
		}
		// Per host files: samples, faults, clock points and the agent's log, each on the controller's clock.
		const std::string hdir = dir_ + "/hosts/" + h.info.host;
		HostSamples hs = readRawSamples(hdir + "/raw.jsonl", h.clock, h.info, agent);
		const std::vector<json> clock = clockLines(h.clock);
		XDC_TRY(writeText(hdir + "/samples.jsonl", hs.samples));
		XDC_TRY(writeText(hdir + "/faults.jsonl", hs.faults));
		XDC_TRY(writeLines(hdir + "/clock.jsonl", clock));
		XDC_TRY(writeLines(hdir + "/agent.log", agentLogLines(h.stop.log, h.clock)));
		perHostFiles.push_back(hdir + "/samples.jsonl");
		hs.samples = {};
		::unlink((hdir + "/raw.jsonl").c_str());
		addProbeOutages(hs, h.info, outageReports);
		const uint64_t last = h.stopError.empty() ? h.stop.lastSeq : (hs.seen.empty() ? 0 : hs.seen.back());
		json hostGaps = seqGaps(h.info.host, hs.seen, last, h.lost);
		json counts = samplerCounts(h.info, hs, h.stopError.empty() ? &h.stop : nullptr);
		json hm = {{"host", h.info.host}, {"dc", h.info.dc}, {"agent", agent}, {"samplers", counts},
			   {"received", h.received}, {"duplicates", h.duplicates}, {"last_seq", last},
			   {"gaps", hostGaps}, {"spilled", h.stop.spilled}, {"dropped", h.stop.dropped},
			   {"clock_points", clock.size()}};
		if (!h.clock.points().empty()) {
			int64_t maxBound = 0;
			for (const auto &p : h.clock.points())
				maxBound = std::max(maxBound, p.boundNs);
			hm["max_clock_bound_ns"] = maxBound;
			hm["last_offset_ns"] = h.clock.points().back().offsetNs;
		}
		if (!h.stopError.empty()) {
			hm["stop_error"] = h.stopError;
			complete = false;
		}
		if (!hostGaps.empty())
			complete = false;
		for (auto &g : hostGaps)
			gaps.push_back(g);
		hostsMeta.push_back(hm);
	}
	XDC_TRY(mergeSorted(perHostFiles,
			    {recordingMark(startCtlNs_, "started", id_), recordingMark(stopCtlNs, "stopped", id_)},
			    dir_ + "/timeline.jsonl"));
	meta["hosts"] = hostsMeta;
	meta["gaps"] = gaps;
	meta["complete"] = complete;
	meta["outages"] = outagesJson(outageReports);
	std::ofstream mf(dir_ + "/meta.json");
	mf << meta.dump(2) << "\n";
	if (!mf)
		return makeError(Errc::Io, "cannot write {}/meta.json", dir_);
	return meta;
}

Result<Bundle> loadBundle(const std::string &dir, const std::string &host, const std::string &kind, bool withEntries)
{
	Bundle b;
	{
		std::ifstream mf(dir + "/meta.json");
		if (!mf)
			return makeError(Errc::NotFound, "{}: no meta.json (not an evidence bundle, or the recording did "
					 "not finish)", dir);
		b.meta = json::parse(mf, nullptr, false);
		if (b.meta.is_discarded())
			return makeError(Errc::Invalid, "{}/meta.json: not valid JSON", dir);
	}
	std::ifstream in(dir + "/timeline.jsonl");
	if (!in)
		return makeError(Errc::NotFound, "{}: no timeline.jsonl", dir);
	if (!withEntries)
		return b;
	std::string line;
	size_t n = 0;
	while (std::getline(in, line)) {
		n++;
		json e = json::parse(line, nullptr, false);
		if (e.is_discarded())
			return makeError(Errc::Invalid, "{}/timeline.jsonl:{}: not valid JSON", dir, n);
		if (!host.empty() && e.value("host", "") != host)
			continue;
		if (!kind.empty()) {
			const std::string k = e.value("kind", "");
			if (kind.back() == '*' ? k.rfind(kind.substr(0, kind.size() - 1), 0) != 0 : k != kind)
				continue;
		}
		b.entries.push_back(std::move(e));
	}
	return b;
}

std::vector<OutageReport> analyzeOutages(const Bundle &b)
{
	// (host, source) -> points
	std::map<std::pair<std::string, std::string>, std::vector<xdc::evidence::ProbePoint>> probes;
	std::map<std::pair<std::string, std::string>, std::string> targets;
	for (const auto &e : b.entries) {
		const std::string kind = e.value("kind", "");
		if (kind != "probe.tcp" && kind != "probe.http")
			continue;
		xdc::evidence::ProbePoint p;
		p.tNs = e.value("t_ns", int64_t{0});
		p.boundNs = std::max<int64_t>(0, e.value("bound_ns", int64_t{0}));
		const auto &v = e["values"];
		p.ok = v.contains("ok") && v["ok"].get<double>() > 0.5;
		if (e.contains("tags") && e["tags"].contains("error"))
			p.error = e["tags"]["error"].get<std::string>();
		const auto key = std::make_pair(e.value("host", ""), e.value("source", ""));
		probes[key].push_back(p);
		if (e.contains("tags") && e["tags"].contains("target"))
			targets[key] = e["tags"]["target"].get<std::string>();
	}
	std::vector<OutageReport> out;
	for (auto &[key, pts] : probes) {
		OutageReport r;
		r.host = key.first;
		r.source = key.second;
		r.target = targets[key];
		const json hosts = b.meta.value("hosts", json::array());
		for (const auto &h : hosts)
			if (h.value("host", "") == r.host && h.contains("samplers") && h["samplers"].contains(r.source))
				r.intervalNs = h["samplers"][r.source].value("interval_ns", int64_t{0});
		xdc::evidence::OutageOptions opt;
		opt.intervalNs = r.intervalNs;
		for (const auto &o : xdc::evidence::findOutages(std::move(pts), opt))
			r.outages.push_back(outageJson(o));
		out.push_back(std::move(r));
	}
	return out;
}

} // namespace xdc::controller::evidence
