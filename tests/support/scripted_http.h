// SPDX-License-Identifier: Apache-2.0
// A scripted HTTP/1.1 server on 127.0.0.1 for unit tests: answers from a list of canned responses (optionally over TLS)
// and records every request, so clients can be checked against exact server behaviour without a real server.
#pragma once

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace xdc::test {

struct ScriptedResponse {
	int status = 200;
	std::string body;
	std::vector<std::pair<std::string, std::string>> headers; // besides Content-Length (Content-Type: json default)
	int delayMs = 0;         // sleep before answering (a slow server)
	bool repeat = false;     // answers every matching request instead of the first one only
};

struct RecordedRequest {
	std::string method;
	std::string target;                         // path and query, as sent
	std::map<std::string, std::string> headers; // names in lower case
	std::string body;

	std::string path() const { return target.substr(0, target.find('?')); }
	std::string header(const std::string &lowerName) const
	{
		auto it = headers.find(lowerName);
		return it == headers.end() ? "" : it->second;
	}
};

class ScriptedHttpServer {
public:
	struct Tls {
		std::string certFile, keyFile; // PEM
	};
	// Listens on 127.0.0.1 with an ephemeral port; plain HTTP, or TLS with the given certificate.
	explicit ScriptedHttpServer(std::optional<Tls> tls = std::nullopt);
	~ScriptedHttpServer();
	ScriptedHttpServer(const ScriptedHttpServer &) = delete;
	ScriptedHttpServer &operator=(const ScriptedHttpServer &) = delete;

	int port() const { return port_; }
	// "http://127.0.0.1:<port>" (https with TLS).
	std::string url() const;

	// Adds a response for requests whose method and path match ("" matches any; a path with '?' must match the
	// whole target). The first unused matching entry answers, in the order they were added. Unmatched requests get
	// 418 so a test sees at once that its script is short.
	void on(const std::string &method, const std::string &path, ScriptedResponse r);
	// Shorthands with a JSON body.
	void json(const std::string &method, const std::string &path, int status, const std::string &body,
		  bool repeat = false);

	std::vector<RecordedRequest> requests() const;
	size_t requestCount() const;
	// Requests whose method and path match.
	std::vector<RecordedRequest> requests(const std::string &method, const std::string &path) const;
	// Connections accepted (to check connection reuse).
	size_t connections() const;

private:
	struct Entry {
		std::string method, path;
		ScriptedResponse r;
		bool used = false;
	};
	void acceptLoop();
	void serve(int fd);
	ScriptedResponse answer(const RecordedRequest &req);

	int listenFd_ = -1;
	int port_ = 0;
	bool tls_ = false;
	void *sslCtx_ = nullptr; // SSL_CTX *, kept opaque so tests need not include OpenSSL
	mutable std::mutex mu_;
	std::condition_variable stopCv_;
	bool stopping_ = false;
	std::vector<Entry> script_;
	std::vector<RecordedRequest> requests_;
	std::vector<int> connFds_;
	std::vector<std::thread> workers_;
	size_t connections_ = 0;
	std::thread acceptor_;
};

// A CA, a server certificate for 127.0.0.1 signed by it, and a second unrelated CA, made once per test process with
// the openssl CLI in a temporary directory.
struct TestPki {
	std::string dir, caFile, serverCert, serverKey, otherCaFile;
	std::string error; // non-empty when generation failed
};
const TestPki &testPki();

} // namespace xdc::test
