// SPDX-License-Identifier: Apache-2.0
// The campaign loop (see campaign.h for the contract).
#include "controller/scenario/campaign.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/clock.h"
#include "controller/scenario/campaign_report.h"
#include "controller/scenario/history.h"
#include "controller/scenario/report.h"

namespace xdc::scenario {

namespace fs = std::filesystem;

Result<std::vector<Combo>> expandMatrix(const std::vector<std::string> &matrix, int repeat, size_t maxRuns)
{
	std::vector<Combo> combos{{}};
	for (const auto &m : matrix) {
		const auto eq = m.find('=');
		if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
			return makeError(Errc::Invalid, "--matrix {}: expected NAME=V1,V2,...", m);
		std::vector<std::string> values;
		std::stringstream ss(m.substr(eq + 1));
		for (std::string v; std::getline(ss, v, ',');)
			values.push_back(v);
		std::vector<Combo> next;
		for (const auto &c : combos)
			for (const auto &v : values) {
				auto n = c;
				n[m.substr(0, eq)] = v;
				next.push_back(n);
			}
		combos = std::move(next);
	}
	if (combos.size() * static_cast<size_t>(repeat) > maxRuns)
		return makeError(Errc::Invalid, "{} runs is more than the {} a campaign may hold",
				 combos.size() * static_cast<size_t>(repeat), maxRuns);
	return combos;
}

std::string comboLabel(const Combo &c)
{
	std::string out;
	for (const auto &[k, v] : c)
		out += (out.empty() ? "" : ",") + k + "=" + v;
	for (auto &ch : out)
		if (ch == '/')
			ch = '_';
	return out;
}

Result<json> runCampaign(const CampaignOptions &o)
{
	auto warn = [&](const std::string &line) {
		if (o.warn)
			o.warn(line);
	};
	const auto &combos = o.combos;
	const int repeat = o.repeat;
	const uint64_t seed = o.run.seed;
	// Every cell must validate before anything runs.
	for (const auto &c : combos) {
		ParseOptions po = o.parse;
		for (const auto &[k, v] : c)
			po.params[k] = v;
		auto cs = loadScenario(o.file, po);
		if (!cs)
			return c.empty() ? cs.error() : Error{cs.error().code, fmt::format("{} (with {})", cs.error().message,
											       comboLabel(c))};
	}
	// The history records the run before it starts, so a runner that dies leaves it visible as broken.
	Result<std::unique_ptr<History>> history = makeError(Errc::NotFound, "no history");
	if (!o.historyPath.empty()) {
		history = History::open(o.historyPath);
		if (!history)
			warn(fmt::format("xdc run: {} (the run is not recorded in the history)", history.error().message));
	}
	std::error_code ec;
	CampaignRecord record;
	record.file = fs::absolute(o.file).string();
	record.dir = o.baseDir;
	record.seed = seed;
	record.repeat = repeat;
	record.startedNs = clk::wallNs();
	int worst = kPassed;
	json runs = json::array(), cells = json::array();
	bool stop = false;
	for (size_t c = 0; c < combos.size() && !stop; c++) {
		std::vector<json> figs;
		const std::string cellDir = combos.size() > 1 ? fmt::format("{}/{}", o.baseDir, comboLabel(combos[c]))
							      : o.baseDir;
		const size_t firstRun = runs.size();
		record.cells.push_back({.params = combos[c], .dir = cellDir, .runs = {}});
		for (int i = 1; i <= repeat; i++) {
			RunOptions r = o.run;
			r.outDir = cellDir;
			if (combos.size() > 1)
				r.runId = fmt::format("{}-c{}", o.run.runId, c + 1);
			if (repeat > 1) {
				r.runId = fmt::format("{}-{}", r.runId, i);
				r.repetition = i;
				r.seed = seed + static_cast<uint64_t>(i - 1);
				r.outDir = fmt::format("{}/rep-{}", cellDir, i);
			}
			fs::create_directories(r.outDir, ec);
			// Each repetition draws its random variables from its own seed; a campaign cell sets its parameters.
			ParseOptions po = o.parse;
			po.seed = r.seed;
			for (const auto &[k, v] : combos[c])
				po.params[k] = v;
			r.inputs["params"] = json(po.params);
			auto rs = loadScenario(o.file, po);
			if (!rs)
				return rs.error();
			if (o.onStart)
				o.onStart(r, rs->name, combos[c]);
			if (history)
				(void)(*history)->begin({{"run_id", r.runId}, {"scenario", rs->name},
							 {"file", fs::absolute(o.file).string()}, {"started_ns", clk::wallNs()},
							 {"seed", r.seed}, {"user", r.user}, {"dir", r.outDir}});
			const RunReport report = runScenario(*rs, r);
			if (history) {
				auto hr = (*history)->finish(report);
				if (!hr)
					warn("xdc run: " + hr.error().message);
			}
			figs.push_back(figures(report));
			if (record.scenario.empty())
				record.scenario = rs->name;
			record.cells.back().runs.push_back({.runId = r.runId, .dir = r.outDir,
							    .verdict = report.verdict.value_or(""),
							    .reason = report.reason.value_or(""),
							    .exitCode = report.exitCode.value_or(kHarness), .seed = r.seed,
							    .figures = figs.back()});
			auto w = writeReports(report, r.outDir);
			if (!w)
				warn("xdc run: " + w.error().message);
			const int code = report.exitCode.value_or(kHarness);
			// The most severe outcome wins: aborted > harness > invalid > failed > passed.
			auto rank = [](int x) { return x == 4 ? 5 : x == 3 ? 4 : x == 2 ? 3 : x == 1 ? 2 : 1; };
			if (rank(code) > rank(worst))
				worst = code;
			runs.push_back({{"run_id", r.runId}, {"dir", r.outDir}, {"verdict", report.verdict.value_or("")},
					{"exit_code", code}, {"reason", report.reason.value_or("")},
					{"report", r.outDir + "/report.json"}});
			if (o.onRun)
				o.onRun(r, report);
			if (code == kAborted) {
				stop = true;
				break;
			}
		}
		json cell = {{"params", json(combos[c])}, {"dir", cellDir}, {"runs", json::array()}};
		for (size_t k = firstRun; k < runs.size(); k++)
			cell["runs"].push_back(runs[k]["run_id"]);
		// Per figure over the repetitions: n, min, median, p95, p99, max, mean and a 95% confidence interval.
		if (repeat > 1)
			cell["statistics"] = statistics(figs);
		if (o.onCell)
			o.onCell(cell, combos[c]);
		cells.push_back(cell);
	}
	json summary = {{"exit_code", worst}, {"runs", runs}, {"seed", seed}};
	if (combos.size() > 1)
		summary["cells"] = cells;
	if (repeat > 1 && combos.size() == 1)
		summary["statistics"] = cells[0]["statistics"];
	if (repeat > 1 || combos.size() > 1) {
		std::ofstream(o.baseDir + "/summary.json") << summary.dump(2) << "\n";
		record.exitCode = worst;
		record.endedNs = clk::wallNs();
		if (auto w = writeCampaignReports(record); !w)
			warn("xdc run: " + w.error().message);
		summary["campaign_report"] = o.baseDir + "/campaign.html";
	}
	return summary;
}

} // namespace xdc::scenario
