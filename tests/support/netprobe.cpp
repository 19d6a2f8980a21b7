// SPDX-License-Identifier: Apache-2.0
// Network checks from inside lab namespaces.
#include "tests/support/netprobe.h"

#include <algorithm>
#include <climits>
#include <arpa/inet.h>
#include <cmath>
#include <csignal>
#include <ctime>
#include <vector>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace xdc::test {

bool enter(const std::string &netns)
{
	int fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = ::setns(fd, CLONE_NEWNET) == 0;
	::close(fd);
	return ok;
}

Listener::Listener(const std::string &netns, int port)
	{
		pid = ::fork();
		if (pid == 0) {
			if (!enter(netns))
				_exit(1);
			int s = ::socket(AF_INET6, SOCK_STREAM, 0);
			int zero = 0, one = 1;
			::setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
			::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
			sockaddr_in6 a{};
			a.sin6_family = AF_INET6;
			a.sin6_port = htons(static_cast<uint16_t>(port));
			a.sin6_addr = in6addr_any;
			if (::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a) || ::listen(s, 128))
				_exit(1);
			while (true) {
				int c = ::accept(s, nullptr, nullptr);
				if (c >= 0)
					::close(c);
			}
		}
	}
Listener::~Listener()
{
		if (pid > 0) {
			::kill(pid, SIGKILL);
			::waitpid(pid, nullptr, 0);
		}
}

bool tcpConnect(const std::string &netns, const std::string &addr, int timeoutMs, int port)
{
	pid_t pid = ::fork();
	if (pid == 0) {
		if (!enter(netns))
			_exit(2);
		const bool v6 = addr.find(':') != std::string::npos;
		int s = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		sockaddr_storage ss{};
		socklen_t len;
		if (v6) {
			auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
			a->sin6_family = AF_INET6;
			a->sin6_port = htons(static_cast<uint16_t>(port));
			inet_pton(AF_INET6, addr.c_str(), &a->sin6_addr);
			len = sizeof *a;
		} else {
			auto *a = reinterpret_cast<sockaddr_in *>(&ss);
			a->sin_family = AF_INET;
			a->sin_port = htons(static_cast<uint16_t>(port));
			inet_pton(AF_INET, addr.c_str(), &a->sin_addr);
			len = sizeof *a;
		}
		if (::connect(s, reinterpret_cast<sockaddr *>(&ss), len) == 0)
			_exit(0);
		pollfd p{s, POLLOUT, 0};
		if (::poll(&p, 1, timeoutMs) != 1)
			_exit(1);
		int err = 0;
		socklen_t el = sizeof err;
		::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
		_exit(err == 0 ? 0 : 1);
	}
	int st = 0;
	::waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

namespace {

int64_t monoNs()
{
	timespec ts;
	::clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

socklen_t fillAddr(const std::string &addr, int port, sockaddr_storage &ss)
{
	ss = {};
	if (addr.find(':') != std::string::npos) {
		auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(static_cast<uint16_t>(port));
		inet_pton(AF_INET6, addr.c_str(), &a->sin6_addr);
		return sizeof *a;
	}
	auto *a = reinterpret_cast<sockaddr_in *>(&ss);
	a->sin_family = AF_INET;
	a->sin_port = htons(static_cast<uint16_t>(port));
	inet_pton(AF_INET, addr.c_str(), &a->sin_addr);
	return sizeof *a;
}

// Reads exactly n bytes from fd within timeoutMs.
bool readFull(int fd, void *buf, size_t n, int timeoutMs)
{
	size_t got = 0;
	const int64_t deadline = monoNs() + int64_t{timeoutMs} * 1000000;
	while (got < n) {
		const int64_t left = (deadline - monoNs()) / 1000000;
		pollfd p{fd, POLLIN, 0};
		if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) != 1)
			return false;
		ssize_t r = ::read(fd, static_cast<char *>(buf) + got, n - got);
		if (r <= 0)
			return false;
		got += static_cast<size_t>(r);
	}
	return true;
}

void writeFull(int fd, const void *buf, size_t n)
{
	[[maybe_unused]] auto w = ::write(fd, buf, n);
}

} // namespace

std::optional<double> tcpConnectMs(const std::string &netns, const std::string &addr, int timeoutMs, int port)
{
	int pfd[2];
	if (::pipe(pfd) != 0)
		return std::nullopt;
	pid_t pid = ::fork();
	if (pid == 0) {
		::close(pfd[0]);
		double ms = -1;
		if (enter(netns)) {
			sockaddr_storage ss;
			const socklen_t len = fillAddr(addr, port, ss);
			int s = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
			const int64_t t0 = monoNs();
			int rc = ::connect(s, reinterpret_cast<sockaddr *>(&ss), len);
			bool ok = rc == 0;
			if (!ok && errno == EINPROGRESS) {
				pollfd p{s, POLLOUT, 0};
				int err = 1;
				socklen_t el = sizeof err;
				ok = ::poll(&p, 1, timeoutMs) == 1 && ::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
				     err == 0;
			}
			if (ok)
				ms = static_cast<double>(monoNs() - t0) / 1e6;
		}
		writeFull(pfd[1], &ms, sizeof ms);
		_exit(0);
	}
	::close(pfd[1]);
	double ms = -1;
	const bool got = readFull(pfd[0], &ms, sizeof ms, timeoutMs + 5000);
	::close(pfd[0]);
	if (!got)
		::kill(pid, SIGKILL);
	::waitpid(pid, nullptr, 0);
	if (!got || ms < 0)
		return std::nullopt;
	return ms;
}

std::optional<double> medianConnectMs(const std::string &netns, const std::string &addr, int n, int timeoutMs,
				      int port)
{
	std::vector<double> v;
	for (int i = 0; i < n; i++)
		v.push_back(tcpConnectMs(netns, addr, timeoutMs, port).value_or(INFINITY));
	std::sort(v.begin(), v.end());
	const double m = v[v.size() / 2];
	if (std::isinf(m))
		return std::nullopt;
	return m;
}

std::optional<UdpProbe> udpProbe(const std::string &fromNs, const std::string &toNs, const std::string &addr,
				 int count, int port)
{
	struct Datagram {
		int64_t sentNs;
		int32_t seq;
	};
	int ready[2], result[2];
	if (::pipe(ready) != 0)
		return std::nullopt;
	if (::pipe(result) != 0) {
		::close(ready[0]);
		::close(ready[1]);
		return std::nullopt;
	}
	pid_t rx = ::fork();
	if (rx == 0) {
		::close(ready[0]);
		::close(result[0]);
		if (!enter(toNs))
			_exit(1);
		int s = ::socket(AF_INET6, SOCK_DGRAM, 0);
		int zero = 0, big = 8 << 20;
		::setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
		::setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big);
		sockaddr_in6 a{};
		a.sin6_family = AF_INET6;
		a.sin6_port = htons(static_cast<uint16_t>(port));
		a.sin6_addr = in6addr_any;
		if (::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0)
			_exit(1);
		writeFull(ready[1], "r", 1);
		std::vector<double> delays;
		std::vector<int> seqs;
		// Until 3 s pass with nothing at all, or 700 ms pass after the last datagram.
		while (true) {
			pollfd p{s, POLLIN, 0};
			if (::poll(&p, 1, delays.empty() ? 3000 : 700) != 1)
				break;
			Datagram d{};
			if (::recv(s, &d, sizeof d, 0) == static_cast<ssize_t>(sizeof d)) {
				delays.push_back(static_cast<double>(monoNs() - d.sentNs) / 1e6);
				seqs.push_back(d.seq);
			}
		}
		int n = static_cast<int>(delays.size());
		double median = 0;
		if (n > 0) {
			std::sort(delays.begin(), delays.end());
			median = delays[delays.size() / 2];
		}
		writeFull(result[1], &n, sizeof n);
		writeFull(result[1], &median, sizeof median);
		if (n > 0)
			writeFull(result[1], seqs.data(), seqs.size() * sizeof(int));
		_exit(0);
	}
	::close(ready[1]);
	::close(result[1]);
	char c;
	if (!readFull(ready[0], &c, 1, 5000)) {
		::close(ready[0]);
		::close(result[0]);
		::kill(rx, SIGKILL);
		::waitpid(rx, nullptr, 0);
		return std::nullopt;
	}
	::close(ready[0]);
	pid_t tx = ::fork();
	if (tx == 0) {
		if (!enter(fromNs))
			_exit(1);
		sockaddr_storage ss;
		const socklen_t len = fillAddr(addr, port, ss);
		int s = ::socket(ss.ss_family, SOCK_DGRAM, 0);
		for (int i = 0; i < count; i++) {
			Datagram d{monoNs(), i};
			// A packet dropped by an output hook fails with EPERM here: that is the loss being measured.
			(void)::sendto(s, &d, sizeof d, 0, reinterpret_cast<sockaddr *>(&ss), len);
			// Paced, so neither socket buffers nor the delay line's queue are what is measured.
			timespec ts{0, 50000};
			::nanosleep(&ts, nullptr);
		}
		_exit(0);
	}
	int txStatus = 0;
	::waitpid(tx, &txStatus, 0);
	UdpProbe r;
	r.sent = count;
	int n = 0;
	double median = 0;
	bool got = readFull(result[0], &n, sizeof n, 10000) && readFull(result[0], &median, sizeof median, 1000);
	if (got && n > 0) {
		r.arrivals.resize(static_cast<size_t>(n));
		got = readFull(result[0], r.arrivals.data(), r.arrivals.size() * sizeof(int), 5000);
	}
	::close(result[0]);
	if (!got)
		::kill(rx, SIGKILL);
	::waitpid(rx, nullptr, 0);
	if (!got || !WIFEXITED(txStatus) || WEXITSTATUS(txStatus) != 0)
		return std::nullopt;
	r.received = n;
	r.medianOneWayMs = median;
	return r;
}

double UdpProbe::reorderedPercent() const
{
	if (sent == 0)
		return 0;
	// An arrival overtook a datagram if a lower number arrives after it: compare with the minimum of the rest.
	int later = INT32_MAX, n = 0;
	for (auto it = arrivals.rbegin(); it != arrivals.rend(); ++it) {
		if (*it > later)
			n++;
		later = std::min(later, *it);
	}
	return 100.0 * n / sent;
}

double UdpProbe::duplicatedPercent() const
{
	if (sent == 0)
		return 0;
	std::vector<int> v = arrivals;
	std::sort(v.begin(), v.end());
	const auto unique = std::unique(v.begin(), v.end()) - v.begin();
	return 100.0 * static_cast<double>(static_cast<long>(arrivals.size()) - unique) / sent;
}

bool noFaultChains(const LabFixture &lab)
{
	for (const auto &h : lab.state().hosts)
		for (const std::string tool : {"iptables", "ip6tables"})
			for (const std::string table : {"mangle", "filter"}) {
				auto r = sys::run({tool, "-w", "-t", table, "-S"}, {.netns = h.netns});
				if (!r || !r->ok() || r->out.find("XDC_") != std::string::npos)
					return false;
			}
	return true;
}

bool noFaultTables(const LabFixture &lab)
{
	for (const auto &h : lab.state().hosts) {
		auto r = sys::run({"nft", "list", "tables"}, {.netns = h.netns});
		if (!r || r->out.find("xdc_") != std::string::npos)
			return false;
	}
	return true;
}


} // namespace xdc::test
