// SPDX-License-Identifier: Apache-2.0
// campaign.json and campaign.html (campaign_report.h).
#include "controller/scenario/campaign_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "common/clock.h"
#include "controller/scenario/history.h"
#include "controller/scenario/report.h"
#include "controller/scenario/report_charts.h"

namespace xdc::scenario {

namespace fs = std::filesystem;

namespace {

std::string relativeTo(const std::string &path, const std::string &base)
{
	const auto rel = fs::path(path).lexically_relative(fs::path(base));
	return rel.empty() || rel.string() == "." ? std::string(".") : rel.string();
}

std::string cellLabel(const json &params)
{
	std::string out;
	for (const auto &[k, v] : params.items())
		out += (out.empty() ? "" : ", ") + k + "=" + v.get<std::string>();
	return out.empty() ? std::string("all runs") : out;
}

bool endsWith(const std::string &s, const std::string &suffix)
{
	return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The page's styles: the run report's palette, and tables that wrap rather than scroll sideways.
constexpr const char *kStyle = R"(<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1232px}
h1{font-size:20px}h2{font-size:17px;margin-top:28px}h3{font-size:15px}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff}
.verdict.passed{background:#2a7d2a}.verdict.failed{background:#b3261e}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:middle}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.passed{color:#2a7d2a;font-weight:600}td.failed,td.harness,td.broken,td.aborted{color:#b3261e;font-weight:600}
svg.strip .axis{stroke:#999}svg.strip .median{stroke:#1f4fb3;stroke-width:2}
svg.strip .run-value{fill:rgba(179,38,30,.55);stroke:#b3261e}svg.strip .run-value:hover{fill:#b3261e}
.rate{display:inline-block;width:120px;height:10px;background:#f0d0cc;vertical-align:middle;margin-left:8px}
.rate span{display:block;height:10px;background:#2a7d2a}
@media print{body{margin:0}}
</style>)";

constexpr double kStripW = 260, kStripH = 24, kStripPad = 8;

std::string stripPlot(const std::string &figure, const json &values, const json &st)
{
	const double lo = st["min"].get<double>(), hi = st["max"].get<double>();
	auto x = [&](double v) {
		return hi > lo ? kStripPad + (v - lo) / (hi - lo) * (kStripW - 2 * kStripPad) : kStripW / 2;
	};
	std::string h = fmt::format("<svg class=\"strip\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" role=\"img\" "
				    "aria-label=\"{} per run\">",
				    kStripW, kStripH, kStripW, kStripH, xmlEscape(figure));
	h += fmt::format("<line class=\"axis\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>", kStripPad, kStripW - kStripPad,
			 kStripH / 2, kStripH / 2);
	const double med = st["median"].get<double>();
	h += fmt::format("<line class=\"median\" x1=\"{:.2f}\" x2=\"{:.2f}\" y1=\"3\" y2=\"{}\"><title>median {}</title>"
			 "</line>",
			 x(med), x(med), kStripH - 3, xmlEscape(figureText(figure, med)));
	for (const auto &v : values) {
		const double val = v["value"].get<double>();
		h += fmt::format("<circle class=\"run-value\" data-run=\"{}\" data-value=\"{}\" cx=\"{:.2f}\" cy=\"{}\" r=\"4\">"
				 "<title>{}: {}</title></circle>",
				 xmlEscape(v["run_id"].get<std::string>()), val, x(val), kStripH / 2,
				 xmlEscape(v["run_id"].get<std::string>()), xmlEscape(figureText(figure, val)));
	}
	return h + "</svg>";
}

std::string cellSection(const json &cell, size_t index)
{
	const int passed = cell["passed"], total = cell["total"];
	std::string h = fmt::format("<section class=\"cell\" data-cell=\"{}\" data-passed=\"{}\" data-total=\"{}\">\n"
				    "<h2>{}</h2>\n<p>{} of {} runs passed ({:.0f} %)<span class=\"rate\"><span style=\""
				    "width:{:.1f}%\"></span></span></p>\n",
				    index, passed, total, xmlEscape(cellLabel(cell["params"])), passed, total,
				    cell["pass_rate"].get<double>() * 100, cell["pass_rate"].get<double>() * 100);
	h += "<h3>Runs</h3>\n<table class=\"runs\"><tr><th>run</th><th class=\"num\">seed</th><th>verdict</th>"
	     "<th>reason</th><th>reports</th></tr>\n";
	for (const auto &r : cell["runs"]) {
		const std::string dir = r["dir"];
		h += fmt::format("<tr class=\"run\" data-run=\"{}\"><td>{}</td><td class=\"num\">{}</td><td class=\"{}\">{}</td>"
				 "<td>{}</td><td><a href=\"{}/report.html\">report.html</a> · <a href=\"{}/report.json\">"
				 "report.json</a></td></tr>\n",
				 xmlEscape(r["run_id"]), xmlEscape(r["run_id"]), r["seed"].get<uint64_t>(),
				 xmlEscape(r["verdict"]), xmlEscape(r["verdict"]), xmlEscape(r["reason"]), xmlEscape(dir),
				 xmlEscape(dir));
	}
	h += "</table>\n";
	const json &stats = cell["statistics"];
	if (stats.empty())
		return h + "<p>No figures: no run measured any.</p>\n</section>\n";
	h += "<h3>Figures</h3>\n<table class=\"figures\"><tr><th>figure</th><th class=\"num\">n</th><th class=\"num\">min"
	     "</th><th class=\"num\">p50</th><th class=\"num\">p95</th><th class=\"num\">max</th><th class=\"num\">mean"
	     "</th><th>runs (strip plot: each run's value, the median in blue)</th></tr>\n";
	for (const auto &[name, st] : stats.items()) {
		h += fmt::format("<tr class=\"figure\" data-figure=\"{}\" data-n=\"{}\" data-min=\"{}\" data-p50=\"{}\" "
				 "data-p95=\"{}\" data-max=\"{}\" data-mean=\"{}\"><td>{}</td><td class=\"num\">{}</td>",
				 xmlEscape(name), st["n"].get<int64_t>(), st["min"].get<double>(),
				 st["median"].get<double>(), st["p95"].get<double>(), st["max"].get<double>(),
				 st["mean"].get<double>(), xmlEscape(name), st["n"].get<int64_t>());
		for (const char *k : {"min", "median", "p95", "max", "mean"})
			h += fmt::format("<td class=\"num\">{}</td>", xmlEscape(figureText(name, st[k].get<double>())));
		h += "<td>" + stripPlot(name, st["values"], st) + "</td></tr>\n";
	}
	return h + "</table>\n</section>\n";
}

} // namespace

std::string figureText(const std::string &name, double v)
{
	const bool ms = endsWith(name, "_ms") || endsWith(name, ".ms"), s = endsWith(name, "_s");
	if (ms || s)
		return durationText(s ? v * 1000 : v);
	if (v == std::floor(v) && std::fabs(v) < 1e15)
		return fmt::format("{}", static_cast<int64_t>(v));
	return fmt::format("{:.3g}", v);
}

json campaignJson(const CampaignRecord &c)
{
	json cells = json::array();
	int passedAll = 0, totalAll = 0;
	for (const auto &cell : c.cells) {
		json runs = json::array();
		std::vector<json> figs;
		int passed = 0;
		for (const auto &r : cell.runs) {
			runs.push_back({{"run_id", r.runId}, {"dir", relativeTo(r.dir, c.dir)}, {"seed", r.seed},
					{"verdict", r.verdict}, {"exit_code", r.exitCode}, {"reason", r.reason},
					{"figures", r.figures}});
			figs.push_back(r.figures);
			passed += r.verdict == "passed";
		}
		// Per figure: the distribution over the cell's runs, with each run's value in run order.
		json stats = statistics(figs);
		for (auto &[name, st] : stats.items()) {
			json values = json::array();
			for (const auto &r : cell.runs)
				if (auto it = r.figures.find(name); it != r.figures.end() && it->is_number())
					values.push_back({{"run_id", r.runId}, {"value", *it}});
			st["values"] = values;
		}
		const int total = static_cast<int>(cell.runs.size());
		passedAll += passed;
		totalAll += total;
		cells.push_back({{"params", json(cell.params)}, {"dir", relativeTo(cell.dir, c.dir)}, {"runs", runs},
				 {"passed", passed}, {"total", total},
				 {"pass_rate", total ? static_cast<double>(passed) / total : 0.0}, {"statistics", stats}});
	}
	return {{"schema", "xdc.campaign/1"},
		{"scenario", c.scenario},
		{"file", c.file},
		{"seed", c.seed},
		{"repeat", c.repeat},
		{"exit_code", c.exitCode},
		{"started_ns", c.startedNs},
		{"ended_ns", c.endedNs},
		{"passed", passedAll},
		{"total", totalAll},
		{"cells", cells}};
}

std::string campaignHtml(const json &c)
{
	const int passed = c["passed"], total = c["total"];
	const bool allPassed = passed == total;
	std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
	h += fmt::format("<meta name=\"viewport\" content=\"width=device-width\">\n<title>xdc campaign {} — {} of {} "
			 "passed</title>\n",
			 xmlEscape(c["scenario"]), passed, total);
	h += std::string(kStyle) + "</head><body>\n";
	h += fmt::format("<h1>Campaign of {} <span class=\"verdict {}\" id=\"campaign-verdict\">{} of {} passed</span></h1>\n",
			 xmlEscape(c["scenario"]), allPassed ? "passed" : "failed", passed, total);
	const int64_t started = c["started_ns"], ended = c["ended_ns"];
	h += "<table id=\"campaign-summary\">\n";
	h += fmt::format("<tr><th>scenario file</th><td>{}</td></tr>\n", xmlEscape(c["file"]));
	h += fmt::format("<tr><th>first seed</th><td>{}</td></tr>\n", c["seed"].get<uint64_t>());
	h += fmt::format("<tr><th>cells x repetitions</th><td>{} x {}</td></tr>\n", c["cells"].size(),
			 c["repeat"].get<int>());
	h += fmt::format("<tr><th>started (UTC)</th><td>{}</td></tr>\n",
			 xmlEscape(fmt::format("{:%Y-%m-%d %H:%M:%S}", fmt::gmtime(static_cast<time_t>(started / clk::kSec)))));
	h += fmt::format("<tr><th>took</th><td>{}</td></tr>\n", xmlEscape(figureText("t_ms", (ended - started) / 1e6)));
	h += fmt::format("<tr><th>exit code</th><td>{}</td></tr>\n</table>\n", c["exit_code"].get<int>());
	if (c["cells"].size() > 1) {
		h += "<h2>Pass rate per cell</h2>\n<table id=\"cells\"><tr><th>cell</th><th class=\"num\">passed</th>"
		     "<th class=\"num\">runs</th><th class=\"num\">rate</th></tr>\n";
		for (const auto &cell : c["cells"])
			h += fmt::format("<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
					 "<td class=\"num\">{:.0f} %</td></tr>\n",
					 xmlEscape(cellLabel(cell["params"])), cell["passed"].get<int>(),
					 cell["total"].get<int>(), cell["pass_rate"].get<double>() * 100);
		h += "</table>\n";
	}
	size_t i = 0;
	for (const auto &cell : c["cells"])
		h += cellSection(cell, i++);
	// The campaign itself for scripts reading the page; "</" is escaped so the data cannot end the script element.
	std::string data = c.dump(-1, ' ', false, json::error_handler_t::replace);
	for (size_t k = data.find("</"); k != std::string::npos; k = data.find("</", k + 3))
		data.replace(k, 2, "<\\/");
	h += "<script type=\"application/json\" id=\"campaign-data\">" + data + "</script>\n</body></html>\n";
	return h;
}

std::string compareHtml(const json &c)
{
	const json &a = c["a"], &b = c["b"];
	auto str = [](const json &row, const char *k) {
		const auto it = row.find(k);
		return it == row.end() || it->is_null() ? std::string() : it->is_string() ? it->get<std::string>() : it->dump();
	};
	std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
	h += fmt::format("<meta name=\"viewport\" content=\"width=device-width\">\n<title>xdc compare {} {}</title>\n",
			 xmlEscape(str(a, "run_id")), xmlEscape(str(b, "run_id")));
	h += std::string(kStyle) + "</head><body>\n";
	h += fmt::format("<h1>{} against {}</h1>\n", xmlEscape(str(a, "run_id")), xmlEscape(str(b, "run_id")));
	h += "<table id=\"runs\"><tr><th></th><th>run</th><th>scenario</th><th>verdict</th><th>report</th></tr>\n";
	for (const auto &[label, row] : {std::pair{"A", &a}, std::pair{"B", &b}}) {
		const std::string dir = str(*row, "dir"), verdict = str(*row, "verdict");
		h += fmt::format("<tr><th>{}</th><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>\n", label,
				 xmlEscape(str(*row, "run_id")), xmlEscape(str(*row, "scenario")), xmlEscape(verdict),
				 xmlEscape(verdict),
				 dir.empty() ? std::string("-")
					     : fmt::format("<a href=\"file://{}/report.html\">report.html</a>", xmlEscape(dir)));
	}
	h += "</table>\n<h2>Parameters that differ</h2>\n";
	if (c["parameters"].empty())
		h += "<p id=\"parameters\">None: both runs had the same parameters.</p>\n";
	else {
		h += "<table id=\"parameters\"><tr><th>parameter</th><th>A</th><th>B</th></tr>\n";
		for (const auto &p : c["parameters"])
			h += fmt::format("<tr class=\"parameter\" data-name=\"{}\"><td>{}</td><td>{}</td><td>{}</td></tr>\n",
					 xmlEscape(str(p, "name")), xmlEscape(str(p, "name")),
					 xmlEscape(p["a"].is_null() ? "(unset)" : str(p, "a")),
					 xmlEscape(p["b"].is_null() ? "(unset)" : str(p, "b")));
		h += "</table>\n";
	}
	h += "<h2>Figures</h2>\n<table id=\"figures\"><tr><th>figure</th><th class=\"num\">A</th><th class=\"num\">B</th>"
	     "<th class=\"num\">B - A</th><th class=\"num\">change</th></tr>\n";
	for (const auto &row : c["figures"]) {
		const std::string name = row["figure"];
		auto cell = [&](const char *k) {
			const auto it = row.find(k);
			return it == row.end() || !it->is_number() ? std::string("-") : figureText(name, it->get<double>());
		};
		auto data = [&](const char *k) {
			const auto it = row.find(k);
			return it == row.end() || !it->is_number() ? std::string() : fmt::format(" data-{}=\"{}\"", k, it->get<double>());
		};
		h += fmt::format("<tr class=\"figure\" data-figure=\"{}\"{}{}><td>{}</td><td class=\"num\">{}</td>"
				 "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
				 xmlEscape(name), data("a"), data("b"), xmlEscape(name), xmlEscape(cell("a")),
				 xmlEscape(cell("b")), xmlEscape(cell("delta")),
				 row.contains("change_percent")
					 ? fmt::format("{:+.1f} %", row["change_percent"].get<double>())
					 : std::string());
	}
	h += "</table>\n</body></html>\n";
	return h;
}

Result<void> writeCampaignReports(const CampaignRecord &c)
{
	const json j = campaignJson(c);
	XDC_TRY(writeAtomic(c.dir + "/campaign.json", j.dump(2, ' ', false, json::error_handler_t::replace) + "\n"));
	XDC_TRY(writeAtomic(c.dir + "/campaign.html", campaignHtml(j)));
	return success();
}

} // namespace xdc::scenario
