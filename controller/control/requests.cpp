// SPDX-License-Identifier: Apache-2.0
// The console's requests (requests.h): the one reader of a request object and the one printer, command by command.
#include "controller/control/requests.h"

#include <array>
#include <limits>

#include <fmt/format.h>

#include "common/fault/spec_json.h"

namespace xdc::control {

namespace {

// Reads typed fields of one request object. A field that is absent takes its default; one of the wrong type is the
// request's error (the first one is kept), so a handler never sees a value the console did not mean.
class Fields {
public:
	explicit Fields(const json &j) : j_(j) {}

	const json *get(const char *k) const
	{
		auto it = j_.find(k);
		return it == j_.end() ? nullptr : &*it;
	}
	std::string str(const char *k, std::string deflt = "")
	{
		const json *v = get(k);
		if (!v)
			return deflt;
		if (!v->is_string())
			return bad(k, "a string"), deflt;
		return v->get<std::string>();
	}
	int64_t i64(const char *k, int64_t deflt)
	{
		const json *v = get(k);
		if (!v)
			return deflt;
		if (!v->is_number_integer() ||
		    (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max())))
			return bad(k, "an integer"), deflt;
		return v->get<int64_t>();
	}
	uint64_t u64(const char *k, uint64_t deflt, uint64_t max = std::numeric_limits<uint64_t>::max())
	{
		const json *v = get(k);
		if (!v)
			return deflt;
		// A JSON object built in memory holds a non-negative int as a signed number; the parser makes it unsigned.
		if (!v->is_number_integer() || (!v->is_number_unsigned() && v->get<int64_t>() < 0) ||
		    v->get<uint64_t>() > max)
			return bad(k, max == std::numeric_limits<uint64_t>::max() ? std::string("a non-negative integer")
										 : fmt::format("an integer in 0..{}", max)),
			       deflt;
		return v->get<uint64_t>();
	}
	double num(const char *k, double deflt)
	{
		const json *v = get(k);
		if (!v)
			return deflt;
		if (!v->is_number())
			return bad(k, "a number"), deflt;
		return v->get<double>();
	}
	bool flag(const char *k, bool deflt)
	{
		const json *v = get(k);
		if (!v)
			return deflt;
		if (!v->is_boolean())
			return bad(k, "true or false"), deflt;
		return v->get<bool>();
	}
	Result<void> done() const
	{
		if (!error_.empty())
			return makeError(Errc::Invalid, "bad request: {}", error_);
		return success();
	}

private:
	void bad(const char *k, const std::string &what)
	{
		if (error_.empty())
			error_ = fmt::format("'{}' must be {}", k, what);
	}
	const json &j_;
	std::string error_;
};

Error invalid(std::string message) { return Error{Errc::Invalid, std::move(message)}; }

// ---- readers, one per command: fields, then the checks that need nothing but the request ----

Result<Request> readStats(Fields &, std::string_view cmd) { return Request{StatsRequest{cmd == "status"}}; }

Result<Request> readFaultApply(Fields &f, std::string_view)
{
	FaultApplyRequest r;
	r.origin = f.str("origin", r.origin);
	r.dryRun = f.flag("dry_run", false);
	r.sync = f.flag("sync", true);
	r.startAtNs = f.i64("start_at_ns", 0);
	XDC_TRY(f.done());
	// The typed spec is an object; YAML text is the form of consoles before "v" (and stays readable).
	const json *s = f.get("spec");
	if (s && !s->is_object() && !s->is_string())
		return invalid("bad request: 'spec' must be a fault spec (an object, or YAML text)");
	auto spec = s && s->is_object() ? fault::parseSpecJson(*s, r.origin)
					: fault::parseSpecText(s ? s->get<std::string>() : "", r.origin);
	if (!spec)
		return invalid(spec.error().message);
	r.spec = std::move(*spec);
	return Request{std::move(r)};
}

Result<Request> readFaultRevert(Fields &f, std::string_view)
{
	FaultRevertRequest r;
	r.id = f.str("id");
	XDC_TRY(f.done());
	return Request{std::move(r)};
}

Result<Request> readRecordStart(Fields &f, std::string_view)
{
	RecordStartRequest r;
	const json *specs = f.get("specs");
	if (!specs || !specs->is_array() || specs->empty())
		return invalid("give at least one --probe or --sample spec");
	for (const auto &item : *specs) {
		if (item.is_string()) {
			r.specs.push_back({item.get<std::string>(), "<command line>"});
			continue;
		}
		if (!item.is_object())
			return invalid("bad request: 'specs' must be a list of specs (YAML text, or {spec, origin})");
		Fields one(item);
		RecordSpec s{one.str("spec"), one.str("origin", "<command line>")};
		XDC_TRY(one.done());
		r.specs.push_back(std::move(s));
	}
	r.out = f.str("out");
	r.forMs = f.i64("for_ms", r.forMs);
	r.maxMs = f.i64("max_ms", r.maxMs);
	r.name = f.str("name");
	r.memorySamples = f.u64("memory_samples", 0);
	XDC_TRY(f.done());
	if (r.out.empty() || r.out[0] != '/')
		return invalid("out: an absolute directory path is required");
	if (r.forMs < 0 || r.maxMs <= 0 || r.maxMs > 24 * 3600000 || r.forMs > r.maxMs)
		return invalid("for: must be within 0..max (max up to 24h)");
	return Request{std::move(r)};
}

Result<Request> readRecordStatus(Fields &f, std::string_view)
{
	RecordStatusRequest r;
	r.recording = f.str("recording");
	r.windowMs = f.i64("window_ms", 0);
	r.windowEndNs = f.i64("window_end_ns", 0);
	XDC_TRY(f.done());
	if (r.windowMs < 0 || r.windowMs > 120000)
		return invalid("window_ms: must be within 0..120000 (the live view keeps the last 120 s)");
	if (r.windowEndNs < 0)
		return invalid("window_end_ns: must be a wall-clock time in ns, or 0");
	return Request{std::move(r)};
}

Result<Request> readRecordStop(Fields &f, std::string_view)
{
	RecordStopRequest r;
	r.recording = f.str("recording");
	r.drainMs = f.i64("drain_ms", r.drainMs);
	XDC_TRY(f.done());
	return Request{std::move(r)};
}

Result<Request> readPing(Fields &f, std::string_view)
{
	PingRequest r;
	if (const json *list = f.get("agents")) {
		if (!list->is_array())
			return invalid("'agents' must be a list of agent ids");
		for (const auto &t : *list) {
			if (!t.is_string())
				return invalid("'agents' must be a list of agent ids");
			r.agents.push_back(t.get<std::string>());
		}
	}
	r.text = f.str("text", r.text);
	XDC_TRY(f.done());
	return Request{std::move(r)};
}

Result<Request> readStreamsPe(Fields &f, std::string_view)
{
	StreamsPeRequest r{f.str("host"), f.str("verb"), f.str("pe")};
	XDC_TRY(f.done());
	if (r.host.empty() || (r.verb != "stop" && r.verb != "restart") || r.pe.empty())
		return invalid("streams.pe needs host, verb (stop|restart) and pe");
	return Request{std::move(r)};
}

Result<Request> readOrderlyShutdown(Fields &f, std::string_view)
{
	StreamsOrderlyShutdownRequest r;
	const json *job = f.get("job");
	r.host = f.str("host");
	if (r.host.empty() || (job && !job->is_string()))
		return invalid("streams.orderly_shutdown needs host (and job, if given, as a string of digits)");
	r.job = f.str("job");
	XDC_TRY(f.done());
	return Request{std::move(r)};
}

Result<proto::DataGenSource> readGenSource(const json &j)
{
	if (!j.is_object())
		return invalid("bad request: 'sources' must be a list of objects");
	Fields f(j);
	proto::DataGenSource d;
	d.name = f.str("name");
	d.kind = f.str("kind");
	d.url = f.str("url");
	d.host = f.str("host");
	d.port = static_cast<int>(f.u64("port", 0, 65535));
	d.user = f.str("user");
	d.password = f.str("password");
	d.caFile = f.str("ca_file");
	d.insecure = f.flag("insecure", false);
	XDC_TRY(f.done());
	return d;
}

Result<Request> readGenerateStart(Fields &f, std::string_view cmd)
{
	DataGenerateStartRequest r;
	auto &a = r.args;
	r.host = f.str("host");
	a.runId = f.str("run_id");
	a.seed = f.u64("seed", a.seed);
	a.rate = f.num("rate", a.rate);
	a.rampFrom = f.num("ramp_from", a.rampFrom);
	a.rampNs = f.i64("ramp_ns", a.rampNs);
	a.burstEveryNs = f.i64("burst_every_ns", a.burstEveryNs);
	a.burstForNs = f.i64("burst_for_ns", a.burstForNs);
	a.burstFactor = f.num("burst_factor", a.burstFactor);
	a.keys = static_cast<uint32_t>(f.u64("keys", a.keys, std::numeric_limits<uint32_t>::max()));
	a.payload = f.u64("payload", a.payload);
	a.maxDurationMs = f.i64("max_duration_ms", a.maxDurationMs);
	XDC_TRY(f.done());
	if (r.host.empty() || a.runId.empty())
		return invalid(fmt::format("{} needs host and run_id", cmd));
	if (const json *srcs = f.get("sources")) {
		if (!srcs->is_array())
			return invalid("bad request: 'sources' must be a list of objects");
		for (const auto &s : *srcs) {
			auto d = readGenSource(s);
			XDC_TRY(d);
			a.sources.push_back(std::move(*d));
		}
	}
	return Request{std::move(r)};
}

Result<Request> readGenerateStop(Fields &f, std::string_view cmd)
{
	DataGenerateStopRequest r{f.str("host"), f.str("run_id")};
	XDC_TRY(f.done());
	if (r.host.empty() || r.runId.empty())
		return invalid(fmt::format("{} needs host and run_id", cmd));
	return Request{std::move(r)};
}

Result<Request> readDataTail(Fields &f, std::string_view)
{
	DataTailRequest r;
	r.host = f.str("host");
	r.sink = f.str("sink");
	const int64_t offset = f.i64("offset", 0), inode = f.i64("inode", 0), max = f.i64("max", 0);
	r.fromEnd = f.flag("from_end", false);
	XDC_TRY(f.done());
	if (r.host.empty() || r.sink.empty() || offset < 0 || inode < 0 || max < 0)
		return invalid("data.tail needs host, sink and offset, inode, max >= 0");
	r.offset = static_cast<uint64_t>(offset);
	r.inode = static_cast<uint64_t>(inode);
	r.max = static_cast<uint64_t>(max);
	return Request{std::move(r)};
}

Result<Request> readDataDrop(Fields &f, std::string_view)
{
	DataDropRequest r;
	r.host = f.str("host");
	r.drop = f.str("drop");
	const json *data = f.get("data");
	if (r.host.empty() || r.drop.empty() || !data || !data->is_string())
		return invalid("data.drop needs host, drop and data");
	r.data = data->get<std::string>();
	r.lines = f.u64("lines", 0);
	XDC_TRY(f.done());
	return Request{std::move(r)};
}

Result<Request> readRunState(Fields &f, std::string_view)
{
	RunStateRequest r;
	r.scenario = f.str("scenario");
	r.runId = f.str("run_id");
	r.phase = f.str("phase");
	r.ended = f.flag("ended", false);
	r.verdict = f.str("verdict");
	r.exitCode = f.i64("exit_code", 0);
	XDC_TRY(f.done());
	if (r.scenario.empty() || r.scenario.size() > 256)
		return invalid("run.state needs a scenario name of 1..256 bytes");
	if (r.phase.size() > 64 || r.verdict.size() > 64 || r.runId.size() > 256)
		return invalid("run.state: phase and verdict are at most 64 bytes, run_id 256");
	if (const json *fig = f.get("figures")) {
		if (!fig->is_object())
			return invalid("bad request: 'figures' must be an object");
		for (auto [key, slot] : {std::pair{"detection_ms", &r.detectionMs}, std::pair{"failover_ms", &r.failoverMs},
					 std::pair{"rto_ms", &r.rtoMs}, std::pair{"rpo_s", &r.rpoS}}) {
			auto it = fig->find(key);
			if (it == fig->end() || it->is_null())
				continue;
			if (!it->is_number())
				return invalid(fmt::format("bad request: 'figures.{}' must be a number", key));
			*slot = it->get<double>();
		}
	}
	if (const json *as = f.get("assertions")) {
		if (!as->is_array() || as->size() > 10000)
			return invalid("bad request: 'assertions' must be an array of at most 10000 {name, status}");
		for (const auto &a : *as) {
			if (!a.is_object() || !a.contains("name") || !a["name"].is_string() || !a.contains("status") ||
			    !a["status"].is_string())
				return invalid("bad request: each of 'assertions' must be {\"name\": string, \"status\": string}");
			r.assertions.push_back({a["name"].get<std::string>(), a["status"].get<std::string>()});
		}
	}
	return Request{std::move(r)};
}

template<typename T>
Result<Request> readEmpty(Fields &, std::string_view)
{
	return Request{T{}};
}

using Reader = Result<Request> (*)(Fields &, std::string_view cmd);

struct Command {
	std::string_view name;
	Reader read;
};

// Every command the controller answers, with its reader.
constexpr std::array<Command, 21> kCommands = {{
	{AgentsRequest::kCmd, readEmpty<AgentsRequest>},
	{StatsRequest::kCmd, readStats},
	{"status", readStats},
	{ReloadRequest::kCmd, readEmpty<ReloadRequest>},
	{ShutdownRequest::kCmd, readEmpty<ShutdownRequest>},
	{FaultApplyRequest::kCmd, readFaultApply},
	{FaultRevertRequest::kCmd, readFaultRevert},
	{HaltRequest::kCmd, readEmpty<HaltRequest>},
	{FaultListRequest::kCmd, readEmpty<FaultListRequest>},
	{ResidueRequest::kCmd, readEmpty<ResidueRequest>},
	{RecordStartRequest::kCmd, readRecordStart},
	{RecordStatusRequest::kCmd, readRecordStatus},
	{RecordStopRequest::kCmd, readRecordStop},
	{PingRequest::kCmd, readPing},
	{StreamsPeRequest::kCmd, readStreamsPe},
	{StreamsOrderlyShutdownRequest::kCmd, readOrderlyShutdown},
	{DataGenerateStartRequest::kCmd, readGenerateStart},
	{DataGenerateStopRequest::kCmd, readGenerateStop},
	{DataTailRequest::kCmd, readDataTail},
	{DataDropRequest::kCmd, readDataDrop},
	{RunStateRequest::kCmd, readRunState},
}};

// ---- printers: each request's fields (toJson adds cmd and v) ----

json body(const AgentsRequest &) { return json::object(); }
json body(const StatsRequest &) { return json::object(); }
json body(const ReloadRequest &) { return json::object(); }
json body(const ShutdownRequest &) { return json::object(); }
json body(const HaltRequest &) { return json::object(); }
json body(const FaultListRequest &) { return json::object(); }
json body(const ResidueRequest &) { return json::object(); }

json body(const FaultApplyRequest &r)
{
	json j = {{"spec", fault::toJson(r.spec)}, {"origin", r.origin}, {"dry_run", r.dryRun}, {"sync", r.sync}};
	if (r.startAtNs != 0)
		j["start_at_ns"] = r.startAtNs;
	return j;
}

json body(const FaultRevertRequest &r) { return {{"id", r.id}}; }

json body(const RecordStartRequest &r)
{
	json specs = json::array();
	for (const auto &s : r.specs)
		specs.push_back({{"spec", s.spec}, {"origin", s.origin}});
	json j = {{"specs", specs}, {"out", r.out}, {"for_ms", r.forMs}, {"max_ms", r.maxMs}};
	if (!r.name.empty())
		j["name"] = r.name;
	if (r.memorySamples != 0)
		j["memory_samples"] = r.memorySamples;
	return j;
}

json body(const RecordStatusRequest &r)
{
	json j = json::object();
	if (!r.recording.empty())
		j["recording"] = r.recording;
	if (r.windowMs != 0)
		j["window_ms"] = r.windowMs;
	if (r.windowEndNs != 0)
		j["window_end_ns"] = r.windowEndNs;
	return j;
}

json body(const RecordStopRequest &r) { return {{"recording", r.recording}, {"drain_ms", r.drainMs}}; }
json body(const PingRequest &r) { return {{"agents", r.agents}, {"text", r.text}}; }
json body(const StreamsPeRequest &r) { return {{"host", r.host}, {"verb", r.verb}, {"pe", r.pe}}; }

json body(const StreamsOrderlyShutdownRequest &r)
{
	json j = {{"host", r.host}};
	if (!r.job.empty())
		j["job"] = r.job;
	return j;
}

json body(const DataGenerateStartRequest &r)
{
	const auto &a = r.args;
	json srcs = json::array();
	for (const auto &s : a.sources)
		srcs.push_back({{"name", s.name}, {"kind", s.kind}, {"url", s.url}, {"host", s.host}, {"port", s.port},
				{"user", s.user}, {"password", s.password}, {"ca_file", s.caFile},
				{"insecure", s.insecure}});
	return {{"host", r.host}, {"run_id", a.runId}, {"seed", a.seed}, {"rate", a.rate}, {"ramp_from", a.rampFrom},
		{"ramp_ns", a.rampNs}, {"burst_every_ns", a.burstEveryNs}, {"burst_for_ns", a.burstForNs},
		{"burst_factor", a.burstFactor}, {"keys", a.keys}, {"payload", a.payload},
		{"max_duration_ms", a.maxDurationMs}, {"sources", srcs}};
}

json body(const DataGenerateStopRequest &r) { return {{"host", r.host}, {"run_id", r.runId}}; }

json body(const DataTailRequest &r)
{
	return {{"host", r.host}, {"sink", r.sink}, {"offset", r.offset}, {"inode", r.inode}, {"max", r.max},
		{"from_end", r.fromEnd}};
}

json body(const DataDropRequest &r)
{
	return {{"host", r.host}, {"drop", r.drop}, {"data", r.data}, {"lines", r.lines}};
}

json body(const RunStateRequest &r)
{
	json j = {{"scenario", r.scenario}, {"run_id", r.runId}, {"phase", r.phase}, {"ended", r.ended}};
	if (r.ended) {
		j["verdict"] = r.verdict;
		j["exit_code"] = r.exitCode;
		json fig = json::object();
		for (auto [key, v] : {std::pair{"detection_ms", r.detectionMs}, std::pair{"failover_ms", r.failoverMs},
				      std::pair{"rto_ms", r.rtoMs}, std::pair{"rpo_s", r.rpoS}})
			if (v)
				fig[key] = *v;
		j["figures"] = fig;
		json as = json::array();
		for (const auto &[name, status] : r.assertions)
			as.push_back({{"name", name}, {"status", status}});
		j["assertions"] = as;
	}
	return j;
}

} // namespace

std::string_view commandName(const Request &r)
{
	return std::visit([](const auto &req) -> std::string_view {
		using T = std::decay_t<decltype(req)>;
		if constexpr (std::is_same_v<T, StatsRequest>)
			return req.status ? "status" : T::kCmd;
		else
			return T::kCmd;
	}, r);
}

Result<Request> parseRequest(const json &j)
{
	if (!j.is_object() || !j.contains("cmd") || !j["cmd"].is_string())
		return invalid("expected one JSON object with a string 'cmd' per line");
	const std::string cmd = j["cmd"].get<std::string>();
	// The version first: a newer console's new command is refused for its version, not as unknown.
	if (const auto v = j.find("v"); v != j.end()) {
		if (!v->is_number_integer())
			return invalid("bad request: 'v' must be an integer (the control protocol version)");
		const int64_t n = v->get<int64_t>();
		if (n < kControlMinVersion || n > kControlVersion)
			return makeError(Errc::Unsupported,
					 "control protocol version {} unsupported (this controller speaks {}..{}); use a "
					 "console of the controller's version", n, kControlMinVersion, kControlVersion);
	}
	for (const auto &c : kCommands)
		if (c.name == cmd) {
			Fields f(j);
			return c.read(f, cmd);
		}
	return invalid(fmt::format("unknown command '{}'", cmd));
}

json toJson(const Request &r)
{
	json j = std::visit([](const auto &req) { return body(req); }, r);
	j["cmd"] = std::string(commandName(r));
	j["v"] = kControlVersion;
	return j;
}

} // namespace xdc::control
