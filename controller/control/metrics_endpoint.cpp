// SPDX-License-Identifier: Apache-2.0
// The /metrics HTTP server and the exposition writer (metrics_endpoint.h).
#include "controller/control/metrics_endpoint.h"

#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/clock.h"

namespace xdc::control {

namespace {

constexpr size_t kMaxHead = 16 * 1024;          // a request's line and headers
constexpr size_t kMaxClients = 64;
constexpr int64_t kIdleNs = 60 * clk::kSec;
constexpr size_t kMaxQueued = 256u << 20;       // a reader that lets this much pile up is dropped

std::string lower(std::string s)
{
	for (auto &ch : s)
		ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
	return s;
}

std::string trim(const std::string &s)
{
	const size_t a = s.find_first_not_of(" \t");
	if (a == std::string::npos)
		return "";
	return s.substr(a, s.find_last_not_of(" \t") - a + 1);
}

std::string response(int code, const char *reason, const std::string &type, const std::string &body, bool head,
		     bool close, const std::string &extra = "")
{
	std::string r = fmt::format("HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: "
				    "no-store\r\n{}{}\r\n",
				    code, reason, type, body.size(), extra, close ? "Connection: close\r\n" : "");
	if (!head)
		r += body;
	return r;
}

} // namespace

// ---- Exposition ----

std::string Exposition::escapeLabel(const std::string &v)
{
	std::string out;
	out.reserve(v.size());
	for (char ch : v) {
		if (ch == '\\')
			out += "\\\\";
		else if (ch == '"')
			out += "\\\"";
		else if (ch == '\n')
			out += "\\n";
		else
			out += ch;
	}
	return out;
}

std::string Exposition::formatValue(double v)
{
	if (std::isnan(v))
		return "NaN";
	if (std::isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	if (v == std::floor(v) && std::fabs(v) < 1e15)
		return fmt::format("{}", static_cast<int64_t>(v));
	return fmt::format("{}", v);
}

void Exposition::family(const std::string &name, const std::string &type, const std::string &help)
{
	name_ = name;
	std::string h;
	for (char ch : help)
		h += ch == '\\' ? "\\\\" : ch == '\n' ? "\\n" : std::string(1, ch);
	out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, h, name, type);
}

void Exposition::sample(const Labels &labels, double value)
{
	out_ += name_;
	if (!labels.empty()) {
		out_ += '{';
		for (size_t i = 0; i < labels.size(); i++)
			out_ += fmt::format("{}{}=\"{}\"", i ? "," : "", labels[i].first, escapeLabel(labels[i].second));
		out_ += '}';
	}
	out_ += ' ';
	out_ += formatValue(value);
	out_ += '\n';
}

// ---- MetricsEndpoint ----

MetricsEndpoint::~MetricsEndpoint()
{
	for (auto &[fd, c] : clients_)
		::close(fd);
	if (listenFd_ >= 0)
		::close(listenFd_);
}

Result<std::pair<std::string, uint16_t>> MetricsEndpoint::parseAddress(const std::string &addr)
{
	std::string host = "127.0.0.1", port = addr;
	if (!addr.empty() && addr[0] == '[') {
		const size_t close = addr.find("]:");
		if (close == std::string::npos)
			return makeError(Errc::Invalid, "metrics address '{}': expected [IPV6]:PORT", addr);
		host = addr.substr(1, close - 1);
		port = addr.substr(close + 2);
	} else if (const size_t colon = addr.rfind(':'); colon != std::string::npos) {
		host = addr.substr(0, colon);
		port = addr.substr(colon + 1);
	}
	unsigned p = 0;
	auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
	if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p > 65535)
		return makeError(Errc::Invalid, "metrics address '{}': the port must be a number in 0..65535 (PORT, "
				 "HOST:PORT or [IPV6]:PORT)", addr);
	in6_addr a6{};
	in_addr a4{};
	if (::inet_pton(AF_INET, host.c_str(), &a4) != 1 && ::inet_pton(AF_INET6, host.c_str(), &a6) != 1)
		return makeError(Errc::Invalid, "metrics address '{}': '{}' is not a numeric IPv4 or IPv6 address", addr,
				 host);
	return std::pair{host, static_cast<uint16_t>(p)};
}

Result<void> MetricsEndpoint::listen(const std::string &addr, Render render)
{
	auto hp = parseAddress(addr);
	if (!hp)
		return hp.error();
	const auto &[host, port] = *hp;
	sockaddr_storage ss{};
	socklen_t len = 0;
	int family = AF_INET;
	if (in_addr a4{}; ::inet_pton(AF_INET, host.c_str(), &a4) == 1) {
		auto *s = reinterpret_cast<sockaddr_in *>(&ss);
		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		s->sin_addr = a4;
		len = sizeof *s;
	} else {
		auto *s = reinterpret_cast<sockaddr_in6 *>(&ss);
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		::inet_pton(AF_INET6, host.c_str(), &s->sin6_addr);
		len = sizeof *s;
		family = AF_INET6;
	}
	int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return makeError(Errc::Io, "metrics: socket: {}", strerror(errno));
	int one = 1;
	::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (::bind(fd, reinterpret_cast<sockaddr *>(&ss), len) != 0 || ::listen(fd, 16) != 0) {
		const int e = errno;
		::close(fd);
		return makeError(Errc::Io, "cannot serve metrics on {}: {}", addr, strerror(e));
	}
	listenFd_ = fd;
	// Port 0 takes a free one: the address says which.
	uint16_t actual = port;
	sockaddr_storage got{};
	socklen_t gotLen = sizeof got;
	if (::getsockname(fd, reinterpret_cast<sockaddr *>(&got), &gotLen) == 0)
		actual = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6 *>(&got)->sin6_port
						  : reinterpret_cast<sockaddr_in *>(&got)->sin_port);
	bound_ = family == AF_INET6 ? fmt::format("[{}]:{}", host, actual) : fmt::format("{}:{}", host, actual);
	render_ = std::move(render);
	return success();
}

std::vector<std::pair<int, short>> MetricsEndpoint::pollFds() const
{
	std::vector<std::pair<int, short>> fds;
	if (listenFd_ >= 0)
		fds.push_back({listenFd_, POLLIN});
	for (const auto &[fd, c] : clients_)
		fds.push_back({fd, static_cast<short>(c.out.empty() ? POLLIN : POLLOUT)});
	return fds;
}

void MetricsEndpoint::accept()
{
	while (true) {
		const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		if (clients_.size() >= kMaxClients) {
			::close(fd);
			continue;
		}
		clients_[fd].lastMono = clk::monoNs();
	}
}

void MetricsEndpoint::closeClient(int fd)
{
	if (clients_.erase(fd))
		::close(fd);
}

void MetricsEndpoint::expire(int64_t nowMono)
{
	for (auto it = clients_.begin(); it != clients_.end();) {
		if (nowMono - it->second.lastMono > kIdleNs) {
			::close(it->first);
			it = clients_.erase(it);
		} else {
			++it;
		}
	}
}

void MetricsEndpoint::flush(int fd)
{
	auto it = clients_.find(fd);
	if (it == clients_.end())
		return;
	Client &c = it->second;
	while (!c.out.empty()) {
		const ssize_t n = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
		if (n > 0) {
			c.out.erase(0, static_cast<size_t>(n));
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (c.out.size() > kMaxQueued)
				closeClient(fd);
			return;
		}
		closeClient(fd);
		return;
	}
	if (c.closeAfter)
		closeClient(fd);
}

void MetricsEndpoint::answer(Client &c)
{
	while (!c.closeAfter) {
		const size_t end = c.in.find("\r\n\r\n");
		if (end == std::string::npos) {
			if (c.in.size() > kMaxHead) {
				c.out += response(431, "Request Header Fields Too Large", "text/plain; charset=utf-8",
						  "request head too large\n", false, true);
				c.closeAfter = true;
			}
			return;
		}
		const std::string head = c.in.substr(0, end);
		c.in.erase(0, end + 4);
		size_t eol = head.find("\r\n");
		const std::string line = head.substr(0, eol);
		const size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
		if (sp1 == std::string::npos || sp2 == sp1) {
			c.out += response(400, "Bad Request", "text/plain; charset=utf-8", "malformed request line\n", false,
					  true);
			c.closeAfter = true;
			return;
		}
		const std::string method = line.substr(0, sp1), target = line.substr(sp1 + 1, sp2 - sp1 - 1),
				  version = line.substr(sp2 + 1);
		bool keepAlive = version == "HTTP/1.1", body = false;
		while (eol != std::string::npos) {
			const size_t next = head.find("\r\n", eol + 2);
			const std::string h = head.substr(eol + 2, next == std::string::npos ? std::string::npos : next - eol - 2);
			eol = next;
			const size_t colon = h.find(':');
			if (colon == std::string::npos)
				continue;
			const std::string name = lower(trim(h.substr(0, colon))), value = lower(trim(h.substr(colon + 1)));
			if (name == "connection")
				keepAlive = value.find("close") == std::string::npos &&
					    (version == "HTTP/1.1" || value.find("keep-alive") != std::string::npos);
			else if ((name == "content-length" && value != "0") || name == "transfer-encoding")
				body = true;
		}
		const bool head_ = method == "HEAD";
		const std::string path = target.substr(0, target.find('?'));
		if (version != "HTTP/1.1" && version != "HTTP/1.0") {
			c.out += response(505, "HTTP Version Not Supported", "text/plain; charset=utf-8", "HTTP/1.x only\n",
					  false, true);
			c.closeAfter = true;
		} else if (body) {
			// A /metrics request has no body; rather than read one, close after the answer.
			c.out += response(400, "Bad Request", "text/plain; charset=utf-8", "a request body is not accepted\n",
					  head_, true);
			c.closeAfter = true;
		} else if (method != "GET" && !head_) {
			c.out += response(405, "Method Not Allowed", "text/plain; charset=utf-8", "GET or HEAD only\n", false,
					  !keepAlive, "Allow: GET, HEAD\r\n");
		} else if (path != "/metrics") {
			c.out += response(404, "Not Found", "text/plain; charset=utf-8", "only /metrics is served here\n",
					  head_, !keepAlive);
		} else {
			scrapes_++;
			c.out += response(200, "OK", "text/plain; version=0.0.4; charset=utf-8", render_ ? render_() : "",
					  head_, !keepAlive);
		}
		if (!keepAlive)
			c.closeAfter = true;
	}
}

void MetricsEndpoint::service(int fd)
{
	if (fd == listenFd_) {
		accept();
		return;
	}
	auto it = clients_.find(fd);
	if (it == clients_.end())
		return;
	it->second.lastMono = clk::monoNs();
	if (!it->second.out.empty()) {
		// Requests pipelined behind an answer are read once it is out.
		flush(fd);
		it = clients_.find(fd);
		if (it == clients_.end() || !it->second.out.empty())
			return;
	}
	char buf[8192];
	while (true) {
		const ssize_t n = ::read(fd, buf, sizeof buf);
		if (n > 0) {
			it->second.in.append(buf, static_cast<size_t>(n));
			if (it->second.in.size() > 4 * kMaxHead)
				break;
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			closeClient(fd);
			return;
		}
		break;
	}
	answer(it->second);
	if (!it->second.out.empty())
		flush(fd);
}

} // namespace xdc::control
