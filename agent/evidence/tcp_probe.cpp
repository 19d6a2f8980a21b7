// SPDX-License-Identifier: Apache-2.0
// probe.tcp: one TCP connect attempt per sample. It runs at up to 100 Hz on an agent that may itself be under a fault,
// so an attempt is a handful of syscalls: the address is parsed once (numeric only: the controller resolves host
// names before the spec is sent, and a DNS lookup per attempt would measure the resolver, not the path), and the
// socket is closed with an RST so that 100 attempts a second leave no TIME_WAIT sockets behind.
#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/evidence/sampler.h"
#include "common/clock.h"

namespace xdc::agent::samplers {

namespace {

// The attempt's failure as the tag value documented in sampler.h.
std::string errorWord(int e)
{
	switch (e) {
	case ECONNREFUSED: return "refused";
	case ETIMEDOUT: return "timeout"; // the kernel gave up retrying SYNs (only with a timeout beyond its own)
	case EHOSTUNREACH:
	case ENETUNREACH: return "unreachable";
	case ECONNRESET: return "reset";
	default: return strerrordesc_np(e) ? strerrordesc_np(e) : "error " + std::to_string(e);
	}
}

// "1.2.3.4:80" or "[fd00::1]:80", numeric only. A local helper: the target was already validated by the spec parser,
// this only has to turn it into a sockaddr (and refuse names, which must have been resolved by the controller).
Result<void> parseNumericTarget(const std::string &t, sockaddr_storage &ss, socklen_t &len)
{
	std::string host, port;
	if (!t.empty() && t.front() == '[') {
		const auto close = t.find(']');
		if (close == std::string::npos || close + 1 >= t.size() || t[close + 1] != ':')
			return makeError(Errc::Invalid, "probe.tcp target '{}': expected [IPv6]:PORT", t);
		host = t.substr(1, close - 1);
		port = t.substr(close + 2);
	} else {
		const auto colon = t.rfind(':');
		if (colon == std::string::npos || t.find(':') != colon)
			return makeError(Errc::Invalid, "probe.tcp target '{}': expected IPv4:PORT or [IPv6]:PORT", t);
		host = t.substr(0, colon);
		port = t.substr(colon + 1);
	}
	int p = 0;
	const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
	if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p < 1 || p > 65535)
		return makeError(Errc::Invalid, "probe.tcp target '{}': port must be 1..65535", t);

	std::memset(&ss, 0, sizeof ss);
	auto *v4 = reinterpret_cast<sockaddr_in *>(&ss);
	auto *v6 = reinterpret_cast<sockaddr_in6 *>(&ss);
	if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons(static_cast<uint16_t>(p));
		len = sizeof(sockaddr_in);
		return success();
	}
	if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(static_cast<uint16_t>(p));
		len = sizeof(sockaddr_in6);
		return success();
	}
	return makeError(Errc::Invalid,
			 "probe.tcp target '{}': '{}' is not a numeric address (host names are resolved by the controller)",
			 t, host);
}

class TcpProbe final : public Sampler {
public:
	TcpProbe(const evidence::SamplerSpec &spec, const sockaddr_storage &addr, socklen_t len)
	    : spec_(spec), addr_(addr), addrLen_(len)
	{
		timeoutNs_ = spec.timeout.count() > 0 ? spec.timeout.count()
			   : spec.interval.count() > 0 ? spec.interval.count()
						       : clk::kSec;
		timeoutMs_ = static_cast<double>(timeoutNs_) / 1e6;
	}

	const evidence::SamplerSpec &spec() const override { return spec_; }

	void sample(std::vector<proto::Sample> &out) override
	{
		auto &s = out.emplace_back();
		s.kind = "probe.tcp";
		s.source = spec_.name;
		s.wallNs = clk::wallNs();
		s.monoNs = clk::monoNs();
		const int err = attempt(s.monoNs);
		const int64_t end = clk::monoNs();
		s.values["ok"] = err == 0 ? 1 : 0;
		// µs resolution: finer would be noise from the clock reads around the syscalls.
		s.values["latency_ms"] = static_cast<double>((end - s.monoNs) / 1000) / 1000.0;
		s.values["timeout_ms"] = timeoutMs_;
		s.tags["target"] = spec_.target;
		s.tags["error"] = err == 0 ? std::string() : err == kTimedOut ? std::string("timeout") : errorWord(err);
	}

private:
	static constexpr int kTimedOut = -1;

	// 0 on a completed connect, kTimedOut, or the errno of the failure.
	int attempt(int64_t startMono) const
	{
		const int fd = ::socket(addr_.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return errno;
		// Closing with an RST: an orderly close would put every attempt's socket in TIME_WAIT for 60 s, 6000 of
		// them at 100 Hz, taking ephemeral ports and memory on a host that is being measured.
		const linger lg{1, 0};
		(void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		int err = 0;
		if (::connect(fd, reinterpret_cast<const sockaddr *>(&addr_), addrLen_) != 0) {
			err = errno;
			if (err == EINPROGRESS)
				err = waitConnected(fd, startMono);
		}
		::close(fd);
		return err;
	}

	int waitConnected(int fd, int64_t startMono) const
	{
		pollfd p{fd, POLLOUT, 0};
		while (true) {
			const int64_t left = startMono + timeoutNs_ - clk::monoNs();
			if (left <= 0)
				return kTimedOut;
			const timespec ts{static_cast<time_t>(left / clk::kSec), static_cast<long>(left % clk::kSec)};
			const int n = ::ppoll(&p, 1, &ts, nullptr);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				return errno;
			}
			if (n == 0)
				return kTimedOut;
			int soErr = 0;
			socklen_t l = sizeof soErr;
			if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soErr, &l) != 0)
				return errno;
			return soErr;
		}
	}

	evidence::SamplerSpec spec_;
	sockaddr_storage addr_;
	socklen_t addrLen_;
	int64_t timeoutNs_ = 0;
	double timeoutMs_ = 0;
};

} // namespace

Result<std::unique_ptr<Sampler>> makeTcpProbe(const evidence::SamplerSpec &spec, const SamplerEnv &)
{
	sockaddr_storage ss;
	socklen_t len = 0;
	XDC_TRY(parseNumericTarget(spec.target, ss, len));
	return std::unique_ptr<Sampler>(std::make_unique<TcpProbe>(spec, ss, len));
}

} // namespace xdc::agent::samplers
