// SPDX-License-Identifier: Apache-2.0
// The console's typed requests (controller/control/requests.h): every request round-trips through its JSON, the
// version window, and malformed requests give the messages the console shows.
#include <doctest/doctest.h>

#include <string>

#include "common/fault/spec_json.h"
#include "controller/control/requests.h"

using namespace xdc;
using namespace xdc::control;

namespace {

fault::FaultSpec spec(const std::string &text)
{
	auto s = fault::parseSpecText(text, "<test>");
	REQUIRE_MESSAGE(s.ok(), (s.ok() ? std::string() : s.error().message));
	return *s;
}

// One of every request, with fields away from their defaults.
std::vector<Request> everyRequest()
{
	DataGenerateStartRequest gen;
	gen.host = "dc1-h1";
	gen.args.runId = "run-1";
	gen.args.seed = 42;
	gen.args.rate = 350.5;
	gen.args.rampFrom = 10;
	gen.args.rampNs = 2'000'000'000;
	gen.args.burstEveryNs = 5'000'000'000;
	gen.args.burstForNs = 1'000'000'000;
	gen.args.burstFactor = 3;
	gen.args.keys = 64;
	gen.args.payload = 100;
	gen.args.maxDurationMs = 60000;
	gen.args.sources.push_back({"dc1", "http_json", "https://10.0.0.1:8443/inject", "", 0, "u", "p", "/ca.pem", true});
	gen.args.sources.push_back({"dc2", "tcp", "", "10.0.0.2", 9000, "", "", "", false});
	return {
		AgentsRequest{},
		StatsRequest{},
		StatsRequest{true},
		ReloadRequest{},
		ShutdownRequest{},
		FaultApplyRequest{.spec = spec("{id: f-9, kind: network.delay, targets: {dc: dc1}, peers: {dc: dc2},"
					       " duration: 1m, delay: 100ms, jitter: 10ms, ports: [53], protocol: udp}"),
				  .origin = "faults.yaml", .dryRun = true, .sync = false, .startAtNs = 1234567890123},
		FaultApplyRequest{.spec = spec("{kind: process.kill, targets: {host: dc1-h1}, duration: 30s,"
					       " match: {preset: streams-pe}, count: 50%}")},
		FaultRevertRequest{"f1"},
		HaltRequest{},
		FaultListRequest{},
		ResidueRequest{},
		RecordStartRequest{.specs = {{"{kind: host, on: {dc: dc1}, interval: 1s}", "--sample[0]"},
					     {"{kind: probe.tcp, on: {host: h}, target: x:1}", "s.yaml"}},
				   .out = "/tmp/ev", .forMs = 5000, .maxMs = 60000, .name = "r1", .memorySamples = 100},
		RecordStatusRequest{"r1", 2000},
		RecordStatusRequest{},
		RecordStopRequest{"r1", 1500},
		PingRequest{{"a1", "*"}, "hello"},
		StreamsPeRequest{"dc1-h1", "restart", "3"},
		StreamsOrderlyShutdownRequest{"dc1-h1", "12"},
		StreamsOrderlyShutdownRequest{"dc1-h1", ""},
		gen,
		DataGenerateStopRequest{"dc1-h1", "run-1"},
		DataTailRequest{"dc2-h1", "out", 100, 7, 4096, true},
		DataDropRequest{"dc1-h1", "in", "{\"k\":1}\n", 1},
		RunStateRequest{.scenario = "failover", .runId = "r-1", .phase = "observe"},
		RunStateRequest{.scenario = "failover", .runId = "r-1", .phase = "recover", .ended = true,
				.verdict = "failed", .exitCode = 1, .detectionMs = 5012.5, .rtoMs = 7000,
				.assertions = {{"outage", "passed"}, {"rpo", "failed"}}},
	};
}

std::string parseErr(const nlohmann::json &j, Errc code = Errc::Invalid)
{
	auto r = parseRequest(j);
	if (r.ok())
		return "(parsed: " + toJson(*r).dump() + ")";
	CHECK(r.error().code == code);
	return r.error().message;
}

} // namespace

TEST_CASE("control requests: every request round-trips through its JSON")
{
	for (const auto &req : everyRequest()) {
		const json j = toJson(req);
		INFO(j.dump());
		CHECK(j["cmd"] == std::string(commandName(req)));
		CHECK(j["v"] == kControlVersion);
		// Through the text of the wire.
		auto back = parseRequest(json::parse(j.dump()));
		REQUIRE_MESSAGE(back.ok(), (back.ok() ? std::string() : back.error().message));
		CHECK(back->index() == req.index());
		CHECK(toJson(*back) == j);
	}
}

TEST_CASE("control requests: the fields come back typed")
{
	auto fa = parseRequest(toJson(everyRequest()[5]));
	REQUIRE(fa.ok());
	const auto &f = std::get<FaultApplyRequest>(*fa);
	CHECK(f.spec.kind == fault::Kind::NetworkDelay);
	CHECK(f.spec.id == "f-9");
	CHECK(f.spec.ports == std::vector<int>{53});
	CHECK(f.origin == "faults.yaml");
	CHECK(f.dryRun);
	CHECK_FALSE(f.sync);
	CHECK(f.startAtNs == 1234567890123);
	CHECK(toJson(everyRequest()[5])["spec"].is_object());

	auto g = parseRequest(toJson(everyRequest()[19]));
	REQUIRE(g.ok());
	const auto &gen = std::get<DataGenerateStartRequest>(*g);
	CHECK(gen.args.sources.size() == 2);
	CHECK(gen.args.sources[1].port == 9000);
	CHECK(gen.args.sources[0].insecure);
	CHECK(gen.args.rate == doctest::Approx(350.5));
}

TEST_CASE("control requests: a console from before \"v\" and its forms")
{
	// No "v": the current version. Defaults as the handlers always took them.
	auto p = parseRequest({{"cmd", "ping"}, {"agents", {"a1"}}});
	REQUIRE(p.ok());
	CHECK(std::get<PingRequest>(*p).text == "ping");
	auto st = parseRequest({{"cmd", "status"}});
	REQUIRE(st.ok());
	CHECK(commandName(*st) == "status");
	// The fault spec as YAML text (N-1 form): read with the same checks and positions.
	auto fa = parseRequest({{"cmd", "fault.apply"}, {"origin", "f.yaml"},
				{"spec", "kind: resource.cpu\ntargets: {dc: dc1}\nduration: 10s\n"}});
	REQUIRE(fa.ok());
	CHECK(std::get<FaultApplyRequest>(*fa).spec.kind == fault::Kind::ResourceCpu);
	CHECK(std::get<FaultApplyRequest>(*fa).origin == "f.yaml");
	CHECK(parseErr({{"cmd", "fault.apply"}, {"origin", "f.yaml"},
			{"spec", "kind: resource.cpu\ntargets: {dc: dc1}\nduration: 2h\n"}})
		      .rfind("f.yaml:3:11: duration:", 0) == 0);
	// record.start's specs as bare strings.
	auto rs = parseRequest({{"cmd", "record.start"}, {"specs", {"{kind: host, on: {dc: dc1}}"}}, {"out", "/x"}});
	REQUIRE(rs.ok());
	CHECK(std::get<RecordStartRequest>(*rs).specs[0].origin == "<command line>");
	CHECK(std::get<RecordStartRequest>(*rs).maxMs == 3600000);
}

TEST_CASE("control requests: the version window")
{
	CHECK(parseRequest({{"cmd", "agents"}, {"v", kControlVersion}}).ok());
	CHECK(parseRequest({{"cmd", "agents"}, {"v", kControlMinVersion}}).ok());
	CHECK(parseErr({{"cmd", "agents"}, {"v", kControlVersion + 1}}, Errc::Unsupported) ==
	      "control protocol version 2 unsupported (this controller speaks 1..1); use a console of the "
	      "controller's version");
	CHECK(parseErr({{"cmd", "agents"}, {"v", 0}}, Errc::Unsupported).rfind("control protocol version 0 unsupported", 0) == 0);
	// A newer console's new command is refused for its version, not as unknown.
	CHECK(parseErr({{"cmd", "fault.teleport"}, {"v", 9}}, Errc::Unsupported).rfind("control protocol version 9", 0) == 0);
	CHECK(parseErr({{"cmd", "agents"}, {"v", "1"}}) ==
	      "bad request: 'v' must be an integer (the control protocol version)");
}

TEST_CASE("control requests: malformed requests give the console's messages")
{
	const std::string frame = "expected one JSON object with a string 'cmd' per line";
	CHECK(parseErr(json::array()) == frame);
	CHECK(parseErr({{"command", "agents"}}) == frame);
	CHECK(parseErr({{"cmd", 7}}) == frame);
	CHECK(parseErr({{"cmd", "bogus"}}) == "unknown command 'bogus'");
	CHECK(parseErr({{"cmd", "ping"}, {"agents", "a1"}}) == "'agents' must be a list of agent ids");
	CHECK(parseErr({{"cmd", "ping"}, {"agents", {1}}}) == "'agents' must be a list of agent ids");
	CHECK(parseErr({{"cmd", "ping"}, {"agents", {"a1"}}, {"text", 5}}) == "bad request: 'text' must be a string");
	CHECK(parseErr({{"cmd", "streams.pe"}, {"host", "h"}, {"verb", "kill"}, {"pe", "3"}}) ==
	      "streams.pe needs host, verb (stop|restart) and pe");
	CHECK(parseErr({{"cmd", "streams.orderly_shutdown"}, {"host", "h"}, {"job", 12}}) ==
	      "streams.orderly_shutdown needs host (and job, if given, as a string of digits)");
	CHECK(parseErr({{"cmd", "data.generate.start"}, {"host", "h"}}) == "data.generate.start needs host and run_id");
	CHECK(parseErr({{"cmd", "data.generate.stop"}, {"run_id", "r"}}) == "data.generate.stop needs host and run_id");
	CHECK(parseErr({{"cmd", "data.generate.start"}, {"host", "h"}, {"run_id", "r"}, {"rate", "fast"}}) ==
	      "bad request: 'rate' must be a number");
	CHECK(parseErr({{"cmd", "data.generate.start"}, {"host", "h"}, {"run_id", "r"}, {"sources", {{{"port", 70000}}}}})
		      .find("'port' must be an integer in 0..65535") != std::string::npos);
	CHECK(parseErr({{"cmd", "data.tail"}, {"host", "h"}, {"sink", "s"}, {"offset", -1}}) ==
	      "data.tail needs host, sink and offset, inode, max >= 0");
	CHECK(parseErr({{"cmd", "data.drop"}, {"host", "h"}, {"drop", "d"}}) == "data.drop needs host, drop and data");
	CHECK(parseErr({{"cmd", "record.start"}, {"out", "/x"}}) == "give at least one --probe or --sample spec");
	CHECK(parseErr({{"cmd", "record.start"}, {"specs", {"s"}}, {"out", "rel"}}) ==
	      "out: an absolute directory path is required");
	CHECK(parseErr({{"cmd", "record.start"}, {"specs", {"s"}}, {"out", "/x"}, {"for_ms", 10}, {"max_ms", 5}}) ==
	      "for: must be within 0..max (max up to 24h)");
	CHECK(parseErr({{"cmd", "record.start"}, {"specs", {7}}, {"out", "/x"}}).find("bad request: 'specs'") == 0);
	CHECK(parseErr({{"cmd", "record.stop"}, {"recording", "r"}, {"drain_ms", 1.5}}) ==
	      "bad request: 'drain_ms' must be an integer");
	CHECK(parseErr({{"cmd", "fault.revert"}, {"id", {"f1"}}}) == "bad request: 'id' must be a string");
	CHECK(parseErr({{"cmd", "run.state"}, {"phase", "observe"}}) == "run.state needs a scenario name of 1..256 bytes");
	CHECK(parseErr({{"cmd", "run.state"}, {"scenario", "s"}, {"figures", {{"rto_ms", "7s"}}}}) ==
	      "bad request: 'figures.rto_ms' must be a number");
	CHECK(parseErr({{"cmd", "run.state"}, {"scenario", "s"}, {"assertions", {{{"name", "a"}}}}}) ==
	      "bad request: each of 'assertions' must be {\"name\": string, \"status\": string}");
	CHECK(parseErr({{"cmd", "fault.apply"}, {"spec", 3}}).find("bad request: 'spec'") == 0);
	CHECK(parseErr({{"cmd", "fault.apply"}, {"dry_run", "yes"}, {"spec", "{}"}}) ==
	      "bad request: 'dry_run' must be true or false");
	// The typed spec is checked key by key, the message naming origin and key.
	CHECK(parseErr({{"cmd", "fault.apply"}, {"origin", "<console>"},
			{"spec", {{"kind", "network.partition"}, {"targets", {{"dc", "dc1"}}}, {"duration", "5s"}}}})
		      .rfind("<console>: ", 0) == 0);
	CHECK(parseErr({{"cmd", "fault.apply"}, {"spec", {{"kind", "resource.cpu"}, {"targets", {{"dc", "dc1"}}},
							  {"duration", "5s"}, {"workers", 1000}}}})
		      .find("workers") != std::string::npos);
}
