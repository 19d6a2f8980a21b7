// SPDX-License-Identifier: Apache-2.0
// Unix-socket JSON-lines server and client.
#include "controller/control/control_server.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

namespace xdc::control {

namespace {
constexpr size_t kMaxLine = 1 << 20;

Result<sockaddr_un> makeAddr(const std::string &path)
{
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	if (path.size() >= sizeof a.sun_path)
		return makeError(Errc::Invalid, "control socket path '{}' is longer than {} bytes", path,
				 sizeof a.sun_path - 1);
	std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
	return a;
}
} // namespace

ControlServer::~ControlServer()
{
	for (auto &[fd, c] : clients_)
		::close(fd);
	if (listenFd_ >= 0) {
		::close(listenFd_);
		::unlink(path_.c_str());
	}
}

Result<void> ControlServer::listen(const std::string &path, mode_t mode, const std::string &group)
{
	auto addr = makeAddr(path);
	if (!addr)
		return addr.error();
	// A socket file that still answers belongs to a running controller: never steal it.
	if (::access(path.c_str(), F_OK) == 0) {
		int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		bool live = ::connect(probe, reinterpret_cast<sockaddr *>(&*addr), sizeof *addr) == 0;
		::close(probe);
		if (live)
			return makeError(Errc::Exists, "another controller is already serving '{}'", path);
		::unlink(path.c_str());
	}
	listenFd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (listenFd_ < 0)
		return makeError(Errc::Io, "socket: {}", strerror(errno));
	// Create the socket file with no access at all, then open it up to exactly the mode asked for.
	mode_t old = ::umask(0777);
	int r = ::bind(listenFd_, reinterpret_cast<sockaddr *>(&*addr), sizeof *addr);
	::umask(old);
	if (r != 0)
		return makeError(Errc::Io, "cannot bind control socket '{}': {}", path, strerror(errno));
	path_ = path;
	if (!group.empty()) {
		struct group *g = ::getgrnam(group.c_str());
		if (!g)
			return makeError(Errc::NotFound, "control group '{}' does not exist", group);
		if (::chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0)
			return makeError(Errc::Io, "chown {}: {}", path, strerror(errno));
	}
	if (::chmod(path.c_str(), mode) != 0)
		return makeError(Errc::Io, "chmod {}: {}", path, strerror(errno));
	if (::listen(listenFd_, 64) != 0)
		return makeError(Errc::Io, "listen: {}", strerror(errno));
	return success();
}

std::vector<std::pair<int, short>> ControlServer::pollFds() const
{
	std::vector<std::pair<int, short>> fds;
	if (listenFd_ >= 0)
		fds.push_back({listenFd_, POLLIN});
	for (const auto &[fd, c] : clients_)
		fds.push_back({fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT))});
	return fds;
}

void ControlServer::accept()
{
	while (true) {
		int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		Client c;
		c.fd = fd;
		c.peer.id = nextId_++;
		ucred cred{};
		socklen_t len = sizeof cred;
		if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
			c.peer.uid = cred.uid;
			c.peer.pid = cred.pid;
			passwd *pw = ::getpwuid(cred.uid);
			c.peer.user = pw ? pw->pw_name : std::to_string(cred.uid);
		}
		byId_[c.peer.id] = fd;
		clients_[fd] = std::move(c);
	}
}

void ControlServer::closeClient(int fd)
{
	auto it = clients_.find(fd);
	if (it == clients_.end())
		return;
	byId_.erase(it->second.peer.id);
	::close(fd);
	clients_.erase(it);
}

void ControlServer::service(int fd)
{
	if (fd == listenFd_) {
		accept();
		return;
	}
	auto it = clients_.find(fd);
	if (it == clients_.end())
		return;
	if (!it->second.out.empty()) {
		flush(it->second);
		it = clients_.find(fd);
		if (it == clients_.end())
			return;
	}
	char buf[65536];
	while (true) {
		ssize_t n = ::read(fd, buf, sizeof buf);
		if (n > 0) {
			it->second.in.append(buf, static_cast<size_t>(n));
			if (it->second.in.size() > kMaxLine) {
				closeClient(fd);
				return;
			}
			continue;
		}
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			closeClient(fd);
			return;
		}
		break;
	}
	size_t nl;
	while (clients_.count(fd) && (nl = clients_[fd].in.find('\n')) != std::string::npos) {
		std::string line = clients_[fd].in.substr(0, nl);
		clients_[fd].in.erase(0, nl + 1);
		Peer peer = clients_[fd].peer;
		json req = json::parse(line, nullptr, false);
		// Only JSON is checked here; what the object says is read by parseRequest (requests.h).
		if (req.is_discarded()) {
			reply(peer.id, {{"ok", false},
					{"error", {{"code", "invalid"},
						   {"message", "expected one JSON object with a string 'cmd' per line"}}}});
			continue;
		}
		if (handler_)
			handler_(peer, req);
	}
}

void ControlServer::flush(Client &c)
{
	// Never blocks the controller's loop: what the socket does not take now waits for POLLOUT. A client that
	// lets more than kMaxQueued pile up is not reading and is dropped.
	constexpr size_t kMaxQueued = 64 << 20;
	// c.outOff: how much of c.out is sent; the buffer is cut once, when it is all sent or the socket is full (not
	// after every send: an answer of megabytes goes out in many sends).
	while (c.outOff < c.out.size()) {
		ssize_t n = ::send(c.fd, c.out.data() + c.outOff, c.out.size() - c.outOff, MSG_NOSIGNAL);
		if (n > 0) {
			c.outOff += static_cast<size_t>(n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			c.out.erase(0, c.outOff);
			c.outOff = 0;
			if (c.out.size() > kMaxQueued)
				closeClient(c.fd);
			return;
		}
		closeClient(c.fd);
		return;
	}
	c.out.clear();
	c.outOff = 0;
}

void ControlServer::reply(uint64_t peerId, const json &response)
{
	auto it = byId_.find(peerId);
	if (it == byId_.end())
		return;
	Client &c = clients_[it->second];
	c.out += response.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
	flush(c);
}

void ControlServer::replyLine(uint64_t peerId, const std::string &line)
{
	auto it = byId_.find(peerId);
	if (it == byId_.end())
		return;
	Client &c = clients_[it->second];
	c.out += line;
	c.out += '\n';
	flush(c);
}

Result<json> request(const std::string &socketPath, const Request &req, int timeoutMs)
{
	return requestLine(socketPath, toJson(req), timeoutMs);
}

Result<json> requestLine(const std::string &socketPath, const json &req, int timeoutMs)
{
	auto text = requestText(socketPath, req, timeoutMs);
	if (!text)
		return text.error();
	json resp = json::parse(*text, nullptr, false);
	if (resp.is_discarded())
		return makeError(Errc::Protocol, "the controller sent an unreadable answer");
	return resp;
}

Result<std::string> requestText(const std::string &socketPath, const json &req, int timeoutMs)
{
	auto addr = makeAddr(socketPath);
	if (!addr)
		return addr.error();
	int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return makeError(Errc::Io, "socket: {}", strerror(errno));
	if (::connect(fd, reinterpret_cast<sockaddr *>(&*addr), sizeof *addr) != 0) {
		int e = errno;
		::close(fd);
		return makeError(e == ENOENT || e == ECONNREFUSED ? Errc::NotFound : Errc::Io,
				 "cannot reach the controller at '{}': {} (is it running? select another with --lab NAME "
				 "or --control PATH)", socketPath, strerror(e));
	}
	std::string line = req.dump() + "\n";
	size_t off = 0;
	while (off < line.size()) {
		ssize_t n = ::write(fd, line.data() + off, line.size() - off);
		if (n <= 0) {
			::close(fd);
			return makeError(Errc::Io, "write to controller: {}", strerror(errno));
		}
		off += static_cast<size_t>(n);
	}
	std::string in;
	const int64_t deadline = clk::monoNs() + int64_t{timeoutMs} * clk::kMs;
	char buf[65536];
	// Only what each read added is searched for the end of the line: an answer of megabytes (`agents` of a large
	// fleet) arrives in many reads.
	size_t searched = 0;
	while (in.find('\n', searched) == std::string::npos) {
		searched = in.size();
		int left = static_cast<int>((deadline - clk::monoNs()) / clk::kMs);
		if (left <= 0) {
			::close(fd);
			return makeError(Errc::Timeout, "the controller did not answer within {} ms", timeoutMs);
		}
		pollfd p{fd, POLLIN, 0};
		if (::poll(&p, 1, left) <= 0)
			continue;
		ssize_t n = ::read(fd, buf, sizeof buf);
		if (n <= 0) {
			::close(fd);
			return makeError(Errc::Io, "the controller closed the connection");
		}
		in.append(buf, static_cast<size_t>(n));
	}
	::close(fd);
	in.resize(in.find('\n'));
	return in;
}

} // namespace xdc::control
