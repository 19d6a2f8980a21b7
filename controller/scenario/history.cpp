// SPDX-License-Identifier: Apache-2.0
// Run history (SQLite), figures and campaign statistics.
#include "controller/scenario/history.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include <fmt/format.h>
#include <sqlite3.h>

#include "common/sys/process.h"

namespace xdc::scenario {

namespace fs = std::filesystem;

std::string defaultHistoryPath()
{
	if (const char *p = getenv("XDC_HISTORY_DB"); p && *p)
		return p;
	if (const char *d = getenv("XDG_DATA_HOME"); d && *d)
		return std::string(d) + "/xdc/history.db";
	const char *home = getenv("HOME");
	return std::string(home && *home ? home : "/root") + "/.local/share/xdc/history.db";
}

json figures(const RunReport &r)
{
	json f = json::object();
	for (const auto &o : r.outages) {
		const std::string key = fmt::format("outage.{}@{}", o.source, o.host);
		double longest = 0;
		for (const auto &x : o.outages)
			if (!x.open)
				longest = std::max(longest, (x.endNs - x.startNs) / 1e6);
		f[key + ".longest_ms"] = longest;
		f[key + ".count"] = o.outages.size();
	}
	for (const auto &a : r.assertions) {
		if (a.kind != "outage" || !a.observed.is_object())
			continue;
		for (const auto &[host, o] : a.observed.items())
			for (const char *k : {"detection_ms", "recovery_ms"})
				if (o.is_object() && o.contains(k))
					f[fmt::format("outage.{}@{}.{}", a.bounds.value("probe", ""), host, k)] = o[k];
	}
	size_t i = 0;
	for (const auto &x : r.faults) {
		i++;
		if (x.spreadNs)
			f[fmt::format("fault.{}.spread_ms", i)] = *x.spreadNs / 1e6;
		if (x.windowStartNs && x.windowEndNs)
			f[fmt::format("fault.{}.window_ms", i)] = (*x.windowEndNs - *x.windowStartNs) / 1e6;
	}
	for (const auto &p : r.phases)
		if (p.startNs && p.endNs)
			f[fmt::format("phase.{}.ms", p.name)] = (*p.endNs - *p.startNs) / 1e6;
	// Streams and data figures, so that --repeat statistics and `xdc compare` cover them.
	if (r.streams) {
		if (r.streams->detectionMs && r.streams->detectionMs->is_number())
			f["streams.detection_ms"] = *r.streams->detectionMs;
		if (r.streams->failoverMs && r.streams->failoverMs->is_number())
			f["streams.failover_ms"] = *r.streams->failoverMs;
	}
	if (r.data && r.data->validation) {
		const json &v = *r.data->validation, t = v.value("total", json::object());
		for (const char *k : {"sent", "delivered", "lost", "duplicated", "out_of_order"})
			if (t.contains(k))
				f[fmt::format("data.{}", k)] = t[k];
		if (v.contains("latency_ms"))
			f["data.latency_p99_ms"] = v["latency_ms"].value("p99", 0.0);
		if (r.data->rpoS)
			f["data.rpo_s"] = *r.data->rpoS;
		if (r.data->rtoMs)
			f["data.rto_ms"] = *r.data->rtoMs;
	}
	for (const auto &s : r.steadyState) {
		const std::string when = s.when == "before inject" ? "before" : "after";
		if (s.streams) {
			f[fmt::format("steady.{}.streams_active_ok", when)] = s.status == "passed" ? 1 : 0;
			continue;
		}
		if (s.condition)
			f[fmt::format("steady.{}.{}.held", when, *s.condition)] = s.held.value_or(0);
		else if (s.sampler)
			f[fmt::format("steady.{}.{}.{}@{}", when, *s.sampler, s.value.value_or(""), s.host.value_or(""))] =
				s.observed.value_or(0.0);
		else
			f[fmt::format("steady.{}.{}@{}.ratio", when, s.probe.value_or(""), s.host.value_or(""))] =
				s.ratio.value_or(0.0);
	}
	return f;
}

namespace {

// Two-sided 95% Student's t for df degrees of freedom.
double t95(size_t df)
{
	static const double table[] = {0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
				       2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
				       2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
	if (df == 0)
		return NAN;
	return df <= 30 ? table[df] : 1.96 + 2.4 / static_cast<double>(df);
}

// The q-quantile by linear interpolation between closest ranks.
double quantile(const std::vector<double> &sorted, double q)
{
	if (sorted.size() == 1)
		return sorted[0];
	const double pos = q * static_cast<double>(sorted.size() - 1);
	const size_t lo = static_cast<size_t>(pos);
	const size_t hi = std::min(lo + 1, sorted.size() - 1);
	return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

} // namespace

json statistics(const std::vector<json> &runs)
{
	std::map<std::string, std::vector<double>> values;
	for (const auto &r : runs)
		for (const auto &[k, v] : r.items())
			if (v.is_number())
				values[k].push_back(v.get<double>());
	json out = json::object();
	for (auto &[k, v] : values) {
		std::sort(v.begin(), v.end());
		const size_t n = v.size();
		double sum = 0;
		for (double x : v)
			sum += x;
		const double mean = sum / static_cast<double>(n);
		double ss = 0;
		for (double x : v)
			ss += (x - mean) * (x - mean);
		const double sd = n > 1 ? std::sqrt(ss / static_cast<double>(n - 1)) : 0;
		json s = {{"n", n}, {"min", v.front()}, {"median", quantile(v, 0.5)}, {"p95", quantile(v, 0.95)}, {"p99", quantile(v, 0.99)},
			  {"max", v.back()}, {"mean", mean}, {"stddev", sd}};
		if (n > 1) {
			const double half = t95(n - 1) * sd / std::sqrt(static_cast<double>(n));
			s["ci95_low"] = mean - half;
			s["ci95_high"] = mean + half;
		}
		out[k] = s;
	}
	return out;
}

History::~History()
{
	if (db_)
		sqlite3_close(db_);
}

Result<void> History::exec(const std::string &sql)
{
	char *err = nullptr;
	if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
		std::string msg = err ? err : "unknown error";
		sqlite3_free(err);
		return makeError(Errc::Io, "history database: {}", msg);
	}
	return success();
}

bool History::hasColumn(const std::string &name)
{
	sqlite3_stmt *s = nullptr;
	if (sqlite3_prepare_v2(db_, "SELECT 1 FROM pragma_table_info('runs') WHERE name = ?", -1, &s, nullptr) != SQLITE_OK)
		return false;
	sqlite3_bind_text(s, 1, name.c_str(), -1, SQLITE_TRANSIENT);
	const bool found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return found;
}

Result<std::unique_ptr<History>> History::open(const std::string &path)
{
	std::error_code ec;
	const auto dir = fs::path(path).parent_path();
	if (!dir.empty())
		fs::create_directories(dir, ec);
	sqlite3 *db = nullptr;
	if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    nullptr) != SQLITE_OK) {
		std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
		if (db)
			sqlite3_close(db);
		return makeError(Errc::Io, "cannot open the history database {}: {}", path, msg);
	}
	sqlite3_busy_timeout(db, 5000);
	std::unique_ptr<History> h(new History(db));
	auto r = h->exec("PRAGMA journal_mode=WAL;"
			 "CREATE TABLE IF NOT EXISTS runs ("
			 " run_id TEXT PRIMARY KEY, scenario TEXT, file TEXT, started_ns INTEGER, ended_ns INTEGER,"
			 " verdict TEXT, exit_code INTEGER, reason TEXT, seed INTEGER, user TEXT, dir TEXT,"
			 " pid INTEGER, pid_start INTEGER, figures TEXT);"
			 "CREATE INDEX IF NOT EXISTS runs_started ON runs(started_ns);");
	if (!r)
		return r.error().context(fmt::format("cannot set up {}", path));
	// Each run's variables (its --param values and random draws), for `xdc compare`: a column added to databases
	// written before it existed.
	if (!h->hasColumn("variables"))
		if (auto v = h->exec("ALTER TABLE runs ADD COLUMN variables TEXT;"); !v)
			return v.error().context(fmt::format("cannot set up {}", path));
	return h;
}

namespace {

struct Stmt {
	sqlite3_stmt *s = nullptr;
	~Stmt() { sqlite3_finalize(s); }
};

void bindValue(sqlite3_stmt *s, int i, const std::string &v) { sqlite3_bind_text(s, i, v.c_str(), -1, SQLITE_TRANSIENT); }
void bindValue(sqlite3_stmt *s, int i, int64_t v) { sqlite3_bind_int64(s, i, v); }

std::string col(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);
	return t ? reinterpret_cast<const char *>(t) : "";
}

} // namespace

Result<void> History::begin(const json &run)
{
	Stmt st;
	if (sqlite3_prepare_v2(db_, "INSERT OR REPLACE INTO runs (run_id, scenario, file, started_ns, verdict, exit_code,"
			       " reason, seed, user, dir, pid, pid_start) VALUES (?, ?, ?, ?, 'running', -1, '', ?, ?, ?, ?, ?)",
			       -1, &st.s, nullptr) != SQLITE_OK)
		return makeError(Errc::Io, "history database: {}", sqlite3_errmsg(db_));
	const pid_t pid = ::getpid();
	bindValue(st.s, 1, run.value("run_id", ""));
	bindValue(st.s, 2, run.value("scenario", ""));
	bindValue(st.s, 3, run.value("file", ""));
	bindValue(st.s, 4, run.value("started_ns", int64_t{0}));
	bindValue(st.s, 5, static_cast<int64_t>(run.value("seed", uint64_t{0})));
	bindValue(st.s, 6, run.value("user", ""));
	bindValue(st.s, 7, run.value("dir", ""));
	bindValue(st.s, 8, static_cast<int64_t>(pid));
	bindValue(st.s, 9, static_cast<int64_t>(sys::processStartTime(pid).value_or(0)));
	if (sqlite3_step(st.s) != SQLITE_DONE)
		return makeError(Errc::Io, "history database: {}", sqlite3_errmsg(db_));
	return success();
}

Result<void> History::finish(const RunReport &r)
{
	Stmt st;
	if (sqlite3_prepare_v2(db_, "UPDATE runs SET ended_ns = ?, verdict = ?, exit_code = ?, reason = ?, figures = ?, "
			       "variables = ? WHERE run_id = ?", -1, &st.s, nullptr) != SQLITE_OK)
		return makeError(Errc::Io, "history database: {}", sqlite3_errmsg(db_));
	bindValue(st.s, 1, r.endedNs.value_or(0));
	bindValue(st.s, 2, r.verdict.value_or(""));
	bindValue(st.s, 3, static_cast<int64_t>(r.exitCode.value_or(3)));
	bindValue(st.s, 4, r.reason.value_or(""));
	bindValue(st.s, 5, figures(r).dump());
	bindValue(st.s, 6, r.variables.dump());
	bindValue(st.s, 7, r.runId);
	if (sqlite3_step(st.s) != SQLITE_DONE)
		return makeError(Errc::Io, "history database: {}", sqlite3_errmsg(db_));
	return success();
}

namespace {

json rowJson(sqlite3_stmt *s)
{
	json j = {{"run_id", col(s, 0)}, {"scenario", col(s, 1)}, {"file", col(s, 2)},
		  {"started_ns", sqlite3_column_int64(s, 3)}, {"ended_ns", sqlite3_column_int64(s, 4)},
		  {"verdict", col(s, 5)}, {"exit_code", sqlite3_column_int64(s, 6)}, {"reason", col(s, 7)},
		  {"seed", static_cast<uint64_t>(sqlite3_column_int64(s, 8))}, {"user", col(s, 9)}, {"dir", col(s, 10)}};
	// A run still marked running whose runner is gone never finished: the controller or the runner died.
	if (j["verdict"] == "running") {
		const pid_t pid = static_cast<pid_t>(sqlite3_column_int64(s, 11));
		const uint64_t start = static_cast<uint64_t>(sqlite3_column_int64(s, 12));
		if (!sys::processAlive(pid, start)) {
			j["verdict"] = "broken";
			j["reason"] = "the run never finished (its runner or the controller died); its agents reverted "
				      "every fault when the faults' TTLs ran out";
		}
	}
	const std::string figs = col(s, 13);
	j["figures"] = figs.empty() ? json::object() : json::parse(figs, nullptr, false);
	const std::string vars = col(s, 14);
	j["variables"] = vars.empty() ? json::object() : json::parse(vars, nullptr, false);
	return j;
}

} // namespace

Result<json> History::list(int limit, const std::string &scenario)
{
	Stmt st;
	const std::string sql = std::string("SELECT run_id, scenario, file, started_ns, ended_ns, verdict, exit_code, reason,"
					    " seed, user, dir, pid, pid_start, figures, variables FROM runs") +
				(scenario.empty() ? "" : " WHERE scenario = ?") + " ORDER BY started_ns DESC LIMIT ?";
	if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st.s, nullptr) != SQLITE_OK)
		return makeError(Errc::Io, "history database: {}", sqlite3_errmsg(db_));
	int i = 1;
	if (!scenario.empty())
		bindValue(st.s, i++, scenario);
	bindValue(st.s, i, static_cast<int64_t>(limit));
	json out = json::array();
	int rc;
	while ((rc = sqlite3_step(st.s)) == SQLITE_ROW)
		out.push_back(rowJson(st.s));
	if (rc != SQLITE_DONE)
		return makeError(Errc::Io, "history database: {}", sqlite3_errmsg(db_));
	return out;
}

Result<json> History::get(const std::string &runId)
{
	Stmt st;
	if (sqlite3_prepare_v2(db_, "SELECT run_id, scenario, file, started_ns, ended_ns, verdict, exit_code, reason, seed,"
			       " user, dir, pid, pid_start, figures, variables FROM runs WHERE run_id = ? OR run_id LIKE ? ESCAPE '\\'"
			       " ORDER BY run_id = ? DESC LIMIT 3", -1, &st.s, nullptr) != SQLITE_OK)
		return makeError(Errc::Io, "history database: {}", sqlite3_errmsg(db_));
	std::string like;
	for (char c : runId) {
		if (c == '%' || c == '_' || c == '\\')
			like += '\\';
		like += c;
	}
	bindValue(st.s, 1, runId);
	bindValue(st.s, 2, like + "%");
	bindValue(st.s, 3, runId);
	std::vector<json> rows;
	while (sqlite3_step(st.s) == SQLITE_ROW)
		rows.push_back(rowJson(st.s));
	if (rows.empty())
		return makeError(Errc::NotFound, "no run '{}' in the history (xdc history lists them)", runId);
	if (rows[0]["run_id"] != runId && rows.size() > 1)
		return makeError(Errc::Invalid, "'{}' matches several runs ({}, {}, ...): give more of the id", runId,
				 rows[0]["run_id"].get<std::string>(), rows[1]["run_id"].get<std::string>());
	return rows[0];
}

} // namespace xdc::scenario
