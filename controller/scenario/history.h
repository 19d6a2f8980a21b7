// SPDX-License-Identifier: Apache-2.0
// Run history in an embedded SQLite database (default $XDC_HISTORY_DB, else $XDG_DATA_HOME/xdc/history.db, else
// ~/.local/share/xdc/history.db; `--db` chooses): one row per run, written when it starts (so a run whose runner died
// shows as broken) and completed when it ends, with the report's figures for `xdc compare` and campaign statistics.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/scenario/run_report.h"

struct sqlite3;

namespace xdc::scenario {

using nlohmann::json;

std::string defaultHistoryPath();

// The figures of a run, flat: {"outage.wan@dc1-h1.longest_ms": 5012.3, "fault.1.spread_ms": 0.4, ...}.
json figures(const RunReport &report);

// Per figure over several runs: {n, min, median, p95, p99, max, mean, stddev, ci95_low, ci95_high} (Student's t).
json statistics(const std::vector<json> &figuresPerRun);

class History {
public:
	// Opens (creating the file, its directory and the schema) the database at path.
	static Result<std::unique_ptr<History>> open(const std::string &path);
	~History();
	History(const History &) = delete;
	History &operator=(const History &) = delete;

	// A run starts: {run_id, scenario, file, started_ns, seed, user, dir}; the calling process is recorded so a
	// run left "running" by a dead runner reads as broken.
	Result<void> begin(const json &run);
	// A run ends: its report (verdict, exit code, figures).
	Result<void> finish(const RunReport &report);
	// The newest runs first: {run_id, scenario, started_ns, ended_ns, verdict, exit_code, reason, seed, user, dir}.
	Result<json> list(int limit, const std::string &scenario = "");
	// One run with its figures; NotFound if there is none (a unique prefix of the id is enough).
	Result<json> get(const std::string &runId);

private:
	explicit History(sqlite3 *db) : db_(db) {}
	Result<void> exec(const std::string &sql);
	bool hasColumn(const std::string &name);
	sqlite3 *db_ = nullptr;
};

} // namespace xdc::scenario
