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
