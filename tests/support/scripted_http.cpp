// SPDX-License-Identifier: Apache-2.0
// The scripted HTTP server and the throwaway PKI of the unit tests.
#include "tests/support/scripted_http.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace xdc::test {

namespace {

const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 418: return "Unscripted";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

// One connection's byte stream, plain or TLS.
struct Conn {
	int fd;
	SSL *ssl = nullptr;

	long recvSome(char *buf, size_t n)
	{
		if (ssl) {
			const int r = SSL_read(ssl, buf, static_cast<int>(n));
			return r > 0 ? r : -1;
		}
		const ssize_t r = ::recv(fd, buf, n, 0);
		return r > 0 ? r : -1;
	}

	bool sendAll(const std::string &s)
	{
		size_t off = 0;
		while (off < s.size()) {
			long w;
			if (ssl) {
				const int r = SSL_write(ssl, s.data() + off, static_cast<int>(s.size() - off));
				w = r > 0 ? r : -1;
			} else {
				w = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
			}
			if (w <= 0)
				return false;
			off += static_cast<size_t>(w);
		}
		return true;
	}
};

std::string lower(std::string s)
{
	std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
	return s;
}

std::string trim(const std::string &s)
{
	const auto b = s.find_first_not_of(" \t");
	const auto e = s.find_last_not_of(" \t\r");
	return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

} // namespace

ScriptedHttpServer::ScriptedHttpServer(std::optional<Tls> tls)
{
	// A client that gives up mid-answer must not kill the test binary.
	std::signal(SIGPIPE, SIG_IGN);
	if (tls) {
		SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
		if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, tls->certFile.c_str()) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, tls->keyFile.c_str(), SSL_FILETYPE_PEM) != 1) {
			if (ctx)
				SSL_CTX_free(ctx);
			throw std::runtime_error("scripted server: cannot load the TLS certificate or key");
		}
		sslCtx_ = ctx;
		tls_ = true;
	}
	listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	const int one = 1;
	::setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	if (::bind(listenFd_, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || ::listen(listenFd_, 16) != 0)
		throw std::runtime_error("scripted server: cannot listen on 127.0.0.1");
	socklen_t len = sizeof a;
	::getsockname(listenFd_, reinterpret_cast<sockaddr *>(&a), &len);
	port_ = ntohs(a.sin_port);
	acceptor_ = std::thread([this] { acceptLoop(); });
}

ScriptedHttpServer::~ScriptedHttpServer()
{
	{
		std::lock_guard lk(mu_);
		stopping_ = true;
		for (int fd : connFds_)
			::shutdown(fd, SHUT_RDWR);
	}
	stopCv_.notify_all();
	::shutdown(listenFd_, SHUT_RDWR);
	if (acceptor_.joinable())
		acceptor_.join();
	::close(listenFd_);
	// The acceptor is gone, so workers_ no longer grows.
	for (auto &w : workers_)
		w.join();
	if (sslCtx_)
		SSL_CTX_free(static_cast<SSL_CTX *>(sslCtx_));
}

std::string ScriptedHttpServer::url() const
{
	return fmt::format("{}://127.0.0.1:{}", tls_ ? "https" : "http", port_);
}

void ScriptedHttpServer::on(const std::string &method, const std::string &path, ScriptedResponse r)
{
	std::lock_guard lk(mu_);
	script_.push_back(Entry{method, path, std::move(r), false});
}

void ScriptedHttpServer::json(const std::string &method, const std::string &path, int status, const std::string &body,
			      bool repeat)
{
	ScriptedResponse r;
	r.status = status;
	r.body = body;
	r.repeat = repeat;
	on(method, path, std::move(r));
}

std::vector<RecordedRequest> ScriptedHttpServer::requests() const
{
	std::lock_guard lk(mu_);
	return requests_;
}

size_t ScriptedHttpServer::requestCount() const
{
	std::lock_guard lk(mu_);
	return requests_.size();
}

std::vector<RecordedRequest> ScriptedHttpServer::requests(const std::string &method, const std::string &path) const
{
	std::lock_guard lk(mu_);
	std::vector<RecordedRequest> out;
	for (const auto &r : requests_)
		if ((method.empty() || r.method == method) && (path.empty() || r.path() == path))
			out.push_back(r);
	return out;
}

size_t ScriptedHttpServer::connections() const
{
	std::lock_guard lk(mu_);
	return connections_;
}

void ScriptedHttpServer::acceptLoop()
{
	for (;;) {
		const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
		std::lock_guard lk(mu_);
		if (stopping_) {
			if (fd >= 0)
				::close(fd);
			return;
		}
		if (fd < 0)
			continue;
		connections_++;
		connFds_.push_back(fd);
		workers_.emplace_back([this, fd] { serve(fd); });
	}
}

ScriptedResponse ScriptedHttpServer::answer(const RecordedRequest &req)
{
	std::lock_guard lk(mu_);
	requests_.push_back(req);
	for (auto &e : script_) {
		if (e.used || (!e.method.empty() && e.method != req.method))
			continue;
		if (!e.path.empty() && (e.path.find('?') != std::string::npos ? e.path != req.target : e.path != req.path()))
			continue;
		if (!e.r.repeat)
			e.used = true;
		return e.r;
	}
	ScriptedResponse r;
	r.status = 418;
	r.body = fmt::format(R"({{"id":"TEST0418E","message":"no scripted response for {} {}"}})", req.method,
			     req.target);
	return r;
}

void ScriptedHttpServer::serve(int fd)
{
	Conn c{fd};
	bool ok = true;
	if (tls_) {
		c.ssl = SSL_new(static_cast<SSL_CTX *>(sslCtx_));
		SSL_set_fd(c.ssl, fd);
		// A client that rejects the certificate ends the handshake here.
		ok = SSL_accept(c.ssl) == 1;
	}
	std::string buf;
	char tmp[16384];
	while (ok) {
		size_t headerEnd;
		while ((headerEnd = buf.find("\r\n\r\n")) == std::string::npos) {
			const long n = c.recvSome(tmp, sizeof tmp);
			if (n <= 0) {
				ok = false;
				break;
			}
			buf.append(tmp, static_cast<size_t>(n));
		}
		if (!ok)
			break;
		RecordedRequest req;
		const std::string head = buf.substr(0, headerEnd);
		buf.erase(0, headerEnd + 4);
		size_t lineEnd = head.find("\r\n");
		const std::string requestLine = head.substr(0, lineEnd);
		const auto sp1 = requestLine.find(' ');
		const auto sp2 = requestLine.find(' ', sp1 + 1);
		req.method = requestLine.substr(0, sp1);
		req.target = requestLine.substr(sp1 + 1, sp2 - sp1 - 1);
		while (lineEnd != std::string::npos) {
			const size_t start = lineEnd + 2;
			lineEnd = head.find("\r\n", start);
			const std::string line = head.substr(start, lineEnd == std::string::npos ? std::string::npos
												    : lineEnd - start);
			const auto colon = line.find(':');
			if (colon != std::string::npos)
				req.headers[lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
		}
		const size_t length = req.headers.count("content-length")
					      ? static_cast<size_t>(std::stoull(req.headers["content-length"]))
					      : 0;
		if (lower(req.header("expect")) == "100-continue" && !c.sendAll("HTTP/1.1 100 Continue\r\n\r\n"))
			break;
		while (buf.size() < length) {
			const long n = c.recvSome(tmp, sizeof tmp);
			if (n <= 0) {
				ok = false;
				break;
			}
			buf.append(tmp, static_cast<size_t>(n));
		}
		if (!ok)
			break;
		req.body = buf.substr(0, length);
		buf.erase(0, length);

		const ScriptedResponse r = answer(req);
		if (r.delayMs > 0) {
			std::unique_lock lk(mu_);
			if (stopCv_.wait_for(lk, std::chrono::milliseconds(r.delayMs), [this] { return stopping_; }))
				break;
		}
		std::string out = fmt::format("HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
		bool hasType = false;
		for (const auto &[k, v] : r.headers) {
			hasType = hasType || lower(k) == "content-type";
			out += k + ": " + v + "\r\n";
		}
		if (!hasType && !r.body.empty())
			out += "Content-Type: application/json\r\n";
		if (r.status != 204)
			out += fmt::format("Content-Length: {}\r\n", r.body.size());
		out += "\r\n";
		if (r.status != 204)
			out += r.body;
		if (!c.sendAll(out))
			break;
		if (lower(req.header("connection")) == "close")
			break;
	}
	if (c.ssl) {
		SSL_shutdown(c.ssl);
		SSL_free(c.ssl);
	}
	std::lock_guard lk(mu_);
	connFds_.erase(std::remove(connFds_.begin(), connFds_.end(), fd), connFds_.end());
	::close(fd);
}

const TestPki &testPki()
{
	// Removes the directory at exit: keys must not pile up in /tmp run after run.
	struct Holder {
		TestPki p;
		~Holder()
		{
			std::error_code ec;
			if (!p.dir.empty())
				std::filesystem::remove_all(p.dir, ec);
		}
	};
	static Holder holder{[] {
		TestPki p;
		char tmpl[] = "/tmp/xdc-pki-XXXXXX";
		if (!::mkdtemp(tmpl)) {
			p.error = "mkdtemp failed";
			return p;
		}
		p.dir = tmpl;
		p.caFile = p.dir + "/ca.pem";
		p.serverCert = p.dir + "/server.pem";
		p.serverKey = p.dir + "/server.key";
		p.otherCaFile = p.dir + "/other-ca.pem";
		std::ofstream(p.dir + "/server.ext") << "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
							"keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n";
		// EC keys: RSA generation would cost most of the unit tests' time budget.
		const std::string d = p.dir;
		const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
		const std::string caExt = "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign";
		const std::vector<std::string> cmds = {
			fmt::format("openssl req -x509 {} -keyout {d}/ca.key -out {d}/ca.pem -days 2 -subj /CN=xdc-test-ca {}", ec,
				    caExt, fmt::arg("d", d)),
			fmt::format("openssl req -x509 {} -keyout {d}/other-ca.key -out {d}/other-ca.pem -days 2 "
				    "-subj /CN=xdc-other-ca {}", ec, caExt, fmt::arg("d", d)),
			fmt::format("openssl req {} -keyout {d}/server.key -out {d}/server.csr -subj /CN=127.0.0.1", ec,
				    fmt::arg("d", d)),
			fmt::format("openssl x509 -req -in {d}/server.csr -CA {d}/ca.pem -CAkey {d}/ca.key -CAcreateserial "
				    "-out {d}/server.pem -days 2 -extfile {d}/server.ext", fmt::arg("d", d)),
		};
		for (const auto &cmd : cmds) {
			if (std::system((cmd + " >/dev/null 2>&1").c_str()) != 0) {
				p.error = "failed: " + cmd;
				break;
			}
		}
		return p;
	}()};
	return holder.p;
}

} // namespace xdc::test
