// SPDX-License-Identifier: Apache-2.0
// The controller's local control socket: a Unix stream socket speaking one JSON object per line each way.
// Only local users who can open the socket file (mode 0600, or 0660 with a group) reach it.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/control/requests.h"

namespace xdc::control {

using nlohmann::json;

struct Peer {
	uint64_t id = 0;  // stable for the connection's life
	uid_t uid = 0;
	pid_t pid = 0;
	std::string user; // the peer's user name, from its uid
};

class ControlServer {
public:
	// Called for each request line; replies with reply() now or later (requests waiting on agents).
	using Handler = std::function<void(const Peer &, const json &request)>;

	~ControlServer();
	// Binds PATH (replacing a stale socket file, refusing a live one), sets mode and group.
	Result<void> listen(const std::string &path, mode_t mode, const std::string &group);
	void setHandler(Handler h) { handler_ = std::move(h); }

	// The fds to poll, with the events wanted (POLLIN, plus POLLOUT while a reply is queued); call service(fd)
	// when any is ready.
	std::vector<std::pair<int, short>> pollFds() const;
	void service(int fd);
	// Sends one response line to a peer; ignored if it has gone.
	void reply(uint64_t peerId, const json &response);
	// A response already printed as one line of JSON (no newline).
	void replyLine(uint64_t peerId, const std::string &line);
	bool hasPeer(uint64_t peerId) const { return byId_.count(peerId) != 0; }
	const std::string &path() const { return path_; }

private:
	struct Client {
		int fd = -1;
		Peer peer;
		std::string in;
		std::string out;
		size_t outOff = 0; // bytes of out already sent
	};
	void accept();
	void closeClient(int fd);
	void flush(Client &c);

	int listenFd_ = -1;
	std::string path_;
	std::map<int, Client> clients_;
	std::map<uint64_t, int> byId_;
	uint64_t nextId_ = 1;
	Handler handler_;
};

// The answer to a request that failed: {"ok": false, "error": {"code", "message"}} (docs/PROTOCOL.md, control socket).
inline json errorJson(const std::string &code, const std::string &message)
{
	return {{"ok", false}, {"error", {{"code", code}, {"message", message}}}};
}

// Client side: one request, one response, with a deadline.
Result<json> request(const std::string &socketPath, const Request &req, int timeoutMs);
// The same for a line built by hand: only for tests that send what no console would (malformed requests).
Result<json> requestLine(const std::string &socketPath, const json &line, int timeoutMs);
// The same, answering with the answer's line as the controller wrote it (not parsed).
Result<std::string> requestText(const std::string &socketPath, const json &line, int timeoutMs);

} // namespace xdc::control
