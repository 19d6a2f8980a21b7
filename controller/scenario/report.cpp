// SPDX-License-Identifier: Apache-2.0
// report.json, junit.xml and report.html of a run.
#include "controller/scenario/report.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "common/duration.h"
#include "controller/evidence/recording.h"
#include "controller/scenario/report_charts.h"

namespace xdc::scenario {

Result<void> writeAtomic(const std::string &path, const std::string &text)
{
	const std::string tmp = path + ".tmp";
	FILE *f = ::fopen(tmp.c_str(), "we");
	if (!f)
		return makeError(Errc::Io, "cannot write {}: {}", tmp, strerror(errno));
	const bool ok = fwrite(text.data(), 1, text.size(), f) == text.size();
	if (::fclose(f) != 0 || !ok)
		return makeError(Errc::Io, "cannot write {}: {}", tmp, strerror(errno));
	if (::rename(tmp.c_str(), path.c_str()) != 0)
		return makeError(Errc::Io, "cannot rename {} to {}: {}", tmp, path, strerror(errno));
	return success();
}

namespace {

std::string isoTime(int64_t ns)
{
	const time_t secs = static_cast<time_t>(ns / 1000000000);
	struct tm tm{};
	gmtime_r(&secs, &tm);
	char buf[64];
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	return fmt::format("{}.{:03d}Z", buf, static_cast<int>((ns / 1000000) % 1000));
}

double seconds(std::optional<int64_t> from, std::optional<int64_t> to)
{
	if (!from || !to)
		return 0;
	return static_cast<double>(*to - *from) / 1e9;
}

} // namespace

std::string xmlEscape(const std::string &s)
{
	std::string out;
	out.reserve(s.size());
	for (unsigned char c : s) {
		switch (c) {
		case '&': out += "&amp;"; break;
		case '<': out += "&lt;"; break;
		case '>': out += "&gt;"; break;
		case '"': out += "&quot;"; break;
		case '\'': out += "&#39;"; break;
		default:
			if (c >= 0x20 || c == '\n' || c == '\t')
				out += static_cast<char>(c);
		}
	}
	return out;
}

std::string junitXml(const RunReport &r)
{
	struct Case {
		std::string cls, name, failure, error, skipped, out;
		double time = 0;
	};
	std::vector<Case> cases;
	for (const auto &p : r.phases) {
		Case c{"phase", p.name, "", "", "", "", seconds(p.startNs, p.endNs)};
		const std::string &st = p.status, msg = p.message.value_or("");
		if (st == "failed")
			c.failure = msg.empty() ? "phase failed" : msg;
		else if (st == "error" || st == "aborted" || st == "running")
			c.error = msg.empty() ? "phase " + st : msg;
		else if (st == "skipped")
			c.skipped = msg;
		cases.push_back(c);
	}
	for (const auto &a : r.assertions) {
		Case c{"assertion", a.name, "", "", "", "", 0};
		if (a.status != "passed")
			c.failure = a.message.value_or("assertion failed");
		c.out = fmt::format("{}\nobserved: {}", a.where, a.observed.dump());
		cases.push_back(c);
	}
	for (const auto &f : r.faults) {
		Case c{"fault", fmt::format("{} {}", f.id, f.kind), "", "", "", "", 0};
		if (f.status != "applied")
			c.error = f.error.value_or("fault not applied");
		c.out = f.spec.value_or("");
		cases.push_back(c);
	}
	// The run-level verdict as its own case, so a stop condition, residue or abort is never lost in a reader that
	// only counts cases.
	{
		Case c{"run", "verdict", "", "", "", "", seconds(r.startedNs, r.endedNs)};
		const std::string v = r.verdict.value_or("");
		if (v == "failed")
			c.failure = r.reason.value_or("");
		else if (v != "passed")
			c.error = fmt::format("{}: {}", v, r.reason.value_or(""));
		cases.push_back(c);
	}
	size_t failures = 0, errors = 0, skipped = 0;
	for (const auto &c : cases) {
		failures += !c.failure.empty();
		errors += c.failure.empty() && !c.error.empty();
		skipped += c.failure.empty() && c.error.empty() && !c.skipped.empty();
	}
	const std::string suite = r.scenario.name.empty() ? "scenario" : r.scenario.name;
	std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
	x += fmt::format("<testsuites name=\"xdc\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n",
			 cases.size(), failures, errors, skipped, seconds(r.startedNs, r.endedNs));
	x += fmt::format("  <testsuite name=\"{}\" id=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" "
			 "time=\"{:.3f}\" timestamp=\"{}\">\n",
			 xmlEscape(suite), xmlEscape(r.runId), cases.size(), failures, errors, skipped,
			 seconds(r.startedNs, r.endedNs), isoTime(r.startedNs).substr(0, 19));
	x += "    <properties>\n";
	for (const auto &[k, v] : std::map<std::string, std::string>{
		     {"run_id", r.runId}, {"verdict", r.verdict.value_or("")}, {"seed", std::to_string(r.seed)},
		     {"user", r.user}, {"file", r.scenario.file}})
		x += fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", k, xmlEscape(v));
	x += "    </properties>\n";
	for (const auto &c : cases) {
		x += fmt::format("    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{:.3f}\"", xmlEscape(suite), c.cls,
				 xmlEscape(c.name), c.time);
		if (c.failure.empty() && c.error.empty() && c.skipped.empty() && c.out.empty()) {
			x += "/>\n";
			continue;
		}
		x += ">\n";
		if (!c.failure.empty())
			x += fmt::format("      <failure message=\"{}\" type=\"{}\">{}</failure>\n", xmlEscape(c.failure),
					 c.cls == "assertion" ? "AssertionFailed" : "Failed", xmlEscape(c.failure + "\n" + c.out));
		else if (!c.error.empty())
			x += fmt::format("      <error message=\"{}\" type=\"HarnessFailure\">{}</error>\n", xmlEscape(c.error),
					 xmlEscape(c.error));
		else if (!c.skipped.empty())
			x += fmt::format("      <skipped message=\"{}\"/>\n", xmlEscape(c.skipped));
		if (!c.out.empty())
			x += fmt::format("      <system-out>{}</system-out>\n", xmlEscape(c.out));
		x += "    </testcase>\n";
	}
	x += "  </testsuite>\n</testsuites>\n";
	return x;
}

namespace {

// The run's time axis: where an instant falls on the timeline (percent) and its offset from the start.
struct TimeScale {
	int64_t t0, t1;
	double span;
	double pct(int64_t t) const { return std::clamp(100.0 * static_cast<double>(t - t0) / span, 0.0, 100.0); }
	std::string rel(int64_t t) const { return fmt::format("{:+.3f} s", static_cast<double>(t - t0) / 1e9); }
};

TimeScale timeScale(const RunReport &r)
{
	const int64_t t0 = r.startedNs;
	const int64_t t1 = std::max<int64_t>(r.endedNs.value_or(t0 + 1), t0 + 1);
	return {t0, t1, static_cast<double>(t1 - t0)};
}

// The page's head: title and style sheet.
std::string htmlHead(const RunReport &r, const std::string &verdict)
{
	std::string h;
	h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
	h += fmt::format("<title>xdc run {} — {}</title>\n", xmlEscape(r.runId), xmlEscape(verdict));
	h += R"(<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px} .verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff}
.verdict.passed{background:#2a7d2a}.verdict.failed{background:#b3261e}.verdict.harness{background:#8a5a00}.verdict.aborted{background:#555}
tr.assertion.passed td:nth-child(2){color:#2a7d2a;font-weight:600}tr.assertion.failed td:nth-child(2){color:#b3261e;font-weight:600}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top}
.lane{position:relative;height:26px;background:#f4f4f4;border:1px solid #ddd;margin:2px 0 8px}
.lane-label{font-weight:600;margin-top:6px}
.fault-window,.fault-span{position:absolute;top:0;bottom:0;background:rgba(179,38,30,.25);border-left:2px solid #b3261e;border-right:2px solid #b3261e}
.fault-window{background:rgba(179,38,30,.45)}
.probe-fail{position:absolute;top:4px;bottom:4px;background:#e0a800}
.event{position:absolute;top:0;bottom:0;width:2px;background:#1f4fb3}
.phase{position:absolute;top:0;bottom:0;border-left:1px dashed #888;font-size:10px;padding-left:2px;color:#555}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
body{max-width:1232px}table{max-width:100%}td,th{overflow-wrap:anywhere}code{white-space:pre-wrap}
#assertions td:nth-child(2),#steady-state td:last-child{white-space:nowrap}
#headline{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0 20px}
.headline-item{border:1px solid #ccc;border-radius:6px;padding:6px 12px;min-width:120px}
.headline-item .label{font-size:12px;color:#555}.headline-item .value{font-size:20px;font-weight:600}
.headline-item .bound{font-size:12px;color:#555}.headline-item.over .value{color:#b3261e}
figure.chart{margin:8px 0 18px}figure.chart figcaption{font-weight:600;margin-bottom:2px}
.chart-legend span{display:inline-block;margin-right:14px;font-size:12px}
.chart-legend i{display:inline-block;width:14px;height:3px;margin-right:4px;vertical-align:middle}
@media print{body{margin:0;max-width:none}figure.chart,table,#headline{break-inside:avoid}}
</style></head><body>
)";
	return h;
}

// The heading with the verdict and the table of what was run, when and by whom.
std::string runSummary(const RunReport &r, const TimeScale &ts, const std::string &verdict)
{
	std::string h;
	h += fmt::format("<h1>{} <span class=\"verdict {}\" id=\"verdict\">{}</span></h1>\n", xmlEscape(r.scenario.name),
			 xmlEscape(verdict), xmlEscape(verdict));
	h += fmt::format("<p id=\"reason\">{}</p>\n", xmlEscape(r.reason.value_or("")));
	h += "<table>\n";
	for (const auto &[k, v] : std::vector<std::pair<std::string, std::string>>{
		     {"run", r.runId},
		     {"file", r.scenario.file},
		     {"started", isoTime(ts.t0)},
		     {"duration", durationText(ts.span / 1e6)},
		     {"user", r.user},
		     {"seed", std::to_string(r.seed)}})
		h += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", k, xmlEscape(v));
	return h;
}

// A JSON object's figures in words: "dc2-h1: attempts 100, ratio 0.4"; keys ending in _ms as durations.
std::string figuresText(const json &j, const std::string &key = "")
{
	if (j.is_object()) {
		std::string out;
		for (const auto &[k, v] : j.items()) {
			const std::string part = v.is_object() ? k + ": " + figuresText(v, k) : figuresText(v, k);
			out += (out.empty() ? "" : v.is_object() ? "; " : ", ") + (v.is_object() ? part : k + " " + part);
		}
		return out;
	}
	if (j.is_number() && key.size() > 3 && key.compare(key.size() - 3, 3, "_ms") == 0)
		return durationText(j.get<double>());
	if (j.is_number_float())
		return fmt::format("{:.4g}", j.get<double>());
	if (j.is_string())
		return j.get<std::string>();
	if (j.is_array()) {
		std::string out;
		for (const auto &v : j)
			out += (out.empty() ? "" : ", ") + figuresText(v, key);
		return "[" + out + "]";
	}
	return j.dump();
}

// The assertions: each one as a sentence, with what it measured, the bounds it was held against and its verdict.
std::string assertionsTable(const RunReport &r)
{
	std::string h;
	h += "</table>\n<h2>Assertions</h2>\n<table id=\"assertions\"><tr><th>assertion</th><th>status</th><th>measured"
	     "</th><th>held against</th></tr>\n";
	for (const auto &a : r.assertions) {
		std::string measured = figuresText(a.observed);
		if (a.message)
			measured = *a.message + (measured.empty() ? "" : " — " + measured);
		h += fmt::format("<tr class=\"assertion {}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
				 xmlEscape(a.status), xmlEscape(a.name), xmlEscape(a.status), xmlEscape(measured),
				 xmlEscape(a.bounds.empty() ? std::string("-") : figuresText(a.bounds)));
	}
	return h;
}

// The steady-state checks: before inject and after recovery, each with what it measured and its bound.
std::string steadyTable(const RunReport &r)
{
	if (r.steadyState.empty())
		return "";
	std::string h = "</table>\n<h2>Steady state</h2>\n<table id=\"steady-state\"><tr><th>when</th><th>check</th>"
			"<th>host</th><th>measured</th><th>bound</th><th>window</th><th>status</th></tr>\n";
	for (const auto &s : r.steadyState) {
		std::string check, measured, bound;
		if (s.streams) {
			check = "Streams: one active DC";
			measured = figuresText(*s.streams);
		} else if (s.condition) {
			check = *s.condition;
			measured = fmt::format("held at {} of {} samples", s.held.value_or(0), s.samples.value_or(0));
			bound = "at every sample";
		} else if (s.probe) {
			check = "probe " + *s.probe;
			measured = fmt::format("{:.1f} % of {} attempts", s.ratio.value_or(0) * 100, s.attempts.value_or(0));
			bound = fmt::format(">= {:.1f} %", s.min.value_or(0) * 100);
		} else if (s.sampler) {
			check = fmt::format("{} {} {}", *s.sampler, s.stat.value_or(""), s.value.value_or(""));
			measured = fmt::format("{:.4g} over {} samples", s.observed.value_or(0), s.samples.value_or(0));
			bound = s.min ? fmt::format("{:.4g}", *s.min) : "";
		}
		if (s.note)
			measured += " (" + *s.note + ")";
		h += fmt::format("<tr class=\"steady {}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
				 "<td>{}</td></tr>\n",
				 xmlEscape(s.status), xmlEscape(s.when), xmlEscape(check), xmlEscape(s.host.value_or("")),
				 xmlEscape(measured), xmlEscape(bound),
				 s.windowMs ? xmlEscape(durationText(static_cast<double>(*s.windowMs))) : "",
				 xmlEscape(s.status));
	}
	return h;
}

// The faults table: each fault's window on the controller's clock.
std::string faultsTable(const RunReport &r)
{
	std::string h;
	h += "</table>\n<h2>Faults</h2>\n<table id=\"faults\"><tr><th>id</th><th>kind</th><th>parameters</th><th>hosts"
	     "</th><th>window (controller clock, ± the agents' clock bound)</th></tr>\n";
	for (const auto &f : r.faults) {
		// The bound: the widest of the agents' clock bounds, where the apply answer gave them.
		int64_t boundNs = f.windowBoundNs.value_or(0);
		if (f.agents && f.agents->is_object())
			for (const auto &[agent, a] : f.agents->items())
				if (a.is_object() && a.contains("bound_ns") && a["bound_ns"].is_number_integer())
					boundNs = std::max(boundNs, a["bound_ns"].get<int64_t>());
		std::string window = "not applied";
		if (f.windowStartNs)
			window = fmt::format("{} → {} (± {})", isoTime(*f.windowStartNs), isoTime(f.windowEndNs.value_or(0)),
					     durationText(static_cast<double>(boundNs) / 1e6));
		std::string hosts;
		for (const auto &x : f.hosts.value_or(std::vector<std::string>{}))
			hosts += (hosts.empty() ? "" : ", ") + x;
		h += fmt::format("<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>\n",
				 xmlEscape(f.id), xmlEscape(f.kind), xmlEscape(f.spec.value_or("")), xmlEscape(hosts),
				 xmlEscape(window));
	}
	return h;
}

// The timeline's legend and its first lane: phases and fault windows.
std::string faultsLane(const RunReport &r, const TimeScale &ts)
{
	std::string h;
	h += "</table>\n<h2>Timeline</h2>\n<div class=\"legend\"><span style=\"background:rgba(179,38,30,.45)\"></span>fault"
	     "<span style=\"background:#e0a800\"></span>probe failing<span style=\"background:#1f4fb3\"></span>event</div>\n";
	// Phases and the faults lane: one .fault-window per fault, its data attributes the report's times exactly.
	std::string phases;
	for (const auto &p : r.phases)
		if (p.startNs)
			phases += fmt::format("<div class=\"phase\" style=\"left:{:.4f}%\">{}</div>", ts.pct(*p.startNs),
					      xmlEscape(p.name));
	h += "<div class=\"lane-label\">phases and faults</div>\n<div class=\"lane\" id=\"faults-lane\">" + phases;
	for (const auto &f : r.faults) {
		if (!f.windowStartNs)
			continue;
		const int64_t s = *f.windowStartNs, e = f.windowEndNs.value_or(s), bound = f.windowBoundNs.value_or(0);
		h += fmt::format("<div class=\"fault-window\" data-fault-id=\"{}\" data-start-ns=\"{}\" data-end-ns=\"{}\" "
				 "data-bound-ns=\"{}\" style=\"left:{:.4f}%;width:{:.4f}%\" title=\"{} {}: {} .. {} ± {:.1f} ms\"></div>",
				 xmlEscape(f.id), s, e, bound, ts.pct(s), std::max(0.2, ts.pct(e) - ts.pct(s)), xmlEscape(f.id),
				 xmlEscape(f.kind), ts.rel(s), ts.rel(e), bound / 1e6);
	}
	h += "</div>\n";
	return h;
}

// Streams lanes: per DC, the toolkit view's states as spans and its events as markers.
std::string streamsLanes(const StreamsSection &st, const TimeScale &ts)
{
	std::string h;
	const json events = st.events.value_or(json::array());
	if (st.states) {
		std::map<std::string, std::vector<json>> perDc;
		for (const auto &x : *st.states)
			perDc[x.value("dc", "")].push_back(x);
		for (const auto &[dc, list] : perDc) {
			h += fmt::format("<div class=\"lane-label\">Streams {} (toolkit view)</div>\n<div class=\"lane streams\" "
					 "data-dc=\"{}\">", xmlEscape(dc), xmlEscape(dc));
			for (size_t i = 0; i < list.size(); i++) {
				const int64_t s0 = list[i].value("t_ns", int64_t{0});
				const int64_t s1 = i + 1 < list.size() ? list[i + 1].value("t_ns", int64_t{0}) : ts.t1;
				const std::string state = list[i].value("state", "");
				const char *color = state == "active" ? "#2a7d2a" : state == "standby" ? "#9bb7d4"
						    : state == "down"    ? "#b3261e" : "#bbb";
				h += fmt::format("<div class=\"streams-state\" data-state=\"{}\" data-start-ns=\"{}\" style=\""
						 "position:absolute;top:6px;bottom:6px;left:{:.4f}%;width:{:.4f}%;background:{}\" "
						 "title=\"{} {} from {}\"></div>", xmlEscape(state), s0, ts.pct(s0),
						 std::max(0.1, ts.pct(s1) - ts.pct(s0)), color, xmlEscape(dc), xmlEscape(state), ts.rel(s0));
			}
			for (const auto &e : events) {
				if (e.value("dc", "").find(dc) == std::string::npos)
					continue;
				const int64_t t = e.value("t_ns", int64_t{0});
				h += fmt::format("<div class=\"event streams-event\" data-kind=\"{}\" data-t-ns=\"{}\" style=\"left:"
						 "{:.4f}%\" title=\"{} {} at {} (since {})\"></div>", xmlEscape(e.value("kind", "")), t,
						 ts.pct(t), xmlEscape(e.value("kind", "")), xmlEscape(e.value("detail", "")), ts.rel(t),
						 ts.rel(e.value("since_ns", t)));
			}
			h += "</div>\n";
		}
	}
	return h;
}

// The data lane: the application's output per DC (each sink poll that brought tuples) and the output gaps.
std::string dataLane(const DataSection &dt, const TimeScale &ts)
{
	std::string h;
	if (dt.sinks) {
		const json v = dt.validation.value_or(json::object()), tot = v.value("total", json::object());
		h += "<div class=\"lane-label\">data output (sink polls with tuples; gaps hatched)</div>\n<div class=\"lane\" "
		     "id=\"data-lane\">";
		for (const auto &g : v.value("gaps", json::array())) {
			const int64_t s0 = g.value("start_ns", int64_t{0}), s1 = g.value("end_ns", int64_t{0});
			h += fmt::format("<div class=\"output-gap\" data-start-ns=\"{}\" data-end-ns=\"{}\" style=\"position:"
					 "absolute;top:0;bottom:0;left:{:.4f}%;width:{:.4f}%;background:repeating-linear-gradient(45deg,"
					 "#b3261e33 0 4px,transparent 4px 8px);border:1px solid #b3261e\" title=\"no output {} .. {} "
					 "({:.0f} ms)\"></div>", s0, s1, ts.pct(s0), std::max(0.2, ts.pct(s1) - ts.pct(s0)), ts.rel(s0), ts.rel(s1),
					 (s1 - s0) / 1e6);
		}
		int lane = 0;
		for (const auto &sk : *dt.sinks) {
			const char *color = lane++ % 2 ? "#1f4fb3" : "#2a7d2a";
			for (const auto &p : sk.value("arrivals", json::array())) {
				if (!p.is_array() || p.size() != 2)
					continue;
				const int64_t t = p[0].get<int64_t>();
				h += fmt::format("<div class=\"output\" data-dc=\"{}\" style=\"position:absolute;top:{}px;height:8px;"
						 "width:2px;left:{:.4f}%;background:{}\"></div>", xmlEscape(sk.value("dc", "")),
						 lane == 1 ? 3 : 14, ts.pct(t), color);
			}
		}
		h += "</div>\n";
		h += fmt::format("<p id=\"data-summary\">data: {} sent, {} delivered, <b>{} lost</b>, <b>{} duplicated</b>, {} out "
				 "of order; RPO {}; RTO {}; latency p99 {}</p>\n", tot.value("sent", 0), tot.value("delivered", 0),
				 tot.value("lost", 0), tot.value("duplicated", 0), tot.value("out_of_order", 0),
				 dt.rpoS ? durationText(*dt.rpoS * 1000) : "-", dt.rtoMs ? durationText(*dt.rtoMs) : "-",
				 [&] {
					 const json p99 = v.value("latency_ms", json::object()).value("p99", json(nullptr));
					 return p99.is_number() ? durationText(p99.get<double>()) : std::string("-");
				 }());
	}
	return h;
}

// Per host lanes: the faults on it, its probes' failing intervals, its process events.
std::string hostLanes(const RunReport &r, const TimeScale &ts, const std::string &bundleDir)
{
	std::string h;
	std::map<std::string, std::vector<json>> events;
	if (!bundleDir.empty()) {
		auto b = controller::evidence::loadBundle(bundleDir, "", "process.event");
		if (b)
			for (const auto &e : b->entries)
				events[e.value("host", "")].push_back(e);
	}
	for (const auto &host : r.hosts) {
		const std::string &name = host.host;
		h += fmt::format("<div class=\"lane-label\">{} ({})</div>\n<div class=\"lane timeline\" data-host=\"{}\">",
				 xmlEscape(name), xmlEscape(host.dc), xmlEscape(name));
		for (const auto &f : r.faults) {
			const auto hosts = f.hosts.value_or(std::vector<std::string>{});
			if (!f.windowStartNs || std::find(hosts.begin(), hosts.end(), name) == hosts.end())
				continue;
			const int64_t s = *f.windowStartNs, e = f.windowEndNs.value_or(s);
			h += fmt::format("<div class=\"fault-span\" data-fault-id=\"{}\" style=\"left:{:.4f}%;width:{:.4f}%\"></div>",
					 xmlEscape(f.id), ts.pct(s), std::max(0.2, ts.pct(e) - ts.pct(s)));
		}
		for (const auto &o : r.outages) {
			if (o.host != name)
				continue;
			for (const auto &x : o.outages) {
				const int64_t s = x.startNs, e = x.open ? ts.t1 : x.endNs;
				h += fmt::format("<div class=\"probe-fail\" data-probe=\"{}\" data-start-ns=\"{}\" data-end-ns=\"{}\" "
						 "style=\"left:{:.4f}%;width:{:.4f}%\" title=\"{} failing {} .. {} (± {:.1f} / {:.1f} ms): {}\"></div>",
						 xmlEscape(o.source), s, e, ts.pct(s), std::max(0.1, ts.pct(e) - ts.pct(s)),
						 xmlEscape(o.source), ts.rel(s), ts.rel(e), x.startBoundNs / 1e6, x.endBoundNs / 1e6,
						 xmlEscape(x.firstError));
			}
		}
		for (const auto &e : events[name]) {
			const int64_t t = e.value("t_ns", int64_t{0});
			h += fmt::format("<div class=\"event\" data-t-ns=\"{}\" style=\"left:{:.4f}%\" title=\"{} {} pid {} at {} ± "
					 "{:.1f} ms\"></div>", t, ts.pct(t), xmlEscape(e.value("source", "")),
					 xmlEscape(e.value("tags", json::object()).value("event", "")),
					 xmlEscape(e.value("tags", json::object()).value("pid", "")), ts.rel(t),
					 e.value("bound_ns", int64_t{0}) / 1e6);
		}
		h += "</div>\n";
	}
	return h;
}

// The Streams section: detection and failover times and the table of the toolkit view's events.
std::string streamsTable(const StreamsSection &st, const TimeScale &ts)
{
	std::string h;
	if (st.events) {
		auto ms = [](const std::optional<json> &v) {
			return v && v->is_number() ? durationText(v->get<double>()) : std::string("-");
		};
		h += fmt::format("<h2>Streams</h2>\n<p>Toolkit view of {} polled every {} ms ({} rounds); detection {}, "
				 "failover {} after the faults began.</p>\n<table id=\"streams-events\"><tr><th>event</th>"
				 "<th>DC</th><th>seen</th><th>since</th><th>detail</th></tr>\n",
				 xmlEscape(st.config), st.intervalMs, st.rounds.value_or(0), ms(st.detectionMs),
				 ms(st.failoverMs));
		for (const auto &e : *st.events)
			h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
					 xmlEscape(e.value("kind", "")), xmlEscape(e.value("dc", "")),
					 ts.rel(e.value("t_ns", int64_t{0})), ts.rel(e.value("since_ns", int64_t{0})),
					 xmlEscape(e.value("detail", "")));
		h += "</table>\n";
	}
	return h;
}

// The metrics section: one row per source and a lane of its samples.
std::string metricsTable(const RunReport &r, const TimeScale &ts)
{
	std::string h;
	if (r.metrics && r.metrics->samples) {
		// One row per source, and a lane of its samples: filled where its condition held, hollow where it did not,
		// red where the sample failed.
		const MetricsSection &m = *r.metrics;
		h += fmt::format("<h2>Metrics</h2>\n<p>Sampled every {} ms on the controller's clock.</p>\n<table id=\"metrics\">"
				 "<tr><th>source</th><th>reads</th><th>samples</th><th>failed</th><th>held</th><th>last</th></tr>\n",
				 m.intervalMs);
		for (const auto &src : m.sources) {
			const std::string name = src.value("name", "");
			json what = src;
			what.erase("name");
			what.erase("samples");
			what.erase("failed");
			int64_t held = 0;
			std::string last = "-", lane;
			for (const auto &x : *m.samples) {
				if (x.value("source", "") != name)
					continue;
				const int64_t t = x.value("t_ns", int64_t{0});
				const bool ok = x.value("ok", false), hold = x.value("holds", false);
				held += hold ? 1 : 0;
				std::string vals;
				for (const auto &v : x.value("series", json::array()))
					vals += (vals.empty() ? "" : " ") + v["value"].dump();
				last = ok ? (vals.empty() ? "(empty)" : vals) : "error: " + x.value("error", "");
				lane += fmt::format("<div class=\"metric-sample{}\" data-t-ns=\"{}\" style=\"left:{:.4f}%\" "
						    "title=\"{} at {} ± {:.1f} ms: {}\"></div>",
						    ok ? (hold ? " held" : "") : " failed", t, ts.pct(t), xmlEscape(name), ts.rel(t),
						    x.value("bound_ns", int64_t{0}) / 1e6, xmlEscape(last));
			}
			h += fmt::format("<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
					 xmlEscape(name), xmlEscape(what.dump()), src.value("samples", 0), src.value("failed", 0),
					 held, xmlEscape(last.substr(0, 200)));
			h += fmt::format("<tr><td></td><td colspan=\"5\"><div class=\"lane metric-lane\" data-source=\"{}\" "
					 "style=\"position:relative;height:14px\">{}</div></td></tr>\n", xmlEscape(name), lane);
		}
		h += "</table>\n<style>.metric-sample{position:absolute;top:3px;width:6px;height:8px;border:1px solid #555;"
		     "box-sizing:border-box}.metric-sample.held{background:#555}.metric-sample.failed{border-color:#b3261e;"
		     "background:#b3261e}</style>\n";
	}
	return h;
}

// The phases table, then the report itself as data for scripts, and the end of the page.
std::string phasesAndData(const RunReport &r, const json &printed, const TimeScale &ts)
{
	std::string h;
	h += "<h2>Phases</h2>\n<table id=\"phases\"><tr><th>phase</th><th>status</th><th>start</th><th>end</th><th>note</th></tr>\n";
	for (const auto &p : r.phases)
		h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", xmlEscape(p.name),
				 xmlEscape(p.status), p.startNs ? ts.rel(*p.startNs) : "", p.endNs ? ts.rel(*p.endNs) : "",
				 xmlEscape(p.message.value_or("")));
	// The report itself for scripts reading the page; "</" is escaped so the data cannot end the script element.
	std::string data = printed.dump(-1, ' ', false, json::error_handler_t::replace);
	for (size_t i = data.find("</"); i != std::string::npos; i = data.find("</", i + 3))
		data.replace(i, 2, "<\\/");
	h += "</table>\n<script type=\"application/json\" id=\"report-data\">" + data + "</script>\n";
	// The page's own width once laid out, for tests that check it does not scroll sideways.
	h += "<script>window.addEventListener('load',function(){document.body.dataset.scrollWidth="
	     "document.documentElement.scrollWidth;});</script>\n";
	h += "</body></html>\n";
	return h;
}

} // namespace

std::string reportHtml(const RunReport &r, const json &printed, const std::string &bundleDir)
{
	const TimeScale ts = timeScale(r);
	const std::string verdict = r.verdict.value_or("unknown");
	const StreamsSection st = r.streams.value_or(StreamsSection{});
	const DataSection dt = r.data.value_or(DataSection{});
	std::string h = htmlHead(r, verdict);
	h += runSummary(r, ts, verdict);
	h += "</table>\n" + headlineHtml(r) + "<table style=\"display:none\">";
	h += assertionsTable(r);
	h += steadyTable(r);
	h += faultsTable(r);
	h += "</table>\n" + chartsHtml(r) + "<table style=\"display:none\">";
	h += faultsLane(r, ts);
	h += streamsLanes(st, ts);
	h += dataLane(dt, ts);
	h += hostLanes(r, ts, bundleDir);
	h += streamsTable(st, ts);
	h += metricsTable(r, ts);
	h += phasesAndData(r, printed, ts);
	return h;
}

Result<void> writeReports(const RunReport &report, const std::string &dir)
{
	// Printed once: report.json and the page's embedded copy are the same text's source.
	const json printed = toJson(report);
	XDC_TRY(writeAtomic(dir + "/report.json", printed.dump(2, ' ', false, json::error_handler_t::replace) + "\n"));
	XDC_TRY(writeAtomic(dir + "/junit.xml", junitXml(report)));
	XDC_TRY(writeAtomic(dir + "/report.html", reportHtml(report, printed, dir + "/evidence")));
	return success();
}

} // namespace xdc::scenario
