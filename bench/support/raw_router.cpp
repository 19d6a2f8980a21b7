// SPDX-License-Identifier: Apache-2.0
// The baseline ROUTER child: hello collection, timed rounds, JSON out.
#include "bench/support/raw_router.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <unistd.h>

#include <zmq.hpp>

#include "common/transport/socket.h"

namespace xdc::bench {

namespace {

using Clock = std::chrono::steady_clock;

double usSince(Clock::time_point t0)
{
	return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

int serve(const RawRouterOptions &o)
{
	const auto start = Clock::now();
	const auto deadline = start + std::chrono::milliseconds(o.timeoutMs);
	auto kp = transport::loadKeyPair(o.secretKeyFile);
	if (!kp) {
		fprintf(stderr, "raw router: %s\n", kp.error().message.c_str());
		return 2;
	}
	zmq::context_t ctx(1);
	ctx.set(zmq::ctxopt::max_sockets, 16384);
	zmq::socket_t router(ctx, zmq::socket_type::router);
	transport::SocketOptions so = transport::serverOptions();
	transport::applyCommon(router, so);
	router.set(zmq::sockopt::backlog, so.backlog);
	router.set(zmq::sockopt::router_mandatory, 1);
	router.set(zmq::sockopt::curve_server, 1);
	router.set(zmq::sockopt::curve_secretkey, kp->secretKey);
	router.bind(o.listen);

	std::set<std::string> known;
	std::vector<std::string> peers;
	// Receives one [routing id, body] pair, or returns false at the deadline.
	auto recvPair = [&](std::string &rid, std::string &body) {
		while (Clock::now() < deadline) {
			zmq::pollitem_t it{router.handle(), 0, ZMQ_POLLIN, 0};
			zmq::poll(&it, 1, std::chrono::milliseconds(100));
			if (!(it.revents & ZMQ_POLLIN))
				continue;
			zmq::message_t id, m;
			(void)router.recv(id, zmq::recv_flags::none);
			(void)router.recv(m, zmq::recv_flags::none);
			while (m.more())
				(void)router.recv(m, zmq::recv_flags::none);
			rid = id.to_string();
			body = m.to_string();
			return true;
		}
		return false;
	};
	std::string rid, body;
	while (static_cast<int>(peers.size()) < o.expect) {
		if (!recvPair(rid, body)) {
			fprintf(stderr, "raw router: only %zu of %d peers said hello\n", peers.size(), o.expect);
			return 1;
		}
		if (body == "hello" && known.insert(rid).second)
			peers.push_back(rid);
	}
	const double readyMs = usSince(start) / 1000.0;

	const std::string payload(o.requestBytes, 'r');
	std::vector<double> rounds;
	for (int r = 0; r < o.warmup + o.rounds; r++) {
		const auto t0 = Clock::now();
		for (const auto &p : peers) {
			router.send(zmq::buffer(p), zmq::send_flags::sndmore);
			router.send(zmq::buffer(payload), zmq::send_flags::none);
		}
		int got = 0;
		while (got < o.expect) {
			if (!recvPair(rid, body)) {
				fprintf(stderr, "raw router: round %d got %d of %d replies\n", r, got, o.expect);
				return 1;
			}
			if (body != "hello")
				got++;
		}
		if (r >= o.warmup)
			rounds.push_back(usSince(t0));
	}
	json out = {{"ready_ms", readyMs}, {"rounds_us", rounds}};
	{
		std::ofstream f(o.out + ".tmp");
		f << out.dump();
	}
	std::filesystem::rename(o.out + ".tmp", o.out);
	while (o.hold) {
		if (!recvPair(rid, body))
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
	}
	return 0;
}

} // namespace

std::vector<std::string> rawRouterArgv(const RawRouterOptions &o)
{
	std::vector<std::string> a{selfBin(),
				   "--raw-router",
				   o.listen,
				   "--key",
				   o.secretKeyFile,
				   "--expect",
				   std::to_string(o.expect),
				   "--rounds",
				   std::to_string(o.rounds),
				   "--warmup",
				   std::to_string(o.warmup),
				   "--request-bytes",
				   std::to_string(o.requestBytes),
				   "--out",
				   o.out,
				   "--timeout-ms",
				   std::to_string(o.timeoutMs)};
	if (o.hold)
		a.push_back("--hold");
	return a;
}

int maybeRunRawRouter(int argc, char **argv)
{
	if (argc < 2 || std::string(argv[1]) != "--raw-router")
		return -1;
	Flags f(argc, argv);
	RawRouterOptions o;
	o.listen = f.get("--raw-router", "");
	o.secretKeyFile = f.get("--key", "");
	o.expect = static_cast<int>(f.getInt("--expect", 1));
	o.rounds = static_cast<int>(f.getInt("--rounds", 0));
	o.warmup = static_cast<int>(f.getInt("--warmup", 0));
	o.requestBytes = static_cast<size_t>(f.getInt("--request-bytes", 100));
	o.out = f.get("--out", "");
	o.timeoutMs = static_cast<int>(f.getInt("--timeout-ms", 120000));
	o.hold = f.has("--hold");
	try {
		return serve(o);
	} catch (const std::exception &e) {
		fprintf(stderr, "raw router: %s\n", e.what());
		return 1;
	}
}

json runRawRouter(Child &child, const RawRouterOptions &o, const std::string &logFile)
{
	std::error_code ec;
	std::filesystem::remove(o.out, ec);
	if (auto s = child.start(rawRouterArgv(o), logFile); !s) {
		fprintf(stderr, "cannot start the raw router: %s\n", s.error().message.c_str());
		return json::object();
	}
	const auto deadline = Clock::now() + std::chrono::milliseconds(o.timeoutMs + 5000);
	while (Clock::now() < deadline) {
		if (std::filesystem::exists(o.out)) {
			std::ifstream f(o.out);
			json j = json::parse(f, nullptr, false);
			if (!o.hold)
				child.stop();
			return j.is_discarded() ? json::object() : j;
		}
		if (!child.alive())
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(5));
	}
	child.stop();
	return json::object();
}

} // namespace xdc::bench
