// SPDX-License-Identifier: Apache-2.0
// streamtool: the product's command-line verbs, against the emulator's REST API (the real streamtool uses internal
// protocols; stoppe and restartpe go to the emulator-only /emulator/pes/{id}/... endpoints).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/http/client.h"
#include "common/result.h"

using nlohmann::json;
using namespace xdc;

namespace {

struct Config {
	std::string url = "http://127.0.0.1:8440";
	std::string instance;
	std::string user = "streamsadmin";
	std::string password = "passw0rd";
};

struct Reply {
	long status = 0;
	std::string body;
};

Result<Reply> request(const Config &cfg, const std::string &method, const std::string &path, const std::string &body,
		      const std::string &contentType)
{
	http::Target t;
	t.user = cfg.user;
	t.password = cfg.password;
	t.connectTimeoutMs = t.timeoutMs = 30000;
	http::Client client(std::move(t), "streamtool");
	XDC_TRY(client.ready());
	const std::string url = cfg.url + path;
	http::Request req{method.c_str(), url};
	if (method == "POST")
		req.body = body;
	if (!contentType.empty())
		req.contentType = contentType.c_str();
	http::Response resp = client.perform(req);
	if (!resp.ok())
		return makeError(Errc::Io, "{} {}: {}", method, url, resp.errorName.empty() ? resp.error : resp.errorName);
	Reply r{resp.status, std::move(resp.body)};
	if (r.status / 100 != 2) {
		// The server's CDISW message is the most useful thing to show.
		const json j = json::parse(r.body, nullptr, false);
		if (j.is_object() && j.contains("message") && j["message"].is_string())
			return makeError(Errc::Refused, "{}", j["message"].get<std::string>());
		return makeError(Errc::Refused, "{} {}: HTTP {}", method, url, r.status);
	}
	return r;
}

Result<json> getJson(const Config &cfg, const std::string &path)
{
	auto r = request(cfg, "GET", path, "", "");
	if (!r)
		return r.error();
	json j = json::parse(r->body, nullptr, false);
	if (j.is_discarded())
		return makeError(Errc::Protocol, "GET {}: the answer is not JSON", path);
	return j;
}

std::string inst(const Config &cfg)
{
	return "/streams/rest/instances/" + cfg.instance;
}

void usage()
{
	std::fputs(R"(usage: streamtool [--url URL] [-i INSTANCE] [--password-file FILE] VERB [args]
Verbs: lsjobs | lspes | canceljob <id> [--force] | submitjob <bundle.sab> [--jobname N] | stoppe <peid>
       restartpe <peid> | geturl --api
The emulator is found from --url or STREAMS_EMU_URL (http://127.0.0.1:8440); the instance from -i or
STREAMS_INSTANCE_ID (else the first instance listed); credentials from STREAMS_USERNAME / STREAMS_PASSWORD or
--password-file. stoppe and restartpe use emulator-only endpoints (the product uses internal protocols).
)",
		   stderr);
}

std::string s(const json &j, const char *k)
{
	if (!j.contains(k))
		return "";
	return j[k].is_string() ? j[k].get<std::string>() : j[k].dump();
}

Result<void> run(Config &cfg, const std::vector<std::string> &args)
{
	const std::string &verb = args[0];
	if (verb == "geturl") {
		std::printf("%s/streams/rest/resources\n", cfg.url.c_str());
		return success();
	}
	if (cfg.instance.empty()) {
		auto l = getJson(cfg, "/streams/rest/instances");
		if (!l)
			return l.error();
		if (!(*l).contains("instances") || (*l)["instances"].empty())
			return makeError(Errc::NotFound, "the server lists no instances");
		cfg.instance = s((*l)["instances"][0], "id");
	}
	if (verb == "lsjobs") {
		auto j = getJson(cfg, inst(cfg) + "/jobs");
		if (!j)
			return j.error();
		std::printf("Instance: %s\n%-4s %-10s %-17s %-30s %s\n", cfg.instance.c_str(), "Id", "State", "Healthy",
			    "Name", "Application");
		for (const auto &job : (*j)["jobs"])
			std::printf("%-4s %-10s %-17s %-30s %s\n", s(job, "id").c_str(), s(job, "status").c_str(),
				    s(job, "health").c_str(), s(job, "name").c_str(), s(job, "applicationName").c_str());
		return success();
	}
	if (verb == "lspes") {
		auto j = getJson(cfg, inst(cfg) + "/pes");
		if (!j)
			return j.error();
		std::printf("Instance: %s\n%-4s %-11s %-13s %-10s %-8s %-7s %s\n", cfg.instance.c_str(), "Id", "State",
			    "Reason", "Healthy", "PID", "Launch", "JobId");
		for (const auto &pe : (*j)["pes"]) {
			const std::string jobUrl = s(pe, "job");
			std::printf("%-4s %-11s %-13s %-10s %-8s %-7s %s\n", s(pe, "id").c_str(), s(pe, "status").c_str(),
				    s(pe, "statusReason").c_str(), s(pe, "health").c_str(), s(pe, "processId").c_str(),
				    s(pe, "launchCount").c_str(), jobUrl.substr(jobUrl.rfind('/') + 1).c_str());
		}
		return success();
	}
	if (verb == "canceljob") {
		if (args.size() < 2)
			return makeError(Errc::Invalid, "canceljob needs a job id");
		// --force is accepted for compatibility: the emulator's cancel never waits for the PEs to drain.
		auto r = request(cfg, "DELETE", inst(cfg) + "/jobs/" + args[1], "", "");
		if (!r)
			return r.error();
		std::printf("CDISC0021I The job with the %s ID was canceled.\n", args[1].c_str());
		return success();
	}
	if (verb == "submitjob") {
		if (args.size() < 2)
			return makeError(Errc::Invalid, "submitjob needs a bundle file");
		std::string jobName;
		for (size_t i = 2; i + 1 < args.size(); ++i)
			if (args[i] == "--jobname" || args[i] == "-J")
				jobName = args[i + 1];
		std::ifstream f(args[1], std::ios::binary);
		if (!f)
			return makeError(Errc::Invalid, "cannot read bundle '{}'", args[1]);
		std::stringstream ss;
		ss << f.rdbuf();
		auto up = request(cfg, "POST", inst(cfg) + "/applicationbundles", ss.str(), "application/x-jar");
		if (!up)
			return up.error();
		const json b = json::parse(up->body, nullptr, false);
		if (!b.is_object() || !b.contains("bundleId"))
			return makeError(Errc::Protocol, "the bundle upload answer has no bundleId");
		json overlay = json::object();
		if (!jobName.empty())
			overlay = {{"jobConfigOverlays", {{{"jobConfig", {{"jobName", jobName}}}}}}};
		const json req{{"application", b["bundleId"]}, {"jobConfigurationOverlay", overlay}, {"preview", false}};
		auto sub = request(cfg, "POST", inst(cfg) + "/jobs", req.dump(), "application/json");
		if (!sub)
			return sub.error();
		const json job = json::parse(sub->body, nullptr, false);
		std::printf("CDISC0079I The %s application bundle was uploaded as %s.\n", args[1].c_str(),
			    s(b, "bundleId").c_str());
		std::printf("CDISC0080I The job with the %s ID and the %s name was submitted.\n", s(job, "id").c_str(),
			    s(job, "name").c_str());
		return success();
	}
	if (verb == "stoppe" || verb == "restartpe") {
		if (args.size() < 2)
			return makeError(Errc::Invalid, "{} needs a PE id", verb);
		const std::string action = verb == "stoppe" ? "stop" : "restart";
		auto r = request(cfg, "POST", "/emulator/pes/" + args[1] + "/" + action, "", "");
		if (!r)
			return r.error();
		const json pe = json::parse(r->body, nullptr, false);
		std::printf("PE %s: %s requested (status %s, launchCount %s).\n", args[1].c_str(), action.c_str(),
			    s(pe, "status").c_str(), s(pe, "launchCount").c_str());
		return success();
	}
	return makeError(Errc::Invalid, "unknown verb '{}'", verb);
}

} // namespace

int main(int argc, char **argv)
{
	Config cfg;
	if (const char *v = std::getenv("STREAMS_EMU_URL"); v && *v)
		cfg.url = v;
	if (const char *v = std::getenv("STREAMS_INSTANCE_ID"); v && *v)
		cfg.instance = v;
	if (const char *v = std::getenv("STREAMS_USERNAME"); v && *v)
		cfg.user = v;
	if (const char *v = std::getenv("STREAMS_PASSWORD"); v && *v)
		cfg.password = v;
	std::vector<std::string> args;
	for (int i = 1; i < argc; ++i) {
		const std::string a = argv[i];
		const bool hasNext = i + 1 < argc;
		if (a == "--url" && hasNext) {
			cfg.url = argv[++i];
		} else if ((a == "-i" || a == "--instance-id") && hasNext) {
			cfg.instance = argv[++i];
		} else if (a == "--password-file" && hasNext) {
			std::ifstream f(argv[++i]);
			if (!f || !std::getline(f, cfg.password)) {
				std::fprintf(stderr, "streamtool: cannot read password file '%s'\n", argv[i]);
				return 2;
			}
		} else if (a == "-h" || a == "--help") {
			usage();
			return 0;
		} else {
			args.push_back(a);
		}
	}
	while (!cfg.url.empty() && cfg.url.back() == '/')
		cfg.url.pop_back();
	if (args.empty()) {
		usage();
		return 2;
	}
	auto r = run(cfg, args);
	if (!r) {
		std::fprintf(stderr, "streamtool %s: %s\n", args[0].c_str(), r.error().message.c_str());
		return r.error().code == Errc::Invalid ? 2 : 1;
	}
	return 0;
}
