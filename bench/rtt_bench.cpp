// SPDX-License-Identifier: Apache-2.0
// Figure 1: command round trip controller -> agent -> ack through a real `xdc controller` and a real `xdc-agent`,
// in blocks interleaved with a raw cppzmq CURVE ROUTER/DEALER echo of the same frame sizes.
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

std::string us(double v) { return fmt::format("{:.0f} us", v); }

int runBench(const Flags &f)
{
	const int pings = static_cast<int>(f.getInt("--pings", 2000));
	const int blocks = static_cast<int>(f.getInt("--blocks", 4));
	const int warmup = 20;
	const int perBlock = std::max(1, pings / blocks);

	Environment env;
	if (auto s = env.setUp(4096); !s) {
		fprintf(stderr, "setup: %s\n", s.error().message.c_str());
		return 1;
	}
	const std::string d = env.dir();
	auto keys = makeKeys(d, {"a1", "echo1"}, {"a1"});
	if (!keys) {
		fprintf(stderr, "keys: %s\n", keys.error().message.c_str());
		return 1;
	}
	const std::string ctl = d + "/ctl.sock", listen = "tcp://127.0.0.1:17800", rawListen = "tcp://127.0.0.1:17801";
	Child controller, agent, raw;
	if (auto s = controller.start(controllerArgv(d, *keys, listen, ctl), d + "/controller.out"); !s) {
		fprintf(stderr, "controller: %s\n", s.error().message.c_str());
		return 1;
	}
	if (auto s = agent.start({agentBin(), "--controller", listen, "--controller-key", keys->controller.publicKey,
				  "--key", d + "/a1.key", "--id", "a1", "--dc", "dc1", "--state-dir", d, "--log-file",
				  d + "/a1.log"},
				 d + "/a1.out");
	    !s) {
		fprintf(stderr, "agent: %s\n", s.error().message.c_str());
		return 1;
	}
	if (!waitLive(ctl, 1, 15s)) {
		fprintf(stderr, "the agent did not register within 15 s (logs in %s)\n", d.c_str());
		return 1;
	}
	// Let the registration clock burst pass.
	std::this_thread::sleep_for(500ms);

	const auto [cmdBytes, resBytes] = pingFrameSizes("a1");
	printf("frame sizes: command %zu bytes, result %zu bytes; CURVE on both paths\n", cmdBytes, resBytes);
	SimFleetOptions so;
	so.mode = SimFleetOptions::Mode::Echo;
	so.endpoint = rawListen;
	so.serverKey = keys->controller.publicKey;
	so.agents = {{"echo1", keys->agents.at("echo1")}};
	so.echoBytes = resBytes;
	so.threads = 1;
	SimFleet echo(so);
	echo.start();

	std::vector<double> xdcRtt, xdcWall, rawRtt;
	int failures = 0;
	const control::PingRequest req{{"a1"}, "ping"};
	for (int b = 0; b < blocks; b++) {
		for (int i = 0; i < warmup + perBlock; i++) {
			const auto t0 = Clock::now();
			json r = controlCall(ctl, req, 5000);
			const double wall = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
			if (!r.value("ok", false) || !r["results"]["a1"].value("ok", false)) {
				failures++;
				continue;
			}
			if (i >= warmup) {
				xdcWall.push_back(wall);
				xdcRtt.push_back(r["results"]["a1"].value("rtt_us", 0.0));
			}
		}
		RawRouterOptions ro;
		ro.listen = rawListen;
		ro.secretKeyFile = keys->controllerKeyFile;
		ro.expect = 1;
		ro.rounds = perBlock;
		ro.warmup = warmup;
		ro.requestBytes = cmdBytes;
		ro.out = d + "/raw.json";
		ro.timeoutMs = 60000;
		json j = runRawRouter(raw, ro, d + "/raw.out");
		if (!j.contains("rounds_us")) {
			fprintf(stderr, "raw baseline block %d failed (see %s/raw.out)\n", b, d.c_str());
			return 1;
		}
		for (double v : j["rounds_us"])
			rawRtt.push_back(v);
	}
	echo.stop();

	const double x50 = percentile(xdcRtt, 50), x99 = percentile(xdcRtt, 99);
	const double r50 = percentile(rawRtt, 50), r99 = percentile(rawRtt, 99);
	const double w50 = percentile(xdcWall, 50), w99 = percentile(xdcWall, 99);
	printf("xdc (controller-measured, sendCommand -> result callback): n=%zu p50 %.0f us p99 %.0f us\n",
	       xdcRtt.size(), x50, x99);
	printf("xdc via console (control request wall time):              n=%zu p50 %.0f us p99 %.0f us\n",
	       xdcWall.size(), w50, w99);
	printf("raw cppzmq CURVE ROUTER/DEALER echo:                      n=%zu p50 %.0f us p99 %.0f us\n",
	       rawRtt.size(), r50, r99);
	printf("failures: %d\n", failures);
	const std::string fig = "1 command RTT";
	row(fig, "xdc p50 (controller->agent->ack)", us(x50), "<= 1.3x raw", x50 <= 1.3 * r50 ? "yes" : "NO",
	    fmt::format("raw p50 {}; ratio {:.2f}", us(r50), x50 / r50));
	row(fig, "xdc p99 (controller->agent->ack)", us(x99), "<= 1.3x raw", x99 <= 1.3 * r99 ? "yes" : "NO",
	    fmt::format("raw p99 {}; ratio {:.2f}", us(r99), x99 / r99));
	row(fig, "xdc p50 incl. console hop", us(w50), "-", "-", fmt::format("ratio to raw {:.2f}", w50 / r50));
	row(fig, "xdc p99 incl. console hop", us(w99), "-", "-", fmt::format("ratio to raw {:.2f}", w99 / r99));
	row(fig, "raw CURVE ROUTER/DEALER p50 / p99", us(r50) + " / " + us(r99), "baseline", "-",
	    fmt::format("{} + {} byte frames, n={}", cmdBytes, resBytes, rawRtt.size()));
	if (failures)
		row(fig, "failed pings", std::to_string(failures), "0", "NO");
	return failures ? 1 : 0;
}

} // namespace

int main(int argc, char **argv)
{
	if (int rc = maybeRunRawRouter(argc, argv); rc >= 0)
		return rc;
	Flags f(argc, argv);
	return runBench(f);
}
