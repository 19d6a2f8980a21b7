// SPDX-License-Identifier: Apache-2.0
// Figure 4: a real `xdc-agent` registered with a real `xdc controller` and left idle: CPU share of one core from
// schedstat and VmRSS, beside a bare cppzmq CURVE DEALER process with the same socket options connected to the
// same controller and doing nothing (its cost is libzmq's ZMTP heartbeats and the process floor).
#include <chrono>
#include <cstdio>
#include <thread>
#include <unistd.h>

#include <zmq.hpp>

#include "bench/support/bench.h"
#include "common/transport/socket.h"

using namespace xdc;
using namespace xdc::bench;
using Clock = std::chrono::steady_clock;

namespace {

// `SELF --idle-dealer ENDPOINT --key FILE --server-key-of CONTROLLER.key`: connect and sleep until killed.
int idleDealer(const Flags &f)
{
	auto kp = transport::loadKeyPair(f.get("--key", ""));
	// The server key comes from the controller's .key file: loadPublicKey would take a 40-character path for a key.
	auto sk = transport::loadKeyPair(f.get("--server-key-of", ""));
	if (!kp || !sk) {
		fprintf(stderr, "idle dealer: bad keys\n");
		return 2;
	}
	zmq::context_t ctx(1);
	zmq::socket_t s(ctx, zmq::socket_type::dealer);
	transport::SocketOptions so;
	transport::applyCommon(s, so);
	s.set(zmq::sockopt::immediate, 1);
	transport::makeCurveClient(s, kp->publicKey, kp->secretKey, sk->publicKey);
	s.connect(f.get("--idle-dealer", ""));
	while (true)
		::pause();
}

std::string pct(double v) { return fmt::format("{:.4f} %", v); }
std::string mib(uint64_t b) { return fmt::format("{:.1f} MiB", static_cast<double>(b) / (1024.0 * 1024.0)); }

int runBench(const Flags &f)
{
	const int seconds = static_cast<int>(f.getInt("--seconds", 60));
	Environment env;
	if (auto s = env.setUp(4096); !s) {
		fprintf(stderr, "setup: %s\n", s.error().message.c_str());
		return 1;
	}
	const std::string d = env.dir();
	auto keys = makeKeys(d, {"a1", "idle1"}, {"a1", "idle1"});
	if (!keys) {
		fprintf(stderr, "keys: %s\n", keys.error().message.c_str());
		return 1;
	}
	const std::string ctl = d + "/ctl.sock", listen = "tcp://127.0.0.1:17830";
	Child controller, agent, dealer;
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
	if (auto s = dealer.start({selfBin(), "--idle-dealer", listen, "--key", d + "/idle1.key", "--server-key-of",
				   keys->controllerKeyFile},
				  d + "/idle1.out");
	    !s) {
		fprintf(stderr, "idle dealer: %s\n", s.error().message.c_str());
		return 1;
	}
	if (!waitLive(ctl, 1, 15s)) {
		fprintf(stderr, "the agent did not register within 15 s (logs in %s)\n", d.c_str());
		return 1;
	}
	std::this_thread::sleep_for(3s); // registration clock burst over, the bare DEALER connected

	struct Watched {
		const char *name;
		pid_t pid;
		std::optional<CpuSample> a, b;
		std::optional<uint64_t> rss;
	};
	std::vector<Watched> w = {{"xdc-agent", agent.pid(), {}, {}, {}},
				  {"bare CURVE DEALER", dealer.pid(), {}, {}, {}},
				  {"xdc controller (1 agent + 1 bare)", controller.pid(), {}, {}, {}}};
	const auto t0 = Clock::now();
	for (auto &x : w)
		x.a = cpuOf(x.pid);
	std::this_thread::sleep_for(std::chrono::seconds(seconds));
	const double elapsedNs = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
	for (auto &x : w) {
		x.b = cpuOf(x.pid);
		x.rss = rssOf(x.pid);
	}
	const bool stillLive = liveAgents(ctl) == 1;
	bool ok = stillLive;
	for (auto &x : w) {
		if (!x.a || !x.b || !x.rss) {
			fprintf(stderr, "%s (pid %d) could not be measured\n", x.name, x.pid);
			ok = false;
			continue;
		}
		const double all = 100.0 * static_cast<double>(x.b->allThreadsNs - x.a->allThreadsNs) / elapsedNs;
		const double main = 100.0 * static_cast<double>(x.b->mainThreadNs - x.a->mainThreadNs) / elapsedNs;
		const double secs = elapsedNs / 1e9;
		const double wake = static_cast<double>(x.b->slices - x.a->slices) / secs;
		const double mainWake = static_cast<double>(x.b->mainSlices - x.a->mainSlices) / secs;
		printf("%-36s cpu %.4f %% of one core (main thread %.4f %%, %d threads), %.1f wakeups/s (main %.1f), "
		       "VmRSS %s\n",
		       x.name, all, main, x.b->threads, wake, mainWake, mib(*x.rss).c_str());
		const std::string fig = fmt::format("4 idle {} s", seconds);
		const std::string note = fmt::format("all {} threads; main thread alone {}; {:.1f} wakeups/s (main {:.1f})",
						     x.b->threads, pct(main), wake, mainWake);
		if (x.pid == agent.pid()) {
			row(fig, "xdc-agent CPU", pct(all), "<= 0.05 %", all <= 0.05 ? "yes" : "NO", note);
			row(fig, "xdc-agent VmRSS", mib(*x.rss), "<= 8 MiB", *x.rss <= 8ull << 20 ? "yes" : "NO");
		} else if (x.pid == dealer.pid()) {
			row(fig, "bare CURVE DEALER CPU / VmRSS", pct(all) + " / " + mib(*x.rss), "baseline", "-", note);
		} else {
			row(fig, "controller CPU / VmRSS", pct(all) + " / " + mib(*x.rss), "-", "-", note);
		}
	}
	if (!stillLive)
		row("4 idle", "agent still live at the end", "no", "yes", "NO");
	return ok ? 0 : 1;
}

} // namespace

int main(int argc, char **argv)
{
	Flags f(argc, argv);
	if (f.has("--idle-dealer"))
		return idleDealer(f);
	return runBench(f);
}
