// SPDX-License-Identifier: Apache-2.0
// `xdc validate` (offline, or against the live fleet) and `xdc run` (a scenario, phase by phase, with reports).
#include <atomic>
#include <climits>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <pwd.h>
#include <random>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/duration.h"
#include "common/sys/file.h"
#include "controller/cli/cli.h"
#include "controller/cli/lab_internal.h"
#include "controller/lab/lab_state.h"
#include "controller/scenario/campaign.h"
#include "controller/scenario/campaign_report.h"
#include "controller/scenario/history.h"
#include "controller/scenario/report.h"
#include "controller/scenario/runner.h"
#include "controller/scenario/spec.h"

namespace xdc::cli {

namespace fs = std::filesystem;

namespace {

Result<scenario::ParseOptions> parseParams(const Args &a)
{
	scenario::ParseOptions opt;
	for (const auto &p : a.all("--param")) {
		const auto eq = p.find('=');
		if (eq == std::string::npos || eq == 0)
			return makeError(Errc::Invalid, "--param {}: expected NAME=VALUE", p);
		opt.params[p.substr(0, eq)] = p.substr(eq + 1);
	}
	return opt;
}

std::vector<scenario::Host> labHosts(const lab::LabState &st)
{
	std::vector<scenario::Host> out;
	for (const auto &h : st.hosts)
		out.push_back({h.name, fmt::format("dc{}", h.dc), {{"role", "streams"}, {"lab", st.name}}, {}});
	return out;
}

std::vector<scenario::Host> fleetHosts(const control::AgentsAnswer &agents)
{
	std::vector<scenario::Host> out;
	for (const auto &a : agents.agents)
		if (a.state == "live")
			out.push_back(scenario::hostOfAgent(a));
	return out;
}

std::string fileDir(const std::string &path)
{
	auto p = fs::path(path).parent_path();
	return p.empty() ? "." : p.string();
}

// The topology a scenario is validated against offline: --inventory, the scenario's inventory, then the lab
// (--lab, the scenario's lab, $XDC_LAB) when its record exists. Empty with a note when there is none.
Result<std::vector<scenario::Host>> offlineTopology(const scenario::Scenario &s, const Args &a, std::string &note)
{
	std::string inv = a.get("--inventory");
	if (inv.empty() && !s.topology.inventory.empty())
		inv = s.topology.inventory[0] == '/' ? s.topology.inventory : fileDir(s.origin) + "/" + s.topology.inventory;
	if (!inv.empty()) {
		note = "inventory " + inv;
		return scenario::loadInventory(inv);
	}
	std::string labName = a.get("--lab", s.topology.lab);
	if (labName.empty() && getenv("XDC_LAB"))
		labName = getenv("XDC_LAB");
	if (labName.empty()) {
		note = "no topology given (topology.lab / topology.inventory / --lab / --inventory): selectors not checked";
		return std::vector<scenario::Host>{};
	}
	auto st = lab::loadLab(labName);
	if (!st) {
		if (st.error().code == Errc::NotFound) {
			// A lab that is not up is planned by its defaults: 2 DCs x 2 hosts.
			lab::LabState def;
			def.name = labName;
			for (int d = 1; d <= 2; d++)
				for (int h = 1; h <= 2; h++)
					def.hosts.push_back({fmt::format("dc{}-h{}", d, h), d, 0, "", "", "", "", {}});
			note = fmt::format("lab {} is not up: checked against the default lab (2 DCs x 2 hosts)", labName);
			return labHosts(def);
		}
		return st.error();
	}
	note = fmt::format("lab {} ({} hosts)", labName, st->hosts.size());
	return labHosts(*st);
}

std::string userName()
{
	struct passwd pw{}, *res = nullptr;
	char buf[4096];
	if (::getpwuid_r(::getuid(), &pw, buf, sizeof buf, &res) == 0 && res)
		return fmt::format("{} (uid {})", res->pw_name, ::getuid());
	return fmt::format("uid {}", ::getuid());
}

// "partition=2s,loss=10%" as a directory name.
std::string newRunId()
{
	const time_t now = ::time(nullptr);
	struct tm tm{};
	gmtime_r(&now, &tm);
	char buf[32];
	strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
	std::random_device rd;
	return fmt::format("r{}-{:04x}", buf, rd() & 0xffff);
}

} // namespace

int cmdValidate(const std::vector<std::string> &argv)
{
	auto specs = controlFlags();
	specs.push_back({"--param", true, "NAME=VALUE: set a variable (repeatable)"});
	specs.push_back({"--inventory", true, "check selectors against this Ansible inventory (INI or YAML)"});
	specs.push_back({"--fleet", false, "also check against the live fleet (hosts present, kernel capabilities)"});
	specs.push_back({"--quiet", false, "print errors only"});
	auto a = parseArgs(argv, specs);
	if (!a) {
		fprintf(stderr, "xdc validate: %s (see xdc validate --help)\n", a.error().message.c_str());
		return kUsage;
	}
	if (a->has("--help") || a->positional.empty()) {
		printf("Usage: xdc validate FILE... [--param NAME=VALUE ...] [--lab NAME | --inventory FILE] [--fleet] [--json]\n\n"
		       "Checks scenario files offline, without a fleet: YAML syntax, types, units (250ms, 3s, 2m), unknown\n"
		       "keys (with \"did you mean\"), undefined variables and probes, overlapping faults, and selectors\n"
		       "against the topology (the scenario's lab or inventory, or --lab / --inventory). --fleet also asks\n"
		       "the controller: every selected host live, every fault possible on its kernel.\n"
		       "Every error names file:line:column and the key path and says what was expected; every error of\n"
		       "a file is reported, one per line (at most 20).\n"
		       "Options:\n"
		       "  --param NAME=VALUE    set a variable (repeatable)\n"
		       "  --lab NAME            check selectors against this lab (if it is not up: the default 2 DCs x 2 hosts)\n"
		       "  --inventory FILE      check selectors against an Ansible inventory (INI or YAML; groups are DCs)\n"
		       "  --fleet               also ask the controller: hosts live, kernel capabilities\n"
		       "  --json                {ok, files: [{file, ok, error, errors[] | name, faults, probes, ...}]}\n"
		       "  --quiet               print errors only\n\n"
		       "Exit codes: 0 all valid, 2 any error (3 with --fleet: controller unreachable).\n");
		return a->has("--help") ? kOk : kUsage;
	}
	auto opt = parseParams(*a);
	if (!opt) {
		fprintf(stderr, "xdc validate: %s\n", opt.error().message.c_str());
		return kUsage;
	}
	std::optional<control::AgentsAnswer> fleet;
	if (a->has("--fleet")) {
		int rc = 0;
		auto r = callController(*a, control::AgentsRequest{}, rc);
		if (!r)
			return rc;
		auto agents = control::parseAnswer<control::AgentsAnswer>(*r);
		if (!agents) {
			fprintf(stderr, "xdc validate: %s\n", agents.error().message.c_str());
			return kUnreachable;
		}
		fleet = std::move(*agents);
	}
	int exit = kOk;
	json results = json::array();
	for (const auto &file : a->positional) {
		json res = {{"file", file}};
		auto s = scenario::loadScenario(file, *opt);
		std::string note;
		Result<void> topo = success();
		if (s) {
			auto hosts = offlineTopology(*s, *a, note);
			if (!hosts)
				topo = hosts.error();
			else if (!hosts->empty())
				topo = scenario::checkTopology(*s, *hosts);
			if (topo && fleet) {
				topo = scenario::checkTopology(*s, fleetHosts(*fleet), true);
				note += "; live fleet checked";
			}
		}
		const Error *err = !s ? &s.error() : !topo ? &topo.error() : nullptr;
		if (err) {
			exit = kUsage;
			res["ok"] = false;
			res["error"] = err->message;
			// One per line: every error of the file (scenario files are read in one pass).
			json all = json::array();
			for (size_t at = 0; at <= err->message.size();) {
				const size_t nl = std::min(err->message.find('\n', at), err->message.size());
				all.push_back(err->message.substr(at, nl - at));
				at = nl + 1;
			}
			res["errors"] = all;
			if (!a->has("--json"))
				fprintf(stderr, "%s\n", err->message.c_str());
		} else {
			res["ok"] = true;
			res["name"] = s->name;
			res["faults"] = s->faults.size();
			res["streams_operations"] = s->streamsActions.size();
			res["probes"] = s->probes.size();
			res["assertions"] = s->assertions.size();
			res["planned_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(s->plannedDuration()).count();
			res["topology"] = note;
			if (!a->has("--json") && !a->has("--quiet"))
				printf("%s: ok: %s, %zu fault%s%s, %zu probe%s, %zu assertion%s, about %s (%s)\n", file.c_str(),
				       s->name.c_str(), s->faults.size(), s->faults.size() == 1 ? "" : "s",
				       s->streamsActions.empty() ? ""
								 : fmt::format(", {} Streams operation{}", s->streamsActions.size(),
									       s->streamsActions.size() == 1 ? "" : "s").c_str(),
				       s->probes.size(),
				       s->probes.size() == 1 ? "" : "s", s->assertions.size(), s->assertions.size() == 1 ? "" : "s",
				       formatApprox(s->plannedDuration()).c_str(), note.c_str());
		}
		results.push_back(res);
	}
	if (a->has("--json"))
		printf("%s\n", json{{"ok", exit == kOk}, {"files", results}}.dump(2).c_str());
	return exit;
}

namespace {

// The flags of `xdc run` (on top of the controller's own).
std::vector<FlagSpec> runFlags()
{
	auto specs = controlFlags();
	specs.push_back({"--out", true, "run directory (default ./xdc-runs/<scenario>-<run id>)"});
	specs.push_back({"--seed", true, "seed for random choices (default: random, recorded in the report)"});
	specs.push_back({"--repeat", true, "run the scenario K times (statistics in the report)"});
	specs.push_back({"--matrix", true, "NAME=V1,V2,...: run once per value (repeatable: every combination)"});
	specs.push_back({"--param", true, "NAME=VALUE: set a variable (repeatable)"});
	specs.push_back({"--dry-run", false, "print the plan: per phase, per host, the exact faults and rules"});
	specs.push_back({"--quiet", false, "no progress lines"});
	specs.push_back({"--db", true, "history database (default $XDC_HISTORY_DB or ~/.local/share/xdc/history.db)"});
	return specs;
}

// The help text of `xdc run`.
void printRunUsage()
{
	printf("Usage: xdc run FILE [--out DIR] [--seed N] [--repeat K] [--param NAME=VALUE ...] [--matrix NAME=V1,V2 ...]\n"
	       "              [--dry-run] [--json]\n\n"
	       "Runs a scenario (docs/SCENARIOS.md) against the fleet of the controller (--lab NAME, the scenario's\n"
	       "topology.lab, or $XDC_LAB): steady state, baseline, inject (faults with the same start offset fire at\n"
	       "one agreed instant), observe, recover, validate (assertions over the evidence), teardown (always;\n"
	       "then a residue check on every agent). Progress goes to stderr; the run directory gets the evidence\n"
	       "bundle, report.json, junit.xml and report.html.\n\n"
	       "A campaign: --matrix NAME=V1,V2 (repeatable) runs every combination of values, each --repeat K times\n"
	       "with seeds N, N+1, ...; summary.json (and the table printed) gives per combination and figure n, min,\n"
	       "median, p95, p99, max, mean and a 95%% confidence interval; campaign.json and campaign.html add each\n"
	       "run's value (a strip plot per figure), the pass rate per combination and links to every run's report.\n\n"
	       "Ctrl-C or SIGTERM: every fault is reverted, teardown runs, a partial report marked aborted is written.\n\n"
	       "Options:\n"
	       "  --out DIR             run directory; must be new or empty (default ./xdc-runs/<scenario>-<run id>)\n"
	       "  --param NAME=VALUE    set a variable (repeatable); replaces a random draw of the same name\n"
	       "  --seed N              seed of the random variables (default: random; recorded in the report)\n"
	       "  --repeat K            run K times (seeds N, N+1, ...), with statistics\n"
	       "  --matrix NAME=V1,V2   a campaign: every combination of values (repeatable)\n"
	       "  --dry-run             print the plan (phases, faults with times, the agents' exact rules); change nothing\n"
	       "  --json                machine-readable summary on stdout (no progress)\n"
	       "  --quiet               no progress lines\n"
	       "  --db PATH             history database (default $XDC_HISTORY_DB or ~/.local/share/xdc/history.db)\n"
	       "  --lab NAME, --control PATH   which controller (as for every command)\n\n"
	       "Exit codes:\n"
	       "  0  every assertion passed\n"
	       "  1  the system under test failed: an assertion, a steady-state check, observe's condition, or a\n"
	       "     probe's stop condition\n"
	       "  2  configuration or validation error (nothing was run)\n"
	       "  3  harness failure: a fault not applied or not verified, an agent lost, residue after teardown,\n"
	       "     or the controller unreachable or gone mid-run (verdict broken)\n"
	       "  4  aborted: by the operator (Ctrl-C, SIGTERM) or by a metric stop condition (a firing alert)\n");
}

// `--seed N`, or a random seed when it is not given.
Result<uint64_t> runSeed(const Args &a)
{
	if (!a.has("--seed"))
		return static_cast<uint64_t>(std::random_device{}());
	try {
		size_t used = 0;
		const uint64_t seed = std::stoull(a.get("--seed"), &used);
		if (used == a.get("--seed").size())
			return seed;
	} catch (...) {
	}
	return makeError(Errc::Invalid, "--seed: expected a non-negative integer");
}

// `--repeat K` (1 without it).
Result<int> runRepeat(const Args &a)
{
	if (!a.has("--repeat"))
		return 1;
	int repeat = 0;
	try {
		repeat = std::stoi(a.get("--repeat"));
	} catch (...) {
		repeat = 0;
	}
	if (repeat < 1 || repeat > 1000)
		return makeError(Errc::Invalid, "--repeat: expected 1..1000");
	return repeat;
}

// streams.reset: only a lab's Streams can be put back in its starting state; an empty hook otherwise.
std::function<Result<void>()> labStreamsReset(const Args &ctl, const std::string &socket)
{
	// The lab whose controller the run talks to (with --control or $XDC_CONTROL, only a named one).
	std::string labName = ctl.get("--lab");
	if (labName.empty() && !ctl.has("--control") && !getenv("XDC_CONTROL")) {
		if (auto l = chosenLab(ctl); l && !l->empty() && labControlPath(*l) == socket)
			labName = *l;
		else if (socket == labControlPath("xdc") && lab::loadLab("xdc"))
			labName = "xdc";
	}
	if (labName.empty() || !lab::loadLab(labName))
		return {};
	return [labName]() -> Result<void> {
		auto st = lab::loadLab(labName);
		if (!st)
			return st.error();
		return labx::resetStreams(*st, lab::stateDir(labName), true);
	};
}

// What one run needs besides the scenario: ids, the scenario's text, the Streams config, the controller.
Result<scenario::RunOptions> runOptionsFor(const scenario::Scenario &s, const Args &ctl, const std::string &file,
					   uint64_t seed, const std::string &socket)
{
	scenario::RunOptions ro;
	ro.runId = newRunId();
	ro.seed = seed;
	ro.user = userName();
	auto text = sys::readFile(file);
	XDC_TRY(text);
	ro.scenarioText = std::move(*text);
	if (s.usesStreams()) {
		if (s.streams.config.empty()) {
			auto p = streamsConfigPath(ctl);
			XDC_TRY(p);
			ro.streamsConfig = *p;
		} else {
			ro.streamsConfig = s.streams.config[0] == '/' ? s.streams.config
								      : fileDir(s.origin) + "/" + s.streams.config;
		}
	}
	ro.call = [socket](const control::Request &req, int timeoutMs) { return control::request(socket, req, timeoutMs); };
	ro.resetStreams = labStreamsReset(ctl, socket);
	return ro;
}

// `--dry-run` in text: phases, faults with the agents' exact rules, Streams operations, evidence.
void printPlan(const json &plan, const scenario::Scenario &s, const std::string &file, uint64_t seed,
	       const scenario::RunOptions &ro)
{
	printf("plan of %s (%s), about %s, seed %llu\n", s.name.c_str(), file.c_str(),
	       formatApprox(s.plannedDuration()).c_str(), static_cast<unsigned long long>(seed));
	for (const auto &p : plan["phases"])
		printf("  %-9s at %6.1f s for %.1f s\n", p.value("name", "").c_str(), p.value("start_ms", 0) / 1000.0,
		       p.value("duration_ms", 0) / 1000.0);
	for (const auto &f : plan["faults"]) {
		printf("  fault %s at %.1f s .. %.1f s: %s\n", f.value("id", "").c_str(), f.value("at_ms", 0) / 1000.0,
		       f.value("until_ms", 0) / 1000.0, f.value("spec", "").c_str());
		if (f.contains("error"))
			printf("      not checked with the agents: %s\n", f["error"].is_string() ? f["error"].get<std::string>().c_str()
											 : f["error"].dump().c_str());
		const json agents = f.value("agents", json::object());
		for (const auto &[agent, r] : agents.items()) {
			printf("      %s (%s):\n", agent.c_str(), r.value("mechanism", "").c_str());
			for (const auto &line : r.value("plan", json::array()))
				printf("        %s\n", line.is_string() ? line.get<std::string>().c_str() : line.dump().c_str());
		}
	}
	for (const auto &op : plan["streams_operations"])
		printf("  streams operation %s at %.1f s: %s on %s\n", op.value("id", "").c_str(),
		       op.value("at_ms", 0) / 1000.0, op.value("kind", "").c_str(), op.value("dc", "").c_str());
	if (s.usesStreams())
		printf("  streams: following %s every %s\n", ro.streamsConfig.c_str(),
		       formatDuration(s.streams.interval).c_str());
	for (const auto &e : plan["evidence"])
		printf("  evidence %s\n", e.get<std::string>().c_str());
}

// The run directory (`--out`, or one named after the scenario and run), created new or empty.
Result<std::string> makeRunDir(const Args &a, const scenario::Scenario &s, const std::string &runId)
{
	std::string base = a.get("--out");
	if (base.empty())
		base = fmt::format("xdc-runs/{}-{}", s.name, runId);
	base = fs::absolute(base).string();
	std::error_code ec;
	if (fs::exists(base, ec) && !fs::is_empty(base, ec))
		return makeError(Errc::Invalid, "--out {}: exists and is not empty", base);
	fs::create_directories(base, ec);
	if (ec)
		return makeError(Errc::Invalid, "cannot create {}: {}", base, ec.message());
	return base;
}

// Progress lines on stderr (the last one rewritten in place on a terminal), unless quiet.
void setRunProgress(scenario::RunOptions &ro, bool quiet)
{
	if (quiet)
		return;
	const bool tty = ::isatty(2) != 0;
	ro.progress = [tty](const std::string &line) {
		fprintf(stderr, "%s%s\n", tty ? "\r\033[K" : "", line.c_str());
	};
	if (tty)
		ro.status = [](const std::string &line) { fprintf(stderr, "\r\033[K%s", line.c_str()); };
}

// What a person reads on stdout: each run's verdict, and each combination's statistics table.
void setHumanOutput(scenario::CampaignOptions &co)
{
	co.onRun = [](const scenario::RunOptions &r, const scenario::RunReport &report) {
		const std::string reason = report.reason.value_or("");
		printf("verdict: %s%s%s\n", report.verdict.value_or("").c_str(), reason.empty() ? "" : ": ", reason.c_str());
		printf("report: %s/report.html (also report.json, junit.xml, evidence/)\n", r.outDir.c_str());
	};
	co.onCell = [](const json &cell, const scenario::Combo &c) {
		if (!cell.contains("statistics"))
			return;
		printf("\n%s%-44s %3s %10s %10s %10s %10s %10s %21s\n",
		       c.empty() ? "" : (scenario::comboLabel(c) + "\n").c_str(), "figure", "n", "min", "median", "p95",
		       "max", "mean", "95% CI");
		for (const auto &[k, st] : cell["statistics"].items())
			printf("%-44s %3d %10.2f %10.2f %10.2f %10.2f %10.2f %21s\n", k.c_str(), st.value("n", 0),
			       st.value("min", 0.0), st.value("median", 0.0), st.value("p95", 0.0), st.value("max", 0.0),
			       st.value("mean", 0.0),
			       st.contains("ci95_low") ? fmt::format("[{:.2f}, {:.2f}]", st.value("ci95_low", 0.0),
								     st.value("ci95_high", 0.0)).c_str() : "");
	};
}

} // namespace

int cmdRun(const std::vector<std::string> &argv)
{
	auto a = parseArgs(argv, runFlags());
	if (!a) {
		fprintf(stderr, "xdc run: %s (see xdc run --help)\n", a.error().message.c_str());
		return kUsage;
	}
	if (a->has("--help") || a->positional.size() != 1) {
		printRunUsage();
		return a->has("--help") ? kOk : kUsage;
	}
	auto opt = parseParams(*a);
	if (!opt) {
		fprintf(stderr, "xdc run: %s\n", opt.error().message.c_str());
		return kUsage;
	}
	const std::string file = a->positional[0];
	auto seed = runSeed(*a);
	if (!seed) {
		fprintf(stderr, "xdc run: %s\n", seed.error().message.c_str());
		return kUsage;
	}
	opt->seed = *seed;
	auto s = scenario::loadScenario(file, *opt);
	if (!s) {
		fprintf(stderr, "%s\n", s.error().message.c_str());
		return kUsage;
	}
	Args ctl = *a;
	if (!ctl.has("--lab") && !ctl.has("--control") && !s->topology.lab.empty())
		ctl.flags["--lab"] = {s->topology.lab};
	auto repeat = runRepeat(*a);
	if (!repeat) {
		fprintf(stderr, "xdc run: %s\n", repeat.error().message.c_str());
		return kUsage;
	}
	auto socket = controlPathFor(ctl);
	if (!socket) {
		fprintf(stderr, "xdc run: %s\n", socket.error().message.c_str());
		return kUsage;
	}
	auto ro = runOptionsFor(*s, ctl, file, *seed, *socket);
	if (!ro) {
		fprintf(stderr, "xdc run: %s\n", ro.error().message.c_str());
		return kUsage;
	}
	json params = json::object();
	for (const auto &[k, v] : opt->params)
		params[k] = v;
	ro->inputs = {{"file", fs::absolute(file).string()}, {"params", params}, {"argv", argv},
		      {"controller", *socket}, {"text", ro->scenarioText}};
	if (a->has("--dry-run")) {
		const json plan = scenario::planScenario(*s, *ro);
		if (a->has("--json"))
			printf("%s\n", plan.dump(2).c_str());
		else
			printPlan(plan, *s, file, *seed, *ro);
		return kOk;
	}
	auto base = makeRunDir(*a, *s, ro->runId);
	if (!base) {
		fprintf(stderr, "xdc run: %s\n", base.error().message.c_str());
		return kUsage;
	}
	const std::atomic<int> &stopSignals = catchStopSignals();
	ro->interrupted = &stopSignals;
	const bool quiet = a->has("--quiet") || a->has("--json");
	setRunProgress(*ro, quiet);
	// A campaign: every combination of the --matrix values (one empty combination without --matrix).
	auto combos = scenario::expandMatrix(a->all("--matrix"), *repeat);
	if (!combos) {
		fprintf(stderr, "xdc run: %s\n", combos.error().message.c_str());
		return kUsage;
	}
	const bool human = !a->has("--json");
	scenario::CampaignOptions co;
	co.file = file;
	co.parse = *opt;
	co.combos = *combos;
	co.repeat = *repeat;
	co.baseDir = *base;
	co.run = *ro;
	co.historyPath = a->get("--db", scenario::defaultHistoryPath());
	co.warn = [](const std::string &line) { fprintf(stderr, "%s\n", line.c_str()); };
	const std::string name = s->name;
	if (!quiet)
		co.onStart = [name](const scenario::RunOptions &r, const std::string &, const scenario::Combo &c) {
			fprintf(stderr, "run %s of %s%s -> %s\n", r.runId.c_str(), name.c_str(),
				c.empty() ? "" : (" with " + scenario::comboLabel(c)).c_str(), r.outDir.c_str());
		};
	if (human)
		setHumanOutput(co);
	auto summary = scenario::runCampaign(co);
	if (!summary) {
		fprintf(stderr, "%s\n", summary.error().message.c_str());
		return kUsage;
	}
	if (human && (*repeat > 1 || combos->size() > 1))
		printf("summary: %s/summary.json\ncampaign report: %s/campaign.html (and campaign.json)\n", base->c_str(),
		       base->c_str());
	if (!human)
		printf("%s\n", summary->dump(2).c_str());
	return summary->value("exit_code", 3);
}

int cmdHistory(const std::vector<std::string> &argv)
{
	std::vector<FlagSpec> specs = {{"--help", false, "this text"},
				       {"--db", true, "history database (default $XDC_HISTORY_DB or ~/.local/share/xdc/history.db)"},
				       {"--limit", true, "at most N runs (default 50)"},
				       {"--scenario", true, "only runs of this scenario"},
				       {"--json", false, "machine-readable output"}};
	auto a = parseArgs(argv, specs);
	if (!a) {
		fprintf(stderr, "xdc history: %s\n", a.error().message.c_str());
		return kUsage;
	}
	if (a->has("--help") || !a->positional.empty()) {
		printf("Usage: xdc history [--db PATH] [--limit N] [--scenario NAME] [--json]\n\n"
		       "Lists recorded runs, newest first: run id, scenario, start, duration, verdict (passed, failed,\n"
		       "harness, aborted, or broken: the run never finished because its runner or the controller died)\n"
		       "and the run directory. Exit codes: 0 ok, 2 bad arguments or database.\n");
		return a->has("--help") ? kOk : kUsage;
	}
	int limit = 50;
	try {
		limit = std::stoi(a->get("--limit", "50"));
	} catch (...) {
		limit = 0;
	}
	if (limit < 1) {
		fprintf(stderr, "xdc history: --limit: expected a positive number\n");
		return kUsage;
	}
	auto h = scenario::History::open(a->get("--db", scenario::defaultHistoryPath()));
	if (!h) {
		fprintf(stderr, "xdc history: %s\n", h.error().message.c_str());
		return kUsage;
	}
	auto runs = (*h)->list(limit, a->get("--scenario"));
	if (!runs) {
		fprintf(stderr, "xdc history: %s\n", runs.error().message.c_str());
		return kUsage;
	}
	if (a->has("--json")) {
		printf("%s\n", runs->dump(2).c_str());
		return kOk;
	}
	if (runs->empty()) {
		printf("no runs recorded in %s\n", a->get("--db", scenario::defaultHistoryPath()).c_str());
		return kOk;
	}
	printf("%-28s %-24s %-20s %9s  %-8s %s\n", "RUN", "SCENARIO", "STARTED (UTC)", "DURATION", "VERDICT",
	       "REPORT DIR");
	for (const auto &r : *runs) {
		const int64_t s = r.value("started_ns", int64_t{0}), e = r.value("ended_ns", int64_t{0});
		printf("%-28s %-24s %-20s %9s  %-8s %s\n", r.value("run_id", "").c_str(), r.value("scenario", "").c_str(),
		       dateTimeUtc(s).c_str(), e > s ? formatApprox(Nanos{e - s}).c_str() : "-",
		       r.value("verdict", "").c_str(), r.value("dir", "").c_str());
	}
	return kOk;
}

int cmdCompare(const std::vector<std::string> &argv)
{
	std::vector<FlagSpec> specs = {{"--help", false, "this text"},
				       {"--db", true, "history database (default $XDC_HISTORY_DB or ~/.local/share/xdc/history.db)"},
				       {"--html", true, "also write the comparison as a self-contained HTML page to FILE"},
				       {"--json", false, "machine-readable output"}};
	auto a = parseArgs(argv, specs);
	if (!a) {
		fprintf(stderr, "xdc compare: %s\n", a.error().message.c_str());
		return kUsage;
	}
	if (a->has("--help") || a->positional.size() != 2) {
		printf("Usage: xdc compare RUN_A RUN_B [--db PATH] [--html FILE] [--json]\n\n"
		       "Shows two recorded runs figure by figure (outage lengths and counts per probe and host, fault\n"
		       "windows and start spreads, phase lengths, steady-state ratios): A, B, B - A and the change in %%,\n"
		       "after the parameters that differ between them (--param values, matrix cells, random draws;\n"
		       "runs recorded before this version show none). --html FILE also writes it as one page (parameters\n"
		       "first, durations in ms below 10 s and s above).\n"
		       "A unique prefix of a run id is enough. Exit codes: 0 ok, 1 the page could not be written, 2 unknown run\n"
		       "or bad arguments.\n");
		return a->has("--help") ? kOk : kUsage;
	}
	auto h = scenario::History::open(a->get("--db", scenario::defaultHistoryPath()));
	if (!h) {
		fprintf(stderr, "xdc compare: %s\n", h.error().message.c_str());
		return kUsage;
	}
	auto ra = (*h)->get(a->positional[0]);
	auto rb = (*h)->get(a->positional[1]);
	for (const auto *r : {&ra, &rb})
		if (!*r) {
			fprintf(stderr, "xdc compare: %s\n", r->error().message.c_str());
			return kUsage;
		}
	const json fa = (*ra)["figures"], fb = (*rb)["figures"];
	std::set<std::string> keys;
	for (const auto &[k, v] : fa.items())
		keys.insert(k);
	for (const auto &[k, v] : fb.items())
		keys.insert(k);
	// The parameters that differ (the runs' variables: --param values, matrix cells, random draws) come first:
	// they are usually why the figures differ.
	const json va = (*ra).value("variables", json::object()), vb = (*rb).value("variables", json::object());
	std::set<std::string> names;
	for (const auto *v : {&va, &vb})
		if (v->is_object())
			for (const auto &[k, x] : v->items())
				names.insert(k);
	json params = json::array();
	for (const auto &n : names) {
		const json x = va.is_object() ? va.value(n, json()) : json(), y = vb.is_object() ? vb.value(n, json()) : json();
		if (x != y)
			params.push_back({{"name", n}, {"a", x}, {"b", y}});
	}
	json rows = json::array();
	for (const auto &k : keys) {
		json row = {{"figure", k}};
		if (fa.contains(k))
			row["a"] = fa[k];
		if (fb.contains(k))
			row["b"] = fb[k];
		if (fa.contains(k) && fb.contains(k) && fa[k].is_number() && fb[k].is_number()) {
			const double x = fa[k].get<double>(), y = fb[k].get<double>();
			row["delta"] = y - x;
			if (x != 0)
				row["change_percent"] = 100.0 * (y - x) / std::abs(x);
		}
		rows.push_back(row);
	}
	const json comparison = {{"a", *ra}, {"b", *rb}, {"parameters", params}, {"figures", rows}};
	if (a->has("--html"))
		if (auto w = scenario::writeAtomic(a->get("--html"), scenario::compareHtml(comparison)); !w) {
			fprintf(stderr, "xdc compare: %s\n", w.error().message.c_str());
			return kFailed;
		}
	if (a->has("--json")) {
		printf("%s\n", comparison.dump(2).c_str());
		return kOk;
	}
	printf("A: %s  %s  %s\nB: %s  %s  %s\n\n", (*ra)["run_id"].get<std::string>().c_str(),
	       (*ra)["scenario"].get<std::string>().c_str(), (*ra)["verdict"].get<std::string>().c_str(),
	       (*rb)["run_id"].get<std::string>().c_str(), (*rb)["scenario"].get<std::string>().c_str(),
	       (*rb)["verdict"].get<std::string>().c_str());
	auto text = [](const json &v) { return v.is_null() ? std::string("(unset)") : v.is_string() ? v.get<std::string>() : v.dump(); };
	if (params.empty())
		printf("parameters: the same\n\n");
	else {
		printf("parameters that differ:\n");
		for (const auto &p : params)
			printf("  %-30s A: %-16s B: %s\n", p["name"].get<std::string>().c_str(), text(p["a"]).c_str(),
			       text(p["b"]).c_str());
		printf("\n");
	}
	printf("%-44s %12s %12s %12s %9s\n", "figure", "A", "B", "B - A", "change");
	auto num = [](const json &row, const char *k) {
		return row.contains(k) ? fmt::format("{:.2f}", row[k].get<double>()) : std::string("-");
	};
	for (const auto &row : rows)
		printf("%-44s %12s %12s %12s %9s\n", row["figure"].get<std::string>().c_str(), num(row, "a").c_str(),
		       num(row, "b").c_str(), num(row, "delta").c_str(),
		       row.contains("change_percent") ? fmt::format("{:+.1f}%", row["change_percent"].get<double>()).c_str() : "");
	return kOk;
}

} // namespace xdc::cli
