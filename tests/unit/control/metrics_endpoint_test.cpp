// SPDX-License-Identifier: Apache-2.0
// The controller's /metrics: the exposition writer, the address forms, and the HTTP server over a real loopback
// socket, driven by poll as the controller's loop drives it.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <string>

#include "common/clock.h"
#include "controller/control/metrics_endpoint.h"

using namespace xdc;
using xdc::control::Exposition;
using xdc::control::MetricsEndpoint;

namespace {

// Sends `request` to the endpoint and reads until `until` answers have arrived or the connection closes; the
// endpoint is serviced in the same loop, as the controller's poll loop does.
std::string exchange(MetricsEndpoint &ep, const std::string &request, int until)
{
	const auto colon = ep.address().rfind(':');
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_port = htons(static_cast<uint16_t>(std::stoi(ep.address().substr(colon + 1))));
	::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	REQUIRE(fd >= 0);
	(void)::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
	std::string got, pending = request;
	const int64_t deadline = clk::monoNs() + 5 * clk::kSec;
	int answers = 0;
	bool closed = false;
	while (clk::monoNs() < deadline && answers < until && !closed) {
		std::vector<pollfd> fds;
		for (auto [f, ev] : ep.pollFds())
			fds.push_back({f, ev, 0});
		fds.push_back({fd, static_cast<short>(POLLIN | (pending.empty() ? 0 : POLLOUT)), 0});
		::poll(fds.data(), fds.size(), 100);
		for (size_t i = 0; i + 1 < fds.size(); i++)
			if (fds[i].revents)
				ep.service(fds[i].fd);
		if (!pending.empty()) {
			const ssize_t n = ::send(fd, pending.data(), pending.size(), MSG_NOSIGNAL);
			if (n > 0)
				pending.erase(0, static_cast<size_t>(n));
		}
		char buf[65536];
		const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
		if (n > 0)
			got.append(buf, static_cast<size_t>(n));
		else if (n == 0)
			closed = true;
		answers = 0;
		for (size_t at = 0; (at = got.find("HTTP/1.1 ", at)) != std::string::npos; at++)
			answers++;
	}
	::close(fd);
	return got;
}

} // namespace

TEST_CASE("metrics endpoint: the exposition format")
{
	Exposition e;
	e.family("xdc_agents", "gauge", "Agents per DC.\nSecond line with a \\ backslash.");
	e.sample({{"dc", "dc1"}, {"state", "live"}}, 2);
	e.sample({{"dc", "d\"c\\2\n"}}, 0.25);
	e.family("xdc_up", "counter", "No labels.");
	e.sample({}, 1e20);
	CHECK(e.text() == "# HELP xdc_agents Agents per DC.\\nSecond line with a \\\\ backslash.\n"
			  "# TYPE xdc_agents gauge\n"
			  "xdc_agents{dc=\"dc1\",state=\"live\"} 2\n"
			  "xdc_agents{dc=\"d\\\"c\\\\2\\n\"} 0.25\n"
			  "# HELP xdc_up No labels.\n# TYPE xdc_up counter\nxdc_up 1e+20\n");
	CHECK(Exposition::formatValue(NAN) == "NaN");
	CHECK(Exposition::formatValue(-INFINITY) == "-Inf");
	CHECK(Exposition::formatValue(-3) == "-3");
	CHECK(Exposition::formatValue(0.000123) == "0.000123");
}

TEST_CASE("metrics endpoint: address forms")
{
	auto p = MetricsEndpoint::parseAddress("7790");
	REQUIRE(p.ok());
	CHECK(p->first == "127.0.0.1");
	CHECK(p->second == 7790);
	p = MetricsEndpoint::parseAddress("0.0.0.0:9");
	REQUIRE(p.ok());
	CHECK(p->first == "0.0.0.0");
	p = MetricsEndpoint::parseAddress("[::1]:8080");
	REQUIRE(p.ok());
	CHECK(p->first == "::1");
	CHECK(p->second == 8080);
	CHECK(MetricsEndpoint::parseAddress("localhost:7790").error().message ==
	      "metrics address 'localhost:7790': 'localhost' is not a numeric IPv4 or IPv6 address");
	CHECK(MetricsEndpoint::parseAddress("127.0.0.1:http").error().message.find("the port must be a number in "
										    "0..65535") != std::string::npos);
	CHECK(MetricsEndpoint::parseAddress("[::1]8080").error().message ==
	      "metrics address '[::1]8080': expected [IPV6]:PORT");
}

TEST_CASE("metrics endpoint: serves /metrics over keep-alive, refuses the rest")
{
	MetricsEndpoint ep;
	int renders = 0;
	REQUIRE(ep.listen("127.0.0.1:0", [&] { return "xdc_x " + std::to_string(++renders) + "\n"; }).ok());
	CHECK(ep.address().rfind("127.0.0.1:", 0) == 0);
	CHECK(ep.address() != "127.0.0.1:0");

	// Two pipelined scrapes on one connection: both answered, each rendered afresh, the connection kept.
	std::string got = exchange(ep, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n"
				       "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", 2);
	CHECK(got.find("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		       "Content-Length: 8\r\n") == 0);
	CHECK(got.find("xdc_x 1\n") != std::string::npos);
	CHECK(got.find("xdc_x 2\n") != std::string::npos);
	CHECK(got.find("Connection: close") == std::string::npos);
	CHECK(ep.scrapes() == 2);

	// HEAD: headers only.
	got = exchange(ep, "HEAD /metrics HTTP/1.1\r\n\r\n", 1);
	CHECK(got.find("Content-Length: 8\r\n") != std::string::npos);
	CHECK(got.find("xdc_x") == std::string::npos);

	CHECK(exchange(ep, "GET / HTTP/1.1\r\n\r\n", 1).rfind("HTTP/1.1 404 Not Found", 0) == 0);
	got = exchange(ep, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 1);
	CHECK(got.rfind("HTTP/1.1 405 Method Not Allowed", 0) == 0);
	CHECK(got.find("Allow: GET, HEAD\r\n") != std::string::npos);
	got = exchange(ep, "POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 1);
	CHECK(got.rfind("HTTP/1.1 400 Bad Request", 0) == 0);
	CHECK(got.find("Connection: close") != std::string::npos);
	CHECK(exchange(ep, "garbage\r\n\r\n", 1).rfind("HTTP/1.1 400 Bad Request", 0) == 0);
	CHECK(exchange(ep, "GET /metrics HTTP/2.0\r\n\r\n", 1).rfind("HTTP/1.1 505", 0) == 0);
	// HTTP/1.0 closes after its answer; so does Connection: close.
	got = exchange(ep, "GET /metrics HTTP/1.0\r\n\r\n", 2);
	CHECK(got.find("Connection: close\r\n") != std::string::npos);
	// A head that never ends is cut off.
	CHECK(exchange(ep, "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a'), 1).rfind("HTTP/1.1 431", 0) == 0);
	CHECK(renders == 4); // two GETs, the HEAD, the HTTP/1.0 GET

	// Idle connections go.
	ep.expire(clk::monoNs() + 61 * clk::kSec);
	CHECK(ep.pollFds().size() == 1);
}
