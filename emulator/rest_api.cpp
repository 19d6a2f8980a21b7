// SPDX-License-Identifier: Apache-2.0
// REST routing and rendering: elements with self/resourceType/restid, collections with total and paging, CDISW
// errors, Basic and Bearer authentication, and the Prometheus exposition of the same state.
#include "emulator/rest_api.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

namespace xdc::emu {

namespace http = boost::beast::http;
using nlohmann::json;

namespace {

std::shared_ptr<spdlog::logger> rlg()
{
	static auto l = log::get("rest");
	return l;
}

HttpResponse jsonResponse(http::status st, const json &body)
{
	HttpResponse res(st, 11);
	res.set(http::field::content_type, "application/json");
	res.body() = body.dump();
	return res;
}

HttpResponse cdisw(http::status st, const std::string &id, const std::string &msg)
{
	auto res = jsonResponse(st, json{{"id", id}, {"message", id + " " + msg}});
	if (st == http::status::unauthorized)
		res.set(http::field::www_authenticate, "Basic realm=\"streams\"");
	return res;
}

HttpResponse notFound(const std::string &what)
{
	return cdisw(http::status::not_found, "CDISW5000E", fmt::format("The {} was not found.", what));
}

std::string urlDecode(std::string_view s)
{
	std::string out;
	for (size_t i = 0; i < s.size(); ++i) {
		if (s[i] == '+') {
			out += ' ';
		} else if (s[i] == '%' && i + 2 < s.size()) {
			int v = 0;
			auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
			if (ec == std::errc() && p == s.data() + i + 3) {
				out += char(v);
				i += 2;
			} else {
				out += s[i];
			}
		} else {
			out += s[i];
		}
	}
	return out;
}

std::vector<std::string> split(std::string_view s, char sep)
{
	std::vector<std::string> out;
	size_t start = 0;
	while (start <= s.size()) {
		const size_t e = s.find(sep, start);
		const size_t end = e == std::string_view::npos ? s.size() : e;
		out.emplace_back(s.substr(start, end - start));
		start = end + 1;
	}
	return out;
}

std::optional<std::string> base64Decode(std::string_view in)
{
	auto val = [](char c) -> int {
		if (c >= 'A' && c <= 'Z')
			return c - 'A';
		if (c >= 'a' && c <= 'z')
			return c - 'a' + 26;
		if (c >= '0' && c <= '9')
			return c - '0' + 52;
		if (c == '+')
			return 62;
		if (c == '/')
			return 63;
		return -1;
	};
	std::string out;
	int bits = 0, acc = 0;
	for (char c : in) {
		if (c == '=')
			break;
		const int v = val(c);
		if (v < 0)
			return std::nullopt;
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out += char((acc >> bits) & 0xff);
		}
	}
	return out;
}

bool isId(const std::string &s)
{
	return !s.empty() && s.size() < 10 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string gHostName;

std::string hostName()
{
	if (!gHostName.empty())
		return gHostName;
	char buf[256] = {};
	::gethostname(buf, sizeof buf - 1);
	return buf;
}

// A metric as REST shows it: the value of the last collection, and when that collection retrieved it.
json metric(const std::string &name, int64_t value, const std::string &kind, const std::string &type, int64_t atMs)
{
	return {{"name", name}, {"value", value}, {"metricKind", kind}, {"metricType", type}, {"lastTimeRetrieved", atMs}};
}

struct Query {
	std::map<std::string, std::string> params;
	bool has(const std::string &k) const { return params.count(k) != 0; }
	std::string get(const std::string &k) const
	{
		auto it = params.find(k);
		return it == params.end() ? "" : it->second;
	}
};

// One request's view: the base URL from its Host header and the instance URL in the path style it used.
struct Ctx {
	std::string base; // http://host:port
	std::string inst; // base + /streams/rest/instances/<id> or base + /streams/instances/<id>
	Query q;
	Snapshot snap;
	const Options *opts = nullptr;
};

json instanceJson(const Ctx &c)
{
	const std::string health = !c.snap.job ? "healthy" : c.snap.job->health();
	return {{"id", c.opts->instance}, {"restid", c.opts->instance}, {"self", c.inst}, {"resourceType", "instance"},
		{"status", "running"}, {"health", health}, {"startTime", c.snap.startMs},
		{"productVersion", "7.2.0.0"}, {"owner", c.opts->user},
		{"jobs", c.inst + "/jobs"}, {"pes", c.inst + "/pes"}, {"operators", c.inst + "/operators"},
		{"resources", c.inst + "/resources"}, {"activeServices", c.inst + "/activeServices"},
		{"operatorConnections", c.inst + "/operatorConnections"}, {"peConnections", c.inst + "/peConnections"},
		{"views", c.inst + "/views"}, {"exportedStreams", c.inst + "/exportedStreams"},
		{"importedStreams", c.inst + "/importedStreams"},
		{"resourceAllocations", c.inst + "/resourceAllocations"}};
}

json jobJson(const Ctx &c, const JobState &j)
{
	const std::string self = fmt::format("{}/jobs/{}", c.inst, j.id);
	return {{"id", std::to_string(j.id)}, {"restid", std::to_string(j.id)}, {"self", self},
		{"resourceType", "job"}, {"name", j.name}, {"applicationName", j.application},
		{"applicationVersion", "1.0.0"}, {"adlFile", j.application + ".adl"}, {"submitTime", j.submitMs},
		{"startedBy", c.opts->user}, {"jobGroup", "default"}, {"submitParameters", j.submitParameters},
		{"health", j.health()}, {"status", "running"}, {"pes", self + "/pes"},
		{"operators", self + "/operators"}, {"views", self + "/views"}, {"instance", c.inst},
		{"applicationBundle", j.bundleId}};
}

json peJson(const Ctx &c, const JobState &j, const PeState &p)
{
	const std::string self = fmt::format("{}/pes/{}", c.inst, p.id);
	size_t running = 0;
	for (const auto &o : j.pes)
		running += o.status == "running";
	const std::string conn = p.status != "running"		 ? "disconnected"
				 : running == j.pes.size() ? "connected"
							    : "partiallyConnected";
	return {{"id", std::to_string(p.id)}, {"restid", std::to_string(p.id)}, {"self", self}, {"resourceType", "pe"},
		{"indexWithinJob", p.index}, {"health", p.status == "running" ? "healthy" : "unhealthy"},
		{"status", p.status}, {"statusReason", p.reason}, {"launchCount", p.launchCount},
		{"restartable", true}, {"relocatable", true}, {"processId", p.pid > 0 ? json(std::to_string(p.pid)) : json(nullptr)},
		{"requiredConnections", conn}, {"optionalConnections", conn},
		{"host", c.inst + "/resources/" + hostName()}, {"job", fmt::format("{}/jobs/{}", c.inst, j.id)},
		{"metrics", self + "/metrics"}, {"operators", self + "/operators"}, {"instance", c.inst}};
}

json operatorJson(const Ctx &c, const JobState &j, const OperatorState &o)
{
	const std::string self = fmt::format("{}/operators/{}", c.inst, o.id);
	return {{"id", std::to_string(o.id)}, {"restid", std::to_string(o.id)}, {"self", self},
		{"resourceType", "operator"}, {"name", o.name}, {"operatorKind", o.kind}, {"indexWithinJob", o.index},
		{"pe", fmt::format("{}/pes/{}", c.inst, o.peId)}, {"job", fmt::format("{}/jobs/{}", c.inst, j.id)},
		{"metrics", self + "/metrics"}, {"inputPorts", self + "/inputPorts"}, {"outputPorts", self + "/outputPorts"},
		{"instance", c.inst}};
}

// Operator ports and their system metrics (shared/reference/streams.md), from the last collection. Operators have no
// operator-level metrics of their own here: the product's system operator metrics are not emulated, and the toolkit
// defines no custom ones.
int portCount(const OperatorState &o, bool input)
{
	return input ? o.inputs : o.outputs;
}

json portJson(const Ctx &c, const OperatorState &o, bool input, int index)
{
	const std::string self = fmt::format("{}/operators/{}/{}/{}", c.inst, o.id, input ? "inputPorts" : "outputPorts",
					     index);
	return {{"id", std::to_string(index)}, {"restid", std::to_string(index)}, {"self", self},
		{"resourceType", input ? "operatorInputPort" : "operatorOutputPort"}, {"indexWithinOperator", index},
		{"name", fmt::format("{}.{}{}", o.name, input ? "in" : "out", index)},
		{"operator", fmt::format("{}/operators/{}", c.inst, o.id)}, {"pe", fmt::format("{}/pes/{}", c.inst, o.peId)},
		{"metrics", self + "/metrics"}, {"instance", c.inst}};
}

int64_t portValue(const Snapshot &s, const OperatorState &o, bool input, int index)
{
	auto it = s.metrics.ops.find(o.id);
	if (it == s.metrics.ops.end())
		return 0;
	const auto &v = input ? it->second.in : it->second.out;
	return size_t(index) < v.size() ? v[size_t(index)] : 0;
}

std::vector<json> portMetrics(const Snapshot &s, const OperatorState &o, bool input, int index)
{
	const int64_t n = portValue(s, o, input, index);
	const int64_t at = s.metrics.atMs;
	if (input)
		return {metric("nTuplesProcessed", n, "counter", "system", at), metric("nTuplesDropped", 0, "counter", "system", at),
			metric("nTuplesQueued", 0, "gauge", "system", at), metric("queueSize", 0, "gauge", "system", at),
			metric("nFinalPunctsProcessed", 0, "counter", "system", at),
			metric("nWindowPunctsProcessed", 0, "counter", "system", at)};
	return {metric("nTuplesSubmitted", n, "counter", "system", at),
		metric("nFinalPunctsSubmitted", 0, "counter", "system", at),
		metric("nWindowPunctsSubmitted", 0, "counter", "system", at)};
}

std::vector<json> peMetrics(const Snapshot &s, const PeState &p)
{
	ProcFigures f;
	if (auto it = s.metrics.pes.find(p.id); it != s.metrics.pes.end())
		f = it->second;
	const int64_t at = s.metrics.atMs;
	return {metric("nCpuMilliseconds", f.cpuMs, "counter", "system", at),
		metric("nResidentMemoryConsumption", f.rssKb, "gauge", "system", at),
		metric("nMemoryConsumption", f.vmKb, "gauge", "system", at)};
}

// {"<plural>": [...], "total": n, "resourceType": "<singular>List"} after the filter, paging and field selection.
HttpResponse collection(const Ctx &c, const std::string &plural, const std::string &singular, std::vector<json> items,
			const json &extra = json::object())
{
	if (c.q.has("job.restid")) {
		const std::string want = c.q.get("job.restid");
		std::vector<json> kept;
		for (auto &i : items)
			if (i.contains("job") && i["job"].is_string() &&
			    i["job"].get<std::string>() == fmt::format("{}/jobs/{}", c.inst, want))
				kept.push_back(std::move(i));
		items = std::move(kept);
	}
	const size_t total = items.size();
	int count = 0, page = 1;
	if (c.q.has("count")) {
		const std::string v = c.q.get("count");
		std::from_chars(v.data(), v.data() + v.size(), count);
	}
	if (c.q.has("page")) {
		const std::string v = c.q.get("page");
		std::from_chars(v.data(), v.data() + v.size(), page);
	}
	if (count > 0) {
		const size_t pages = (total + size_t(count) - 1) / size_t(count);
		size_t pg = page == -1 ? std::max<size_t>(pages, 1) : size_t(std::max(page, 1));
		const size_t from = std::min(total, (pg - 1) * size_t(count));
		const size_t to = std::min(total, from + size_t(count));
		items = std::vector<json>(items.begin() + long(from), items.begin() + long(to));
	}
	if (c.q.has("fields")) {
		const auto fields = split(c.q.get("fields"), ',');
		for (auto &i : items) {
			json kept = json::object();
			for (const auto &f : fields)
				if (i.contains(f))
					kept[f] = i[f];
			i = std::move(kept);
		}
	}
	json body = extra;
	body[plural] = items;
	body["total"] = total;
	body["resourceType"] = singular + "List";
	return jsonResponse(http::status::ok, body);
}

json resourceJson(const Ctx &c)
{
	const std::string name = hostName();
	return {{"id", name}, {"restid", name}, {"self", c.inst + "/resources/" + name}, {"resourceType", "resource"},
		{"displayName", name}, {"ipAddress", c.opts->rest.host == "0.0.0.0" ? "127.0.0.1" : c.opts->rest.host},
		{"status", "running"}, {"tags", json::array({"application", "management"})}, {"instance", c.inst}};
}

std::vector<json> activeServices(const Ctx &c)
{
	std::vector<json> out;
	for (const char *svc : {"sam", "srm", "sws", "app", "aas", "auth"}) {
		const std::string s = svc;
		out.push_back({{"id", s}, {"restid", s}, {"self", c.inst + "/activeServices/" + s},
			       {"resourceType", "activeService"}, {"leader", true}, {"status", "running"},
			       {"instance", c.inst}});
	}
	return out;
}

std::string promLabel(const std::string &v)
{
	std::string out;
	for (char ch : v) {
		if (ch == '"' || ch == '\\')
			out += '\\';
		if (ch == '\n') {
			out += "\\n";
			continue;
		}
		out += ch;
	}
	return out;
}

} // namespace

HttpResponse RestApi::handle(const HttpRequest &req)
{
	const Options &o = emu_.options();
	const std::string target(req.target());
	const auto qpos = target.find('?');
	std::string path = target.substr(0, qpos);
	while (path.size() > 1 && path.back() == '/')
		path.pop_back();
	Ctx c;
	c.opts = &o;
	if (qpos != std::string::npos) {
		for (const auto &kv : split(std::string_view(target).substr(qpos + 1), '&')) {
			if (kv.empty())
				continue;
			const auto eq = kv.find('=');
			c.q.params[urlDecode(kv.substr(0, eq))] = eq == std::string::npos ? "" : urlDecode(kv.substr(eq + 1));
		}
	}
	const auto hostIt = req.find(http::field::host);
	c.base = "http://" + (hostIt != req.end() ? std::string(hostIt->value()) : o.rest.str());

	// Authentication first, for every path: Basic, or Bearer with a live token.
	bool basicOk = false, authOk = false;
	if (auto a = req.find(http::field::authorization); a != req.end()) {
		const std::string v(a->value());
		if (v.rfind("Basic ", 0) == 0) {
			auto dec = base64Decode(v.substr(6));
			basicOk = dec && *dec == o.user + ":" + o.password;
		} else if (v.rfind("Bearer ", 0) == 0) {
			authOk = emu_.tokenValid(v.substr(7));
		}
	}
	authOk = authOk || basicOk;
	if (!authOk)
		return cdisw(http::status::unauthorized, "CDISW5003E",
			     "The user is not authorized to perform this operation: credentials are missing, wrong or expired.");

	const auto verb = req.method();
	const auto segs = split(std::string_view(path).substr(1), '/');
	auto methodNotAllowed = [] {
		return cdisw(http::status::method_not_allowed, "CDISW5001E", "The method is not supported on this resource.");
	};

	if (path == "/metrics") {
		if (verb != http::verb::get)
			return methodNotAllowed();
		const Snapshot s = emu_.snapshot();
		std::string out;
		const std::string inst = promLabel(o.instance);
		if (s.job) {
			const std::string jn = promLabel(s.job->name);
			const std::string h = s.job->health();
			const double hv = h == "healthy" ? 1 : h == "unhealthy" ? 0 : 0.5;
			out += "# TYPE streams_job_health gauge\n";
			out += fmt::format("streams_job_health{{instancename=\"{}\",jobname=\"{}\"}} {}\n", inst, jn, hv);
			out += "# TYPE streams_pe_launchCount gauge\n";
			for (const auto &p : s.job->pes)
				out += fmt::format("streams_pe_launchCount{{instancename=\"{}\",jobname=\"{}\",peid=\"{}\"}} {}\n",
						   inst, jn, p.id, p.launchCount);
			// The port metrics, named as the community streams metric exporter names them.
			std::map<std::string, std::string> series, types;
			for (const auto &op : s.job->ops) {
				for (const bool input : {true, false})
					for (int i = 0; i < portCount(op, input); ++i) {
						const std::string name = input ? "streams_operator_ip_nTuplesProcessed"
									       : "streams_operator_op_nTuplesSubmitted";
						types[name] = "counter";
						series[name] += fmt::format(
							"{}{{instancename=\"{}\",jobname=\"{}\",operatorname=\"{}\",{}=\"{}\",peid=\"{}\"}} {}\n",
							name, inst, jn, promLabel(op.name), input ? "inputportname" : "outputportname",
							fmt::format("{}.{}{}", promLabel(op.name), input ? "in" : "out", i), op.peId,
							portValue(s, op, input, i));
					}
			}
			for (const auto &kv : series)
				out += fmt::format("# TYPE {} {}\n{}", kv.first, types[kv.first], kv.second);
		}
		HttpResponse res(http::status::ok, 11);
		res.set(http::field::content_type, "text/plain; version=0.0.4");
		res.body() = out;
		return res;
	}

	if (segs.size() == 4 && segs[0] == "emulator" && segs[1] == "pes" && (segs[3] == "stop" || segs[3] == "restart")) {
		if (verb != http::verb::post)
			return methodNotAllowed();
		if (!isId(segs[2]))
			return cdisw(http::status::bad_request, "CDISW5002E", fmt::format("The PE id '{}' is not valid.", segs[2]));
		const int id = std::stoi(segs[2]);
		auto r = segs[3] == "stop" ? emu_.stopPe(id) : emu_.restartPe(id);
		if (!r)
			return notFound(fmt::format("PE {}", id));
		rlg()->info("PE {} {} via the emulator endpoint", id, segs[3]);
		c.inst = c.base + "/streams/rest/instances/" + o.instance;
		c.snap = emu_.snapshot();
		if (!c.snap.job)
			return notFound(fmt::format("PE {}", id));
		return jsonResponse(http::status::ok, peJson(c, *c.snap.job, *r));
	}

	const std::string restBase = c.base + "/streams/rest";
	if (path == "/streams/rest/resources" || path == "/streams/rest") {
		if (verb != http::verb::get)
			return methodNotAllowed();
		return jsonResponse(http::status::ok,
				    json{{"resources",
					  {{{"name", "instances"}, {"resource", restBase + "/instances"}},
					   {{"name", "accessTokens"}, {"resource", restBase + "/accessTokens"}}}}});
	}
	if (path == "/streams/rest/accessTokens") {
		if (verb != http::verb::post)
			return methodNotAllowed();
		if (!basicOk)
			return cdisw(http::status::unauthorized, "CDISW5003E", "Access tokens are issued to Basic credentials only.");
		return jsonResponse(http::status::ok,
				    json{{"accessToken", emu_.issueToken()}, {"expiresIn", o.tokenTtlS}});
	}

	// Both path styles lead to the same tree below the instance.
	size_t instSeg = 0;
	std::string prefix;
	if (segs.size() >= 3 && segs[0] == "streams" && segs[1] == "rest" && segs[2] == "instances") {
		instSeg = 3;
		prefix = restBase + "/instances";
	} else if (segs.size() >= 2 && segs[0] == "streams" && segs[1] == "instances") {
		instSeg = 2;
		prefix = c.base + "/streams/instances";
	} else {
		return notFound(fmt::format("resource {}", path));
	}
	if (segs.size() == instSeg) {
		if (verb != http::verb::get)
			return methodNotAllowed();
		c.inst = prefix + "/" + o.instance;
		c.snap = emu_.snapshot();
		return collection(c, "instances", "instance", {instanceJson(c)});
	}
	if (segs[instSeg] != o.instance)
		return notFound(fmt::format("instance {}", segs[instSeg]));
	c.inst = prefix + "/" + o.instance;
	const std::vector<std::string> rest(segs.begin() + long(instSeg) + 1, segs.end());

	// Writes first: they change the state the reads below would copy.
	if (rest.size() == 1 && rest[0] == "applicationbundles") {
		if (verb != http::verb::post)
			return methodNotAllowed();
		const std::string id = emu_.addBundle(req.body().size());
		return jsonResponse(http::status::ok, json{{"bundleId", id}});
	}
	if (rest.size() == 1 && rest[0] == "jobs" && verb == http::verb::post) {
		const json body = json::parse(req.body(), nullptr, false);
		if (body.is_discarded() || !body.is_object() || !body.contains("application") ||
		    !body["application"].is_string())
			return cdisw(http::status::bad_request, "CDISW5002E",
				     "The request body must be a JSON object with an \"application\" bundle id.");
		const json overlay = body.contains("jobConfigurationOverlay") ? body["jobConfigurationOverlay"] : json();
		auto r = emu_.submitJob(body["application"].get<std::string>(), overlay);
		if (!r) {
			if (r.error().code == Errc::NotFound)
				return cdisw(http::status::not_found, "CDISW5000E", r.error().message + ".");
			if (r.error().code == Errc::Invalid)
				return cdisw(http::status::bad_request, "CDISW5002E", r.error().message);
			return cdisw(http::status::conflict, "CDISW5001E", r.error().message);
		}
		c.snap = emu_.snapshot();
		return jsonResponse(http::status::created, jobJson(c, *r));
	}
	if (rest.size() == 2 && rest[0] == "jobs" && verb == http::verb::delete_) {
		if (!isId(rest[1]))
			return cdisw(http::status::bad_request, "CDISW5002E", fmt::format("The job id '{}' is not valid.", rest[1]));
		auto r = emu_.cancelJob(std::stoi(rest[1]));
		if (!r)
			return notFound(fmt::format("job {}", rest[1]));
		return HttpResponse(http::status::no_content, 11);
	}
	if (verb != http::verb::get && !(verb == http::verb::patch && rest.size() == 2 && rest[0] == "jobs"))
		return methodNotAllowed();

	c.snap = emu_.snapshot();
	const std::optional<JobState> &job = c.snap.job;
	if (rest.empty())
		return jsonResponse(http::status::ok, instanceJson(c));
	const std::string &kind = rest[0];
	// Elements of every collection are looked up by a numeric id, except hosts and services (named).
	if (rest.size() >= 2 && (kind == "jobs" || kind == "pes" || kind == "operators") && !isId(rest[1]))
		return cdisw(http::status::bad_request, "CDISW5002E", fmt::format("The id '{}' is not valid.", rest[1]));

	if (kind == "jobs") {
		if (rest.size() == 1) {
			std::vector<json> items;
			if (job)
				items.push_back(jobJson(c, *job));
			return collection(c, "jobs", "job", items);
		}
		if (!job || std::to_string(job->id) != rest[1])
			return notFound(fmt::format("job {}", rest[1]));
		if (rest.size() == 2)
			return jsonResponse(http::status::ok, jobJson(c, *job));
		if (rest.size() == 3 && rest[2] == "pes") {
			std::vector<json> items;
			for (const auto &p : job->pes)
				items.push_back(peJson(c, *job, p));
			return collection(c, "pes", "pe", items);
		}
		if (rest.size() == 3 && rest[2] == "operators") {
			std::vector<json> items;
			for (const auto &op : job->ops)
				items.push_back(operatorJson(c, *job, op));
			return collection(c, "operators", "operator", items);
		}
		if (rest.size() == 3 && rest[2] == "views")
			return collection(c, "views", "view", {});
		return notFound(fmt::format("resource {}", path));
	}
	if (kind == "pes") {
		if (rest.size() == 1) {
			std::vector<json> items;
			if (job)
				for (const auto &p : job->pes)
					items.push_back(peJson(c, *job, p));
			return collection(c, "pes", "pe", items);
		}
		const PeState *pe = nullptr;
		if (job)
			for (const auto &p : job->pes)
				if (std::to_string(p.id) == rest[1])
					pe = &p;
		if (!pe)
			return notFound(fmt::format("PE {}", rest[1]));
		if (rest.size() == 2)
			return jsonResponse(http::status::ok, peJson(c, *job, *pe));
		if (rest.size() == 3 && rest[2] == "metrics")
			return collection(c, "metrics", "metric", peMetrics(c.snap, *pe), json{{"owner", c.inst + "/pes/" + rest[1]}});
		if (rest.size() == 3 && rest[2] == "operators") {
			std::vector<json> items;
			for (const auto &op : job->ops)
				if (op.peId == pe->id)
					items.push_back(operatorJson(c, *job, op));
			return collection(c, "operators", "operator", items);
		}
		if (rest.size() == 3 && (rest[2] == "inputPorts" || rest[2] == "outputPorts" || rest[2] == "connections"))
			return collection(c, rest[2], rest[2] == "connections" ? "peConnection" : "pePort", {});
		return notFound(fmt::format("resource {}", path));
	}
	if (kind == "operators") {
		if (rest.size() == 1) {
			std::vector<json> items;
			if (job)
				for (const auto &op : job->ops)
					items.push_back(operatorJson(c, *job, op));
			return collection(c, "operators", "operator", items);
		}
		const OperatorState *oper = nullptr;
		if (job)
			for (const auto &op : job->ops)
				if (std::to_string(op.id) == rest[1])
					oper = &op;
		if (!oper)
			return notFound(fmt::format("operator {}", rest[1]));
		if (rest.size() == 2)
			return jsonResponse(http::status::ok, operatorJson(c, *job, *oper));
		if (rest.size() == 3 && rest[2] == "metrics")
			return collection(c, "metrics", "metric", {},
					  json{{"owner", c.inst + "/operators/" + rest[1]}});
		if (rest.size() >= 3 && (rest[2] == "inputPorts" || rest[2] == "outputPorts")) {
			const bool input = rest[2] == "inputPorts";
			const int n = portCount(*oper, input);
			if (rest.size() == 3) {
				std::vector<json> items;
				for (int i = 0; i < n; i++)
					items.push_back(portJson(c, *oper, input, i));
				return collection(c, rest[2], input ? "operatorInputPort" : "operatorOutputPort", items);
			}
			if (!isId(rest[3]) || std::stoi(rest[3]) >= n)
				return notFound(fmt::format("port {}", rest[3]));
			if (rest.size() == 4)
				return jsonResponse(http::status::ok, portJson(c, *oper, input, std::stoi(rest[3])));
			if (rest.size() == 5 && rest[4] == "metrics")
				return collection(c, "metrics", "metric", portMetrics(c.snap, *oper, input, std::stoi(rest[3])),
						  json{{"owner", fmt::format("{}/operators/{}/{}/{}", c.inst, rest[1], rest[2], rest[3])}});
		}
		return notFound(fmt::format("resource {}", path));
	}
	if (kind == "resources") {
		const json r = resourceJson(c);
		if (rest.size() == 1)
			return collection(c, "resources", "resource", {r});
		if (rest.size() == 2 && rest[1] == r["id"])
			return jsonResponse(http::status::ok, r);
		return notFound(fmt::format("resource {}", rest.size() > 1 ? rest[1] : path));
	}
	if (kind == "activeServices") {
		const auto all = activeServices(c);
		if (rest.size() == 1)
			return collection(c, "activeServices", "activeService", all);
		for (const auto &s : all)
			if (rest.size() == 2 && s["id"] == rest[1])
				return jsonResponse(http::status::ok, s);
		return notFound(fmt::format("active service {}", rest.size() > 1 ? rest[1] : path));
	}
	// Collections the emulated application does not populate, present so clients that walk the tree see them.
	static const std::map<std::string, std::string> empty{
		{"operatorConnections", "operatorConnection"}, {"peConnections", "peConnection"}, {"views", "view"},
		{"exportedStreams", "exportedStream"}, {"importedStreams", "importedStream"},
		{"resourceAllocations", "resourceAllocation"}};
	if (auto it = empty.find(kind); it != empty.end() && rest.size() == 1)
		return collection(c, kind, it->second, {});
	return notFound(fmt::format("resource {}", path));
}

void setHostName(const std::string &name) { gHostName = name; }

} // namespace xdc::emu
