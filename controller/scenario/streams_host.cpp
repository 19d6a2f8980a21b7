// SPDX-License-Identifier: Apache-2.0
// The Streams hosts' signals: the samplers that record them, and what the recorded entries say.
#include "controller/scenario/streams_host.h"

#include <algorithm>
#include <map>
#include <regex>

#include <fmt/format.h>

#include "common/evidence/spec.h"

namespace xdc::scenario {

using nlohmann::json;

namespace {

constexpr int64_t kMs = 1000000;
constexpr size_t kMaxReceipts = 2000;

std::string quoted(const std::string &s)
{
	std::string out = "\"";
	for (char c : s) {
		if (c == '"' || c == '\\')
			out += '\\';
		out += c;
	}
	return out + "\"";
}

int64_t value(const json &e, const char *key)
{
	const json v = e.value("values", json::object());
	if (!v.contains(key) || !v[key].is_number())
		return 0;
	return static_cast<int64_t>(v[key].get<double>());
}

std::string tag(const json &e, const char *key)
{
	const json t = e.value("tags", json::object());
	return t.contains(key) && t[key].is_string() ? t[key].get<std::string>() : "";
}

struct Timed {
	int64_t t = 0, since = 0, clock = 0; // (since, t], plus the clock bound
	json toJson(const std::string &kind, const json &e, const std::string &detail, const std::string &source) const
	{
		return {{"kind", kind},	  {"dc", e.value("dc", "")},		      {"host", e.value("host", "")},
			{"t_ns", t},	  {"since_ns", since},			      {"bound_ms", (t - since + clock) / 1e6},
			{"detail", detail}, {"source", source}};
	}
};

// When a sample's observation happened: the change it reports lies between the previous sample and this one.
Timed window(const json &e)
{
	Timed w;
	w.t = e.value("t_ns", int64_t{0});
	const int64_t prev = value(e, "prev_wall_ns");
	w.since = prev > 0 ? prev : w.t; // the bundle has put prev_wall_ns on the controller's clock
	w.clock = e.value("bound_ns", int64_t{0});
	return w;
}

// A trace line's own time stamp when it has one (to the microsecond, on the host's clock), else the read window.
Timed lineTime(const json &e)
{
	const int64_t line = value(e, "line_wall_ns");
	if (line <= 0)
		return window(e);
	Timed w;
	w.t = line;
	w.since = line - 1000; // the stamp's resolution
	w.clock = e.value("bound_ns", int64_t{0});
	return w;
}

// A trace line's message, after its " - " separator (the whole line when it has none).
std::string messageOf(const std::string &line)
{
	const auto sep = line.find(" - ");
	return sep == std::string::npos ? line : line.substr(sep + 3);
}

} // namespace

Result<std::vector<std::string>> hostSignalSamplers(const std::vector<streams::Endpoint> &eps)
{
	std::vector<std::string> out;
	for (const auto &ep : eps) {
		const auto &hs = ep.hostSignals;
		if (ep.host.empty() || !hs.any())
			continue;
		const std::string on = fmt::format("on: {{host: {}}}", quoted(ep.host));
		if (!hs.trace.empty())
			out.push_back(fmt::format("{{name: streams.trace.{}, kind: log, {}, source: {}, match: \"_XXXXX_\", "
						  "interval: 200ms}}", ep.dc, on, quoted(hs.trace)));
		if (!hs.monitor.empty())
			out.push_back(fmt::format("{{name: streams.monitor.{}, kind: log, {}, source: {}, interval: 200ms}}", ep.dc,
						  on, quoted(hs.monitor)));
		if (!hs.snapshots.empty())
			out.push_back(fmt::format("{{name: streams.snapshots.{}, kind: file, {}, source: {}, interval: 200ms}}",
						  ep.dc, on, quoted(hs.snapshots)));
		if (!hs.failoverScript.empty())
			out.push_back(fmt::format("{{name: streams.script.{}, kind: process, {}, match: {{cmdline: {}}}, "
						  "interval: 100ms}}", ep.dc, on, quoted(hs.failoverScript)));
		out.push_back(fmt::format("{{name: streams.pes.{}, kind: process, {}, match: {{preset: streams-pe}}, "
					  "interval: 200ms}}", ep.dc, on));
	}
	for (const auto &text : out)
		if (auto s = evidence::parseSamplerText(text, "streams config host_signals"); !s)
			return s.error();
	return out;
}

namespace {

// What the Streams hosts' entries say, before the failover is put together: the report's events and heartbeat
// receipts, the snapshot files deleted, and the PE processes that started after the faults began (per DC).
struct HostSignals {
	json out = {{"events", json::array()}, {"heartbeats_received", json::object()}};
	std::vector<json> deletions;
	std::map<std::string, std::vector<json>> peStarts;
};

// A heartbeat line of a PE trace: counted per DC, and kept as a receipt (up to kMaxReceipts).
void addHeartbeat(json &out, const json &e, const std::string &dc, const std::smatch &m)
{
	json &list = out["heartbeats_received"][dc];
	if (list.is_null())
		list = {{"count", 0}, {"receipts", json::array()}};
	list["count"] = list["count"].get<int64_t>() + 1;
	if (list["receipts"].size() < kMaxReceipts) {
		const Timed w = lineTime(e);
		list["receipts"].push_back({{"t_ns", w.t}, {"bound_ms", (w.t - w.since + w.clock) / 1e6},
					    {"hb_cnt", std::stoll(m[1].str())}, {"origin", m[2].str()}});
	}
}

// A deleted snapshot file, with the age of the state it held when it went (from the last mtime seen).
json snapshotDeletion(const json &e, const std::map<std::string, int64_t> &mtimes)
{
	const Timed w = window(e);
	const std::string file = tag(e, "file");
	int64_t mt = value(e, "mtime_ns");
	if (auto it = mtimes.find(file); it != mtimes.end())
		mt = std::max(mt, it->second);
	json d = w.toJson("snapshot_file_deleted", e, file, "snapshot directory");
	if (mt > 0) {
		// The state in the file was last written at mtime; it was taken over when the file went.
		d["mtime_ns"] = mt;
		d["age_min_ms"] = (w.since - mt) / 1e6;
		d["age_max_ms"] = (w.t - mt) / 1e6;
	}
	return d;
}

// Reads every streams.* entry: heartbeats, the monitor's output, process starts and snapshot files.
HostSignals scanHostSignals(const std::vector<json> &entries, int64_t faultsStartNs)
{
	static const std::regex kHeartbeat(
		R"(Received the heartbeat message (\d+) with no data snapshot from the data center named ([^ ]+)\.)");
	HostSignals hs;
	json &out = hs.out;
	std::map<std::string, std::map<std::string, int64_t>> mtime; // dc -> file -> last mtime seen
	for (const auto &e : entries) {
		const std::string source = e.value("source", ""), kind = e.value("kind", ""), dc = e.value("dc", "");
		if (source.rfind("streams.", 0) != 0)
			continue;
		if (kind == "log.line" && source.rfind("streams.trace.", 0) == 0) {
			std::smatch m;
			const std::string line = tag(e, "line");
			if (std::regex_search(line, m, kHeartbeat))
				addHeartbeat(out, e, dc, m);
		} else if (kind == "log.line" && source.rfind("streams.monitor.", 0) == 0) {
			const std::string line = tag(e, "line");
			if (line.find("remote data center going down") != std::string::npos)
				out["events"].push_back(lineTime(e).toJson("monitor_detection", e, messageOf(line),
									    "passive monitor output"));
			else if (line.find("remote data center coming up") != std::string::npos)
				out["events"].push_back(lineTime(e).toJson("monitor_remote_up", e, messageOf(line),
									    "passive monitor output"));
		} else if (kind == "process.event" && tag(e, "event") == "started") {
			const Timed w = window(e);
			const std::string detail = fmt::format("pid {}: {}", tag(e, "pid"), tag(e, "cmdline"));
			if (source.rfind("streams.script.", 0) == 0)
				out["events"].push_back(w.toJson("failover_script_started", e, detail, "process start"));
			else if (source.rfind("streams.pes.", 0) == 0 && w.t >= faultsStartNs)
				hs.peStarts[dc].push_back(w.toJson("pe_started", e, detail, "process start"));
		} else if (kind == "file" || (kind == "file.event" && tag(e, "event") != "deleted")) {
			if (const int64_t mt = value(e, "mtime_ns"); mt > 0)
				mtime[dc][tag(e, "file")] = mt;
		} else if (kind == "file.event" && tag(e, "event") == "deleted") {
			json d = snapshotDeletion(e, mtime[dc]);
			hs.deletions.push_back(d);
			out["events"].push_back(d);
		}
	}
	return hs;
}

// The job's PEs starting after the faults: one event per DC from the first start to the last.
void addPeStartEvents(json &out, const std::map<std::string, std::vector<json>> &peStarts)
{
	for (const auto &[dc, starts] : peStarts) {
		json ev = starts.back();
		ev["kind"] = "pes_started";
		ev["since_ns"] = starts.front()["since_ns"];
		ev["bound_ms"] = (ev["t_ns"].get<int64_t>() - ev["since_ns"].get<int64_t>()) / 1e6;
		ev["detail"] = fmt::format("{} PE process(es) started", starts.size());
		out["events"].push_back(ev);
	}
}

// The state age at failover: the snapshot file the surviving DC took over (the first one deleted after the faults
// began, in the DC that took over, else in the DC that detected first); null when none was.
json stateAgeAtFailover(const std::vector<json> &deletions, const std::vector<streams::ToolkitEvent> &events,
			int64_t faultsStartNs)
{
	std::string survivor;
	for (const auto &e : events)
		if (e.tNs >= faultsStartNs && survivor.empty() && e.kind == "takeover_complete")
			survivor = e.dc;
	for (const auto &e : events)
		if (e.tNs >= faultsStartNs && survivor.empty() && e.kind == "remote_down")
			survivor = e.dc;
	// Only a file the toolkit handed to the application counts (its store read it): a new job's start-up cleanup
	// (the passive DC's submitted job) deletes files too, and discards their state.
	auto handedOver = [&](const json &d) {
		for (const auto &e : events)
			if (e.kind == "state_handed_over" && e.dc == d["dc"].get<std::string>() &&
			    e.tNs >= d["since_ns"].get<int64_t>() && e.sinceNs <= d["t_ns"].get<int64_t>() + 2 * kMs * 1000)
				return true;
		return false;
	};
	for (const auto &d : deletions)
		if (d["t_ns"].get<int64_t>() >= faultsStartNs && d.contains("mtime_ns") &&
		    (survivor.empty() || d["dc"] == survivor) && handedOver(d)) {
			const double lo = d["age_min_ms"].get<double>(), hi = d["age_max_ms"].get<double>();
			const double clockMs = d["bound_ms"].get<double>() - (hi - lo);
			return {{"dc", d["dc"]},
				{"file", d["detail"]},
				{"age_ms", (lo + hi) / 2},
				{"bound_ms", (hi - lo) / 2 + clockMs},
				{"age_min_ms", lo},
				{"age_max_ms", hi},
				{"mtime_ns", d["mtime_ns"]},
				{"taken_over_between", {d["since_ns"], d["t_ns"]}}};
		}
	return nullptr;
}

// Active/passive: the failover's steps in order, each with its bound, from the hosts' events and the toolkit view.
json failoverSteps(const json &hostEvents, const std::vector<streams::ToolkitEvent> &events, int64_t faultsStartNs)
{
	json steps = json::array();
	auto firstHost = [&](const std::string &kind) -> json {
		for (const auto &e : hostEvents)
			if (e["kind"] == kind && e["t_ns"].get<int64_t>() >= faultsStartNs)
				return e;
		return nullptr;
	};
	auto firstView = [&](const std::string &kind) -> json {
		for (const auto &e : events)
			if (e.kind == kind && e.tNs >= faultsStartNs)
				return streams::toJson(e);
		return nullptr;
	};
	const std::pair<const char *, json> order[] = {
		{"detection (the monitor's output)", firstHost("monitor_detection")},
		{"failover script started", firstHost("failover_script_started")},
		{"job submitted", firstView("job_submitted")},
		{"PE processes started", firstHost("pes_started")},
		{"job healthy (every PE running)", firstView("job_healthy")},
		{"output flowing", firstView("takeover_complete")}};
	for (const auto &[step, e] : order) {
		json s = {{"step", step}};
		if (e.is_null())
			s["seen"] = false;
		else {
			s["seen"] = true;
			for (const char *k : {"dc", "t_ns", "since_ns", "bound_ms", "source", "detail"})
				if (e.contains(k))
					s[k] = e[k];
			s["after_faults_ms"] = (e["t_ns"].get<int64_t>() - faultsStartNs) / 1e6;
		}
		steps.push_back(s);
	}
	return steps;
}

} // namespace

json hostSignalReport(const std::vector<json> &entries, const std::vector<streams::Endpoint> &eps,
		      const std::vector<streams::ToolkitEvent> &events, int64_t faultsStartNs)
{
	HostSignals hs = scanHostSignals(entries, faultsStartNs);
	json &out = hs.out;
	addPeStartEvents(out, hs.peStarts);
	std::stable_sort(out["events"].begin(), out["events"].end(),
			 [](const json &a, const json &b) { return a["t_ns"].get<int64_t>() < b["t_ns"].get<int64_t>(); });
	if (json age = stateAgeAtFailover(hs.deletions, events, faultsStartNs); !age.is_null())
		out["state_age_at_failover"] = age;
	bool monitored = false;
	for (const auto &ep : eps)
		monitored = monitored || !ep.hostSignals.monitor.empty();
	if (monitored)
		out["failover_steps"] = failoverSteps(out["events"], events, faultsStartNs);
	return out;
}

} // namespace xdc::scenario
