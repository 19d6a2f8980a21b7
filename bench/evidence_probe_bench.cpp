// SPDX-License-Identifier: Apache-2.0
// Evidence probes: the CPU cost of probe.tcp (or probe.http) at its maximum rate, 100 Hz, against a local listener on
// 127.0.0.1 for a few seconds: CPU % of one core of the probing thread (getrusage RUSAGE_THREAD, the sampler's own
// cost including its syscalls), of the whole process, and of the in-process listener thread (reported so that it
// can be subtracted), plus attempts/s achieved, slots missed and latency p50/p99.
//
// The probe is the agent's real sampler (makeSampler), driven on absolute monotonic slots as the recorder drives it.
// Needs no root and no namespace: run it in whichever network namespace should carry the loopback traffic.
//
// Usage: evidence_probe_bench [--kind tcp|http] [--rate 100] [--seconds 5]
#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <atomic>
#include <cstdio>
#include <ctime>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <fmt/format.h>

#include "agent/evidence/sampler.h"
#include "bench/support/bench.h"
#include "common/clock.h"

using namespace xdc;
using namespace xdc::bench;

namespace {

int64_t cpuNs(int who)
{
	rusage ru{};
	::getrusage(who, &ru);
	auto ns = [](const timeval &tv) { return static_cast<int64_t>(tv.tv_sec) * clk::kSec + tv.tv_usec * 1000LL; };
	return ns(ru.ru_utime) + ns(ru.ru_stime);
}

// A listener on 127.0.0.1 that accepts everything; in http mode it also reads the request head and answers 200 "ok"
// with Connection: close. Its own CPU time (RUSAGE_THREAD) is reported at the end.
class Listener {
public:
	explicit Listener(bool http) : http_(http)
	{
		fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		socklen_t l = sizeof a;
		if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || ::listen(fd_, 512) != 0 ||
		    ::getsockname(fd_, reinterpret_cast<sockaddr *>(&a), &l) != 0) {
			perror("listener");
			std::exit(1);
		}
		port_ = ntohs(a.sin_port);
		stop_ = ::eventfd(0, EFD_CLOEXEC);
		thread_ = std::thread([this] { run(); });
	}
	~Listener()
	{
		stop();
		::close(fd_);
		::close(stop_);
	}
	void stop()
	{
		if (!thread_.joinable())
			return;
		const uint64_t one = 1;
		(void)!::write(stop_, &one, sizeof one);
		thread_.join();
	}
	int port() const { return port_; }
	// CPU of the listener thread while it ran; valid after stop().
	int64_t threadCpuNs() const { return cpuNs_; }
	int64_t accepted() const { return accepted_; }

private:
	void run()
	{
		const int64_t cpu0 = cpuNs(RUSAGE_THREAD);
		pollfd p[2] = {{fd_, POLLIN, 0}, {stop_, POLLIN, 0}};
		while (::poll(p, 2, -1) > 0 && !(p[1].revents & POLLIN)) {
			const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			accepted_++;
			if (http_)
				answer(c);
			::close(c);
		}
		cpuNs_ = cpuNs(RUSAGE_THREAD) - cpu0;
	}

	static void answer(int c)
	{
		std::string in;
		char buf[2048];
		pollfd p{c, POLLIN, 0};
		while (in.find("\r\n\r\n") == std::string::npos && ::poll(&p, 1, 1000) > 0) {
			const ssize_t n = ::recv(c, buf, sizeof buf, 0);
			if (n <= 0)
				return;
			in.append(buf, static_cast<size_t>(n));
		}
		static const char kResp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
		(void)::send(c, kResp, sizeof kResp - 1, MSG_NOSIGNAL);
	}

	bool http_;
	int fd_ = -1, stop_ = -1, port_ = 0;
	std::atomic<int64_t> cpuNs_{0}, accepted_{0};
	std::thread thread_;
};

} // namespace

int main(int argc, char **argv)
{
	Flags f(argc, argv);
	const std::string kind = f.get("--kind", "tcp");
	const int64_t rate = f.getInt("--rate", 100);
	const int64_t seconds = f.getInt("--seconds", 5);
	if ((kind != "tcp" && kind != "http") || rate < 1 || rate > 100000 || seconds < 1) {
		fprintf(stderr, "usage: evidence_probe_bench [--kind tcp|http] [--rate 100] [--seconds 5]\n");
		return 2;
	}
	Listener lis(kind == "http");

	evidence::SamplerSpec spec;
	spec.kind = kind == "tcp" ? evidence::SamplerKind::ProbeTcp : evidence::SamplerKind::ProbeHttp;
	spec.target = kind == "tcp" ? fmt::format("127.0.0.1:{}", lis.port())
				    : fmt::format("http://127.0.0.1:{}/health", lis.port());
	spec.name = "probe." + kind + ":" + spec.target;
	spec.interval = std::chrono::nanoseconds(clk::kSec / rate);
	spec.timeout = spec.interval;
	auto smp = agent::makeSampler(spec, agent::SamplerEnv{});
	if (!smp) {
		fprintf(stderr, "makeSampler: %s\n", smp.error().message.c_str());
		return 1;
	}

	std::vector<proto::Sample> out;
	out.reserve(static_cast<size_t>(rate * seconds) + 16);
	// One warm-up attempt outside the measurement (first-use costs: libcurl init, page faults).
	(*smp)->sample(out);
	out.clear();

	const int64_t step = clk::kSec / rate;
	const int64_t t0 = clk::monoNs();
	const int64_t end = t0 + seconds * clk::kSec;
	const int64_t thread0 = cpuNs(RUSAGE_THREAD), self0 = cpuNs(RUSAGE_SELF);
	int64_t missed = 0;
	for (int64_t slot = t0; slot < end; slot += step) {
		const int64_t now = clk::monoNs();
		if (now > slot + step) {
			missed++; // the previous attempt overran this slot: skipped, as the recorder does
			continue;
		}
		const timespec ts{static_cast<time_t>(slot / clk::kSec), static_cast<long>(slot % clk::kSec)};
		while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
		}
		(*smp)->sample(out);
	}
	const int64_t elapsed = clk::monoNs() - t0;
	const int64_t threadCpu = cpuNs(RUSAGE_THREAD) - thread0, selfCpu = cpuNs(RUSAGE_SELF) - self0;
	smp->reset();

	size_t ok = 0;
	std::vector<double> lat;
	std::map<std::string, int> errors;
	for (const auto &s : out) {
		if (s.values.at("ok") == 1)
			ok++;
		else
			errors[s.tags.at("error")]++;
		lat.push_back(s.values.at("latency_ms"));
	}
	const double secs = static_cast<double>(elapsed) / 1e9;
	auto pct = [&](int64_t ns) {
		return fmt::format("{:.3f}", 100.0 * static_cast<double>(ns) / static_cast<double>(elapsed));
	};
	const double attempts = static_cast<double>(out.size());
	lis.stop();

	const std::string fig = "Evidence probe." + kind;
	row(fig, "attempts/s (goal rate " + std::to_string(rate) + ")", fmt::format("{:.1f}", attempts / secs), "-", "-",
	    fmt::format("{} attempts, {} ok, {} missed slots", out.size(), ok, missed));
	row(fig, "probing thread CPU % of a core", pct(threadCpu), "-", "-",
	    fmt::format("{:.1f} us per attempt", static_cast<double>(threadCpu) / 1e3 / std::max(1.0, attempts)));
	row(fig, "process CPU % of a core (incl. listener)", pct(selfCpu), "-", "-");
	row(fig, "listener thread CPU % of a core (whole run)", pct(lis.threadCpuNs()), "-", "-",
	    fmt::format("{} connections accepted", lis.accepted()));
	row(fig, "latency p50/p99 ms", fmt::format("{:.3f}/{:.3f}", percentile(lat, 50), percentile(lat, 99)), "-", "-");
	for (const auto &[err, n] : errors)
		fprintf(stderr, "error '%s': %d\n", err.c_str(), n);
	return ok == out.size() ? 0 : 1;
}
