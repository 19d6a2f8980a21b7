// SPDX-License-Identifier: Apache-2.0
// probe.tcp and probe.http against real sockets on the loopback of the test process: a listener, a closed port, a
// listener whose accept queue is full (SYNs dropped: a connect that hangs), and a small HTTP server thread that answers
// 200 "ok", 503, a long body, or nothing at all.
#include <doctest/doctest.h>

#include <algorithm>
#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include "agent/evidence/sampler.h"
#include "common/clock.h"

using namespace xdc;
using namespace xdc::agent;
using evidence::SamplerKind;
using evidence::SamplerSpec;
using namespace std::chrono_literals;

namespace {

struct Fd {
	int fd = -1;
	Fd() = default;
	explicit Fd(int f) : fd(f) {}
	Fd(Fd &&o) noexcept : fd(o.fd) { o.fd = -1; }
	Fd &operator=(Fd &&o) noexcept
	{
		std::swap(fd, o.fd);
		return *this;
	}
	~Fd()
	{
		if (fd >= 0)
			::close(fd);
	}
};

// A TCP socket bound to 127.0.0.1 on the port (an ephemeral one if 0, then stored); listening with the backlog unless
// backlog < 0.
Fd bound(int &port, int backlog)
{
	Fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	REQUIRE(s.fd >= 0);
	const int one = 1;
	REQUIRE(::setsockopt(s.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(static_cast<uint16_t>(port));
	REQUIRE(::bind(s.fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0);
	if (backlog >= 0)
		REQUIRE(::listen(s.fd, backlog) == 0);
	socklen_t l = sizeof a;
	REQUIRE(::getsockname(s.fd, reinterpret_cast<sockaddr *>(&a), &l) == 0);
	port = ntohs(a.sin_port);
	return s;
}

SamplerSpec tcpSpec(const std::string &target, std::chrono::milliseconds timeout)
{
	SamplerSpec s;
	s.kind = SamplerKind::ProbeTcp;
	s.name = "probe.tcp:" + target;
	s.target = target;
	s.interval = std::max<std::chrono::milliseconds>(timeout, 10ms);
	s.timeout = timeout;
	return s;
}

SamplerSpec httpSpec(const std::string &url, std::chrono::milliseconds timeout)
{
	SamplerSpec s;
	s.kind = SamplerKind::ProbeHttp;
	s.name = "probe.http:" + url;
	s.target = url;
	s.interval = timeout;
	s.timeout = timeout;
	return s;
}

std::unique_ptr<Sampler> make(const SamplerSpec &spec)
{
	auto r = makeSampler(spec, SamplerEnv{});
	INFO(spec.target);
	REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
	return std::move(r.value());
}

// One sample, with the clocks read around it to check the recorded start time.
struct Taken {
	proto::Sample s;
	int64_t wallBefore, wallAfter, monoBefore, monoAfter;
};

Taken takeTimed(Sampler &smp)
{
	Taken t;
	std::vector<proto::Sample> out;
	t.wallBefore = clk::wallNs();
	t.monoBefore = clk::monoNs();
	smp.sample(out);
	t.monoAfter = clk::monoNs();
	t.wallAfter = clk::wallNs();
	REQUIRE(out.size() == 1);
	t.s = out[0];
	return t;
}

double latencyMs(const Taken &t) { return t.s.values.at("latency_ms"); }

// The common shape of every probe sample: kind, source, start time inside the call, the documented names.
void checkShape(const Taken &t, const SamplerSpec &spec)
{
	CHECK(t.s.kind == evidence::samplerKindName(spec.kind));
	CHECK(t.s.source == spec.name);
	CHECK(t.s.seq == 0);
	CHECK(t.s.wallNs >= t.wallBefore);
	CHECK(t.s.wallNs <= t.wallAfter);
	CHECK(t.s.monoNs >= t.monoBefore);
	CHECK(t.s.monoNs <= t.monoAfter);
	REQUIRE(t.s.values.count("ok"));
	REQUIRE(t.s.values.count("latency_ms"));
	REQUIRE(t.s.values.count("timeout_ms"));
	CHECK(t.s.values.at("timeout_ms") == doctest::Approx(static_cast<double>(spec.timeout.count()) / 1e6));
	// Latency is the attempt's own duration: never negative, never longer than the call.
	CHECK(latencyMs(t) >= 0);
	CHECK(latencyMs(t) <= static_cast<double>(t.monoAfter - t.monoBefore) / 1e6 + 0.001);
	REQUIRE(t.s.tags.count("target"));
	REQUIRE(t.s.tags.count("error"));
	CHECK(t.s.tags.at("target") == spec.target);
	CHECK((t.s.values.at("ok") == 1) == t.s.tags.at("error").empty());
}

// Slack for a busy 2-core machine running sanitizer builds: a timeout must fire no earlier than the timeout and
// not absurdly later.
constexpr double kLateMs = 2000;

} // namespace

TEST_CASE("probe.tcp: a listener is ok, with the connect time as latency")
{
	int port = 0;
	Fd l = bound(port, 16);
	const auto spec = tcpSpec("127.0.0.1:" + std::to_string(port), 1000ms);
	auto p = make(spec);
	for (int i = 0; i < 3; i++) {
		const auto t = takeTimed(*p);
		checkShape(t, spec);
		CHECK(t.s.values.at("ok") == 1);
		CHECK(t.s.tags.at("error") == "");
		CHECK(latencyMs(t) < 1000);
		// The connection really was made: the listener has it queued (or already reset by our RST close).
		Fd c(::accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC));
		CHECK(c.fd >= 0);
	}
}

// The probe keeps one socket and dissolves each attempt with connect(AF_UNSPEC): outcomes must not leak into the next
// attempt, and no attempt may leave a TIME_WAIT socket behind.
int timeWaitTo(int port)
{
	std::ifstream f("/proc/net/tcp");
	std::string line;
	int n = 0;
	const std::string rem = fmt::format("0100007F:{:04X}", port);
	while (std::getline(f, line))
		if (line.find(rem) != std::string::npos && line.find(rem + " 06") != std::string::npos)
			n++;
	return n;
}

TEST_CASE("probe.tcp: one probe goes from ok to refused and back, leaving no TIME_WAIT")
{
	int port = 0;
	auto spec = tcpSpec("127.0.0.1:0", 1000ms);
	std::unique_ptr<Sampler> p;
	{
		Fd l = bound(port, 64);
		spec = tcpSpec("127.0.0.1:" + std::to_string(port), 1000ms);
		p = make(spec);
		for (int i = 0; i < 20; i++) {
			const auto t = takeTimed(*p);
			CHECK(t.s.tags.at("error") == "");
			Fd c(::accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC));
			CHECK(c.fd >= 0);
		}
	}
	{
		Fd held = bound(port, -1);
		for (int i = 0; i < 3; i++)
			CHECK(takeTimed(*p).s.tags.at("error") == "refused");
	}
	Fd l = bound(port, 64);
	for (int i = 0; i < 3; i++) {
		CHECK(takeTimed(*p).s.tags.at("error") == "");
		Fd c(::accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC));
	}
	CHECK(timeWaitTo(port) == 0);
}

TEST_CASE("probe.tcp: an IPv6 listener on [::1]")
{
	Fd s(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
	sockaddr_in6 a{};
	a.sin6_family = AF_INET6;
	a.sin6_addr = in6addr_loopback;
	if (s.fd < 0 || ::bind(s.fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || ::listen(s.fd, 4) != 0) {
		MESSAGE("no IPv6 loopback in this environment: IPv6 case not run");
		return;
	}
	socklen_t len = sizeof a;
	REQUIRE(::getsockname(s.fd, reinterpret_cast<sockaddr *>(&a), &len) == 0);
	const auto spec = tcpSpec("[::1]:" + std::to_string(ntohs(a.sin6_port)), 1000ms);
	auto p = make(spec);
	const auto t = takeTimed(*p);
	checkShape(t, spec);
	CHECK(t.s.values.at("ok") == 1);
}

TEST_CASE("probe.tcp: a port nobody listens on is refused, promptly")
{
	int port = 0;
	Fd held = bound(port, -1); // bound, not listening: the port stays ours and answers SYNs with RST
	const auto spec = tcpSpec("127.0.0.1:" + std::to_string(port), 1000ms);
	auto p = make(spec);
	const auto t = takeTimed(*p);
	checkShape(t, spec);
	CHECK(t.s.values.at("ok") == 0);
	CHECK(t.s.tags.at("error") == "refused");
	CHECK(latencyMs(t) < 500);
}

TEST_CASE("probe.tcp: a connect that hangs times out at the timeout")
{
	// A listener with backlog 0 that never accepts: once its accept queue holds one connection, Linux drops further
	// SYNs (LISTEN overflow), so a connect hangs in SYN_SENT, as behind a blackhole. Filled and checked here, since
	// the behaviour is the kernel's.
	int port = 0;
	Fd l = bound(port, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(static_cast<uint16_t>(port));
	std::vector<Fd> fillers;
	bool full = false;
	for (int i = 0; i < 8 && !full; i++) {
		Fd c(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
		REQUIRE(c.fd >= 0);
		if (::connect(c.fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0) {
			REQUIRE(errno == EINPROGRESS);
			pollfd pf{c.fd, POLLOUT, 0};
			full = ::poll(&pf, 1, 300) == 0;
		}
		fillers.push_back(std::move(c));
	}
	REQUIRE_MESSAGE(full, "could not fill the accept queue of a backlog-0 listener on this kernel");

	const auto spec = tcpSpec("127.0.0.1:" + std::to_string(port), 100ms);
	auto p = make(spec);
	const auto t = takeTimed(*p);
	checkShape(t, spec);
	CHECK(t.s.values.at("ok") == 0);
	CHECK(t.s.tags.at("error") == "timeout");
	CHECK(latencyMs(t) >= 100);
	CHECK(latencyMs(t) < 100 + kLateMs);
}

TEST_CASE("probe.tcp: only numeric IPv4:PORT or [IPv6]:PORT targets are accepted")
{
	for (const char *bad : {"dc2-h1:7000", "10.0.0.1", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:7x",
				"::1:80", "[::1:80", "[::1]80", "[::1]:", "[dc2-h1]:80", ":80", ""}) {
		INFO(bad);
		auto r = makeSampler(tcpSpec(bad, 100ms), SamplerEnv{});
		REQUIRE_FALSE(r.ok());
		CHECK(r.error().code == Errc::Invalid);
	}
	for (const char *good : {"10.1.2.11:7000", "[fd00::1]:80", "127.0.0.1:65535"}) {
		INFO(good);
		CHECK(makeSampler(tcpSpec(good, 100ms), SamplerEnv{}).ok());
	}
}

namespace {

// A one-connection-at-a-time HTTP/1.1 server with keep-alive (so that a client reusing connections would be seen
// doing so). Its answer is set per test.
class HttpServer {
public:
	enum class Mode { Ok, Unavailable, BigBody, Silent };
	static constexpr size_t kBigBody = 64 * 1024 + 1000;

	HttpServer()
	{
		listen_ = bound(port_, 16);
		stop_ = Fd(::eventfd(0, EFD_CLOEXEC));
		REQUIRE(stop_.fd >= 0);
		thread_ = std::thread([this] { run(); });
	}
	~HttpServer()
	{
		const uint64_t one = 1;
		(void)!::write(stop_.fd, &one, sizeof one);
		thread_.join();
	}

	void setMode(Mode m) { mode_ = m; }
	int port() const { return port_; }
	std::string url(const std::string &path = "/health") const
	{
		return "http://127.0.0.1:" + std::to_string(port_) + path;
	}
	int accepted() const { return accepted_; }
	int requests() const { return requests_; }
	// Waits until the server has seen the client of its current connection go away (or the deadline passes).
	bool waitIdle(std::chrono::milliseconds timeout)
	{
		std::unique_lock lk(mu_);
		return cv_.wait_for(lk, timeout, [this] { return !inConnection_; });
	}

private:
	// Waits for fd readable or stop; false on stop or after 10 s (a test that hangs is a failure, not a hang).
	bool waitReadable(int fd)
	{
		pollfd p[2] = {{fd, POLLIN, 0}, {stop_.fd, POLLIN, 0}};
		return ::poll(p, 2, 10000) > 0 && !(p[1].revents & POLLIN) && p[0].revents;
	}

	void setInConnection(bool v)
	{
		{
			std::lock_guard lk(mu_);
			inConnection_ = v;
		}
		cv_.notify_all();
	}

	void run()
	{
		while (waitReadable(listen_.fd)) {
			Fd c(::accept4(listen_.fd, nullptr, nullptr, SOCK_CLOEXEC));
			if (c.fd < 0)
				continue;
			setInConnection(true);
			accepted_++;
			serve(c.fd);
			setInConnection(false);
		}
	}

	void serve(int fd)
	{
		std::string in;
		char buf[4096];
		while (true) {
			// Read one request head.
			size_t end;
			while ((end = in.find("\r\n\r\n")) == std::string::npos) {
				if (!waitReadable(fd))
					return;
				const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
				if (n <= 0)
					return; // the client closed (or reset) the connection
				in.append(buf, static_cast<size_t>(n));
			}
			in.erase(0, end + 4);
			requests_++;
			std::string body, status = "200 OK";
			switch (mode_.load()) {
			case Mode::Ok: body = "ok"; break;
			case Mode::Unavailable:
				status = "503 Service Unavailable";
				body = "unavailable";
				break;
			case Mode::BigBody: body = std::string(kBigBody, 'x') + "MARK"; break;
			case Mode::Silent:
				// Never answer: wait for the client to give up and close.
				while (waitReadable(fd) && ::recv(fd, buf, sizeof buf, 0) > 0) {
				}
				return;
			}
			const std::string resp = "HTTP/1.1 " + status + "\r\nContent-Type: text/plain\r\nContent-Length: " +
						 std::to_string(body.size()) + "\r\n\r\n" + body;
			size_t off = 0;
			while (off < resp.size()) {
				const ssize_t n = ::send(fd, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
				if (n <= 0)
					return;
				off += static_cast<size_t>(n);
			}
		}
	}

	int port_ = 0;
	Fd listen_, stop_;
	std::atomic<Mode> mode_{Mode::Ok};
	std::atomic<int> accepted_{0}, requests_{0};
	std::mutex mu_;
	std::condition_variable cv_;
	bool inConnection_ = false;
	std::thread thread_;
};

} // namespace

TEST_CASE("probe.http: 200 with a matching body is ok; every probe is a new connection")
{
	HttpServer srv;
	auto spec = httpSpec(srv.url(), 2000ms);
	spec.bodyMatch = "^ok$";
	auto p = make(spec);
	for (int i = 0; i < 3; i++) {
		const auto t = takeTimed(*p);
		checkShape(t, spec);
		CHECK(t.s.values.at("ok") == 1);
		CHECK(t.s.values.at("status") == 200);
		CHECK(t.s.tags.at("error") == "");
		CHECK(latencyMs(t) < 2000);
		REQUIRE(srv.waitIdle(5s));
	}
	// The server keeps connections alive; the probe must not reuse them (each attempt is a real connect).
	CHECK(srv.requests() == 3);
	CHECK(srv.accepted() == 3);
}

TEST_CASE("probe.http: status checks")
{
	HttpServer srv;
	SUBCASE("503 is a failure with the status")
	{
		srv.setMode(HttpServer::Mode::Unavailable);
		const auto spec = httpSpec(srv.url(), 2000ms);
		auto p = make(spec);
		const auto t = takeTimed(*p);
		checkShape(t, spec);
		CHECK(t.s.values.at("ok") == 0);
		CHECK(t.s.values.at("status") == 503);
		CHECK(t.s.tags.at("error") == "status 503");
	}
	SUBCASE("expect_status 503 accepts 503")
	{
		srv.setMode(HttpServer::Mode::Unavailable);
		auto spec = httpSpec(srv.url(), 2000ms);
		spec.expectStatus = 503;
		auto p = make(spec);
		const auto t = takeTimed(*p);
		CHECK(t.s.values.at("ok") == 1);
		CHECK(t.s.tags.at("error") == "");
	}
	SUBCASE("expect_status 204 rejects 200")
	{
		auto spec = httpSpec(srv.url(), 2000ms);
		spec.expectStatus = 204;
		auto p = make(spec);
		const auto t = takeTimed(*p);
		CHECK(t.s.values.at("ok") == 0);
		CHECK(t.s.values.at("status") == 200);
		CHECK(t.s.tags.at("error") == "status 200");
	}
}

TEST_CASE("probe.http: body_match")
{
	HttpServer srv;
	SUBCASE("a body that does not contain the pattern fails with the status still reported")
	{
		auto spec = httpSpec(srv.url(), 2000ms);
		spec.bodyMatch = "healthy";
		auto p = make(spec);
		const auto t = takeTimed(*p);
		checkShape(t, spec);
		CHECK(t.s.values.at("ok") == 0);
		CHECK(t.s.values.at("status") == 200);
		CHECK(t.s.tags.at("error") == "body did not match");
	}
	SUBCASE("only the first 64 KiB of the body are searched, but the whole body is read")
	{
		srv.setMode(HttpServer::Mode::BigBody);
		auto spec = httpSpec(srv.url(), 5000ms);
		spec.bodyMatch = "MARK"; // after 65 536 + 1000 bytes
		auto p = make(spec);
		const auto t = takeTimed(*p);
		CHECK(t.s.values.at("status") == 200);
		CHECK(t.s.tags.at("error") == "body did not match");

		auto spec2 = httpSpec(srv.url(), 5000ms);
		spec2.bodyMatch = "^x{1000}";
		auto p2 = make(spec2);
		const auto t2 = takeTimed(*p2);
		CHECK(t2.s.values.at("ok") == 1);
		CHECK(t2.s.tags.at("error") == "");
	}
}

TEST_CASE("probe.http: a server that never answers times out at the timeout")
{
	HttpServer srv;
	srv.setMode(HttpServer::Mode::Silent);
	const auto spec = httpSpec(srv.url(), 200ms);
	auto p = make(spec);
	const auto t = takeTimed(*p);
	checkShape(t, spec);
	CHECK(t.s.values.at("ok") == 0);
	CHECK(t.s.values.at("status") == 0);
	CHECK(t.s.tags.at("error") == "timeout");
	CHECK(latencyMs(t) >= 195); // curl's timer has ms resolution
	CHECK(latencyMs(t) < 200 + kLateMs);
	// The probe closed its connection when it gave up: the server sees the client go.
	CHECK(srv.waitIdle(5s));
}

TEST_CASE("probe.http: a refused connection is a failure with curl's text and no status")
{
	int port = 0;
	Fd held = bound(port, -1);
	const auto spec = httpSpec("http://127.0.0.1:" + std::to_string(port) + "/", 2000ms);
	auto p = make(spec);
	const auto t = takeTimed(*p);
	checkShape(t, spec);
	CHECK(t.s.values.at("ok") == 0);
	CHECK(t.s.values.at("status") == 0);
	const auto &err = t.s.tags.at("error");
	CHECK_FALSE(err.empty());
	CHECK(err != "timeout");
	CHECK(latencyMs(t) < 1000);
}

TEST_CASE("probe.http: spec errors are refused when the sampler is built")
{
	auto bad = [](SamplerSpec s) {
		auto r = makeSampler(s, SamplerEnv{});
		REQUIRE_FALSE(r.ok());
		CHECK(r.error().code == Errc::Invalid);
	};
	auto s = httpSpec("http://127.0.0.1:1/", 100ms);
	s.bodyMatch = "(unclosed";
	bad(s);
	s = httpSpec("http://127.0.0.1:1/", 100ms);
	s.caFile = "/nonexistent/ca.pem";
	bad(s);
	bad(httpSpec("ftp://127.0.0.1/", 100ms));
	auto ok = httpSpec("https://127.0.0.1:1/", 100ms);
	ok.tlsInsecure = true;
	CHECK(makeSampler(ok, SamplerEnv{}).ok());
}
