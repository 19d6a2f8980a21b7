// SPDX-License-Identifier: Apache-2.0
// The controller's typed answers (answers.h): the one printer and the one reader of each.
#include "controller/control/answers.h"

#include <stdexcept>
#include <string>
#include <type_traits>

#include <fmt/format.h>

namespace xdc::control {

namespace {

// A field an answer lacks or has of another type, by its key path ("stats.pid", "agents.dc1-h1.objects"):
// parseAnswer turns it into a protocol error (the answer is from the controller this console talks to, not from a
// user).
struct BadField : std::runtime_error {
	using std::runtime_error::runtime_error;
};

// Reads fields of an answer object; `at` is the key path of j ("" for the answer itself, else ending in '.').
template<typename T>
T field(const json &j, const char *k, T deflt, const std::string &at = "")
{
	auto it = j.find(k);
	if (it == j.end() || it->is_null())
		return deflt;
	try {
		return it->get<T>();
	} catch (const json::exception &e) {
		throw BadField(fmt::format("'{}{}' is {}: {}", at, k, it->type_name(), e.what()));
	}
}

// A field the console cannot do without.
template<typename T>
T need(const json &j, const char *k, const std::string &at = "")
{
	if (!j.contains(k) || j.at(k).is_null())
		throw BadField(fmt::format("'{}{}' is missing", at, k));
	return field<T>(j, k, T{}, at);
}

// An object field the console cannot do without.
const json &needObject(const json &j, const char *k, const std::string &at = "")
{
	auto it = j.find(k);
	if (it == j.end() || !it->is_object())
		throw BadField(fmt::format("'{}{}' is {}", at, k, it == j.end() ? "missing" : "not an object"));
	return *it;
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
	for (const auto &e : j.value("ended", json::array()))
		a.ended.push_back({field<std::string>(e, "id", ""), field<std::string>(e, "kind", ""),
				   field<std::string>(e, "agent", ""), field<std::string>(e, "why", ""),
				   field<int64_t>(e, "reverted_ns", 0), field<int64_t>(e, "learned_ns", 0)});
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

template<>
StatsAnswer read<StatsAnswer>(const json &j)
{
	const json &s = needObject(j, "stats");
	const json &proto = object(s, "protocol"), &agents = object(s, "agents"), &zap = object(s, "zap");
	StatsAnswer a;
	a.controllerId = field<std::string>(s, "controller_id", "", "stats.");
	a.pid = field<int32_t>(s, "pid", 0, "stats.");
	a.version = field<std::string>(s, "version", "", "stats.");
	a.protocolMin = field<int>(proto, "min", 0, "stats.protocol.");
	a.protocolMax = field<int>(proto, "max", 0, "stats.protocol.");
	a.listen = field<std::string>(s, "listen", "", "stats.");
	a.control = field<std::string>(s, "control", "", "stats.");
	a.secure = field<bool>(s, "secure", false, "stats.");
	a.uptimeMs = field<int64_t>(s, "uptime_ms", 0, "stats.");
	a.agentsKnown = field<uint64_t>(agents, "known", 0, "stats.agents.");
	a.agentsLive = field<uint64_t>(agents, "live", 0, "stats.agents.");
	a.drops = field<std::map<std::string, uint64_t>>(s, "drops", {}, "stats.");
	a.transport = field<std::map<std::string, uint64_t>>(s, "transport", {}, "stats.");
	a.zapAccepted = field<uint64_t>(zap, "accepted", 0, "stats.zap.");
	a.zapRefused = field<uint64_t>(zap, "refused", 0, "stats.zap.");
	a.pendingCommands = field<uint64_t>(s, "pending_commands", 0, "stats.");
	return a;
}

template<>
ReloadAnswer read<ReloadAnswer>(const json &j)
{
	const json &r = needObject(j, "reload");
	return {field<std::string>(r, "file", "", "reload."), field<uint64_t>(r, "allowed", 0, "reload."),
		field<std::vector<std::string>>(r, "added", {}, "reload."),
		field<std::vector<std::string>>(r, "removed", {}, "reload.")};
}

template<>
ResidueAnswer read<ResidueAnswer>(const json &j)
{
	ResidueAnswer a;
	for (const auto &[id, e] : needObject(j, "agents").items()) {
		const std::string at = "agents." + id + ".";
		ResidueAnswer::Agent g;
		g.ok = need<bool>(e, "ok", at);
		g.error = field<std::string>(e, "error", "", at);
		g.detailed = e.contains("objects");
		g.objects = field<std::vector<std::string>>(e, "objects", {}, at);
		g.running = field<std::vector<std::string>>(e, "running", {}, at);
		a.agents[id] = std::move(g);
	}
	return a;
}

template<>
StreamsRunAnswer read<StreamsRunAnswer>(const json &j)
{
	StreamsRunAnswer a;
	a.ok = field<bool>(j, "ok", false);
	if (!a.ok)
		a.error = answerError(j);
	a.ran = j.contains("argv");
	a.agent = field<std::string>(j, "agent", "");
	a.argv = field<std::vector<std::string>>(j, "argv", {});
	a.exitCode = a.ran ? need<int>(j, "exit_code") : 0;
	a.output = field<std::string>(j, "output", "");
	a.startedNs = field<int64_t>(j, "started_ns", 0);
	a.endedNs = field<int64_t>(j, "ended_ns", 0);
	a.boundNs = field<int64_t>(j, "bound_ns", -1);
	return a;
}

template<>
DataGenerateStartAnswer read<DataGenerateStartAnswer>(const json &j)
{
	return {field<std::string>(j, "agent", ""), need<int64_t>(j, "started_ns"), field<int64_t>(j, "offset_ns", 0),
		field<int64_t>(j, "bound_ns", -1)};
}

// A key of sent_per_key / send_times_delta: a generator key, printed as a decimal string.
uint32_t keyNumber(const std::string &k, const char *at)
{
	if (k.empty() || k.size() > 10 || k.find_first_not_of("0123456789") != std::string::npos ||
	    std::stoull(k) > UINT32_MAX)
		throw BadField(fmt::format("'{}.{}' is not a key number", at, k));
	return static_cast<uint32_t>(std::stoull(k));
}

template<>
DataGenerateStopAnswer read<DataGenerateStopAnswer>(const json &j)
{
	DataGenerateStopAnswer a;
	a.agent = field<std::string>(j, "agent", "");
	a.offsetNs = field<int64_t>(j, "offset_ns", 0);
	a.boundNs = field<int64_t>(j, "bound_ns", -1);
	a.generated = need<uint64_t>(j, "generated");
	a.accepted = need<uint64_t>(j, "accepted");
	a.refusedBatches = field<uint64_t>(j, "refused_batches", 0);
	a.failedBatches = field<uint64_t>(j, "failed_batches", 0);
	a.uncertain = field<uint64_t>(j, "uncertain", 0);
	a.backlog = field<uint64_t>(j, "backlog", 0);
	a.switches = field<uint64_t>(j, "switches", 0);
	a.fellBehind = field<bool>(j, "fell_behind", false);
	a.expired = field<bool>(j, "expired", false);
	a.perSource = field<std::map<std::string, uint64_t>>(j, "per_source", {});
	a.unwritten = field<std::map<std::string, uint64_t>>(j, "unwritten", {});
	const json changes = field<json>(j, "source_changes", json::array());
	if (!changes.is_array())
		throw BadField("'source_changes' is not an array");
	for (size_t i = 0; i < changes.size(); i++) {
		const std::string at = fmt::format("source_changes[{}].", i);
		a.sourceChanges.push_back({field<int64_t>(changes[i], "t_ns", 0, at),
					   field<std::string>(changes[i], "source", "", at)});
	}
	a.lastError = field<std::string>(j, "last_error", "");
	for (const auto &[k, n] : field<std::map<std::string, uint64_t>>(j, "sent_per_key", {}))
		a.sentPerKey[keyNumber(k, "sent_per_key")] = n;
	for (auto &[k, d] : field<std::map<std::string, std::vector<int64_t>>>(j, "send_times_delta", {}))
		a.sendTimesDelta[keyNumber(k, "send_times_delta")] = std::move(d);
	a.timesOmitted = field<bool>(j, "times_omitted", false);
	a.startedNs = field<int64_t>(j, "started_ns", 0);
	a.stoppedNs = field<int64_t>(j, "stopped_ns", 0);
	a.agentStartedNs = field<int64_t>(j, "agent_started_ns", 0);
	a.agentStoppedNs = field<int64_t>(j, "agent_stopped_ns", 0);
	return a;
}

template<>
DataTailAnswer read<DataTailAnswer>(const json &j)
{
	DataTailAnswer a;
	a.agent = field<std::string>(j, "agent", "");
	a.data = field<std::string>(j, "data", "");
	a.offset = field<uint64_t>(j, "offset", 0);
	a.nextOffset = need<uint64_t>(j, "next_offset");
	a.size = field<uint64_t>(j, "size", 0);
	a.inode = field<uint64_t>(j, "inode", 0);
	a.restarted = field<bool>(j, "restarted", false);
	a.readNs = field<int64_t>(j, "read_ns", 0);
	return a;
}

template<>
DataDropAnswer read<DataDropAnswer>(const json &j)
{
	return {field<std::string>(j, "agent", ""), need<std::string>(j, "file"), field<uint64_t>(j, "bytes", 0),
		field<int64_t>(j, "dropped_ns", 0)};
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
	else if constexpr (std::is_same_v<T, RecordStopAnswer>)
		return "record.stop";
	else if constexpr (std::is_same_v<T, StatsAnswer>)
		return "stats";
	else if constexpr (std::is_same_v<T, ReloadAnswer>)
		return "reload";
	else if constexpr (std::is_same_v<T, ResidueAnswer>)
		return "residue";
	else if constexpr (std::is_same_v<T, StreamsRunAnswer>)
		return "streams.pe or streams.orderly_shutdown";
	else if constexpr (std::is_same_v<T, DataGenerateStartAnswer>)
		return "data.generate.start";
	else if constexpr (std::is_same_v<T, DataGenerateStopAnswer>)
		return "data.generate.stop";
	else if constexpr (std::is_same_v<T, DataTailAnswer>)
		return "data.tail";
	else
		return "data.drop";
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
	} catch (const BadField &e) {
		return makeError(Errc::Protocol, "the controller's answer to {} is not what this console reads: {}",
				 answerName<T>(), e.what());
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
template Result<StatsAnswer> parseAnswer<StatsAnswer>(const json &);
template Result<ReloadAnswer> parseAnswer<ReloadAnswer>(const json &);
template Result<ResidueAnswer> parseAnswer<ResidueAnswer>(const json &);
template Result<StreamsRunAnswer> parseAnswer<StreamsRunAnswer>(const json &);
template Result<DataGenerateStartAnswer> parseAnswer<DataGenerateStartAnswer>(const json &);
template Result<DataGenerateStopAnswer> parseAnswer<DataGenerateStopAnswer>(const json &);
template Result<DataTailAnswer> parseAnswer<DataTailAnswer>(const json &);
template Result<DataDropAnswer> parseAnswer<DataDropAnswer>(const json &);

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

namespace {

// Pieces of agentsLine: JSON as nlohmann prints it (keys in std::map order, strings with replaced invalid UTF-8),
// straight into one buffer.
void putString(std::string &out, const std::string &v)
{
	for (unsigned char c : v)
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			out += json(v).dump(-1, ' ', false, json::error_handler_t::replace);
			return;
		}
	out += '"';
	out += v;
	out += '"';
}

void putStrings(std::string &out, const std::vector<std::string> &v)
{
	out += '[';
	for (size_t i = 0; i < v.size(); i++) {
		if (i)
			out += ',';
		putString(out, v[i]);
	}
	out += ']';
}

template<typename V>
void putMap(std::string &out, const std::map<std::string, V> &m)
{
	out += '{';
	bool first = true;
	for (const auto &[k, v] : m) {
		if (!first)
			out += ',';
		first = false;
		putString(out, k);
		out += ':';
		if constexpr (std::is_same_v<V, std::string>)
			putString(out, v);
		else
			out += std::to_string(v);
	}
	out += '}';
}

void putDouble(std::string &out, double v) { out += json(v).dump(); }

} // namespace

std::string agentsLine(const AgentsAnswer &a)
{
	std::string out;
	out.reserve(64 + a.agents.size() * 400);
	out += "{\"agents\":[";
	for (size_t i = 0; i < a.agents.size(); i++) {
		const AgentInfo &g = a.agents[i];
		if (i)
			out += ',';
		out += "{\"addresses\":";
		putStrings(out, g.addresses);
		out += ",\"capabilities\":";
		putMap(out, g.capabilities);
		out += ",\"clock\":";
		if (g.clock) {
			out += "{\"bound_ms\":";
			putDouble(out, g.clock->boundMs);
			out += ",\"offset_ms\":";
			putDouble(out, g.clock->offsetMs);
			out += ",\"rtt_ms\":";
			putDouble(out, g.clock->rttMs);
			out += ",\"samples\":" + std::to_string(g.clock->samples) + "}";
		} else {
			out += "null";
		}
		out += ",\"dc\":";
		putString(out, g.dc);
		out += ",\"drops\":";
		putMap(out, g.drops);
		out += ",\"host\":";
		putString(out, g.host);
		out += ",\"id\":";
		putString(out, g.id);
		out += ",\"labels\":";
		putMap(out, g.labels);
		out += ",\"last_heartbeat_age_ms\":" + std::to_string(g.lastHeartbeatAgeMs);
		out += ",\"lost_reason\":";
		putString(out, g.lostReason);
		out += ",\"pid\":" + std::to_string(g.pid);
		out += ",\"protocol\":" + std::to_string(g.protocol);
		out += ",\"registrations\":" + std::to_string(g.registrations);
		out += ",\"rss_bytes\":" + std::to_string(g.rssBytes);
		out += ",\"running_faults\":";
		putStrings(out, g.runningFaults);
		out += ",\"state\":";
		putString(out, g.state);
		out += ",\"state_since_ms\":" + std::to_string(g.stateSinceMs);
		out += ",\"version\":";
		putString(out, g.version);
		out += '}';
	}
	out += "],\"ok\":true}";
	return out;
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
	json ended = json::array();
	for (const auto &e : a.ended)
		ended.push_back({{"id", e.id}, {"kind", e.kind}, {"agent", e.agent}, {"why", e.why},
				 {"reverted_ns", e.revertedNs}, {"learned_ns", e.learnedNs}});
	return {{"ok", true}, {"faults", arr}, {"ended", ended}};
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

json toJson(const StatsAnswer &a)
{
	return {{"ok", true},
		{"stats",
		 {{"controller_id", a.controllerId},
		  {"pid", a.pid},
		  {"version", a.version},
		  {"protocol", {{"min", a.protocolMin}, {"max", a.protocolMax}}},
		  {"listen", a.listen},
		  {"control", a.control},
		  {"secure", a.secure},
		  {"uptime_ms", a.uptimeMs},
		  {"agents", {{"known", a.agentsKnown}, {"live", a.agentsLive}}},
		  {"drops", a.drops},
		  {"transport", a.transport},
		  {"zap", {{"accepted", a.zapAccepted}, {"refused", a.zapRefused}}},
		  {"pending_commands", a.pendingCommands}}}};
}

json toJson(const ReloadAnswer &a)
{
	return {{"ok", true},
		{"reload", {{"allowed", a.allowed}, {"added", a.added}, {"removed", a.removed}, {"file", a.file}}}};
}

json toJson(const ResidueAnswer &a)
{
	json agents = json::object();
	for (const auto &[id, g] : a.agents) {
		json e = {{"ok", g.ok}};
		if (!g.ok) {
			e["error"] = g.error;
		} else if (g.detailed) {
			e["objects"] = g.objects;
			e["running"] = g.running;
		}
		agents[id] = e;
	}
	return {{"ok", true}, {"agents", agents}};
}

json toJson(const StreamsRunAnswer &a)
{
	json j = {{"ok", a.ok}};
	if (a.ran) {
		j["agent"] = a.agent;
		j["argv"] = a.argv;
		j["exit_code"] = a.exitCode;
		j["output"] = a.output;
		j["bound_ns"] = a.boundNs;
		j["started_ns"] = a.startedNs;
		j["ended_ns"] = a.endedNs;
	}
	if (!a.ok)
		j["error"] = {{"code", a.error.code}, {"message", a.error.message}};
	return j;
}

json toJson(const DataGenerateStartAnswer &a)
{
	return {{"ok", true}, {"agent", a.agent}, {"offset_ns", a.offsetNs}, {"bound_ns", a.boundNs},
		{"started_ns", a.startedNs}};
}

json toJson(const DataGenerateStopAnswer &a)
{
	json changes = json::array();
	for (const auto &c : a.sourceChanges)
		changes.push_back({{"t_ns", c.tNs}, {"source", c.source}});
	json sent = json::object(), times = json::object();
	for (const auto &[k, n] : a.sentPerKey)
		sent[std::to_string(k)] = n;
	for (const auto &[k, d] : a.sendTimesDelta)
		times[std::to_string(k)] = d;
	return {{"ok", true}, {"agent", a.agent}, {"offset_ns", a.offsetNs}, {"bound_ns", a.boundNs},
		{"generated", a.generated}, {"accepted", a.accepted}, {"refused_batches", a.refusedBatches},
		{"failed_batches", a.failedBatches}, {"uncertain", a.uncertain}, {"backlog", a.backlog},
		{"switches", a.switches}, {"fell_behind", a.fellBehind}, {"expired", a.expired},
		{"per_source", a.perSource}, {"unwritten", a.unwritten}, {"source_changes", changes},
		{"last_error", a.lastError}, {"sent_per_key", sent}, {"send_times_delta", times},
		{"times_omitted", a.timesOmitted}, {"started_ns", a.startedNs}, {"stopped_ns", a.stoppedNs},
		{"agent_started_ns", a.agentStartedNs}, {"agent_stopped_ns", a.agentStoppedNs}};
}

json toJson(const DataTailAnswer &a)
{
	return {{"ok", true}, {"agent", a.agent}, {"data", a.data}, {"offset", a.offset}, {"next_offset", a.nextOffset},
		{"size", a.size}, {"inode", a.inode}, {"restarted", a.restarted}, {"read_ns", a.readNs}};
}

json toJson(const DataDropAnswer &a)
{
	return {{"ok", true}, {"agent", a.agent}, {"file", a.file}, {"bytes", a.bytes}, {"dropped_ns", a.droppedNs}};
}

} // namespace xdc::control
