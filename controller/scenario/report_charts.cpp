// SPDX-License-Identifier: Apache-2.0
// report.html's headline panel and charts (report_charts.h).
#include "controller/scenario/report_charts.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include <fmt/format.h>

#include "controller/scenario/charts.h"
#include "controller/scenario/report.h"

namespace xdc::scenario {

std::string durationText(double ms)
{
	if (std::fabs(ms) >= 10000)
		return fmt::format("{:.3g} s", ms / 1000);
	if (std::fabs(ms) >= 100)
		return fmt::format("{:.0f} ms", ms);
	return fmt::format("{:.3g} ms", ms);
}

namespace {

const ReportAssertion *assertionOfKind(const RunReport &r, const std::string &kind)
{
	for (const auto &a : r.assertions)
		if (a.kind == kind)
			return &a;
	return nullptr;
}

std::optional<double> bound(const RunReport &r, const std::string &kind, const char *key)
{
	const ReportAssertion *a = assertionOfKind(r, kind);
	if (!a || !a->bounds.contains(key) || !a->bounds[key].is_number())
		return std::nullopt;
	return a->bounds[key].get<double>();
}

std::optional<double> num(const std::optional<json> &v)
{
	return v && v->is_number() ? std::optional<double>(v->get<double>()) : std::nullopt;
}

// The faults' agreed instant, the axis's origin: the inject phase's instant, else its start, else the run's start.
int64_t axisOrigin(const RunReport &r)
{
	if (const ReportPhase *p = r.phase("inject")) {
		if (p->injectStartNs)
			return *p->injectStartNs;
		if (p->startNs)
			return *p->startNs;
	}
	return r.startedNs;
}

std::string clockText(int64_t ns)
{
	const time_t s = static_cast<time_t>(ns / 1000000000);
	struct tm tm{};
	gmtime_r(&s, &tm);
	char buf[16];
	strftime(buf, sizeof buf, "%H:%M:%S", &tm);
	return buf;
}

std::string secondsText(double s)
{
	const double r = std::round(s * 1000) / 1000;
	return fmt::format("{}{} s", r > 0 ? "+" : "", r == 0 ? 0.0 : r);
}

// A "nice" step: the smallest of 1, 2, 5 x 10^k at least raw.
double niceStep(double raw)
{
	if (raw <= 0)
		return 1;
	const double p = std::pow(10, std::floor(std::log10(raw)));
	for (double m : {1.0, 2.0, 5.0, 10.0})
		if (m * p >= raw)
			return m * p;
	return 10 * p;
}

std::string valueText(double v, const std::string &unit)
{
	std::string s;
	if (unit == "ms")
		s = durationText(v);
	else if (std::fabs(v) >= 1e6 || (std::fabs(v) < 0.01 && v != 0))
		s = fmt::format("{:.3g}", v);
	else
		s = fmt::format("{:.4g}", v);
	return unit.empty() || unit == "ms" ? s : s + " " + unit;
}

struct Axis {
	int64_t t0, t1, origin;
	double x(int64_t t) const
	{
		return kChartLeft + static_cast<double>(t - t0) / static_cast<double>(t1 - t0) * kChartPixels;
	}
};

std::string marker(const Axis &ax, int64_t t, const std::string &cls, const std::string &attrs, const std::string &title,
		   const char *color)
{
	if (t < ax.t0 || t > ax.t1)
		return "";
	const double x = ax.x(t);
	return fmt::format("<line class=\"marker {}\" {} data-t-ns=\"{}\" x1=\"{:.2f}\" x2=\"{:.2f}\" y1=\"{}\" y2=\"{}\" "
			   "stroke=\"{}\" stroke-width=\"1.5\"{}><title>{}</title></line>",
			   cls, attrs, t, x, x, kChartTop, kChartHeight - kChartBottom, color,
			   cls.find("phase") != std::string::npos ? " stroke-dasharray=\"4 3\"" : "", xmlEscape(title));
}

// The markers every chart shares: faults' verified windows, phase starts, the toolkit's events.
std::string markers(const RunReport &r, const Axis &ax)
{
	std::string h = "<g class=\"markers\">";
	for (const auto &p : r.phases)
		if (p.startNs && p.name != "teardown")
			h += marker(ax, *p.startNs, "phase-start", fmt::format("data-phase=\"{}\"", xmlEscape(p.name)),
				    fmt::format("phase {} begins at {}", p.name, secondsText((*p.startNs - ax.origin) / 1e9)),
				    "#888");
	for (const auto &f : r.faults) {
		if (!f.windowStartNs)
			continue;
		const std::string attrs = fmt::format("data-fault=\"{}\"", xmlEscape(f.id));
		const double bms = f.windowBoundNs.value_or(0) / 1e6;
		h += marker(ax, *f.windowStartNs, "fault-start", attrs,
			    fmt::format("fault {} ({}) in effect from {} ± {} (verified)", f.id, f.kind,
					secondsText((*f.windowStartNs - ax.origin) / 1e9), durationText(bms)),
			    "#b3261e");
		if (f.windowEndNs)
			h += marker(ax, *f.windowEndNs, "fault-end", attrs,
				    fmt::format("fault {} ({}) reverted at {} ± {} (verified)", f.id, f.kind,
						secondsText((*f.windowEndNs - ax.origin) / 1e9), durationText(bms)),
				    "#b3261e");
	}
	if (r.streams && r.streams->events)
		for (const auto &e : *r.streams->events) {
			const std::string kind = e.value("kind", "");
			if (kind != "remote_down" && kind != "takeover_complete" && kind != "state_handed_over" &&
			    kind != "fail_back" && kind != "remote_up")
				continue;
			const int64_t t = e.value("t_ns", int64_t{0});
			h += marker(ax, t, "event", fmt::format("data-kind=\"{}\"", xmlEscape(kind)),
				    fmt::format("{} in {} at {} ± {}", kind, e.value("dc", ""), secondsText((t - ax.origin) / 1e9),
						durationText(e.value("bound_ms", 0.0))),
				    "#1f4fb3");
		}
	return h + "</g>";
}

constexpr const char *kPalette[] = {"#1f4fb3", "#2a7d2a", "#8a5a00", "#7b1fa2", "#00838f", "#c2185b", "#555"};

std::string chartSvg(const RunReport &r, const ReportChart &c, const Axis &ax, const std::string &markersSvg)
{
	const double width = kChartLeft + kChartPixels + kChartRight;
	const double top = kChartTop, bottom = kChartHeight - kChartBottom;
	double lo = 0, hi = 0;
	bool any = false;
	for (const auto &s : c.series)
		for (const auto &[t, v] : s.points)
			if (v) {
				lo = any ? std::min(lo, *v) : std::min(0.0, *v);
				hi = any ? std::max(hi, *v) : *v;
				any = true;
			}
	if (!any || hi <= lo)
		hi = lo + 1;
	const double ystep = niceStep((hi - lo) / 4);
	lo = std::floor(lo / ystep) * ystep;
	hi = std::ceil(hi / ystep) * ystep;
	auto y = [&](double v) { return bottom - (v - lo) / (hi - lo) * (bottom - top); };
	std::string h = fmt::format("<figure class=\"chart\" data-chart=\"{}\"><figcaption>{}{}</figcaption>\n",
				    xmlEscape(c.id), xmlEscape(c.title), c.unit.empty() ? "" : " (" + xmlEscape(c.unit) + ")");
	h += fmt::format("<svg class=\"chart\" data-chart=\"{}\" data-unit=\"{}\" width=\"{}\" height=\"{}\" "
			 "data-t0-ns=\"{}\" data-t1-ns=\"{}\" data-origin-ns=\"{}\" data-y-lo=\"{}\" data-y-hi=\"{}\" "
			 "xmlns=\"http://www.w3.org/2000/svg\">",
			 xmlEscape(c.id), xmlEscape(c.unit), width, kChartHeight, ax.t0, ax.t1, ax.origin, lo, hi);
	// y axis: gridlines with labels.
	h += "<g class=\"y-axis\">";
	for (double v = lo; v <= hi + ystep / 2; v += ystep)
		h += fmt::format("<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{:.2f}\" y2=\"{:.2f}\" stroke=\"#e4e4e4\"/>"
				 "<text class=\"y-label\" x=\"{}\" y=\"{:.2f}\" text-anchor=\"end\" font-size=\"11\">{}</text>",
				 kChartLeft, kChartLeft + kChartPixels, y(v), y(v), kChartLeft - 6, y(v) + 4,
				 xmlEscape(valueText(v, c.unit == "ms" ? "ms" : "")));
	h += "</g>";
	// x axis: ticks at whole steps from the origin, labelled in seconds since it and with the wall clock.
	const double spanS = static_cast<double>(ax.t1 - ax.t0) / 1e9;
	const double step = niceStep(spanS / 10);
	const int64_t stepNs = static_cast<int64_t>(std::llround(step * 1e9));
	h += fmt::format("<g class=\"x-axis\"><line class=\"axis\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#999\"/>",
			 kChartLeft, kChartLeft + kChartPixels, bottom, bottom);
	const int64_t kFirst = static_cast<int64_t>(std::ceil(static_cast<double>(ax.t0 - ax.origin) / stepNs));
	for (int64_t k = kFirst;; k++) {
		const int64_t t = ax.origin + k * stepNs;
		if (t > ax.t1)
			break;
		const double x = ax.x(t);
		h += fmt::format("<line class=\"tick\" data-t-ns=\"{}\" x1=\"{:.2f}\" x2=\"{:.2f}\" y1=\"{}\" y2=\"{}\" "
				 "stroke=\"#999\"/><text class=\"tick-label\" x=\"{:.2f}\" y=\"{}\" text-anchor=\"middle\" "
				 "font-size=\"11\">{}</text><text class=\"tick-clock\" x=\"{:.2f}\" y=\"{}\" "
				 "text-anchor=\"middle\" font-size=\"10\" fill=\"#777\">{}</text>",
				 t, x, x, bottom, bottom + 4, x, bottom + 16, secondsText(k * step), x, bottom + 29,
				 clockText(t));
	}
	h += fmt::format("<text class=\"axis-title\" x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#777\">s since {} · UTC"
			 "</text></g>",
			 kChartLeft, kChartHeight - 3, r.phase("inject") ? "the faults' instant" : "the run's start");
	h += markersSvg;
	// The series: a path per line (broken at gaps), dots for point series.
	h += "<g class=\"series\">";
	size_t idx = 0;
	for (const auto &s : c.series) {
		const char *color = s.style == "points" ? "#b3261e" : kPalette[idx++ % std::size(kPalette)];
		if (s.style == "points") {
			h += fmt::format("<g class=\"points\" data-series=\"{}\" fill=\"{}\">", xmlEscape(s.name), color);
			for (const auto &[t, v] : s.points)
				if (v)
					h += fmt::format("<circle cx=\"{:.2f}\" cy=\"{:.2f}\" r=\"2.5\"/>", ax.x(t), y(*v));
			h += "</g>";
			continue;
		}
		std::string d;
		bool pen = false;
		for (const auto &[t, v] : s.points) {
			if (!v) {
				pen = false;
				continue;
			}
			d += fmt::format("{}{:.2f},{:.2f} ", pen ? "L" : "M", ax.x(t), y(*v));
			pen = true;
		}
		h += fmt::format("<path class=\"line\" data-series=\"{}\" d=\"{}\" fill=\"none\" stroke=\"{}\" "
				 "stroke-width=\"1.5\"/>",
				 xmlEscape(s.name), d, color);
	}
	h += "</g></svg>\n<div class=\"chart-legend\">";
	idx = 0;
	for (const auto &s : c.series) {
		const char *color = s.style == "points" ? "#b3261e" : kPalette[idx++ % std::size(kPalette)];
		h += fmt::format("<span><i style=\"background:{}\"></i>{}{}</span>", color, xmlEscape(s.name),
				 s.raw > s.points.size() ? fmt::format(" ({} of {} points)", s.points.size(), s.raw) : "");
	}
	return h + "</div></figure>\n";
}

} // namespace

std::string headlineHtml(const RunReport &r)
{
	struct Item {
		const char *id, *label;
		std::optional<double> value, bound;
		bool duration;
		std::string note;
	};
	std::vector<Item> items;
	const StreamsSection st = r.streams.value_or(StreamsSection{});
	const DataSection dt = r.data.value_or(DataSection{});
	items.push_back({"detection_ms", "detection", num(st.detectionMs), bound(r, "streams", "detection_max_ms"), true, ""});
	items.push_back({"failover_ms", "failover", num(st.failoverMs), bound(r, "streams", "failover_max_ms"), true, ""});
	items.push_back({"rto_ms", "RTO", dt.rtoMs, bound(r, "data", "rto_max_ms"), true, ""});
	items.push_back({"rpo_ms", "RPO", dt.rpoS ? std::optional<double>(*dt.rpoS * 1000) : std::nullopt,
			 bound(r, "data", "rpo_max_ms"), true, ""});
	std::optional<double> lost, dup;
	if (dt.validation && dt.validation->contains("total")) {
		const json &t = (*dt.validation)["total"];
		if (t.contains("lost") && t["lost"].is_number())
			lost = t["lost"].get<double>();
		if (t.contains("duplicated") && t["duplicated"].is_number())
			dup = t["duplicated"].get<double>();
	}
	items.push_back({"lost", "tuples lost", lost, bound(r, "data", "lost_max"), false, ""});
	items.push_back({"duplicated", "tuples duplicated", dup, bound(r, "data", "duplicated_max"), false, ""});
	std::optional<double> longest;
	std::string where;
	for (const auto &o : r.outages)
		for (const auto &x : o.outages)
			if (!x.open && (!longest || (x.endNs - x.startNs) / 1e6 > *longest)) {
				longest = (x.endNs - x.startNs) / 1e6;
				where = o.source + "@" + o.host;
			}
	items.push_back({"longest_outage_ms", "longest outage", longest, std::nullopt, true, where});
	const std::string verdict = r.verdict.value_or("unknown");
	std::string h = fmt::format("<section id=\"headline\"><div class=\"headline-item verdict-item\" "
				    "data-figure=\"verdict\" data-value=\"{}\"><div class=\"label\">verdict</div>"
				    "<div class=\"value\"><span class=\"verdict {}\">{}</span></div></div>",
				    xmlEscape(verdict), xmlEscape(verdict), xmlEscape(verdict));
	for (const auto &i : items) {
		std::string attrs = fmt::format(" data-figure=\"{}\"", i.id);
		if (i.value)
			attrs += fmt::format(" data-value=\"{}\"", *i.value);
		if (i.bound)
			attrs += fmt::format(" data-bound=\"{}\"", *i.bound);
		const bool over = i.value && i.bound && *i.value > *i.bound;
		auto text = [&](double v) { return i.duration ? durationText(v) : fmt::format("{}", static_cast<int64_t>(v)); };
		h += fmt::format("<div class=\"headline-item{}\"{}><div class=\"label\">{}</div><div class=\"value\">{}</div>"
				 "<div class=\"bound\">{}</div></div>",
				 over ? " over" : "", attrs, i.label, i.value ? xmlEscape(text(*i.value)) : "not measured",
				 i.bound ? "bound ≤ " + xmlEscape(text(*i.bound))
					 : xmlEscape(i.note.empty() ? std::string("no bound") : i.note));
	}
	return h + "</section>\n";
}

std::string chartsHtml(const RunReport &r)
{
	if (r.charts.empty())
		return "";
	Axis ax{r.startedNs, std::max(r.endedNs.value_or(r.startedNs + 1), r.startedNs + 1), axisOrigin(r)};
	const std::string m = markers(r, ax);
	std::string h = "<h2>Charts</h2>\n<p class=\"chart-note\">One time axis for every chart: seconds since the faults' "
			"agreed instant, the wall clock (UTC) below. Red lines: each fault's verified start and end; "
			"dashed: phases; blue: the toolkit's events. Hover a chart for exact values.</p>\n";
	for (const auto &c : r.charts)
		h += chartSvg(r, c, ax, m);
	// Hover: the nearest point of each series at the pointer's time, with its value, from the embedded report.
	h += R"(<div id="chart-tip" style="position:absolute;display:none;background:#fff;border:1px solid #999;padding:4px 6px;font-size:12px;pointer-events:none;white-space:pre"></div>
<script>
(function(){
  var data=null,tip=document.getElementById('chart-tip');
  function report(){if(!data){var e=document.getElementById('report-data');data=e?JSON.parse(e.textContent):{charts:[]};}return data;}
  document.querySelectorAll('svg.chart').forEach(function(svg){
    svg.addEventListener('mousemove',function(ev){
      var r=svg.getBoundingClientRect(),x=ev.clientX-r.left,t0=+svg.dataset.t0Ns,t1=+svg.dataset.t1Ns,o=+svg.dataset.originNs;
      var t=t0+(x-)" + fmt::format("{}", kChartLeft) + R"()/)" + fmt::format("{}", kChartPixels) + R"(*(t1-t0);
      var c=report().charts.find(function(k){return k.id===svg.dataset.chart;});if(!c)return;
      var lines=[((t-o)/1e9).toFixed(3)+' s'];
      c.series.forEach(function(s){var best=null;s.points.forEach(function(p){if(p[1]!==null&&(!best||Math.abs(p[0]-t)<Math.abs(best[0]-t)))best=p;});
        if(best)lines.push(s.name+': '+best[1]+' '+(c.unit||'')+' at '+((best[0]-o)/1e9).toFixed(3)+' s');});
      tip.textContent=lines.join('\n');tip.style.display='block';tip.style.left=(ev.pageX+12)+'px';tip.style.top=(ev.pageY+12)+'px';});
    svg.addEventListener('mouseleave',function(){tip.style.display='none';});
  });
})();
</script>
)";
	return h;
}

} // namespace xdc::scenario
