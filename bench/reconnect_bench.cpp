// SPDX-License-Identifier: Apache-2.0
// Figure 3: 1,000 simulated CURVE agents reconnecting after a restart of a real `xdc controller`, timed from the
// new process's start until stats.agents.live counts all of them, beside a raw cppzmq CURVE ROUTER restarted under
// as many raw DEALERs (timed until each has said hello again).
#include <chrono>
#include <cstdio>
#include <thread>

#include "bench/support/bench.h"
#include "bench/support/raw_router.h"
#include "bench/support/sim_fleet.h"

using namespace xdc;
using namespace xdc::bench;
using Clock = std::chrono::steady_clock;

namespace {

double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string secs(double s) { return fmt::format("{:.2f} s", s); }

int runBench(const Flags &f)
{
	const int n = static_cast<int>(f.getInt("--agents", 1000));
	const int restarts = static_cast<int>(f.getInt("--restarts", 3));
	const int threads = static_cast<int>(f.getInt("--threads", 2));
	Environment env;
	if (auto s = env.setUp(16384); !s) {
		fprintf(stderr, "setup: %s\n", s.error().message.c_str());
		return 1;
	}
	const std::string d = env.dir();
	std::vector<std::string> ids;
	for (int i = 0; i < n; i++)
		ids.push_back(fmt::format("sim{:04d}", i));
	auto keys = makeKeys(d, ids, {});
	if (!keys) {
		fprintf(stderr, "keys: %s\n", keys.error().message.c_str());
		return 1;
	}
	std::vector<std::pair<std::string, transport::KeyPair>> agents(keys->agents.begin(), keys->agents.end());
	const std::string ctl = d + "/ctl.sock", listen = "tcp://127.0.0.1:17820", rawListen = "tcp://127.0.0.1:17821";

	std::vector<double> xdcTimes, consoleUp;
	bool failed = false;
	{
		Child controller;
		if (auto s = controller.start(controllerArgv(d, *keys, listen, ctl), d + "/controller.out"); !s) {
			fprintf(stderr, "controller: %s\n", s.error().message.c_str());
			return 1;
		}
		SimFleetOptions so;
		so.endpoint = listen;
		so.serverKey = keys->controller.publicKey;
		so.agents = agents;
		so.threads = threads;
		SimFleet fleet(so);
		fleet.start();
		if (!waitLive(ctl, n, 60s)) {
			fprintf(stderr, "only %d of %d agents live at first start (logs in %s)\n", liveAgents(ctl), n,
				d.c_str());
			return 1;
		}
		for (int r = 0; r < restarts && !failed; r++) {
			std::this_thread::sleep_for(3s); // steady state: clock bursts over, heartbeats flowing
			controller.stop();
			const auto t0 = Clock::now();
			if (auto s = controller.start(controllerArgv(d, *keys, listen, ctl), d + "/controller.out"); !s) {
				fprintf(stderr, "controller restart: %s\n", s.error().message.c_str());
				return 1;
			}
			double up = -1, half = -1, most = -1;
			int live = -1;
			while (secondsSince(t0) < 60) {
				live = liveAgents(ctl, 1000);
				if (live >= 0 && up < 0)
					up = secondsSince(t0);
				if (live >= n / 2 && half < 0)
					half = secondsSince(t0);
				if (live >= n * 9 / 10 && most < 0)
					most = secondsSince(t0);
				if (live == n)
					break;
				std::this_thread::sleep_for(20ms);
			}
			if (live != n) {
				fprintf(stderr, "restart %d: only %d of %d live after 60 s\n", r, live, n);
				failed = true;
				break;
			}
			xdcTimes.push_back(secondsSince(t0));
			consoleUp.push_back(up);
			printf("restart %d: console up after %.3f s, 50%% live after %.3f s, 90%% after %.3f s, all %d "
			       "after %.3f s\n",
			       r, up, half, most, n, xdcTimes.back());
		}
		fleet.stop();
	}

	// Baseline: a raw CURVE ROUTER restarted under as many raw DEALERs.
	std::vector<double> rawTimes;
	{
		SimFleetOptions eo;
		eo.mode = SimFleetOptions::Mode::Echo;
		eo.endpoint = rawListen;
		eo.serverKey = keys->controller.publicKey;
		eo.agents = agents;
		eo.threads = threads;
		SimFleet echo(eo);
		echo.start();
		RawRouterOptions ro;
		ro.listen = rawListen;
		ro.secretKeyFile = keys->controllerKeyFile;
		ro.expect = n;
		ro.out = d + "/raw.json";
		ro.hold = true;
		ro.timeoutMs = 60000;
		Child raw;
		if (runRawRouter(raw, ro, d + "/raw.out").empty()) {
			fprintf(stderr, "raw baseline: peers did not connect (see %s/raw.out)\n", d.c_str());
			failed = true;
		}
		for (int r = 0; r < restarts && !failed; r++) {
			std::this_thread::sleep_for(3s);
			raw.stop();
			const auto t0 = Clock::now();
			if (runRawRouter(raw, ro, d + "/raw.out").empty()) {
				fprintf(stderr, "raw restart %d failed; its log:\n", r);
				if (FILE *lf = fopen((d + "/raw.out").c_str(), "re")) {
					char line[512];
					while (fgets(line, sizeof line, lf))
						fprintf(stderr, "  %s", line);
					fclose(lf);
				}
				failed = true;
				break;
			}
			rawTimes.push_back(secondsSince(t0));
			printf("raw restart %d: all %d said hello after %.3f s\n", r, n, rawTimes.back());
		}
		raw.stop();
		echo.stop();
	}
	const std::string fig = fmt::format("3 reconnect {}", n);
	if (!xdcTimes.empty()) {
		const double worst = *std::max_element(xdcTimes.begin(), xdcTimes.end());
		row(fig, "xdc all live after restart (median / worst)",
		    secs(percentile(xdcTimes, 50)) + " / " + secs(worst), "<= 5 s", worst <= 5.0 ? "yes" : "NO",
		    fmt::format("{} restarts; console answered after {} (median)", xdcTimes.size(),
				secs(percentile(consoleUp, 50))));
	}
	if (!rawTimes.empty())
		row(fig, "raw ROUTER all reconnected (median / worst)",
		    secs(percentile(rawTimes, 50)) + " / " + secs(*std::max_element(rawTimes.begin(), rawTimes.end())),
		    "baseline", "-", fmt::format("{} restarts", rawTimes.size()));
	if (failed)
		row(fig, "run", "failed", "-", "NO");
	return failed ? 1 : 0;
}

} // namespace

int main(int argc, char **argv)
{
	if (int rc = maybeRunRawRouter(argc, argv); rc >= 0)
		return rc;
	Flags f(argc, argv);
	return runBench(f);
}
