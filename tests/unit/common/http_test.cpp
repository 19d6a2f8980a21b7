// SPDX-License-Identifier: Apache-2.0
// The one HTTP client (common/http/client.h): its pure parts (escaping, URL joining, failure classification from
// libcurl's codes and from statuses, the transport messages) and, against a scripted server, the options its users
// rely on (keep-alive or a connection per request, methods and bodies, credentials, bounded and truncated bodies).
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include <doctest/doctest.h>

#include "common/http/client.h"
#include "tests/support/scripted_http.h"

using namespace xdc;
using namespace xdc::http;
using xdc::test::ScriptedHttpServer;
using xdc::test::ScriptedResponse;
using Kind = Failure::Kind;

namespace {

// libcurl's codes (stable in its ABI), so that the test needs no libcurl header.
constexpr int kCouldntResolveHost = 6, kCouldntConnect = 7, kWriteError = 23, kTimedOut = 28, kSslConnect = 35,
	      kGotNothing = 52, kRecvError = 56, kPeerVerification = 60;

struct NoProxyEnv {
	NoProxyEnv()
	{
		for (const char *v : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"})
			::unsetenv(v);
	}
} noProxyEnv;

Target targetOf(const ScriptedHttpServer &s)
{
	Target t;
	t.url = s.url();
	t.connectTimeoutMs = 1000;
	t.timeoutMs = 2000;
	return t;
}

} // namespace

TEST_CASE("http: escape keeps only the unreserved characters")
{
	CHECK(escape("") == "");
	CHECK(escape("AZaz09-._~") == "AZaz09-._~");
	CHECK(escape("up == 1") == "up%20%3D%3D%201");
	CHECK(escape("a/b?c&d=e#f") == "a%2Fb%3Fc%26d%3De%23f");
	CHECK(escape("job[0]") == "job%5B0%5D");
	CHECK(escape("\xc3\xa9") == "%C3%A9");
	CHECK(escape(std::string_view("\0x", 2)) == "%00x");
}

TEST_CASE("http: URLs are joined and split without doubled slashes")
{
	CHECK(Client::joinUrl("http://h:1", "/api") == "http://h:1/api");
	CHECK(Client::joinUrl("http://h:1/", "/api") == "http://h:1/api");
	CHECK(Client::joinUrl("http://h:1/p", "") == "http://h:1/p");
	CHECK(splitOrigin("https://h:1/a/b?c") == std::pair<std::string, std::string>{"https://h:1", "/a/b?c"});
	CHECK(splitOrigin("https://h:1?c") == std::pair<std::string, std::string>{"https://h:1", "?c"});
	CHECK(splitOrigin("https://h:1") == std::pair<std::string, std::string>{"https://h:1", ""});
	CHECK(splitOrigin("/a/b") == std::pair<std::string, std::string>{"", "/a/b"});
	CHECK(isHttpUrl("http://x"));
	CHECK(isHttpUrl("https://x"));
	CHECK_FALSE(isHttpUrl("ftp://x"));
	CHECK_FALSE(isHttpUrl("x"));
}

TEST_CASE("http: a base URL loses its trailing slashes")
{
	Target t;
	t.url = "http://127.0.0.1:9//";
	Client c(t);
	CHECK(c.target().url == "http://127.0.0.1:9");
	CHECK(c.urlFor("/x") == "http://127.0.0.1:9/x");
}

TEST_CASE("http: server text in messages is one printable, bounded line")
{
	CHECK(printable("a\nb\tc\rd") == "a b c d");
	CHECK(printable("a\x01" "b\x7f") == "a?b?");
	CHECK(printable("text  \n") == "text");
	CHECK(printable(std::string(400, 'x')) == std::string(300, 'x') + "...");
	CHECK(printable("abcdef", 3) == "abc...");
}

TEST_CASE("http: libcurl's codes map onto the failure kinds")
{
	CHECK(kindOfCurlCode(0) == Kind::None);
	CHECK(kindOfCurlCode(kTimedOut) == Kind::Timeout);
	CHECK(kindOfCurlCode(kSslConnect) == Kind::Tls);
	CHECK(kindOfCurlCode(kPeerVerification) == Kind::Tls);
	CHECK(kindOfCurlCode(kCouldntConnect) == Kind::Connect);
	CHECK(kindOfCurlCode(kRecvError) == Kind::Connect);
	CHECK(isConnectCurlCode(kCouldntConnect));
	CHECK(isConnectCurlCode(kCouldntResolveHost));
	CHECK_FALSE(isConnectCurlCode(kRecvError));
	CHECK(kCouldNotConnect == kCouldntConnect);
	for (int rc : {kTimedOut, kCouldntConnect, kCouldntResolveHost, kRecvError, kGotNothing})
		CHECK_MESSAGE(isTransientCurlCode(rc), rc);
	for (int rc : {0, kSslConnect, kPeerVerification, kWriteError})
		CHECK_MESSAGE(!isTransientCurlCode(rc), rc);
}

TEST_CASE("http: statuses map onto error codes, kinds onto names")
{
	CHECK(errcForStatus(401) == Errc::Refused);
	CHECK(errcForStatus(403) == Errc::Refused);
	CHECK(errcForStatus(404) == Errc::NotFound);
	CHECK(errcForStatus(400) == Errc::Invalid);
	CHECK(errcForStatus(422) == Errc::Invalid);
	CHECK(errcForStatus(503) == Errc::Timeout);
	CHECK(errcForStatus(500) == Errc::Io);
	CHECK(std::string(failureKindName(Kind::NotFound)) == "not-found");
	CHECK(std::string(failureKindName(Kind::BadJson)) == "bad-json");
	CHECK(std::string(failureKindName(Kind::Server)) == "server");
}

TEST_CASE("http: transport failures read as every user has always written them")
{
	Target t;
	t.connectTimeoutMs = 100;
	t.timeoutMs = 500;
	Failure f;
	Response r;
	r.kind = Kind::Timeout;
	r.curlCode = kTimedOut;
	r.error = "Operation timed out after 500 milliseconds";
	Error e = transportError("GET", "http://h/x", r, t, f);
	CHECK(e.code == Errc::Timeout);
	CHECK(e.message == "GET http://h/x: timed out (connect timeout 100 ms, total 500 ms): Operation timed out after "
			   "500 milliseconds");
	CHECK(f.kind == Kind::Timeout);
	CHECK(f.url == "http://h/x");

	r = {};
	r.kind = Kind::Connect;
	r.curlCode = kCouldntConnect;
	r.error = "Failed to connect";
	e = transportError("POST", "http://h/", r, t, f);
	CHECK(e.code == Errc::Io);
	CHECK(e.message == "POST http://h/: cannot connect: Failed to connect");
	r.curlCode = kRecvError;
	CHECK(transportError("GET", "u", r, t, f).message == "GET u: transfer failed: Failed to connect");

	r = {};
	r.kind = Kind::Tls;
	r.curlCode = kPeerVerification;
	r.error = "bad cert";
	e = transportError("GET", "https://h/", r, t, f);
	CHECK(e.code == Errc::Refused);
	CHECK(e.message == "GET https://h/: TLS failure: bad cert");

	r = {};
	r.kind = Kind::Config;
	r.error = "not an http(s) URL";
	e = transportError("GET", "ftp://h/", r, t, f);
	CHECK(e.code == Errc::Invalid);
	CHECK(e.message == "'ftp://h/' is not an http:// or https:// URL");
	CHECK(f.kind == Kind::Config);
}

TEST_CASE("http: one connection is kept alive unless reuse is off")
{
	ScriptedHttpServer s;
	s.json("GET", "/a", 200, R"({"ok":1})", true);
	{
		Client c(targetOf(s));
		for (int i = 0; i < 3; i++) {
			auto r = c.request(Request{"GET", c.urlFor("/a")});
			REQUIRE(r.ok());
			CHECK(r->status == 200);
			CHECK(r->body == R"({"ok":1})");
		}
		CHECK(s.connections() == 1);
	}
	Target t = targetOf(s);
	t.reuse = false;
	Client c(t);
	for (int i = 0; i < 3; i++)
		REQUIRE(c.perform(Request{"GET", c.urlFor("/a")}).ok());
	CHECK(s.connections() == 4);
}

TEST_CASE("http: methods, bodies, headers and credentials are sent as asked")
{
	ScriptedHttpServer s;
	s.on("", "", ScriptedResponse{204, "", {}, 0, true});
	Target t = targetOf(s);
	t.user = "alice";
	t.password = "s3cret";
	t.userAgent = "xdc test";
	t.accept = "application/json";
	Client c(t);
	REQUIRE(c.perform(Request{"PUT", c.urlFor("/p"), std::string_view("{\"x\":1}"), "application/json"}).ok());
	REQUIRE(c.perform(Request{"DELETE", c.urlFor("/d")}).ok());
	Request tokenReq{"GET", c.urlFor("/t")};
	tokenReq.bearerToken = "tok";
	REQUIRE(c.perform(tokenReq).ok());
	const auto reqs = s.requests();
	REQUIRE(reqs.size() == 3);
	CHECK(reqs[0].method == "PUT");
	CHECK(reqs[0].body == "{\"x\":1}");
	CHECK(reqs[0].header("content-type") == "application/json");
	CHECK(reqs[0].header("authorization") == "Basic YWxpY2U6czNjcmV0");
	CHECK(reqs[0].header("user-agent") == "xdc test");
	CHECK(reqs[0].header("accept") == "application/json");
	CHECK(reqs[0].header("expect").empty());
	CHECK(reqs[1].method == "DELETE");
	CHECK(reqs[1].body.empty());
	CHECK(reqs[2].header("authorization") == "Bearer tok");
}

TEST_CASE("http: credentials files are read per request, their problems are Config failures")
{
	ScriptedHttpServer s;
	s.json("GET", "/a", 200, "{}", true);
	const std::string file = "/tmp/xdc-http-test-" + std::to_string(::getpid());
	Target t = targetOf(s);
	t.basicAuthFile = file;
	Client c(t);
	auto r = c.request(Request{"GET", c.urlFor("/a")});
	REQUIRE(!r.ok());
	CHECK(r.error().code == Errc::Invalid);
	CHECK(r.error().message == "GET " + s.url() + "/a: cannot read the basic auth file '" + file + "'");
	CHECK(c.lastFailure().kind == Kind::Config);
	std::ofstream(file) << "bob:pw\n";
	r = c.request(Request{"GET", c.urlFor("/a")});
	REQUIRE(r.ok());
	CHECK(c.lastFailure().kind == Kind::None);
	CHECK(s.requests().back().header("authorization") == "Basic Ym9iOnB3");
	std::ofstream(file) << "nocolon\n";
	CHECK(!c.perform(Request{"GET", c.urlFor("/a")}).ok());
	std::remove(file.c_str());
}

TEST_CASE("http: a body over the limit fails, unless it is truncated")
{
	ScriptedHttpServer s;
	s.on("GET", "/big", ScriptedResponse{200, std::string(10000, 'b'), {}, 0, true});
	Target t = targetOf(s);
	t.maxBody = 4096;
	{
		Client c(t);
		auto r = c.request(Request{"GET", c.urlFor("/big")});
		REQUIRE(!r.ok());
		CHECK(r.error().code == Errc::Protocol);
		CHECK(c.lastFailure().kind == Kind::BadShape);
	}
	t.truncateBody = true;
	Client c(t);
	Response r = c.perform(Request{"GET", c.urlFor("/big")});
	REQUIRE(r.ok());
	CHECK(r.body == std::string(4096, 'b'));
	t.maxBody = 0;
	Client none(t);
	r = none.perform(Request{"GET", none.urlFor("/big")});
	REQUIRE(r.ok());
	CHECK(r.body.empty());
}

TEST_CASE("http: a slow answer times out, an abort flag stops the transfer")
{
	ScriptedHttpServer s;
	s.on("GET", "/slow", ScriptedResponse{200, "{}", {}, 1500, true});
	Target t = targetOf(s);
	t.timeoutMs = 200;
	Client c(t);
	Response r = c.perform(Request{"GET", c.urlFor("/slow")});
	CHECK(r.kind == Kind::Timeout);
	CHECK(r.transient);
	t.timeoutMs = 5000;
	Client c2(t);
	const bool stop = true;
	Request req{"GET", c2.urlFor("/slow")};
	req.abort = &stop;
	r = c2.perform(req);
	CHECK(r.kind == Kind::Connect);
	CHECK_FALSE(r.errorName.empty());
}
