// SPDX-License-Identifier: Apache-2.0
// xdc-streams-emu: one emulated Streams instance of one datacenter (REST API, PE processes, failover heartbeats).
#include <csignal>
#include <cstdio>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "common/log.h"
#include "emulator/emulator.h"
#include "emulator/http_server.h"
#include "emulator/options.h"
#include "emulator/rest_api.h"

using namespace xdc;
using namespace xdc::emu;

int main(int argc, char **argv)
{
	auto parsed = parseOptions(std::vector<std::string>(argv + 1, argv + argc));
	if (!parsed) {
		std::fprintf(stderr, "xdc-streams-emu: %s\n(see --help)\n", parsed.error().message.c_str());
		return 2;
	}
	if (parsed->help) {
		std::fputs(usage().c_str(), stdout);
		return 0;
	}
	if (auto r = log::init({}); !r) {
		std::fprintf(stderr, "xdc-streams-emu: %s\n", r.error().message.c_str());
		return 1;
	}
	auto lg = log::get("emu");
	const Options opts = parsed->opts;
	setHostName(opts.host);

	// Termination signals are taken by sigwait() below, so every thread started from here on blocks them; the
	// PEs unblock them again before exec.
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
	std::signal(SIGPIPE, SIG_IGN);

	Emulator emu(opts);
	RestApi api(emu);
	boost::asio::io_context io;
	auto guard = boost::asio::make_work_guard(io);
	HttpServer rest(io, [&api](const HttpRequest &req) { return api.handle(req); }, "REST API");
	if (auto r = rest.listen(opts.rest); !r) {
		lg->error("{}", r.error().message);
		return 1;
	}
	if (auto r = emu.start(); !r) {
		lg->error("{}", r.error().message);
		emu.shutdown();
		return 1;
	}
	lg->info("instance {} of {} (application {}) up: REST on {}, toolkit {} on {}, peer {}", opts.instance, opts.dc,
		 opts.active ? "active" : "standby", opts.rest.str(), opts.noToolkit ? "off" : opts.toolkitPrefix,
		 opts.hbListen.str(), opts.peer.port ? opts.peer.str() : "none");

	std::vector<std::thread> threads;
	for (int i = 0; i < 2; ++i)
		threads.emplace_back([&io] { io.run(); });

	int sig = 0;
	sigwait(&sigs, &sig);
	lg->info("signal {}: shutting down", sig);
	rest.close();
	guard.reset();
	io.stop();
	for (auto &t : threads)
		t.join();
	emu.shutdown();
	return 0;
}
