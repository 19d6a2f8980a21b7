// SPDX-License-Identifier: Apache-2.0
// Figure 4: a real `xdc-agent` registered with a real `xdc controller` and left idle: CPU share of one core from
// schedstat and VmRSS, beside a bare cppzmq CURVE DEALER process with the same socket options connected to the
// same controller and doing nothing (its cost is libzmq's ZMTP heartbeats and the process floor). With
// `--shipped-agent PATH` the self-contained agent of scripts/build-agent.sh runs beside the dynamic one, both
// measured in the same window, and both stripped sizes are reported.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <unistd.h>

#include <zmq.hpp>

#include "bench/support/bench.h"
#include "common/sys/process.h"
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
	const std::string shipped = f.get("--shipped-agent", "");
	std::vector<std::string> ids = {"a1", "idle1"};
	if (!shipped.empty())
		ids.push_back("a2");
	auto keys = makeKeys(d, ids, ids);
	if (!keys) {
		fprintf(stderr, "keys: %s\n", keys.error().message.c_str());
		return 1;
	}
	const std::string ctl = d + "/ctl.sock", listen = "tcp://127.0.0.1:17830";
	Child controller, agent, dealer, agent2;
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
	if (!shipped.empty()) {
		if (auto s = agent2.start({shipped, "--controller", listen, "--controller-key", keys->controller.publicKey,
					   "--key", d + "/a2.key", "--id", "a2", "--dc", "dc1", "--state-dir", d + "/a2",
					   "--log-file", d + "/a2.log"},
					  d + "/a2.out");
		    !s) {
			fprintf(stderr, "shipped agent: %s\n", s.error().message.c_str());
			return 1;
		}
	}
	const int agents = shipped.empty() ? 1 : 2;
	if (!waitLive(ctl, agents, 15s)) {
		fprintf(stderr, "the agents did not register within 15 s (logs in %s)\n", d.c_str());
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
				  {"xdc controller (agents + 1 bare)", controller.pid(), {}, {}, {}}};
	if (!shipped.empty())
		w.push_back({"xdc-agent (shipped, self-contained)", agent2.pid(), {}, {}, {}});
	const auto t0 = Clock::now();
	for (auto &x : w)
		x.a = cpuOf(x.pid);
	std::this_thread::sleep_for(std::chrono::seconds(seconds));
	const double elapsedNs = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
	for (auto &x : w) {
		x.b = cpuOf(x.pid);
		x.rss = rssOf(x.pid);
	}
	const bool stillLive = liveAgents(ctl) == agents;
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
		} else if (!shipped.empty() && x.pid == agent2.pid()) {
			row(fig, "shipped xdc-agent CPU", pct(all), "<= 0.05 %", all <= 0.05 ? "yes" : "NO", note);
			row(fig, "shipped xdc-agent VmRSS", mib(*x.rss), "<= 8 MiB", *x.rss <= 8ull << 20 ? "yes" : "NO");
		} else if (x.pid == dealer.pid()) {
			row(fig, "bare CURVE DEALER CPU / VmRSS", pct(all) + " / " + mib(*x.rss), "baseline", "-", note);
		} else {
			row(fig, "controller CPU / VmRSS", pct(all) + " / " + mib(*x.rss), "-", "-", note);
		}
	}
	if (!stillLive)
		row("4 idle", "agents still live at the end", "no", "yes", "NO");
	if (!shipped.empty()) {
		// Stripped sizes: the dynamic build stripped here, the shipped one as shipped (its debug info split off).
		const std::string dyn = d + "/xdc-agent.dynamic.stripped";
		std::error_code ec;
		auto st = sys::runChecked({"strip", "-o", dyn, agentBin()});
		auto needs = [](const std::string &bin) {
			auto l = sys::run({"ldd", bin});
			size_t n = 0;
			for (size_t at = 0; l && (at = l->out.find("=>", at)) != std::string::npos; at += 2)
				n++;
			return n;
		};
		const auto dynSize = std::filesystem::file_size(dyn, ec);
		const auto shipSize = ec ? 0 : std::filesystem::file_size(shipped, ec);
		if (st && !ec)
			row("4 size", "stripped size: dynamic / shipped", mib(dynSize) + " / " + mib(shipSize), "-", "-",
			    fmt::format("shipped = {:.2f} x dynamic; shared libraries loaded at start: {} / {}",
					static_cast<double>(shipSize) / static_cast<double>(dynSize), needs(agentBin()),
					needs(shipped)));
		else
			fprintf(stderr, "sizes: %s\n", st ? ec.message().c_str() : st.error().message.c_str());
	}
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
