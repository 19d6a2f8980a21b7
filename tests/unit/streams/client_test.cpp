// SPDX-License-Identifier: Apache-2.0
// Tests of the Streams REST client against a scripted server: discovery, auth, tokens, TLS, retries, paging, errors.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "controller/streams/client.h"
#include "tests/support/scripted_http.h"
#include "tests/unit/unit_util.h"

using namespace xdc::test;
using namespace xdc;
using namespace xdc::streams;
using xdc::test::ScriptedHttpServer;
using xdc::test::ScriptedResponse;
using Kind = ApiFailure::Kind;

namespace {

const char *kUser = "streamsadmin";
const char *kPassword = "Pa55-w0rd-secret";
// base64("streamsadmin:Pa55-w0rd-secret")
const char *kBasic = "Basic c3RyZWFtc2FkbWluOlBhNTUtdzByZC1zZWNyZXQ=";

Endpoint endpoint(const ScriptedHttpServer &s)
{
	Endpoint ep;
	ep.dc = "dc1";
	ep.url = s.url();
	ep.instance = "inst1";
	ep.user = kUser;
	ep.password = kPassword;
	ep.timeoutMs = 3000;
	ep.connectTimeoutMs = 1000;
	ep.retries = 2;
	ep.retryBackoffMs = 1;
	ep.pageSize = 0;
	return ep;
}

// The 4.x/5.x root and an instance list in which the configured instance is not the first.
void scriptResources(ScriptedHttpServer &s, bool tokens = false)
{
	const std::string u = s.url();
	std::string root = fmt::format(R"({{"resources":[{{"name":"instances","resource":"{}/streams/rest/instances"}})", u);
	if (tokens)
		root += fmt::format(R"(,{{"name":"accessTokens","resource":"{}/streams/rest/accessTokens"}})", u);
	root += R"(],"resourceType":"resourceList"})";
	s.json("GET", "/streams/rest/resources", 200, root, true);
	s.json("GET", "/streams/rest/instances", 200,
	       fmt::format(R"({{"instances":[{{"id":"other","self":"{0}/streams/rest/instances/other"}},
			{{"id":"inst1","self":"{0}/streams/rest/instances/inst1","status":"running"}}],
			"total":2,"resourceType":"instanceList"}})",
			   u),
	       true);
}

const std::string kJobs = R"({"jobs":[
	{"id":"1","self":"x","name":"CrossDcApp","applicationName":"CrossDcApp","health":"healthy","status":"running","submitTime":1700000000000},
	{"id":2,"self":"y","name":"Other_2","applicationName":"Other","health":"unhealthy","status":"running","submitTime":1}
	],"total":2,"resourceType":"jobList"})";

// A port nobody listens on: bound, never listened, then closed.
int closedPort()
{
	const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
	socklen_t len = sizeof a;
	::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
	const int port = ntohs(a.sin_port);
	::close(fd);
	return port;
}

} // namespace

TEST_CASE("streams client: root discovery, the configured instance and its jobs (4.x/5.x path)")
{
	ScriptedHttpServer s;
	scriptResources(s);
	s.json("GET", "/streams/rest/instances/inst1/jobs", 200, kJobs);
	s.json("GET", "/streams/rest/instances/inst1", 200,
	       R"({"id":"inst1","self":"s","status":"running","health":"healthy","startTime":12})");
	Client c(endpoint(s));
	REQUIRE(c.connect().ok());
	auto jobs = c.jobs();
	REQUIRE(jobs.ok());
	REQUIRE(jobs->size() == 2);
	CHECK((*jobs)[0].name == "CrossDcApp");
	CHECK((*jobs)[1].id == "2");
	CHECK((*jobs)[1].health == "unhealthy");
	auto inst = c.instance();
	REQUIRE(inst.ok());
	CHECK(inst->status == "running");
	CHECK(c.lastFailure().kind == Kind::None);
	const auto reqs = s.requests();
	REQUIRE(reqs.size() == 4);
	CHECK(reqs[0].path() == "/streams/rest/resources");
	CHECK(reqs[2].path() == "/streams/rest/instances/inst1/jobs");
	for (const auto &r : reqs)
		CHECK(r.header("authorization") == kBasic);
	CHECK(c.requestCount() == 4);
	// One easy handle: the connection is kept and reused.
	CHECK(s.connections() == 1);
}

TEST_CASE("streams client: the 7.x path, after a 404 root in auto mode and when configured")
{
	SUBCASE("auto falls back on 404")
	{
		ScriptedHttpServer s;
		s.json("GET", "/streams/rest/resources", 404, R"({"id":"CDISW5000E","message":"CDISW5000E not found"})");
		s.json("GET", "/streams/instances/inst1/jobs", 200, kJobs);
		Client c(endpoint(s));
		auto jobs = c.jobs();
		REQUIRE(jobs.ok());
		CHECK(jobs->size() == 2);
		CHECK(s.requests("GET", "/streams/instances/inst1/jobs").size() == 1);
	}
	SUBCASE("path_style instances asks no root")
	{
		ScriptedHttpServer s;
		s.json("GET", "/streams/instances/inst1/pes", 200,
		       R"({"pes":[{"id":"4","job":"http://x/streams/instances/inst1/jobs/1","launchCount":2}],"total":1})");
		Endpoint ep = endpoint(s);
		ep.style = PathStyle::Instances;
		Client c(ep);
		auto pes = c.pes();
		REQUIRE(pes.ok());
		REQUIRE(pes->size() == 1);
		CHECK((*pes)[0].jobId == "1");
		CHECK((*pes)[0].launchCount == 2);
		CHECK(s.requests("GET", "/streams/rest/resources").empty());
	}
	SUBCASE("path_style resources does not fall back")
	{
		ScriptedHttpServer s;
		s.json("GET", "/streams/rest/resources", 404, "{}");
		Endpoint ep = endpoint(s);
		ep.style = PathStyle::Resources;
		Client c(ep);
		auto r = c.connect();
		REQUIRE_FALSE(r.ok());
		CHECK(r.error().code == Errc::NotFound);
		CHECK(s.requestCount() == 1);
	}
}

TEST_CASE("streams client: an unknown instance is NotFound naming the ones listed")
{
	ScriptedHttpServer s;
	scriptResources(s);
	Endpoint ep = endpoint(s);
	ep.instance = "nope";
	Client c(ep);
	auto r = c.connect();
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().code == Errc::NotFound);
	CHECK(contains(r.error().message, "instance 'nope' is not among the 2 listed (other, inst1)"));
}

TEST_CASE("streams client: 401 is an Auth failure with its status kept, and not retried")
{
	ScriptedHttpServer s;
	s.json("GET", "/streams/rest/resources", 401, R"({"id":"CDISW5003E","message":"CDISW5003E not authorized"})",
	       true);
	Client c(endpoint(s));
	auto r = c.jobs();
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().code == Errc::Refused);
	CHECK(c.lastFailure().kind == Kind::Auth);
	CHECK(c.lastFailure().httpStatus == 401);
	CHECK(c.lastFailure().errorType == "CDISW5003E");
	CHECK(s.requestCount() == 1);
	CHECK(std::string(failureKindName(c.lastFailure().kind)) == "auth");
}

TEST_CASE("streams client: 404 keeps the CDISW id and text in lastFailure and in the message")
{
	ScriptedHttpServer s;
	scriptResources(s);
	s.json("GET", "/streams/rest/instances/inst1/jobs/9", 404,
	       R"({"id":"CDISW5000E","message":"CDISW5000E The job 9 does not exist."})");
	Client c(endpoint(s));
	auto r = c.get("jobs/9");
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().code == Errc::NotFound);
	const ApiFailure &f = c.lastFailure();
	CHECK(f.kind == Kind::NotFound);
	CHECK(f.httpStatus == 404);
	CHECK(f.errorType == "CDISW5000E");
	CHECK(contains(f.error, "The job 9 does not exist."));
	CHECK(f.url == s.url() + "/streams/rest/instances/inst1/jobs/9");
	CHECK(r.error().message == "GET " + s.url() +
					   "/streams/rest/instances/inst1/jobs/9: HTTP 404 CDISW5000E: The job 9 does not exist.");
}

TEST_CASE("streams client: the other error body shapes")
{
	ScriptedHttpServer s;
	scriptResources(s);
	s.json("GET", "/streams/rest/instances/inst1/a", 400, R"({"messages":["first problem","second problem"]})");
	s.json("GET", "/streams/rest/instances/inst1/b", 409, R"({"errors":[{"message":"CDISW5010E conflict here"}]})");
	ScriptedResponse html;
	html.status = 502;
	html.body = "<html>bad gateway</html>";
	html.headers = {{"Content-Type", "text/html"}};
	html.repeat = true;
	s.on("GET", "/streams/rest/instances/inst1/c", html);
	Endpoint ep = endpoint(s);
	ep.retries = 0;
	Client c(ep);
	auto a = c.get("a");
	REQUIRE_FALSE(a.ok());
	CHECK(a.error().code == Errc::Invalid);
	CHECK(c.lastFailure().error == "first problem; second problem");
	auto b = c.get("b");
	REQUIRE_FALSE(b.ok());
	CHECK(c.lastFailure().errorType == "CDISW5010E");
	CHECK(contains(b.error().message, "HTTP 409 CDISW5010E: conflict here"));
	auto cc = c.get("c");
	REQUIRE_FALSE(cc.ok());
	CHECK(c.lastFailure().kind == Kind::Http);
	CHECK(contains(cc.error().message, "HTTP 502 <html>bad gateway</html>"));
}

TEST_CASE("streams client: 500 is retried for GET and given up as Http; DELETE and POST are never retried")
{
	ScriptedHttpServer s;
	scriptResources(s);
	s.json("GET", "/streams/rest/instances/inst1/jobs", 500, R"({"id":"CDISW5001E","message":"CDISW5001E boom"})",
	       true);
	s.json("DELETE", "/streams/rest/instances/inst1/jobs/3", 500, "{}", true);
	s.json("POST", "/streams/rest/instances/inst1/jobs", 503, "{}", true);
	Endpoint ep = endpoint(s);
	ep.retries = 2;
	Client c(ep);
	auto r = c.jobs();
	REQUIRE_FALSE(r.ok());
	CHECK(c.lastFailure().kind == Kind::Http);
	CHECK(c.lastFailure().httpStatus == 500);
	CHECK(r.error().code == Errc::Io);
	CHECK(s.requests("GET", "/streams/rest/instances/inst1/jobs").size() == 3);

	auto d = c.cancelJob("3");
	REQUIRE_FALSE(d.ok());
	CHECK(c.lastFailure().httpStatus == 500);
	CHECK(s.requests("DELETE", "/streams/rest/instances/inst1/jobs/3").size() == 1);

	auto p = c.submitJob("b1", nlohmann::json::object());
	REQUIRE_FALSE(p.ok());
	CHECK(s.requests("POST", "/streams/rest/instances/inst1/jobs").size() == 1);
}

TEST_CASE("streams client: a 503 then a 200 succeeds on the retry")
{
	ScriptedHttpServer s;
	scriptResources(s);
	s.json("GET", "/streams/rest/instances/inst1/jobs", 503, "{}");
	s.json("GET", "/streams/rest/instances/inst1/jobs", 200, kJobs);
	Client c(endpoint(s));
	auto r = c.jobs();
	REQUIRE(r.ok());
	CHECK(r->size() == 2);
	CHECK(c.lastFailure().kind == Kind::None);
}

TEST_CASE("streams client: malformed JSON is BadJson, wrong types are BadShape naming the field")
{
	ScriptedHttpServer s;
	scriptResources(s);
	s.json("GET", "/streams/rest/instances/inst1/jobs", 200, R"({"jobs":[{"id":"1",)");
	s.json("GET", "/streams/rest/instances/inst1/pes", 200,
	       R"({"pes":[{"id":"3","launchCount":"two"}],"total":1})");
	s.json("GET", "/streams/rest/instances/inst1/resources", 200, R"({"resources":{"id":"1"}})");
	Client c(endpoint(s));
	auto j = c.jobs();
	REQUIRE_FALSE(j.ok());
	CHECK(j.error().code == Errc::Protocol);
	CHECK(c.lastFailure().kind == Kind::BadJson);
	CHECK(c.lastFailure().httpStatus == 200);

	auto p = c.pes();
	REQUIRE_FALSE(p.ok());
	CHECK(p.error().code == Errc::Protocol);
	CHECK(c.lastFailure().kind == Kind::BadShape);
	CHECK(contains(p.error().message, "pe '3': field 'launchCount' is a string, expected an integer"));
	CHECK(contains(p.error().message, "/streams/rest/instances/inst1/pes"));

	auto r = c.resources();
	REQUIRE_FALSE(r.ok());
	CHECK(c.lastFailure().kind == Kind::BadShape);
	CHECK(contains(r.error().message, "field 'resources' is not an array"));
}

TEST_CASE("streams client: missing fields are listed, not errors")
{
	ScriptedHttpServer s;
	scriptResources(s);
	s.json("GET", "/streams/rest/instances/inst1/jobs", 200, R"({"jobs":[{"id":"5","name":"A_5"}],"total":1})");
	Client c(endpoint(s));
	auto j = c.jobs();
	REQUIRE(j.ok());
	REQUIRE(j->size() == 1);
	const auto &missing = (*j)[0].missing;
	CHECK(std::find(missing.begin(), missing.end(), "health") != missing.end());
	CHECK(std::find(missing.begin(), missing.end(), "status") != missing.end());
	CHECK(std::find(missing.begin(), missing.end(), "name") == missing.end());
}

TEST_CASE("streams client: a slow server is a Timeout within timeoutMs plus slack")
{
	ScriptedHttpServer s;
	scriptResources(s);
	ScriptedResponse slow;
	slow.delayMs = 5000;
	slow.body = kJobs;
	s.on("GET", "/streams/rest/instances/inst1/jobs", slow);
	Endpoint ep = endpoint(s);
	ep.timeoutMs = 300;
	ep.retries = 0;
	Client c(ep);
	REQUIRE(c.connect().ok());
	const auto start = std::chrono::steady_clock::now();
	auto r = c.jobs();
	const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start)
				.count();
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().code == Errc::Timeout);
	CHECK(c.lastFailure().kind == Kind::Timeout);
	CHECK(ms >= 250);
	CHECK(ms < 1300);
}

TEST_CASE("streams client: nobody listening is a Connect failure (Io)")
{
	Endpoint ep;
	ep.url = fmt::format("http://127.0.0.1:{}", closedPort());
	ep.user = kUser;
	ep.password = kPassword;
	ep.retries = 1;
	ep.retryBackoffMs = 1;
	Client c(ep);
	auto r = c.connect();
	REQUIRE_FALSE(r.ok());
	CHECK(r.error().code == Errc::Io);
	CHECK(c.lastFailure().kind == Kind::Connect);
	CHECK(c.lastFailure().httpStatus == 0);
	CHECK(c.requestCount() == 2); // one retry: GETs are idempotent
}

TEST_CASE("streams client: TLS with the wrong CA fails as Tls; the right CA and insecure work")
{
	const auto &pki = xdc::test::testPki();
	REQUIRE_MESSAGE(pki.error.empty(), pki.error);
	ScriptedHttpServer s(ScriptedHttpServer::Tls{pki.serverCert, pki.serverKey});
	scriptResources(s);
	s.json("GET", "/streams/rest/instances/inst1/jobs", 200, kJobs, true);
	CHECK(s.url().rfind("https://", 0) == 0);
	SUBCASE("wrong CA")
	{
		Endpoint ep = endpoint(s);
		ep.caFile = pki.otherCaFile;
		Client c(ep);
		auto r = c.jobs();
		REQUIRE_FALSE(r.ok());
		CHECK(c.lastFailure().kind == Kind::Tls);
		CHECK(r.error().code == Errc::Refused);
		CHECK(contains(r.error().message, "TLS"));
		CHECK(c.requestCount() == 1); // a certificate does not get better by asking again
	}
	SUBCASE("right CA")
	{
		Endpoint ep = endpoint(s);
		ep.caFile = pki.caFile;
		Client c(ep);
		auto r = c.jobs();
		REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
		CHECK(r->size() == 2);
	}
	SUBCASE("insecure, explicitly")
	{
		Endpoint ep = endpoint(s);
		ep.caFile = pki.otherCaFile;
		ep.insecure = true;
		Client c(ep);
		auto r = c.jobs();
		REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
	}
}

TEST_CASE("streams client: an access token is obtained with Basic, used as Bearer and refreshed before expiry")
{
	ScriptedHttpServer s;
	scriptResources(s, true);
	s.json("POST", "/streams/rest/accessTokens", 200, R"({"accessToken":"tok-1","expiresIn":1})");
	s.json("POST", "/streams/rest/accessTokens", 200, R"({"accessToken":"tok-2","expiresIn":600})");
	s.json("GET", "/streams/rest/instances/inst1/jobs", 200, kJobs, true);
	Client c(endpoint(s));
	REQUIRE(c.jobs().ok());
	auto posts = s.requests("POST", "/streams/rest/accessTokens");
	REQUIRE(posts.size() == 1);
	CHECK(posts[0].header("authorization") == kBasic);
	CHECK(nlohmann::json::parse(posts[0].body) == nlohmann::json{{"audience", "streams"}});
	auto gets = s.requests("GET", "/streams/rest/instances/inst1/jobs");
	REQUIRE(gets.size() == 1);
	CHECK(gets[0].header("authorization") == "Bearer tok-1");

	// The token lives 1 s: within a deadline, a request goes out with a new one.
	const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
	while (s.requests("POST", "/streams/rest/accessTokens").size() < 2 && std::chrono::steady_clock::now() < deadline) {
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		REQUIRE(c.jobs().ok());
	}
	REQUIRE(s.requests("POST", "/streams/rest/accessTokens").size() == 2);
	gets = s.requests("GET", "/streams/rest/instances/inst1/jobs");
	CHECK(gets.back().header("authorization") == "Bearer tok-2");
}

TEST_CASE("streams client: a 401 with a token refreshes it once and retries the request")
{
	ScriptedHttpServer s;
	scriptResources(s, true);
	s.json("POST", "/streams/rest/accessTokens", 200, R"({"accessToken":"tok-a"})");
	s.json("POST", "/streams/rest/accessTokens", 200, R"({"accessToken":"tok-b"})");
	s.json("GET", "/streams/rest/instances/inst1/jobs", 401, R"({"id":"CDISW5003E","message":"expired"})");
	s.json("GET", "/streams/rest/instances/inst1/jobs", 200, kJobs);
	Client c(endpoint(s));
	auto r = c.jobs();
	REQUIRE(r.ok());
	const auto gets = s.requests("GET", "/streams/rest/instances/inst1/jobs");
	REQUIRE(gets.size() == 2);
	CHECK(gets[0].header("authorization") == "Bearer tok-a");
	CHECK(gets[1].header("authorization") == "Bearer tok-b");

	SUBCASE("a second 401 is the answer")
	{
		s.json("POST", "/streams/rest/accessTokens", 200, R"({"accessToken":"tok-c"})");
		s.json("GET", "/streams/rest/instances/inst1/pes", 401, "{}", true);
		auto p = c.pes();
		REQUIRE_FALSE(p.ok());
		CHECK(c.lastFailure().kind == Kind::Auth);
		CHECK(s.requests("GET", "/streams/rest/instances/inst1/pes").size() == 2);
	}
}

TEST_CASE("streams client: tokens off, or a refused token request")
{
	SUBCASE("useTokens=false keeps Basic")
	{
		ScriptedHttpServer s;
		scriptResources(s, true);
		s.json("GET", "/streams/rest/instances/inst1/jobs", 200, kJobs);
		Endpoint ep = endpoint(s);
		ep.useTokens = false;
		Client c(ep);
		REQUIRE(c.jobs().ok());
		CHECK(s.requests("POST", "").empty());
		CHECK(s.requests("GET", "/streams/rest/instances/inst1/jobs")[0].header("authorization") == kBasic);
	}
	SUBCASE("the token resource says 401")
	{
		ScriptedHttpServer s;
		scriptResources(s, true);
		s.json("POST", "/streams/rest/accessTokens", 401, "{}");
		Client c(endpoint(s));
		auto r = c.connect();
		REQUIRE_FALSE(r.ok());
		CHECK(c.lastFailure().kind == Kind::Auth);
		CHECK(r.error().code == Errc::Refused);
	}
	SUBCASE("an answer without a token")
	{
		ScriptedHttpServer s;
		scriptResources(s, true);
		s.json("POST", "/streams/rest/accessTokens", 200, R"({"token":"x"})");
		Client c(endpoint(s));
		auto r = c.connect();
		REQUIRE_FALSE(r.ok());
		CHECK(c.lastFailure().kind == Kind::BadShape);
	}
}

TEST_CASE("streams client: paging over 3 pages, with fields and filters escaped")
{
	ScriptedHttpServer s;
	scriptResources(s);
	const std::string base = "/streams/rest/instances/inst1/jobs?fields=id%2Cname&name=Cross%20Dc&count=1&page=";
	for (int i = 1; i <= 3; i++)
		s.json("GET", base + std::to_string(i), 200,
		       fmt::format(R"({{"jobs":[{{"id":"{}","name":"Cross Dc"}}],"total":3,"resourceType":"jobList"}})", i));
	Endpoint ep = endpoint(s);
	ep.pageSize = 1;
	Client c(ep);
	Query q;
	q.fields = {"id", "name"};
	q.filters["name"] = "Cross Dc";
	auto j = c.jobs(q);
	REQUIRE_MESSAGE(j.ok(), (j.ok() ? "" : j.error().message));
	REQUIRE(j->size() == 3);
	CHECK((*j)[0].id == "1");
	CHECK((*j)[2].id == "3");
	CHECK(s.requests("GET", "/streams/rest/instances/inst1/jobs").size() == 3);
}

TEST_CASE("streams client: paging stops on an empty page and on a server that ignores paging")
{
	SUBCASE("empty page")
	{
		ScriptedHttpServer s;
		scriptResources(s);
		s.json("GET", "/streams/rest/instances/inst1/pes", 200, R"({"pes":[{"id":"1"},{"id":"2"}]})");
		s.json("GET", "/streams/rest/instances/inst1/pes", 200, R"({"pes":[]})");
		Endpoint ep = endpoint(s);
		ep.pageSize = 2;
		Client c(ep);
		auto l = c.list("pes", "pes");
		REQUIRE(l.ok());
		CHECK(l->size() == 2);
	}
	SUBCASE("ignored paging repeats the first page")
	{
		ScriptedHttpServer s;
		scriptResources(s);
		s.json("GET", "/streams/rest/instances/inst1/pes", 200, R"({"pes":[{"id":"1"},{"id":"2"}],"total":5})",
		       true);
		Endpoint ep = endpoint(s);
		ep.pageSize = 2;
		Client c(ep);
		auto l = c.list("pes", "pes");
		REQUIRE(l.ok());
		CHECK(l->size() == 2);
		CHECK(s.requests("GET", "/streams/rest/instances/inst1/pes").size() == 2);
	}
}

TEST_CASE("streams client: upload, submit and cancel")
{
	ScriptedHttpServer s;
	scriptResources(s);
	s.json("POST", "/streams/rest/instances/inst1/applicationbundles", 200, R"({"bundleId":"b-42"})");
	s.json("POST", "/streams/rest/instances/inst1/jobs", 201,
	       R"({"id":"17","name":"CrossDcApp","applicationName":"CrossDcApp","status":"running"})");
	s.json("DELETE", "/streams/rest/instances/inst1/jobs/17", 204, "");
	s.json("DELETE", "/streams/rest/instances/inst1/jobs/18", 404, R"({"id":"CDISW5000E","message":"gone"})");
	char path[] = "/tmp/xdc-sab-XXXXXX";
	const int fd = ::mkstemp(path);
	REQUIRE(fd >= 0);
	const std::string bytes("PK\x03\x04\x00\xff sab bytes", 16);
	REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
	::close(fd);
	Client c(endpoint(s));
	auto b = c.uploadBundle(path);
	::unlink(path);
	REQUIRE_MESSAGE(b.ok(), (b.ok() ? "" : b.error().message));
	CHECK(*b == "b-42");
	auto up = s.requests("POST", "/streams/rest/instances/inst1/applicationbundles");
	REQUIRE(up.size() == 1);
	CHECK(up[0].header("content-type") == "application/x-jar");
	CHECK(up[0].body == bytes);

	auto j = c.submitJob(*b, nlohmann::json{{"jobConfig", {{"jobName", "CrossDcApp"}}}});
	REQUIRE(j.ok());
	CHECK(j->id == "17");
	auto sub = s.requests("POST", "/streams/rest/instances/inst1/jobs");
	REQUIRE(sub.size() == 1);
	const auto body = nlohmann::json::parse(sub[0].body);
	CHECK(body["application"] == "b-42");
	CHECK(body["preview"] == false);
	CHECK(body["jobConfigurationOverlay"]["jobConfig"]["jobName"] == "CrossDcApp");

	CHECK(c.cancelJob("17").ok());
	auto gone = c.cancelJob("18");
	REQUIRE_FALSE(gone.ok());
	CHECK(gone.error().code == Errc::NotFound);

	auto missing = c.uploadBundle("/nonexistent/app.sab");
	REQUIRE_FALSE(missing.ok());
	CHECK(missing.error().code == Errc::Io);
}

TEST_CASE("streams client: credentials never appear in any error message")
{
	std::vector<std::string> messages;
	auto record = [&messages](const Client &c, const Error &e) {
		messages.push_back(e.message);
		messages.push_back(c.lastFailure().error);
		messages.push_back(c.lastFailure().url);
	};
	{
		// A server that echoes what it was sent, credentials included.
		ScriptedHttpServer s;
		s.json("GET", "/streams/rest/resources", 401,
		       fmt::format(R"({{"message":"bad credentials {} for {} [{}]"}})", kPassword, kUser, kBasic));
		Client c(endpoint(s));
		auto r = c.connect();
		REQUIRE_FALSE(r.ok());
		record(c, r.error());
	}
	{
		// Credentials written into the URL are moved out of it.
		ScriptedHttpServer s;
		s.json("GET", "/streams/rest/resources", 500, std::string("not json ") + kPassword, true);
		Endpoint ep = endpoint(s);
		ep.user.clear();
		ep.password.clear();
		ep.url = fmt::format("http://{}:{}@127.0.0.1:{}", kUser, kPassword, s.port());
		ep.retries = 0;
		Client c(ep);
		auto r = c.connect();
		REQUIRE_FALSE(r.ok());
		record(c, r.error());
		CHECK(s.requests()[0].header("authorization") == kBasic);
	}
	{
		Endpoint ep;
		ep.url = fmt::format("http://127.0.0.1:{}", closedPort());
		ep.user = kUser;
		ep.password = kPassword;
		ep.retries = 0;
		Client c(ep);
		auto r = c.connect();
		REQUIRE_FALSE(r.ok());
		record(c, r.error());
	}
	{
		ScriptedHttpServer s;
		scriptResources(s, true);
		s.json("POST", "/streams/rest/accessTokens", 200, R"({"accessToken":"tok-secret-123"})");
		s.json("GET", "/streams/rest/instances/inst1/jobs", 404, R"({"message":"unknown token tok-secret-123"})");
		Client c(endpoint(s));
		auto r = c.jobs();
		REQUIRE_FALSE(r.ok());
		record(c, r.error());
		CHECK_FALSE(contains(r.error().message, "tok-secret-123"));
	}
	REQUIRE(messages.size() == 12);
	for (const auto &m : messages) {
		CHECK_FALSE(contains(m, kPassword));
		CHECK_FALSE(contains(m, kBasic + 6));
	}
}

TEST_CASE("streams client: hostile answers are errors, never crashes")
{
	ScriptedHttpServer s;
	scriptResources(s);
	const std::vector<std::string> bodies = {
		"", "null", "[]", "42", R"({"jobs":null})", R"({"jobs":[1,2,3]})", R"({"jobs":[{"id":{"x":1}}]})",
		R"({"jobs":[],"total":"many"})", std::string(100000, '['), "\xff\xfe\x00garbage", R"({"jobs":[{"id":1e400}]})",
	};
	for (const auto &b : bodies)
		s.json("GET", "/streams/rest/instances/inst1/jobs", 200, b);
	Client c(endpoint(s));
	for (size_t i = 0; i < bodies.size(); i++) {
		auto r = c.jobs();
		CHECK_MESSAGE(!r.ok(), "body #" << i);
		if (!r.ok())
			CHECK(r.error().code == Errc::Protocol);
	}
}
