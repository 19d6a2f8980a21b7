// SPDX-License-Identifier: Apache-2.0
// The HTTPBLOBInjection and TCPSource stand-ins: blocking sockets on their own thread, woken for close() by a pipe.
#include "emulator/receivers.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

namespace xdc::emu {

namespace {

constexpr size_t kMaxHeader = 64 * 1024;
constexpr size_t kMaxBody = 64 * 1024 * 1024;
constexpr int kIdleMs = 5000;

Result<int> bindListen(const HostPort &at, const char *what)
{
	sockaddr_in sa{};
	sa.sin_family = AF_INET;
	sa.sin_port = htons(at.port);
	if (::inet_pton(AF_INET, at.host.c_str(), &sa.sin_addr) != 1)
		return makeError(Errc::Invalid, "{} listen address '{}' is not an IPv4 address", what, at.host);
	const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return makeError(Errc::Io, "{}: socket: {}", what, std::strerror(errno));
	const int one = 1;
	::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (::bind(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0 || ::listen(fd, 64) != 0) {
		const int err = errno;
		::close(fd);
		return makeError(Errc::Io, "{} cannot listen on {}: {}", what, at.str(), std::strerror(err));
	}
	return fd;
}

// Waits until fd is readable; false on close() (the wake pipe), timeout or error.
bool waitReadable(int fd, int wake, int timeoutMs)
{
	pollfd p[2] = {{fd, POLLIN, 0}, {wake, POLLIN, 0}};
	int n;
	do
		n = ::poll(p, 2, timeoutMs);
	while (n < 0 && errno == EINTR);
	return n > 0 && !(p[1].revents & POLLIN) && (p[0].revents & (POLLIN | POLLHUP | POLLERR));
}

void writeAll(int fd, const std::string &s)
{
	size_t off = 0;
	while (off < s.size()) {
		const ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		off += static_cast<size_t>(n);
	}
}

std::string rxLower(std::string s)
{
	for (auto &c : s)
		c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
	return s;
}

std::string rxTrim(std::string s)
{
	const char *ws = " \t\r\n";
	s.erase(0, std::min(s.size(), s.find_first_not_of(ws)));
	const auto e = s.find_last_not_of(ws);
	s.resize(e == std::string::npos ? 0 : e + 1);
	return s;
}

void closePair(int (&p)[2])
{
	for (int &fd : p)
		if (fd >= 0) {
			::close(fd);
			fd = -1;
		}
}

// %XX escapes decoded (the channel paths' brackets travel as %5B and %5D).
std::string percentDecode(const std::string &s)
{
	std::string out;
	for (size_t i = 0; i < s.size(); ++i) {
		if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
		    std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
			out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
			i += 2;
		} else {
			out += s[i];
		}
	}
	return out;
}

std::string response(int code, const char *reason, const std::string &body, bool close,
		     const char *type = "text/plain")
{
	return fmt::format("HTTP/1.1 {} {}\r\nContent-Length: {}\r\n{}{}\r\n{}", code, reason, body.size(),
			   body.empty() ? "" : fmt::format("Content-Type: {}\r\n", type),
			   close ? "Connection: close\r\n" : "", body);
}

} // namespace

BlobReceiver::~BlobReceiver()
{
	close();
}

Result<void> BlobReceiver::listen(const HostPort &at, std::vector<std::string> paths, Handler h)
{
	auto fd = bindListen(at, "HTTP blob injection");
	if (!fd)
		return fd.error();
	if (::pipe2(wake_, O_CLOEXEC) != 0) {
		::close(*fd);
		return makeError(Errc::Io, "pipe: {}", std::strerror(errno));
	}
	lfd_ = *fd;
	paths_ = std::move(paths);
	handler_ = std::move(h);
	thread_ = std::thread([this] { run(); });
	return success();
}

void BlobReceiver::close()
{
	if (wake_[1] >= 0)
		(void)!::write(wake_[1], "x", 1);
	if (thread_.joinable())
		thread_.join();
	for (auto &c : conns_)
		if (c->thread.joinable())
			c->thread.join();
	conns_.clear();
	if (lfd_ >= 0)
		::close(lfd_);
	lfd_ = -1;
	closePair(wake_);
}

void BlobReceiver::run()
{
	while (waitReadable(lfd_, wake_[0], -1)) {
		const int fd = ::accept4(lfd_, nullptr, nullptr, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		// Finished connections' threads are joined; beyond 32 at once a new one is turned away.
		for (auto it = conns_.begin(); it != conns_.end();) {
			if ((*it)->done) {
				(*it)->thread.join();
				it = conns_.erase(it);
			} else {
				++it;
			}
		}
		if (conns_.size() >= 32) {
			::close(fd);
			continue;
		}
		auto c = std::make_unique<Conn>();
		Conn *raw = c.get();
		c->thread = std::thread([this, fd, raw] {
			serve(fd);
			::close(fd);
			raw->done = true;
		});
		conns_.push_back(std::move(c));
	}
}

void BlobReceiver::serve(int fd)
{
	std::string buf;
	char chunk[16384];
	while (true) {
		// Headers.
		size_t end;
		while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
			if (buf.size() > kMaxHeader || !waitReadable(fd, wake_[0], kIdleMs))
				return;
			const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
			if (n <= 0)
				return;
			buf.append(chunk, static_cast<size_t>(n));
		}
		const std::string head = buf.substr(0, end);
		buf.erase(0, end + 4);
		const auto firstEol = head.find("\r\n");
		const std::string requestLine = head.substr(0, firstEol);
		std::map<std::string, std::string> headers;
		size_t pos = firstEol == std::string::npos ? head.size() : firstEol + 2;
		while (pos < head.size()) {
			auto eol = head.find("\r\n", pos);
			if (eol == std::string::npos)
				eol = head.size();
			const std::string h = head.substr(pos, eol - pos);
			if (auto colon = h.find(':'); colon != std::string::npos)
				headers[rxLower(rxTrim(h.substr(0, colon)))] = rxTrim(h.substr(colon + 1));
			pos = eol + 2;
		}
		const auto sp1 = requestLine.find(' ');
		const auto sp2 = requestLine.find(' ', sp1 == std::string::npos ? 0 : sp1 + 1);
		if (sp1 == std::string::npos || sp2 == std::string::npos) {
			writeAll(fd, response(400, "Bad Request", "malformed request line\n", true));
			return;
		}
		const std::string method = requestLine.substr(0, sp1);
		std::string target = requestLine.substr(sp1 + 1, sp2 - sp1 - 1);
		target = percentDecode(target.substr(0, target.find('?')));
		const bool http10 = requestLine.substr(sp2 + 1) == "HTTP/1.0";
		const bool close = http10 || rxLower(headers["connection"]) == "close";
		size_t len = 0;
		if (headers.count("content-length")) {
			try {
				len = std::stoull(headers["content-length"]);
			} catch (...) {
				len = kMaxBody + 1;
			}
		} else if (headers.count("transfer-encoding")) {
			writeAll(fd, response(411, "Length Required", "", true));
			return;
		}
		if (len > kMaxBody) {
			writeAll(fd, response(413, "Payload Too Large", "", true));
			return;
		}
		while (buf.size() < len) {
			if (!waitReadable(fd, wake_[0], kIdleMs))
				return;
			const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
			if (n <= 0)
				return;
			buf.append(chunk, static_cast<size_t>(n));
		}
		const std::string body = buf.substr(0, len);
		buf.erase(0, len);
		if (std::find(paths_.begin(), paths_.end(), target) == paths_.end())
			writeAll(fd, response(404, "Not Found", "no such path\n", close));
		else if (get_ && method == "GET")
			writeAll(fd, response(200, "OK", get_(), close, "application/json"));
		else if (method != "POST" || get_)
			writeAll(fd, response(405, "Method Not Allowed", "", close));
		else {
			const int status = handler_(body, headers);
			writeAll(fd, status == 204 ? response(204, "No Content", "", close)
						   : response(status, "Bad Request", "not a tuple\n", close));
		}
		if (close)
			return;
	}
}

LineReceiver::~LineReceiver()
{
	close();
}

Result<void> LineReceiver::listen(const HostPort &at, Handler h)
{
	auto fd = bindListen(at, "TCP line source");
	if (!fd)
		return fd.error();
	if (::pipe2(wake_, O_CLOEXEC) != 0) {
		::close(*fd);
		return makeError(Errc::Io, "pipe: {}", std::strerror(errno));
	}
	lfd_ = *fd;
	handler_ = std::move(h);
	thread_ = std::thread([this] { run(); });
	return success();
}

void LineReceiver::close()
{
	if (wake_[1] >= 0)
		(void)!::write(wake_[1], "x", 1);
	if (thread_.joinable())
		thread_.join();
	if (lfd_ >= 0)
		::close(lfd_);
	lfd_ = -1;
	closePair(wake_);
}

void LineReceiver::run()
{
	while (waitReadable(lfd_, wake_[0], -1)) {
		const int fd = ::accept4(lfd_, nullptr, nullptr, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		std::string buf;
		char chunk[16384];
		bool closing = false;
		while (true) {
			pollfd p[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
			if (::poll(p, 2, -1) < 0) {
				if (errno == EINTR)
					continue;
				break;
			}
			if (p[1].revents & POLLIN) {
				closing = true;
				break;
			}
			const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
			if (n <= 0)
				break;
			buf.append(chunk, static_cast<size_t>(n));
			size_t start = 0, eol;
			while ((eol = buf.find('\n', start)) != std::string::npos) {
				handler_(rxTrim(buf.substr(start, eol - start)));
				start = eol + 1;
			}
			buf.erase(0, start);
			if (buf.size() > kMaxBody)
				break; // a line without end: the connection goes
		}
		if (closing && drain_) {
			// The operator's PE is going: what the client wrote and nobody read goes with it.
			ssize_t n;
			while ((n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT)) > 0)
				buf.append(chunk, static_cast<size_t>(n));
			size_t start = 0, eol;
			while ((eol = buf.find('\n', start)) != std::string::npos) {
				drain_(rxTrim(buf.substr(start, eol - start)));
				start = eol + 1;
			}
			if (start < buf.size())
				drain_(rxTrim(buf.substr(start)));
		}
		::close(fd);
		if (closing)
			break;
	}
}

} // namespace xdc::emu
