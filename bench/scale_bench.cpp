// SPDX-License-Identifier: Apache-2.0
// Figure 6: one real `xdc controller` keeping 10,000 simulated CURVE agents (bench/support/sim_fleet) live, with
// heartbeats and the clock exchange riding on them, spread over several helper processes of a few thousand agents
// each (a process here may hold at most 20,000 descriptors). Measured, in this order:
//   - registration: every agent live after a cold start;
//   - idle: the controller's CPU (all threads' schedstat run time over the window's wall time) and VmRSS;
//   - `xdc agents --json` for the whole fleet, run as a script would run it, wall time to its exit;
//   - one console `ping` to every agent: each agent's ack latency (p50 / p99 over all acks of all rounds) and the
//     time until the last ack is in;
//   - a fault (resource.cpu, simulated: the agents answer at the start instant and push its end) applied to 1,000
//     of them by a label selector: time to the answer, the spread of the start, and how long until `fault list` is
//     empty once the duration elapsed.
// The controller is started with a soft open-file limit of 1,024 (a distribution's default) and must raise its own.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <sys/resource.h>

#include "bench/support/bench.h"
#include "bench/support/raw_router.h"
#include "bench/support/sim_fleet.h"
#include "common/clock.h"
#include "common/fault/spec.h"
#include "common/sys/process.h"

using namespace xdc;
using namespace xdc::bench;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
std::string msText(double ms) { return fmt::format("{:.1f} ms", ms); }

std::atomic<bool> gChildStop{false};
void onChildSignal(int) { gChildStop.store(true); }

// The helper mode: `--sim-child KEYS FROM TO ENDPOINT SERVERKEY THREADS GROUPS DC MODE ECHOBYTES` runs agents
// [FROM, TO) of the key file (lines "id public secret") until SIGTERM; MODE xdc or echo (the raw baseline's peers).
int runChild(int argc, char **argv)
{
	if (argc != 12) {
		fprintf(stderr, "--sim-child: expected 10 arguments\n");
		return 2;
	}
	const std::string keyFile = argv[2];
	const size_t from = std::stoul(argv[3]), to = std::stoul(argv[4]);
	SimFleetOptions o;
	o.endpoint = argv[5];
	o.serverKey = argv[6];
	o.threads = std::stoi(argv[7]);
	o.groups = std::stoi(argv[8]);
	o.dc = argv[9];
	o.indexBase = from;
	if (std::string(argv[10]) == "echo")
		o.mode = SimFleetOptions::Mode::Echo;
	o.echoBytes = std::stoul(argv[11]);
	std::ifstream in(keyFile);
	std::string id, pub, sec;
	for (size_t i = 0; in >> id >> pub >> sec; i++)
		if (i >= from && i < to)
			o.agents.push_back({id, transport::KeyPair{pub, sec}});
	if (o.agents.size() != to - from) {
		fprintf(stderr, "--sim-child: %zu keys in [%zu, %zu) of %s\n", o.agents.size(), from, to, keyFile.c_str());
		return 2;
	}
	struct sigaction sa{};
	sa.sa_handler = onChildSignal;
	sigemptyset(&sa.sa_mask);
	::sigaction(SIGTERM, &sa, nullptr);
	::sigaction(SIGINT, &sa, nullptr);
	SimFleet fleet(o);
	fleet.start();
	int64_t lastReg = -1;
	while (!gChildStop.load()) {
		std::this_thread::sleep_for(200ms);
		if (fleet.registered() != lastReg) {
			lastReg = fleet.registered();
			printf("registered %lld of %zu\n", static_cast<long long>(lastReg), o.agents.size());
			fflush(stdout);
		}
	}
	fleet.stop();
	printf("stopped: %llu commands answered, %llu faults applied, %llu ended, %llu refusals\n",
	       static_cast<unsigned long long>(fleet.commandsAnswered()),
	       static_cast<unsigned long long>(fleet.faultsApplied()), static_cast<unsigned long long>(fleet.faultEnds()),
	       static_cast<unsigned long long>(fleet.refusals()));
	return 0;
}

// The soft and hard open-file limits of a process, from /proc/PID/limits.
std::pair<std::string, std::string> openFileLimits(pid_t pid)
{
	std::ifstream f(fmt::format("/proc/{}/limits", pid));
	for (std::string line; std::getline(f, line);)
		if (line.rfind("Max open files", 0) == 0) {
			std::istringstream ss(line.substr(14));
			std::string soft, hard;
			ss >> soft >> hard;
			return {soft, hard};
		}
	return {"?", "?"};
}

int runBench(const Flags &f)
{
	const int n = static_cast<int>(f.getInt("--agents", 10000));
	const int perProcess = static_cast<int>(f.getInt("--per-process", 2500));
	// One simulator thread per helper process: two made the simulators compete with each other and with the
	// controller on a two-core machine (the raw baseline's fan-out took 400 ms instead of 300).
	const int threads = static_cast<int>(f.getInt("--threads", 1));
	const int rounds = static_cast<int>(f.getInt("--rounds", 20));
	const int faultAgents = static_cast<int>(f.getInt("--fault-agents", 1000));
	const int idleSeconds = static_cast<int>(f.getInt("--idle-seconds", 30));
	const int listRuns = static_cast<int>(f.getInt("--list-runs", 5));
	// Rounds of the raw baseline's fan-out; its memory grows with the messages each connection carried (libzmq's
	// pipes), so --raw-rounds 300 compares it with a controller whose agents sent 300 heartbeats.
	const int rawRounds = static_cast<int>(f.getInt("--raw-rounds", rounds));
	const int groups = faultAgents > 0 ? std::max(1, n / faultAgents) : 0;
	Environment env;
	if (auto s = env.setUp(20000); !s) {
		fprintf(stderr, "setup: %s\n", s.error().message.c_str());
		return 1;
	}
	const std::string d = env.dir();
	std::vector<std::string> ids;
	for (int i = 0; i < n; i++)
		ids.push_back(fmt::format("sim{:05d}", i));
	const auto tk = Clock::now();
	auto keys = makeKeys(d, ids, {});
	if (!keys) {
		fprintf(stderr, "keys: %s\n", keys.error().message.c_str());
		return 1;
	}
	const std::string keyFile = d + "/fleet.keys";
	{
		std::ofstream kf(keyFile);
		for (const auto &id : ids)
			kf << id << ' ' << keys->agents.at(id).publicKey << ' ' << keys->agents.at(id).secretKey << '\n';
	}
	printf("%d agent keys in %.2f s\n", n, secondsSince(tk));
	const std::string ctl = d + "/ctl.sock", listen = "tcp://127.0.0.1:17830";
	const std::string fig = fmt::format("6 scale {}", n);
	bool failed = false;

	// The controller, with a distribution's default soft limit: it raises its own.
	rlimit rl{};
	::getrlimit(RLIMIT_NOFILE, &rl);
	std::vector<std::string> argv{"/usr/bin/prlimit", fmt::format("--nofile=1024:{}", rl.rlim_max), "--"};
	for (auto &a : controllerArgv(d, *keys, listen, ctl))
		argv.push_back(a);
	Child controller;
	if (auto s = controller.start(argv, d + "/controller.out"); !s) {
		fprintf(stderr, "controller: %s\n", s.error().message.c_str());
		return 1;
	}
	if (!waitLive(ctl, 0, 10s)) {
		fprintf(stderr, "the controller did not answer (logs in %s)\n", d.c_str());
		return 1;
	}
	const auto [soft, hard] = openFileLimits(controller.pid());
	printf("controller pid %d: open-file limit %s (hard %s), started at 1024\n", controller.pid(), soft.c_str(),
	       hard.c_str());

	// The simulated fleet, perProcess agents per helper process.
	const auto [cmdBytes, resBytes] = pingFrameSizes(ids.front());
	auto spawnFleet = [&](const std::string &endpoint, const std::string &mode,
			      std::vector<std::unique_ptr<Child>> &out) -> bool {
		for (int from = 0, k = 0; from < n; from += perProcess, k++) {
			const int to = std::min(n, from + perProcess);
			auto c = std::make_unique<Child>();
			if (auto s = c->start({selfBin(), "--sim-child", keyFile, std::to_string(from), std::to_string(to),
					       endpoint, keys->controller.publicKey, std::to_string(threads),
					       std::to_string(groups), fmt::format("sim{}", k), mode,
					       std::to_string(resBytes)},
					      fmt::format("{}/{}{}.out", d, mode, k));
			    !s) {
				fprintf(stderr, "sim %d: %s\n", k, s.error().message.c_str());
				return false;
			}
			out.push_back(std::move(c));
		}
		return true;
	};
	std::vector<std::unique_ptr<Child>> sims;
	const auto t0 = Clock::now();
	if (!spawnFleet(listen, "xdc", sims))
		return 1;
	double half = -1;
	int live = 0;
	while (secondsSince(t0) < 300) {
		live = liveAgents(ctl, 5000);
		if (live >= n / 2 && half < 0)
			half = secondsSince(t0);
		if (live == n)
			break;
		std::this_thread::sleep_for(100ms);
	}
	if (live != n) {
		fprintf(stderr, "only %d of %d agents live after 300 s (logs in %s)\n", live, n, d.c_str());
		row(fig, "run", "failed", "-", "NO", fmt::format("{} of {} live", live, n));
		return 1;
	}
	const double allLive = secondsSince(t0);
	printf("%d simulated agents in %zu processes live after %.2f s (half after %.2f s)\n", n, sims.size(), allLive,
	       half);
	row(fig, "all live from a cold start", fmt::format("{:.2f} s", allLive), "-", "-",
	    fmt::format("{} helper processes of <= {} agents; half after {:.2f} s; controller open-file limit raised "
			"from 1024 to {}",
			sims.size(), perProcess, half, soft));

	// Idle: the registration bursts are over after a few seconds; then a window of heartbeats only.
	std::this_thread::sleep_for(5s);
	const auto c0 = cpuOf(controller.pid());
	const auto w0 = Clock::now();
	std::this_thread::sleep_for(std::chrono::seconds(idleSeconds));
	const auto c1 = cpuOf(controller.pid());
	const double wallS = secondsSince(w0);
	const auto rssIdle = rssOf(controller.pid());
	const int liveAfterIdle = liveAgents(ctl, 5000);
	if (c0 && c1) {
		const double pct = 100.0 * static_cast<double>(c1->allThreadsNs - c0->allThreadsNs) / (wallS * 1e9);
		const double mainPct = 100.0 * static_cast<double>(c1->mainThreadNs - c0->mainThreadNs) / (wallS * 1e9);
		row(fig, "controller idle CPU (all threads)", fmt::format("{:.1f} % of a core", pct), "reported", "-",
		    fmt::format("{} s window, {} live at its end; main thread {:.1f} %, {} threads; {} heartbeats/s in",
				idleSeconds, liveAfterIdle, mainPct, c1->threads, n));
	}
	if (liveAfterIdle != n) {
		fprintf(stderr, "%d of %d live after the idle window\n", liveAfterIdle, n);
		failed = true;
	}

	// `xdc agents --json`, the whole fleet.
	std::vector<double> listMs;
	size_t listBytes = 0;
	for (int r = 0; r < listRuns; r++) {
		const auto t = Clock::now();
		auto out = sys::run({xdcBin(), "agents", "--json", "--control", ctl}, {.timeout = 30000ms});
		const double ms = secondsSince(t) * 1000;
		if (!out || !out->ok()) {
			fprintf(stderr, "xdc agents --json: %s\n", out ? out->err.c_str() : out.error().message.c_str());
			failed = true;
			break;
		}
		json j = json::parse(out->out, nullptr, false);
		size_t count = 0, liveCount = 0;
		if (j.is_array())
			for (const auto &a : j) {
				count++;
				liveCount += a.value("state", "") == "live";
			}
		if (count != static_cast<size_t>(n) || liveCount != static_cast<size_t>(n)) {
			fprintf(stderr, "xdc agents --json listed %zu agents, %zu live (expected %d)\n", count, liveCount,
				n);
			failed = true;
		}
		listBytes = out->out.size();
		listMs.push_back(ms);
	}
	if (!listMs.empty()) {
		const double worst = *std::max_element(listMs.begin(), listMs.end());
		row(fig, "xdc agents --json (median / worst)", msText(percentile(listMs, 50)) + " / " + msText(worst),
		    "<= 300 ms", worst <= 300 ? "yes" : "NO",
		    fmt::format("{} runs of the CLI to its exit; {:.1f} MB of JSON, every agent listed live", listMs.size(),
				static_cast<double>(listBytes) / 1e6));
	}

	// One command to every agent.
	std::vector<double> ackMs, allMs;
	int missing = 0;
	for (int r = 0; r < rounds + 1; r++) {
		const auto t = Clock::now();
		json rep = controlCall(ctl, control::PingRequest{{"*"}, "ping"}, 60000);
		const double ms = secondsSince(t) * 1000;
		int ok = 0;
		std::vector<double> acks;
		if (rep.value("ok", false))
			for (const auto &[id, e] : rep["results"].items()) {
				ok += e.value("ok", false);
				acks.push_back(e.value("rtt_us", 0.0) / 1000.0);
			}
		if (ok != n) {
			missing++;
			fprintf(stderr, "round %d: %d of %d acks ok\n", r, ok, n);
		}
		if (r == 0)
			continue; // the first round warms the paths
		ackMs.insert(ackMs.end(), acks.begin(), acks.end());
		allMs.push_back(ms);
	}
	const double p99 = percentile(ackMs, 99);
	row(fig, "one command to all: each ack p50 / p99", msText(percentile(ackMs, 50)) + " / " + msText(p99),
	    "p99 <= 1 s", p99 <= 1000 && missing == 0 ? "yes" : "NO",
	    fmt::format("{} rounds, {} acks; {} rounds with missing acks", allMs.size(), ackMs.size(), missing));
	row(fig, "one command to all: last ack p50 / max", msText(percentile(allMs, 50)) + " / " +
	    msText(allMs.empty() ? 0 : *std::max_element(allMs.begin(), allMs.end())), "-", "-",
	    "console request to its answer, sent once every ack is in");
	failed |= missing > 0;
	const auto rssAfter = rssOf(controller.pid());

	// A fault on faultAgents of them.
	if (faultAgents > 0) {
		const std::string text = "{kind: resource.cpu, targets: {group: g0}, duration: 5s, workers: 1, "
					 "cpu_percent: 10}";
		auto spec = fault::parseSpecText(text, "scale_bench");
		if (!spec) {
			fprintf(stderr, "spec: %s\n", spec.error().message.c_str());
			return 1;
		}
		control::FaultApplyRequest req;
		req.spec = *spec;
		req.origin = "scale_bench";
		const auto t = Clock::now();
		json rep = controlCall(ctl, req, 60000);
		const double applyMs = secondsSince(t) * 1000;
		int applied = 0;
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		if (rep.value("ok", false) && rep.contains("agents"))
			for (const auto &[id, e] : rep["agents"].items())
				if (e.value("ok", false)) {
					applied++;
					const int64_t at = e.value("applied_ns", int64_t{0});
					lo = std::min(lo, at);
					hi = std::max(hi, at);
				}
		if (applied != faultAgents) {
			fprintf(stderr, "fault apply: %d of %d agents applied: %s\n", applied, faultAgents,
				rep.dump().substr(0, 400).c_str());
			failed = true;
		} else {
			// Ends are pushed by the agents: `fault list` empties within moments of the duration's end.
			const auto te = Clock::now();
			double emptyAfter = -1;
			while (secondsSince(te) < 30) {
				json fl = controlCall(ctl, control::FaultListRequest{}, 5000);
				if (fl.value("ok", false) && fl.contains("faults") && fl["faults"].empty()) {
					emptyAfter = secondsSince(t) - 5.0;
					break;
				}
				std::this_thread::sleep_for(20ms);
			}
			row(fig, fmt::format("fault on {} agents: answer / start spread", faultAgents),
			    msText(applyMs) + " / " + msText(static_cast<double>(hi - lo) / 1e6), "-", "-",
			    fmt::format("resource.cpu by label, synchronised start; fault list empty {} after the 5 s "
					"duration (ends pushed by the agents)",
					emptyAfter < 0 ? std::string("NOT within 30 s") : fmt::format("{:.2f} s", emptyAfter)));
			failed |= emptyAfter < 0;
		}
	}
	const auto rssEnd = rssOf(controller.pid());
	uint64_t rssMax = std::max({rssIdle.value_or(0), rssAfter.value_or(0), rssEnd.value_or(0)});
	row(fig, "controller VmRSS (max of idle, after pings, at end)",
	    fmt::format("{:.1f} MiB", static_cast<double>(rssMax) / 1048576.0), "<= 512 MiB",
	    rssMax <= 512ull * 1048576 ? "yes" : "NO",
	    fmt::format("idle {:.1f} MiB, after the pings {:.1f} MiB, at the end {:.1f} MiB",
			static_cast<double>(rssIdle.value_or(0)) / 1048576.0,
			static_cast<double>(rssAfter.value_or(0)) / 1048576.0,
			static_cast<double>(rssEnd.value_or(0)) / 1048576.0));
	for (auto &s : sims)
		s->stop();
	controller.stop();

	// Baseline: a raw CURVE ROUTER fanning one message out to as many raw DEALERs in as many processes, the frames
	// the size of a ping command and its result; timed per round until every reply is in.
	{
		std::vector<std::unique_ptr<Child>> echoes;
		const std::string rawListen = "tcp://127.0.0.1:17831";
		if (!spawnFleet(rawListen, "echo", echoes))
			return 1;
		RawRouterOptions ro;
		ro.listen = rawListen;
		ro.secretKeyFile = keys->controllerKeyFile;
		ro.expect = n;
		ro.rounds = rawRounds;
		ro.warmup = 1;
		ro.requestBytes = cmdBytes;
		ro.out = d + "/raw.json";
		ro.timeoutMs = 300000;
		ro.hold = true; // kept up after its rounds, for its memory
		Child raw;
		json j = runRawRouter(raw, ro, d + "/raw.out");
		const uint64_t rawRss = raw.alive() ? rssOf(raw.pid()).value_or(0) : 0;
		raw.stop();
		if (rawRss > 0)
			row(fig, "raw ROUTER VmRSS with as many peers",
			    fmt::format("{:.1f} MiB", static_cast<double>(rawRss) / 1048576.0), "baseline", "-",
			    fmt::format("xdc's is {:.2f} x this", static_cast<double>(rssMax) / static_cast<double>(rawRss)));
		for (auto &e : echoes)
			e->stop();
		std::vector<double> base;
		if (j.contains("rounds_us"))
			for (double v : j["rounds_us"])
				base.push_back(v / 1000.0);
		if (base.empty()) {
			row(fig, "raw ROUTER fan-out: last reply p50 / max", "failed", "baseline", "-",
			    fmt::format("see {}/raw.out", d));
		} else {
			const double r50 = percentile(base, 50);
			row(fig, "raw ROUTER fan-out: last reply p50 / max",
			    msText(r50) + " / " + msText(*std::max_element(base.begin(), base.end())), "baseline", "-",
			    fmt::format("{} rounds; xdc's last ack p50 is {:.2f} x this; ready after {:.2f} s", base.size(),
					r50 > 0 ? percentile(allMs, 50) / r50 : 0.0, j.value("ready_ms", 0.0) / 1000.0));
		}
	}
	if (failed)
		row(fig, "run", "failed", "-", "NO");
	return failed ? 1 : 0;
}

} // namespace

int main(int argc, char **argv)
{
	if (argc >= 2 && std::string(argv[1]) == "--sim-child")
		return runChild(argc, argv);
	if (int rc = maybeRunRawRouter(argc, argv); rc >= 0)
		return rc;
	Flags f(argc, argv);
	return runBench(f);
}
