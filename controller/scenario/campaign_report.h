// SPDX-License-Identifier: Apache-2.0
// A campaign's reports (docs/SCENARIOS.md, "Campaign reports"), in the campaign's directory beside summary.json:
//   campaign.json  per cell: its parameters, its runs (verdict, seed, figures, links to their reports), its pass
//                  rate and per figure the distribution over its runs (n, min, median, p95, p99, max, mean, stddev,
//                  95% interval) with each run's value
//   campaign.html  one self-contained page of the same: a pass rate per cell, a table per cell of the figures with
//                  a strip plot of the runs' values, and links to each run's report.html. It is rendered from
//                  campaign.json's object and embeds it, so the two cannot disagree.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace xdc::scenario {

using nlohmann::json;

struct CampaignRun {
	std::string runId, dir, verdict, reason;
	int exitCode = 0;
	uint64_t seed = 0;
	json figures = json::object(); // history.h figures(): the run's report's flat figures
};

struct CampaignCell {
	std::map<std::string, std::string> params; // the matrix values of the cell (empty without --matrix)
	std::string dir;
	std::vector<CampaignRun> runs;
};

struct CampaignRecord {
	std::string scenario, file, dir;
	uint64_t seed = 0;
	int repeat = 1, exitCode = 0;
	int64_t startedNs = 0, endedNs = 0;
	std::vector<CampaignCell> cells;
};

// campaign.json's object ("schema": "xdc.campaign/1"). Run directories and report links are relative to dir.
json campaignJson(const CampaignRecord &c);
// The page, from campaignJson's object.
std::string campaignHtml(const json &campaign);
// `xdc compare A B --html`: the comparison's object ({a, b, parameters, figures}: the runs' history rows, the
// parameters that differ, and figure by figure a, b, delta, change_percent) as one page, the parameters first.
std::string compareHtml(const json &comparison);
// Writes both into c.dir (each atomically).
Result<void> writeCampaignReports(const CampaignRecord &c);

// A figure's value for people: names ending in _ms, .ms or _s are durations (ms below 10 s, s from 10 s, three
// significant figures, integer milliseconds kept whole); other values with three significant figures, integers
// as they are.
std::string figureText(const std::string &name, double value);

} // namespace xdc::scenario
