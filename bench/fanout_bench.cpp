// SPDX-License-Identifier: Apache-2.0
// Figure 2: one console `ping` to every live agent of a real `xdc controller` with 100 and 1,000 simulated CURVE
// agents, timed until the reply (sent once every ack is in), beside a raw cppzmq ROUTER fan-out to as many echo
// DEALERs with the same frame sizes.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

#include "bench/support/bench.h"
#include "bench/support/raw_router.h"
#include "bench/support/sim_fleet.h"

using namespace xdc;
using namespace xdc::bench;
using Clock = std::chrono::steady_clock;

namespace {

std::string ms(double us) { return fmt::format("{:.1f} ms", us / 1000.0); }

std::vector<std::pair<std::string, transport::KeyPair>> fleetKeys(const Keys &k)
{
	std::vector<std::pair<std::string, transport::KeyPair>> v(k.agents.begin(), k.agents.end());
	return v;
}

bool runOne(const Environment &env, int n, int rounds, int threads)
{
	const std::string d = env.dir() + "/n" + std::to_string(n);
	std::filesystem::create_directories(d);
	std::vector<std::string> ids;
	for (int i = 0; i < n; i++)
		ids.push_back(fmt::format("sim{:04d}", i));
	auto keys = makeKeys(d, ids, {});
	if (!keys) {
		fprintf(stderr, "keys: %s\n", keys.error().message.c_str());
		return false;
	}
	const std::string ctl = d + "/ctl.sock", listen = "tcp://127.0.0.1:17810", rawListen = "tcp://127.0.0.1:17811";
	const std::string fig = fmt::format("2 fan-out {}", n);
	const auto [cmdBytes, resBytes] = pingFrameSizes(ids.front());

	// xdc: real controller, simulated agents.
	std::vector<double> wall;
	int bad = 0;
	{
		Child controller;
		if (auto s = controller.start(controllerArgv(d, *keys, listen, ctl), d + "/controller.out"); !s) {
			fprintf(stderr, "controller: %s\n", s.error().message.c_str());
			return false;
		}
		SimFleetOptions so;
		so.endpoint = listen;
		so.serverKey = keys->controller.publicKey;
		so.agents = fleetKeys(*keys);
		so.threads = threads;
		SimFleet fleet(so);
		const auto t0 = Clock::now();
		fleet.start();
		if (!waitLive(ctl, n, 60s)) {
			fprintf(stderr, "only %d of %d agents live after 60 s (logs in %s)\n", liveAgents(ctl), n, d.c_str());
			return false;
		}
		printf("%d simulated agents live after %.2f s\n", n,
		       std::chrono::duration<double>(Clock::now() - t0).count());
		std::this_thread::sleep_for(2s); // clock bursts after registration
		const control::PingRequest req{{"*"}, "ping"};
		for (int r = 0; r < rounds + 2; r++) {
			const auto t1 = Clock::now();
			json rep = controlCall(ctl, req, 30000);
			const double us = std::chrono::duration<double, std::micro>(Clock::now() - t1).count();
			int ok = 0;
			if (rep.value("ok", false))
				for (const auto &[id, e] : rep["results"].items())
					ok += e.value("ok", false);
			if (ok != n) {
				bad++;
				fprintf(stderr, "round %d: %d of %d acks ok\n", r, ok, n);
			}
			if (r >= 2)
				wall.push_back(us);
		}
		fleet.stop();
		controller.stop();
	}

	// Baseline: raw ROUTER fanning out to as many raw CURVE DEALERs.
	Child raw;
	SimFleetOptions eo;
	eo.mode = SimFleetOptions::Mode::Echo;
	eo.endpoint = rawListen;
	eo.serverKey = keys->controller.publicKey;
	eo.agents = fleetKeys(*keys);
	eo.echoBytes = resBytes;
	eo.threads = threads;
	SimFleet echo(eo);
	echo.start();
	RawRouterOptions ro;
	ro.listen = rawListen;
	ro.secretKeyFile = keys->controllerKeyFile;
	ro.expect = n;
	ro.rounds = rounds;
	ro.warmup = 2;
	ro.requestBytes = cmdBytes;
	ro.out = d + "/raw.json";
	ro.timeoutMs = 120000;
	json j = runRawRouter(raw, ro, d + "/raw.out");
	echo.stop();
	std::vector<double> base;
	if (j.contains("rounds_us"))
		for (double v : j["rounds_us"])
			base.push_back(v);

	const double x50 = percentile(wall, 50), x99 = percentile(wall, 99);
	const double r50 = percentile(base, 50), r99 = percentile(base, 99);
	printf("n=%d xdc console ping '*': p50 %s p99 %s (%zu rounds, %d with missing acks); raw fan-out: p50 %s p99 %s\n",
	       n, ms(x50).c_str(), ms(x99).c_str(), wall.size(), bad, ms(r50).c_str(), ms(r99).c_str());
	row(fig, "xdc all acks p50 / p99", ms(x50) + " / " + ms(x99), "-", bad ? "NO" : "-",
	    fmt::format("{} rounds; {} with missing acks; ratio to raw p50 {:.2f}", wall.size(), bad,
			r50 > 0 ? x50 / r50 : 0.0));
	row(fig, "raw ROUTER fan-out p50 / p99", base.empty() ? "failed" : ms(r50) + " / " + ms(r99), "baseline", "-",
	    fmt::format("{} rounds", base.size()));
	return bad == 0 && !base.empty();
}

} // namespace

int main(int argc, char **argv)
{
	if (int rc = maybeRunRawRouter(argc, argv); rc >= 0)
		return rc;
	Flags f(argc, argv);
	const int rounds = static_cast<int>(f.getInt("--rounds", 50));
	const int threads = static_cast<int>(f.getInt("--threads", 2));
	std::vector<int> sizes;
	std::stringstream ss(f.get("--agents", "100,1000"));
	for (std::string s; std::getline(ss, s, ',');)
		sizes.push_back(std::stoi(s));
	Environment env;
	if (auto s = env.setUp(16384); !s) {
		fprintf(stderr, "setup: %s\n", s.error().message.c_str());
		return 1;
	}
	bool ok = true;
	for (int n : sizes)
		ok = runOne(env, n, rounds, threads) && ok;
	return ok ? 0 : 1;
}
