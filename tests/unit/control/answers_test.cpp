// SPDX-License-Identifier: Apache-2.0
// The controller's typed answers (controller/control/answers.h): printed and read back equal, and an answer that is
// not what the console reads is a protocol error, never an exception.
#include <doctest/doctest.h>

#include "controller/control/answers.h"

using namespace xdc;
using namespace xdc::control;

namespace {

template<typename T>
void roundTrip(const T &answer)
{
	const json j = toJson(answer);
	INFO(j.dump());
	CHECK(j["ok"].is_boolean());
	auto back = parseAnswer<T>(json::parse(j.dump()));
	REQUIRE_MESSAGE(back.ok(), (back.ok() ? std::string() : back.error().message));
	CHECK(toJson(*back) == j);
}

} // namespace

TEST_CASE("control answers: every typed answer round-trips through its JSON")
{
	AgentInfo a;
	a.id = "dc1-h1";
	a.host = "dc1-h1";
	a.dc = "dc1";
	a.version = "0.1.0";
	a.labels = {{"role", "streams"}};
	a.capabilities = {{"nft", "yes"}, {"qdisc.netem", "no: kernel lacks sch_netem"}};
	a.protocol = 1;
	a.state = "live";
	a.lastHeartbeatAgeMs = 120;
	a.stateSinceMs = 4000;
	a.clock = AgentInfo::Clock{0.25, 0.5, 0.75, 12};
	a.pid = 77;
	a.rssBytes = 1 << 20;
	a.registrations = 2;
	a.drops = {{"bad_body", 3}};
	a.addresses = {"eth0=10.0.0.1"};
	a.runningFaults = {"f1"};
	AgentInfo lost = a;
	lost.id = lost.host = "dc2-h1";
	lost.state = "lost";
	lost.lostReason = "missed 3 heartbeats";
	lost.clock.reset();
	roundTrip(AgentsAnswer{{a, lost}});
	CHECK(toJson(lost)["clock"].is_null());
	// The agents answer written directly is byte for byte what the object prints, odd strings included.
	AgentInfo odd = a;
	odd.id = "odd";
	odd.lostReason = "quote \" backslash \\ tab \t ctl \x01 utf-8 \xc3\xa9 invalid \xff end";
	odd.labels = {{"k\"ey", "v\nal"}, {"a", ""}};
	odd.clock = AgentInfo::Clock{-0.000012, 1e-7, 1234.5, 0};
	odd.drops = {};
	odd.addresses = {};
	for (const AgentsAnswer &x : {AgentsAnswer{}, AgentsAnswer{{a}}, AgentsAnswer{{a, lost, odd}}})
		CHECK(agentsLine(x) == toJson(x).dump(-1, ' ', false, json::error_handler_t::replace));

	roundTrip(PingAnswer{{{"a1", {true, 865, ""}}, {"a2", {false, 92, "no agent 'a2'"}}}});

	FaultApplyAnswer ap;
	ap.id = "f1";
	ap.kind = "network.partition";
	ap.agents["dc1-h1"] = {true, "", true, "nft", {}, 1, 2, 3, 4, 5, 6, "table inet xdc_f1"};
	ap.agents["dc1-h2"] = {true, "", true, "nft", {}, 7, 8, 9, 10, 11, 12, "readback"};
	ap.spreadNs = 6;
	roundTrip(ap);
	FaultApplyAnswer dry = ap;
	dry.dryRun = true;
	dry.spreadNs.reset();
	for (auto &[id, g] : dry.agents) {
		g = {true, "", true, "nft", {"add table inet xdc_f1", "add rule ..."}};
	}
	roundTrip(dry);
	CHECK(toJson(dry)["agents"]["dc1-h1"].contains("plan"));
	CHECK_FALSE(toJson(dry)["agents"]["dc1-h1"].contains("applied_ns"));
	FaultApplyAnswer refused;
	refused.ok = false;
	refused.error = {"invalid", "fault 'f1' refused on dc1-h1: no such process"};
	refused.agents["dc1-h1"] = {false, "no such process"};
	roundTrip(refused);
	CHECK(toJson(refused)["error"]["code"] == "invalid");

	FaultRevertAnswer rv;
	rv.allVerified = false;
	rv.agents["dc1-h1"] = {true, "", true, {"f1"}, {"f2: table still there"}, 99};
	rv.agents["dc1-h2"] = {false, "agent dc1-h2 lost: missed 3 heartbeats"};
	roundTrip(rv);

	roundTrip(FaultListAnswer{{{"f1", "network.loss", "{kind: network.loss}", {"dc1-h1", "dc1-h2"}, 1, 30000, 2500}}});
	roundTrip(RecordStartAnswer{"r1", "/tmp/ev", {{"dc1-h1", true}}, 123});
	roundTrip(RecordStatusAnswer{json{{"recording", "r1"}, {"samples", 10}}, std::nullopt});
	roundTrip(RecordStatusAnswer{std::nullopt, json::array({json{{"recording", "r1"}}})});
	roundTrip(RecordStopAnswer{"r1", "/tmp/ev", json{{"complete", true}}});
}

TEST_CASE("control answers: what the console cannot read is a protocol error")
{
	auto bad = parseAnswer<FaultListAnswer>(json{{"ok", true}, {"faults", {{{"id", 7}}}}});
	REQUIRE_FALSE(bad.ok());
	CHECK(bad.error().code == Errc::Protocol);
	CHECK(bad.error().message.find("fault.list") != std::string::npos);
	CHECK_FALSE(parseAnswer<AgentsAnswer>(json::array()).ok());
	CHECK_FALSE(parseAnswer<RecordStartAnswer>(json{{"ok", true}}).ok());
	// A refusal of any request reads as fault.apply's own.
	auto refused = parseAnswer<FaultApplyAnswer>(json{{"ok", false}, {"error", {{"code", "unsupported"},
										     {"message", "version"}}}});
	REQUIRE(refused.ok());
	CHECK_FALSE(refused->ok);
	CHECK(refused->error.code == "unsupported");
	CHECK(answerError(json{{"ok", false}}).message == "unknown error");
}

TEST_CASE("control answers: stats, reload and residue round-trip in the documented shapes")
{
	StatsAnswer st;
	st.controllerId = "fcf18a644016";
	st.pid = 16389;
	st.version = "0.1.0";
	st.protocolMin = 1;
	st.protocolMax = 2;
	st.listen = "tcp://10.244.0.1:7700";
	st.control = "/run/xdc/control.sock";
	st.secure = true;
	st.uptimeMs = 4971;
	st.agentsKnown = 4;
	st.agentsLive = 3;
	st.drops = {{"bad_body", 1}, {"replayed", 0}};
	st.transport = {{"accepted", 4}};
	st.zapAccepted = 4;
	st.zapRefused = 2;
	st.pendingCommands = 5;
	roundTrip(st);
	const json sj = toJson(st);
	CHECK((sj["stats"]["protocol"] == json{{"min", 1}, {"max", 2}}));
	CHECK(sj["stats"]["agents"]["live"] == 3);
	CHECK(sj["stats"]["zap"]["refused"] == 2);
	auto sb = parseAnswer<StatsAnswer>(sj);
	REQUIRE(sb.ok());
	CHECK(sb->controllerId == "fcf18a644016");
	CHECK(sb->pid == 16389);
	CHECK(sb->protocolMax == 2);
	CHECK(sb->secure);
	CHECK(sb->agentsKnown == 4);
	CHECK(sb->agentsLive == 3);
	CHECK(sb->drops.at("bad_body") == 1);
	CHECK(sb->transport.at("accepted") == 4);
	CHECK(sb->zapRefused == 2);
	CHECK(sb->pendingCommands == 5);

	ReloadAnswer rl{"/etc/xdc/allow", 3, {"dc1-h3"}, {"dc2-h1", "dc2-h2"}};
	roundTrip(rl);
	auto rb = parseAnswer<ReloadAnswer>(toJson(rl));
	REQUIRE(rb.ok());
	CHECK(rb->file == "/etc/xdc/allow");
	CHECK(rb->allowed == 3);
	CHECK(rb->added == std::vector<std::string>{"dc1-h3"});
	CHECK(rb->removed.size() == 2);
	CHECK(toJson(rl)["reload"].size() == 4);

	ResidueAnswer rs;
	rs.agents["dc1-h1"] = {true, "", true, {"table inet xdc_r1_f1"}, {"r2.f1"}};
	rs.agents["dc1-h2"] = {false, "agent dc1-h2 did not answer in time"};
	rs.agents["dc2-h1"] = {true, "", true, {}, {}};
	roundTrip(rs);
	const json rj = toJson(rs);
	CHECK_FALSE(rj["agents"]["dc1-h2"].contains("objects"));
	CHECK(rj["agents"]["dc1-h2"]["error"] == "agent dc1-h2 did not answer in time");
	CHECK(rj["agents"]["dc2-h1"]["objects"].is_array());
	auto back = parseAnswer<ResidueAnswer>(rj);
	REQUIRE(back.ok());
	CHECK(back->agents.at("dc1-h1").objects == std::vector<std::string>{"table inet xdc_r1_f1"});
	CHECK(back->agents.at("dc1-h1").running == std::vector<std::string>{"r2.f1"});
	CHECK_FALSE(back->agents.at("dc1-h2").ok);
	CHECK(back->agents.at("dc1-h2").error == "agent dc1-h2 did not answer in time");
}

TEST_CASE("control answers: streams and data answers round-trip in the documented shapes")
{
	StreamsRunAnswer run;
	run.ran = true;
	run.agent = "dc1-h1";
	run.argv = {"streamtool", "stoppe", "3"};
	run.output = "CDISC0001I stopped\n";
	run.startedNs = 100;
	run.endedNs = 250;
	run.boundNs = 7;
	roundTrip(run);
	CHECK_FALSE(toJson(run).contains("error"));
	StreamsRunAnswer failed = run;
	failed.ok = false;
	failed.exitCode = 3;
	failed.error = {"failed", "the orderly-shutdown hook exited 3: no"};
	roundTrip(failed);
	CHECK(toJson(failed)["error"]["code"] == "failed");
	auto fb = parseAnswer<StreamsRunAnswer>(toJson(failed));
	REQUIRE(fb.ok());
	CHECK_FALSE(fb->ok);
	CHECK(fb->ran);
	CHECK(fb->exitCode == 3);
	CHECK(fb->argv.size() == 3);
	CHECK(fb->endedNs - fb->startedNs == 150);
	CHECK(fb->error.message == "the orderly-shutdown hook exited 3: no");
	// An agent's refusal before anything ran: the plain error shape.
	auto refused = parseAnswer<StreamsRunAnswer>(
		json{{"ok", false}, {"error", {{"code", "unsupported"}, {"message", "no hook configured"}}}});
	REQUIRE(refused.ok());
	CHECK_FALSE(refused->ran);
	CHECK(refused->error.code == "unsupported");
	const json refusal = {{"ok", false}, {"error", {{"code", "unsupported"}, {"message", "no hook configured"}}}};
	CHECK(toJson(*refused) == refusal);

	roundTrip(DataGenerateStartAnswer{"dc1-h1", 1000, -50, 9});
	auto gs = parseAnswer<DataGenerateStartAnswer>(toJson(DataGenerateStartAnswer{"dc1-h1", 1000, -50, 9}));
	REQUIRE(gs.ok());
	CHECK(gs->startedNs == 1000);
	CHECK(gs->offsetNs == -50);
	CHECK(gs->boundNs == 9);

	DataGenerateStopAnswer st;
	st.agent = "dc1-h1";
	st.offsetNs = 5;
	st.boundNs = 2;
	st.generated = 1000;
	st.accepted = 990;
	st.refusedBatches = 1;
	st.failedBatches = 2;
	st.uncertain = 3;
	st.backlog = 4;
	st.switches = 1;
	st.fellBehind = true;
	st.expired = true;
	st.perSource = {{"dc1", 600}, {"dc2", 390}};
	st.unwritten = {{"dc1", 10}};
	st.sourceChanges = {{100, "dc1"}, {200, "dc2"}};
	st.lastError = "HTTP 503";
	st.sentPerKey = {{0, 500}, {17, 490}};
	st.sendTimesDelta = {{0, {1000, 5, 5}}, {17, {1001, 4}}};
	st.startedNs = 95;
	st.stoppedNs = 1995;
	st.agentStartedNs = 100;
	st.agentStoppedNs = 2000;
	roundTrip(st);
	const json gj = toJson(st);
	CHECK((gj["sent_per_key"] == json{{"0", 500}, {"17", 490}}));
	CHECK((gj["send_times_delta"]["17"] == json::array({1001, 4})));
	CHECK((gj["source_changes"][1] == json{{"t_ns", 200}, {"source", "dc2"}}));
	auto gb = parseAnswer<DataGenerateStopAnswer>(gj);
	REQUIRE(gb.ok());
	CHECK(gb->accepted == 990);
	CHECK(gb->fellBehind);
	CHECK(gb->expired);
	CHECK(gb->perSource.at("dc2") == 390);
	CHECK(gb->unwritten.at("dc1") == 10);
	CHECK(gb->sourceChanges.size() == 2);
	CHECK(gb->sourceChanges[1].source == "dc2");
	CHECK(gb->sentPerKey.at(17) == 490);
	CHECK((gb->sendTimesDelta.at(0) == std::vector<int64_t>{1000, 5, 5}));
	CHECK(gb->agentStoppedNs == 2000);
	CHECK(gb->lastError == "HTTP 503");

	DataTailAnswer tail{"dc2-h1", "{\"k\":1}\n", 10, 18, 40, 77, true, 123};
	roundTrip(tail);
	auto tb = parseAnswer<DataTailAnswer>(toJson(tail));
	REQUIRE(tb.ok());
	CHECK(tb->data == "{\"k\":1}\n");
	CHECK(tb->nextOffset == 18);
	CHECK(tb->size == 40);
	CHECK(tb->inode == 77);
	CHECK(tb->restarted);

	DataDropAnswer drop{"dc1-h1", "xdc-0001.tuples", 512, 999};
	roundTrip(drop);
	auto db = parseAnswer<DataDropAnswer>(toJson(drop));
	REQUIRE(db.ok());
	CHECK(db->file == "xdc-0001.tuples");
	CHECK(db->bytes == 512);
	CHECK(db->droppedNs == 999);
}

TEST_CASE("control answers: a malformed stats, reload, residue, streams or data answer names its key path")
{
	auto expectBad = [](const auto &r, const std::string &name, const std::string &path) {
		REQUIRE_FALSE(r.ok());
		CHECK(r.error().code == Errc::Protocol);
		INFO(r.error().message);
		CHECK(r.error().message.find(name) != std::string::npos);
		CHECK(r.error().message.find("'" + path + "'") != std::string::npos);
	};
	expectBad(parseAnswer<StatsAnswer>(json{{"ok", true}}), "stats", "stats");
	expectBad(parseAnswer<StatsAnswer>(json{{"ok", true}, {"stats", {{"pid", "16389"}}}}), "stats", "stats.pid");
	expectBad(parseAnswer<StatsAnswer>(json{{"ok", true}, {"stats", {{"agents", {{"live", "x"}}}}}}), "stats",
		  "stats.agents.live");
	expectBad(parseAnswer<ReloadAnswer>(json{{"ok", true}, {"reload", {{"added", {1, 2}}}}}), "reload",
		  "reload.added");
	expectBad(parseAnswer<ResidueAnswer>(json{{"ok", true}, {"agents", {{"dc1-h1", {{"ok", true}, {"objects", "t"}}}}}}),
		  "residue", "agents.dc1-h1.objects");
	expectBad(parseAnswer<ResidueAnswer>(json{{"ok", true}, {"agents", {{"dc1-h1", json::object()}}}}), "residue",
		  "agents.dc1-h1.ok");
	expectBad(parseAnswer<StreamsRunAnswer>(json{{"ok", true}, {"argv", {"streamtool"}}}), "streams.pe",
		  "exit_code");
	expectBad(parseAnswer<StreamsRunAnswer>(json{{"ok", true}, {"argv", "streamtool"}, {"exit_code", 0}}),
		  "streams.pe", "argv");
	expectBad(parseAnswer<DataGenerateStartAnswer>(json{{"ok", true}, {"agent", "a"}}), "data.generate.start",
		  "started_ns");
	json stop = toJson(DataGenerateStopAnswer{});
	stop["sent_per_key"] = {{"seven", 1}};
	expectBad(parseAnswer<DataGenerateStopAnswer>(stop), "data.generate.stop", "sent_per_key.seven");
	stop = toJson(DataGenerateStopAnswer{});
	stop["source_changes"] = json::array({{{"t_ns", "soon"}}});
	expectBad(parseAnswer<DataGenerateStopAnswer>(stop), "data.generate.stop", "source_changes[0].t_ns");
	stop = toJson(DataGenerateStopAnswer{});
	stop.erase("accepted");
	expectBad(parseAnswer<DataGenerateStopAnswer>(stop), "data.generate.stop", "accepted");
	expectBad(parseAnswer<DataTailAnswer>(json{{"ok", true}, {"data", "x\n"}}), "data.tail", "next_offset");
	expectBad(parseAnswer<DataTailAnswer>(json{{"ok", true}, {"next_offset", 2}, {"data", 7}}), "data.tail", "data");
	expectBad(parseAnswer<DataDropAnswer>(json{{"ok", true}, {"bytes", 3}}), "data.drop", "file");
	CHECK_FALSE(parseAnswer<DataDropAnswer>(json::array()).ok());
}
