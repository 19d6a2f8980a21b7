// SPDX-License-Identifier: Apache-2.0
// Faults speed (docs/PERFORMANCE.md), in a real lab it brings up and takes down:
//  - command -> verified partition in effect, p50/p99 over N applies through the controller's console socket,
//    beside a bare `nft -f` of the same rules in the same host namespace and a command round trip, both timed in
//    the same run (goal: p50 <= 1.5 x bare nft + one round trip; p99 <= 10 ms);
//  - revert -> verified clean, p50/p99;
//  - synchronised apply of one partition on all 4 lab hosts: spread (max - min) of the effective times on the
//    controller's timeline, p50/p95/p99/max (goal p99 <= 2 ms), and from the agents' logs where each agent's
//    lateness went: waking after the instant, then waking -> the change in effect;
//  - an agent-side expiry: how long after the revert took effect on the agent the controller learned of it (the
//    agent's FaultEvent), p50/p99/max over N expiries of a 300 ms partition (goal p99 <= 50 ms).
// Usage: fault_bench [--lab NAME] [--applies N] [--syncs N] [--expiries N]
#include <algorithm>
#include <csignal>
#include <fstream>
#include <optional>
#include <cstdio>
#include <unistd.h>

#include "bench/support/bench.h"
#include "common/clock.h"
#include "common/sys/process.h"

using namespace xdc;
using namespace xdc::bench;

namespace {

std::string gLab;

void labDown()
{
	if (!gLab.empty())
		(void)sys::run({xdcBin(), "lab", "down", "--name", gLab}, {.timeout = std::chrono::seconds(60)});
	gLab.clear();
}

void onSignal(int)
{
	labDown();
	_exit(130);
}

double ms(int64_t ns) { return static_cast<double>(ns) / 1e6; }

std::string fmtMs(double v) { return fmt::format("{:.3f} ms", v); }

} // namespace

int main(int argc, char **argv)
{
	Flags f(argc, argv);
	const std::string lab = f.get("--lab", fmt::format("xfb{}", ::getpid() % 10000));
	const int applies = static_cast<int>(f.getInt("--applies", 200));
	const int syncs = static_cast<int>(f.getInt("--syncs", 50));
	const int expiries = static_cast<int>(f.getInt("--expiries", 50));
	if (::geteuid() != 0) {
		fprintf(stderr, "fault_bench: needs root (a lab)\n");
		return 1;
	}
	for (int s : {SIGINT, SIGTERM, SIGHUP})
		::signal(s, onSignal);
	gLab = lab;
	auto up = sys::run({xdcBin(), "lab", "up", "--name", lab}, {.timeout = std::chrono::seconds(180), .mergeStderr = true});
	if (!up || !up->ok()) {
		fprintf(stderr, "fault_bench: lab up failed: %s\n", up ? up->out.c_str() : up.error().message.c_str());
		labDown();
		return 1;
	}
	const std::string control = "/run/xdc/lab/" + lab + "/control.sock";
	if (!waitLive(control, 4, 30s)) {
		fprintf(stderr, "fault_bench: agents not live\n");
		labDown();
		return 1;
	}
	int failures = 0;

	// One command round trip to the agent that will take the faults.
	std::vector<double> rtt;
	for (int i = 0; i < applies; i++) {
		const int64_t t0 = clk::monoNs();
		auto r = controlCall(control, control::PingRequest{{"dc1-h1"}, "ping"}, 5000);
		const int64_t t1 = clk::monoNs();
		if (r.value("ok", false))
			rtt.push_back(ms(t1 - t0));
	}

	// Apply and revert through the controller, one agent (no synchronised start).
	const std::string one = "{kind: network.partition, targets: {host: dc1-h1}, peers: {host: dc2-h1}, "
				"direction: out, duration: 60s}";
	const std::string all = "{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 60s}";
	auto oneSpec = fault::parseSpecText(one, "fault_bench"), allSpec = fault::parseSpecText(all, "fault_bench");
	if (!oneSpec || !allSpec) {
		fprintf(stderr, "fault_bench: %s\n", (!oneSpec ? oneSpec : allSpec).error().message.c_str());
		labDown();
		return 1;
	}
	const control::FaultApplyRequest applyOne{.spec = *oneSpec, .origin = "fault_bench"};
	control::FaultApplyRequest dryOne = applyOne;
	dryOne.dryRun = true;
	const control::FaultApplyRequest applyAll{.spec = *allSpec, .origin = "fault_bench"};
	std::vector<double> apply, revert;
	std::string ruleset;
	for (int i = 0; i < applies; i++) {
		const int64_t t0 = clk::monoNs();
		auto r = controlCall(control, applyOne, 10000);
		const int64_t t1 = clk::monoNs();
		if (!r.value("ok", false)) {
			failures++;
			fprintf(stderr, "apply failed: %s\n", r.dump().c_str());
			continue;
		}
		apply.push_back(ms(t1 - t0));
		const std::string id = r["id"];
		const int64_t t2 = clk::monoNs();
		auto v = controlCall(control, control::FaultRevertRequest{id}, 10000);
		const int64_t t3 = clk::monoNs();
		if (!v.value("ok", false) || !v.value("all_verified", false)) {
			failures++;
			fprintf(stderr, "revert failed: %s\n", v.dump().c_str());
			continue;
		}
		revert.push_back(ms(t3 - t2));
	}
	// The same rules, from the agent's own dry run, applied with a bare `nft -f` in the same namespace.
	auto dry = controlCall(control, dryOne, 10000);
	try {
		std::string plan = dry["agents"]["dc1-h1"]["plan"][0];
		auto b = plan.find('\n'), e = plan.rfind("EOF");
		ruleset = plan.substr(b + 1, e - b - 1);
	} catch (...) {
		fprintf(stderr, "fault_bench: no dry-run plan: %s\n", dry.dump().c_str());
		labDown();
		return 1;
	}
	const std::string ns = lab + "_dc1-h1";
	std::vector<double> bare;
	for (int i = 0; i < applies; i++) {
		const int64_t t0 = clk::monoNs();
		auto r = sys::run({"nft", "-f", "-"}, {.netns = ns, .input = ruleset});
		const int64_t t1 = clk::monoNs();
		if (r && r->ok())
			bare.push_back(ms(t1 - t0));
		else
			failures++;
		(void)sys::run({"nft", "delete", "table", "inet", "xdc_f1"}, {.netns = ns});
	}

	// Synchronised apply on all four hosts.
	std::vector<double> spread;
	for (int i = 0; i < syncs; i++) {
		auto r = controlCall(control, applyAll, 10000);
		if (!r.value("ok", false) || !r.contains("spread_ns")) {
			failures++;
			fprintf(stderr, "sync apply failed: %s\n", r.dump().c_str());
			continue;
		}
		spread.push_back(ms(r["spread_ns"].get<int64_t>()));
		auto v = controlCall(control, control::FaultRevertRequest{r.value("id", "")}, 10000);
		if (!v.value("all_verified", false))
			failures++;
	}

	// Expiries on the agent: the end the agent pushed, learned by the controller (fault.list's `ended`).
	auto shortSpec = fault::parseSpecText("{kind: network.partition, targets: {host: dc1-h1}, peers: {host: dc2-h1}, "
					      "direction: out, duration: 300ms}", "fault_bench");
	std::vector<double> learned;
	for (int i = 0; shortSpec && i < expiries; i++) {
		auto r = controlCall(control, control::FaultApplyRequest{.spec = *shortSpec, .origin = "fault_bench"}, 10000);
		if (!r.value("ok", false)) {
			failures++;
			fprintf(stderr, "short apply failed: %s\n", r.dump().c_str());
			continue;
		}
		const std::string id = r["id"];
		std::optional<double> got;
		const int64_t deadline = clk::monoNs() + 5 * clk::kSec;
		while (!got && clk::monoNs() < deadline) {
			auto l = controlCall(control, control::FaultListRequest{}, 5000);
			for (const auto &e : l.value("ended", json::array()))
				if (e.value("id", "") == id)
					got = ms(e.value("learned_ns", int64_t{0}) - e.value("reverted_ns", int64_t{0}));
			if (!got)
				::usleep(20000);
		}
		if (got)
			learned.push_back(*got);
		else
			failures++;
	}
	// Where a synchronised start's lateness goes: each agent logs how late it woke and how long after waking its
	// change was in effect.
	std::vector<double> woke, commit;
	for (const char *h : {"dc1-h1", "dc1-h2", "dc2-h1", "dc2-h2"}) {
		std::ifstream in("/run/xdc/lab/" + lab + "/agents/" + h + ".log");
		const std::string key = "synchronised start of '";
		for (std::string line; std::getline(in, line);) {
			const size_t k = line.find(key);
			if (k == std::string::npos)
				continue;
			long w = 0, c = 0;
			const size_t at = line.find("woke ", k);
			if (at != std::string::npos &&
			    std::sscanf(line.c_str() + at, "woke %ld us after the instant, in effect %ld us later", &w, &c) == 2) {
				woke.push_back(static_cast<double>(w) / 1000.0);
				commit.push_back(static_cast<double>(c) / 1000.0);
			}
		}
	}
	labDown();

	if (apply.empty() || bare.empty() || rtt.empty() || spread.empty()) {
		fprintf(stderr, "fault_bench: no measurements (%d failures)\n", failures);
		return 1;
	}
	const double goal = 1.5 * percentile(bare, 50) + percentile(rtt, 50);
	row("Faults", "round trip (ping via console) p50", fmtMs(percentile(rtt, 50)), "-", "-");
	row("Faults", "bare nft -f of the same rules p50/p99",
	    fmtMs(percentile(bare, 50)) + " / " + fmtMs(percentile(bare, 99)), "-", "-");
	row("Faults", "command -> verified partition p50", fmtMs(percentile(apply, 50)), "<= " + fmtMs(goal),
	    percentile(apply, 50) <= goal ? "yes" : "no");
	row("Faults", "command -> verified partition p99", fmtMs(percentile(apply, 99)), "<= 10 ms",
	    percentile(apply, 99) <= 10 ? "yes" : "no");
	row("Faults", "revert -> verified clean p50/p99",
	    fmtMs(percentile(revert, 50)) + " / " + fmtMs(percentile(revert, 99)), "-", "-");
	row("Faults", fmt::format("synchronised apply, 4 hosts, {} runs: spread p50/p95/p99/max", spread.size()),
	    fmtMs(percentile(spread, 50)) + " / " + fmtMs(percentile(spread, 95)) + " / " +
		    fmtMs(percentile(spread, 99)) + " / " + fmtMs(*std::max_element(spread.begin(), spread.end())),
	    "p99 <= 2 ms", percentile(spread, 99) <= 2 ? "yes" : "no");
	if (!woke.empty()) {
		row("Faults", "  per agent: woke after the instant p50/p99/max",
		    fmtMs(percentile(woke, 50)) + " / " + fmtMs(percentile(woke, 99)) + " / " +
			    fmtMs(*std::max_element(woke.begin(), woke.end())),
		    "-", "-");
		row("Faults", "  per agent: woke -> in effect (the instant's nft commit) p50/p99/max",
		    fmtMs(percentile(commit, 50)) + " / " + fmtMs(percentile(commit, 99)) + " / " +
			    fmtMs(*std::max_element(commit.begin(), commit.end())),
		    "-", "-");
	}
	if (!learned.empty())
		row("Faults", "agent-side expiry -> controller knows p50/p99/max",
		    fmtMs(percentile(learned, 50)) + " / " + fmtMs(percentile(learned, 99)) + " / " +
			    fmtMs(*std::max_element(learned.begin(), learned.end())),
		    "p99 <= 50 ms", percentile(learned, 99) <= 50 ? "yes" : "no");
	fprintf(stderr, "%zu applies, %zu syncs, %zu expiries, %d failures\n", apply.size(), spread.size(), learned.size(),
		failures);
	return failures == 0 ? 0 : 1;
}
