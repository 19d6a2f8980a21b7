// SPDX-License-Identifier: Apache-2.0
// The controller's typed answers (answers.h): the one printer and the one reader of each.
#include "controller/control/answers.h"

#include <type_traits>

#include <fmt/format.h>

namespace xdc::control {

namespace {

// Reads fields of an answer object; a field of the wrong type throws json::exception, which parseAnswer turns into
// a protocol error (the answer is from the controller this console talks to, not from a user).
template<typename T>
T field(const json &j, const char *k, T deflt)
{
	auto it = j.find(k);
	if (it == j.end() || it->is_null())
		return deflt;
	return it->get<T>();
}

const json &object(const json &j, const char *k)
{
	static const json empty = json::object();
	auto it = j.find(k);
	return it == j.end() || !it->is_object() ? empty : *it;
}

AgentInfo readAgent(const json &j)
{
	AgentInfo a;
	a.id = field<std::string>(j, "id", "");
	a.host = field<std::string>(j, "host", "");
	a.dc = field<std::string>(j, "dc", "");
	a.version = field<std::string>(j, "version", "");
	a.labels = field<std::map<std::string, std::string>>(j, "labels", {});
	a.capabilities = field<std::map<std::string, std::string>>(j, "capabilities", {});
	a.protocol = field<int>(j, "protocol", 0);
	a.state = field<std::string>(j, "state", "");
	a.lostReason = field<std::string>(j, "lost_reason", "");
	a.lastHeartbeatAgeMs = field<int64_t>(j, "last_heartbeat_age_ms", 0);
	a.stateSinceMs = field<int64_t>(j, "state_since_ms", 0);
	if (auto c = j.find("clock"); c != j.end() && c->is_object())
		a.clock = AgentInfo::Clock{field<double>(*c, "offset_ms", 0), field<double>(*c, "bound_ms", 0),
					   field<double>(*c, "rtt_ms", 0), field<uint64_t>(*c, "samples", 0)};
	a.pid = field<int32_t>(j, "pid", 0);
	a.rssBytes = field<uint64_t>(j, "rss_bytes", 0);
	a.registrations = field<uint64_t>(j, "registrations", 0);
	a.drops = field<std::map<std::string, uint64_t>>(j, "drops", {});
	a.addresses = field<std::vector<std::string>>(j, "addresses", {});
	a.runningFaults = field<std::vector<std::string>>(j, "running_faults", {});
	return a;
}

template<typename T>
T read(const json &j);

template<>
AgentsAnswer read<AgentsAnswer>(const json &j)
{
	AgentsAnswer a;
	for (const auto &e : j.at("agents"))
		a.agents.push_back(readAgent(e));
	return a;
}

template<>
PingAnswer read<PingAnswer>(const json &j)
{
	PingAnswer a;
	for (const auto &[id, e] : object(j, "results").items())
		a.results[id] = {field<bool>(e, "ok", false), field<int64_t>(e, "rtt_us", 0),
				 field<std::string>(e, "error", "")};
	return a;
}

template<>
FaultApplyAnswer read<FaultApplyAnswer>(const json &j)
{
	FaultApplyAnswer a;
	a.ok = field<bool>(j, "ok", false);
	if (!a.ok)
		a.error = answerError(j);
	a.id = field<std::string>(j, "id", "");
	a.kind = field<std::string>(j, "kind", "");
	a.dryRun = field<bool>(j, "dry_run", false);
	for (const auto &[id, e] : object(j, "agents").items()) {
		FaultApplyAnswer::Agent g;
		g.ok = field<bool>(e, "ok", false);
		g.error = field<std::string>(e, "error", "");
		g.detailed = e.contains("mechanism");
		g.mechanism = field<std::string>(e, "mechanism", "");
		g.plan = field<std::vector<std::string>>(e, "plan", {});
		g.requestedNs = field<int64_t>(e, "requested_ns", 0);
		g.appliedNs = field<int64_t>(e, "applied_ns", 0);
		g.verifiedNs = field<int64_t>(e, "verified_ns", 0);
		g.expiresNs = field<int64_t>(e, "expires_ns", 0);
		g.boundNs = field<int64_t>(e, "bound_ns", 0);
		g.lateNs = field<int64_t>(e, "late_ns", 0);
		g.readback = field<std::string>(e, "readback", "");
		a.agents[id] = std::move(g);
	}
	if (j.contains("spread_ns"))
		a.spreadNs = j.at("spread_ns").get<int64_t>();
	return a;
}

template<>
FaultRevertAnswer read<FaultRevertAnswer>(const json &j)
{
	FaultRevertAnswer a;
	a.allVerified = field<bool>(j, "all_verified", false);
	for (const auto &[id, e] : object(j, "agents").items()) {
		FaultRevertAnswer::Agent g;
		g.ok = field<bool>(e, "ok", false);
		g.error = field<std::string>(e, "error", "");
		g.detailed = e.contains("reverted");
		g.reverted = field<std::vector<std::string>>(e, "reverted", {});
		g.unverified = field<std::vector<std::string>>(e, "unverified", {});
		g.verifiedNs = field<int64_t>(e, "verified_ns", 0);
		a.agents[id] = std::move(g);
	}
	return a;
}

template<>
FaultListAnswer read<FaultListAnswer>(const json &j)
{
	FaultListAnswer a;
	for (const auto &e : j.at("faults"))
		a.faults.push_back({field<std::string>(e, "id", ""), field<std::string>(e, "kind", ""),
				    field<std::string>(e, "spec", ""), field<std::vector<std::string>>(e, "agents", {}),
				    field<int64_t>(e, "created_ns", 0), field<int64_t>(e, "duration_ms", 0),
				    field<int64_t>(e, "remaining_ms", 0)});
	return a;
}

template<>
RecordStartAnswer read<RecordStartAnswer>(const json &j)
{
	RecordStartAnswer a;
	a.recording = j.at("recording").get<std::string>();
	a.dir = field<std::string>(j, "dir", "");
	for (const auto &[id, e] : object(j, "agents").items())
		a.agents[id] = field<bool>(e, "ok", false);
	a.startedNs = field<int64_t>(j, "started_ns", 0);
	return a;
}

template<>
RecordStatusAnswer read<RecordStatusAnswer>(const json &j)
{
	RecordStatusAnswer a;
	if (j.contains("status"))
		a.status = j.at("status");
	if (j.contains("recordings"))
		a.recordings = j.at("recordings");
	return a;
}

template<>
RecordStopAnswer read<RecordStopAnswer>(const json &j)
{
	return {field<std::string>(j, "recording", ""), field<std::string>(j, "dir", ""),
		j.value("meta", json::object())};
}

template<typename T>
constexpr const char *answerName()
{
	if constexpr (std::is_same_v<T, AgentsAnswer>)
		return "agents";
	else if constexpr (std::is_same_v<T, PingAnswer>)
		return "ping";
	else if constexpr (std::is_same_v<T, FaultApplyAnswer>)
		return "fault.apply";
	else if constexpr (std::is_same_v<T, FaultRevertAnswer>)
		return "fault.revert";
	else if constexpr (std::is_same_v<T, FaultListAnswer>)
		return "fault.list";
	else if constexpr (std::is_same_v<T, RecordStartAnswer>)
		return "record.start";
	else if constexpr (std::is_same_v<T, RecordStatusAnswer>)
		return "record.status";
	else
		return "record.stop";
}

} // namespace

AnswerError answerError(const json &j)
{
	const json &e = object(j, "error");
	AnswerError out{"", "unknown error"};
	if (auto c = e.find("code"); c != e.end() && c->is_string())
		out.code = c->get<std::string>();
	if (auto m = e.find("message"); m != e.end() && m->is_string())
		out.message = m->get<std::string>();
	return out;
}

template<typename T>
Result<T> parseAnswer(const json &j)
{
	if (!j.is_object())
		return makeError(Errc::Protocol, "the controller's answer to {} is not a JSON object", answerName<T>());
	try {
		return read<T>(j);
	} catch (const json::exception &e) {
		return makeError(Errc::Protocol, "the controller's answer to {} is not what this console reads: {}",
				 answerName<T>(), e.what());
	}
}

template Result<AgentsAnswer> parseAnswer<AgentsAnswer>(const json &);
template Result<PingAnswer> parseAnswer<PingAnswer>(const json &);
template Result<FaultApplyAnswer> parseAnswer<FaultApplyAnswer>(const json &);
template Result<FaultRevertAnswer> parseAnswer<FaultRevertAnswer>(const json &);
template Result<FaultListAnswer> parseAnswer<FaultListAnswer>(const json &);
template Result<RecordStartAnswer> parseAnswer<RecordStartAnswer>(const json &);
template Result<RecordStatusAnswer> parseAnswer<RecordStatusAnswer>(const json &);
template Result<RecordStopAnswer> parseAnswer<RecordStopAnswer>(const json &);

json toJson(const AgentInfo &a)
{
	json clock = nullptr;
	if (a.clock)
		clock = {{"offset_ms", a.clock->offsetMs}, {"bound_ms", a.clock->boundMs}, {"rtt_ms", a.clock->rttMs},
			 {"samples", a.clock->samples}};
	return {{"id", a.id}, {"host", a.host}, {"dc", a.dc}, {"labels", a.labels}, {"version", a.version},
		{"protocol", a.protocol}, {"state", a.state}, {"lost_reason", a.lostReason},
		{"last_heartbeat_age_ms", a.lastHeartbeatAgeMs}, {"state_since_ms", a.stateSinceMs}, {"clock", clock},
		{"capabilities", a.capabilities}, {"pid", a.pid}, {"rss_bytes", a.rssBytes},
		{"registrations", a.registrations}, {"drops", a.drops}, {"addresses", a.addresses},
		{"running_faults", a.runningFaults}};
}

json toJson(const AgentsAnswer &a)
{
	json arr = json::array();
	for (const auto &g : a.agents)
		arr.push_back(toJson(g));
	return {{"ok", true}, {"agents", arr}};
}

json toJson(const PingAnswer &a)
{
	json results = json::object();
	for (const auto &[id, r] : a.results) {
		json e = {{"ok", r.ok}, {"rtt_us", r.rttUs}};
		if (!r.ok)
			e["error"] = r.error;
		results[id] = e;
	}
	return {{"ok", true}, {"results", results}};
}

json toJson(const FaultApplyAnswer &a)
{
	json agents = json::object();
	for (const auto &[id, g] : a.agents) {
		json e = {{"ok", g.ok}};
		if (!g.ok) {
			e["error"] = g.error;
		} else if (g.detailed) {
			e["mechanism"] = g.mechanism;
			if (a.dryRun) {
				e["plan"] = g.plan;
			} else {
				e["verified_ns"] = g.verifiedNs;
				e["applied_ns"] = g.appliedNs;
				e["requested_ns"] = g.requestedNs;
				e["expires_ns"] = g.expiresNs;
				e["late_ns"] = g.lateNs;
				e["bound_ns"] = g.boundNs;
				e["readback"] = g.readback;
			}
		}
		agents[id] = e;
	}
	if (!a.ok)
		return {{"ok", false}, {"error", {{"code", a.error.code}, {"message", a.error.message}}}, {"agents", agents}};
	json j = {{"ok", true}, {"id", a.id}, {"kind", a.kind}, {"dry_run", a.dryRun}, {"agents", agents}};
	if (a.spreadNs)
		j["spread_ns"] = *a.spreadNs;
	return j;
}

json toJson(const FaultRevertAnswer &a)
{
	json agents = json::object();
	for (const auto &[id, g] : a.agents) {
		json e = {{"ok", g.ok}};
		if (!g.ok) {
			e["error"] = g.error;
		} else if (g.detailed) {
			e["reverted"] = g.reverted;
			e["unverified"] = g.unverified;
			e["verified_ns"] = g.verifiedNs;
		}
		agents[id] = e;
	}
	return {{"ok", true}, {"all_verified", a.allVerified}, {"agents", agents}};
}

json toJson(const FaultListAnswer &a)
{
	json arr = json::array();
	for (const auto &f : a.faults)
		arr.push_back({{"id", f.id}, {"kind", f.kind}, {"agents", f.agents}, {"spec", f.spec},
			       {"created_ns", f.createdNs}, {"duration_ms", f.durationMs}, {"remaining_ms", f.remainingMs}});
	return {{"ok", true}, {"faults", arr}};
}

json toJson(const RecordStartAnswer &a)
{
	json agents = json::object();
	for (const auto &[id, ok] : a.agents)
		agents[id] = {{"ok", ok}};
	return {{"ok", true}, {"recording", a.recording}, {"dir", a.dir}, {"agents", agents},
		{"started_ns", a.startedNs}};
}

json toJson(const RecordStatusAnswer &a)
{
	json j = {{"ok", true}};
	if (a.status)
		j["status"] = *a.status;
	if (a.recordings)
		j["recordings"] = *a.recordings;
	return j;
}

json toJson(const RecordStopAnswer &a)
{
	return {{"ok", true}, {"recording", a.recording}, {"dir", a.dir}, {"meta", a.meta}};
}

} // namespace xdc::control
