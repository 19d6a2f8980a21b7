// SPDX-License-Identifier: Apache-2.0
#include "common/data/endpoints.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include "common/clock.h"

#include "common/curl_api.h"

namespace xdc::data {

namespace {

size_t onBody(char *p, size_t size, size_t n, void *ud)
{
	static_cast<std::string *>(ud)->append(p, size * n);
	return size * n;
}

size_t onHeader(char *p, size_t size, size_t n, void *ud)
{
	std::string_view h(p, size * n);
	constexpr std::string_view kCursor = "x-next-cursor:";
	if (h.size() > kCursor.size()) {
		std::string lower(h.substr(0, kCursor.size()));
		for (auto &c : lower)
			c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
		if (lower == kCursor) {
			std::string v(h.substr(kCursor.size()));
			while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' '))
				v.pop_back();
			*static_cast<std::string *>(ud) = v.substr(v.find_first_not_of(' '));
		}
	}
	return size * n;
}

// One keep-alive connection to one endpoint.
class Http {
public:
	explicit Http(HttpEndpointOptions o) : o_(std::move(o)) {}
	~Http()
	{
		if (h_)
			api_->easyCleanup(h_);
		if (hdrs_)
			api_->slistFreeAll(hdrs_);
	}

	struct Response {
		long status = 0;
		std::string body, cursor;
	};

	Result<Response> request(const std::string &url, const std::string *postBody)
	{
		if (!h_) {
			auto api = curlApi("the data endpoints");
			if (!api)
				return api.error();
			api_ = *api;
			h_ = api_->easyInit();
			if (!h_)
				return makeError(Errc::Internal, "curl_easy_init failed");
			hdrs_ = api_->slistAppend(nullptr, "Content-Type: application/x-ndjson");
			hdrs_ = api_->slistAppend(hdrs_, "Expect:");
		}
		Response r;
		api_->easySetopt(h_, CURLOPT_URL, url.c_str());
		api_->easySetopt(h_, CURLOPT_NOSIGNAL, 1L);
		api_->easySetopt(h_, CURLOPT_TIMEOUT_MS, static_cast<long>(o_.timeoutMs));
		api_->easySetopt(h_, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(o_.timeoutMs, 2000)));
		api_->easySetopt(h_, CURLOPT_WRITEFUNCTION, onBody);
		api_->easySetopt(h_, CURLOPT_WRITEDATA, &r.body);
		api_->easySetopt(h_, CURLOPT_HEADERFUNCTION, onHeader);
		api_->easySetopt(h_, CURLOPT_HEADERDATA, &r.cursor);
		api_->easySetopt(h_, CURLOPT_TCP_NODELAY, 1L);
		if (!o_.user.empty()) {
			api_->easySetopt(h_, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
			api_->easySetopt(h_, CURLOPT_USERNAME, o_.user.c_str());
			api_->easySetopt(h_, CURLOPT_PASSWORD, o_.password.c_str());
		}
		if (!o_.caFile.empty())
			api_->easySetopt(h_, CURLOPT_CAINFO, o_.caFile.c_str());
		if (o_.insecure) {
			api_->easySetopt(h_, CURLOPT_SSL_VERIFYPEER, 0L);
			api_->easySetopt(h_, CURLOPT_SSL_VERIFYHOST, 0L);
		}
		if (postBody) {
			api_->easySetopt(h_, CURLOPT_POST, 1L);
			api_->easySetopt(h_, CURLOPT_POSTFIELDS, postBody->data());
			api_->easySetopt(h_, CURLOPT_POSTFIELDSIZE, static_cast<long>(postBody->size()));
			api_->easySetopt(h_, CURLOPT_HTTPHEADER, hdrs_);
		} else {
			api_->easySetopt(h_, CURLOPT_HTTPGET, 1L);
			api_->easySetopt(h_, CURLOPT_HTTPHEADER, nullptr);
		}
		const CURLcode rc = api_->easyPerform(h_);
		if (rc == CURLE_OPERATION_TIMEDOUT)
			return makeError(Errc::Timeout, "{}: no answer within {} ms", url, o_.timeoutMs);
		if (rc != CURLE_OK)
			return makeError(rc == CURLE_COULDNT_CONNECT ? Errc::Refused : Errc::Io, "{}: {}", url,
					 api_->easyStrerror(rc));
		api_->easyGetinfo(h_, CURLINFO_RESPONSE_CODE, &r.status);
		return r;
	}

	const HttpEndpointOptions &opts() const { return o_; }

private:
	HttpEndpointOptions o_;
	const CurlApi *api_ = nullptr;
	CURL *h_ = nullptr;
	curl_slist *hdrs_ = nullptr;
};

class HttpSource final : public DataSource {
public:
	explicit HttpSource(HttpEndpointOptions o) : http_(std::move(o)) {}
	std::string name() const override { return http_.opts().name; }
	Result<size_t> send(std::string_view lines, size_t n) override
	{
		const std::string body(lines);
		auto r = http_.request(http_.opts().url, &body);
		if (!r)
			return r.error();
		if (r->status == 503 || r->status == 409 || r->status == 429)
			return makeError(Errc::Refused, "{}: HTTP {}: {}", http_.opts().url, r->status, r->body.substr(0, 200));
		if (r->status / 100 != 2)
			return makeError(Errc::Protocol, "{}: HTTP {}: {}", http_.opts().url, r->status, r->body.substr(0, 200));
		return n;
	}

private:
	Http http_;
};

class HttpSink final : public DataSink {
public:
	HttpSink(HttpEndpointOptions o, size_t batch) : http_(std::move(o)), batch_(batch) {}
	std::string name() const override { return http_.opts().name; }
	std::string how() const override { return "http GET " + http_.opts().url; }
	Result<std::string> poll() override
	{
		const std::string sep = http_.opts().url.find('?') == std::string::npos ? "?" : "&";
		auto r = http_.request(fmt::format("{}{}since={}&count={}", http_.opts().url, sep, cursor_, batch_), nullptr);
		if (!r)
			return r.error();
		if (r->status / 100 != 2)
			return makeError(Errc::Protocol, "{}: HTTP {}: {}", http_.opts().url, r->status, r->body.substr(0, 200));
		if (!r->cursor.empty()) {
			try {
				cursor_ = std::stoull(r->cursor);
			} catch (...) {
				return makeError(Errc::Protocol, "{}: bad X-Next-Cursor '{}'", http_.opts().url, r->cursor);
			}
		}
		return std::move(r->body);
	}

private:
	Http http_;
	size_t batch_;
	uint64_t cursor_ = 0;
};

class TcpSource final : public DataSource {
public:
	TcpSource(std::string name, std::string host, int port, int timeoutMs)
	    : name_(std::move(name)), host_(std::move(host)), port_(port), timeoutMs_(timeoutMs)
	{
	}
	~TcpSource() override { disconnect(); }
	std::string name() const override { return name_; }

	Result<size_t> send(std::string_view lines, size_t n) override
	{
		const int64_t deadline = clk::monoNs() + int64_t(timeoutMs_) * clk::kMs;
		if (fd_ < 0)
			XDC_TRY(connect(deadline));
		std::string batch(lines);
		batch += '\n'; // the empty line that ends the batch
		size_t off = 0;
		while (off < batch.size()) {
			const ssize_t w = ::send(fd_, batch.data() + off, batch.size() - off, MSG_NOSIGNAL);
			if (w > 0) {
				off += static_cast<size_t>(w);
				continue;
			}
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				if (auto r = waitFor(POLLOUT, deadline); !r) {
					disconnect();
					// Part of the batch may be on its way: the outcome is unknown.
					return off ? Result<size_t>(makeError(Errc::Timeout, "{}: send timed out", where()))
						   : Result<size_t>(r.error());
				}
				continue;
			}
			const int e = errno;
			disconnect();
			return makeError(off ? Errc::Timeout : Errc::Io, "{}: send: {}", where(), std::strerror(e));
		}
		// The answer line.
		std::string reply;
		for (;;) {
			const auto nl = in_.find('\n');
			if (nl != std::string::npos) {
				reply = in_.substr(0, nl);
				in_.erase(0, nl + 1);
				break;
			}
			if (auto r = waitFor(POLLIN, deadline); !r) {
				disconnect();
				return makeError(Errc::Timeout, "{}: no answer within {} ms", where(), timeoutMs_);
			}
			char buf[512];
			const ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
			if (got <= 0) {
				disconnect();
				return makeError(Errc::Timeout, "{}: connection closed before the answer", where());
			}
			in_.append(buf, static_cast<size_t>(got));
		}
		if (reply.rfind("ok ", 0) == 0)
			return n;
		if (reply.rfind("refused", 0) == 0)
			return makeError(Errc::Refused, "{}: {}", where(), reply);
		return makeError(Errc::Protocol, "{}: {}", where(), reply);
	}

private:
	std::string where() const { return fmt::format("tcp://{}:{}", host_, port_); }

	void disconnect()
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = -1;
		in_.clear();
	}

	Result<void> waitFor(short events, int64_t deadline)
	{
		for (;;) {
			const int64_t left = deadline - clk::monoNs();
			if (left <= 0)
				return makeError(Errc::Timeout, "{}: timed out", where());
			pollfd p{fd_, events, 0};
			const int r = ::poll(&p, 1, static_cast<int>(left / clk::kMs) + 1);
			if (r > 0)
				return success();
			if (r < 0 && errno != EINTR)
				return makeError(Errc::Io, "{}: poll: {}", where(), std::strerror(errno));
		}
	}

	Result<void> connect(int64_t deadline)
	{
		sockaddr_storage ss{};
		socklen_t len = 0;
		auto *v4 = reinterpret_cast<sockaddr_in *>(&ss);
		auto *v6 = reinterpret_cast<sockaddr_in6 *>(&ss);
		if (::inet_pton(AF_INET, host_.c_str(), &v4->sin_addr) == 1) {
			v4->sin_family = AF_INET;
			v4->sin_port = htons(static_cast<uint16_t>(port_));
			len = sizeof *v4;
		} else if (::inet_pton(AF_INET6, host_.c_str(), &v6->sin6_addr) == 1) {
			v6->sin6_family = AF_INET6;
			v6->sin6_port = htons(static_cast<uint16_t>(port_));
			len = sizeof *v6;
		} else {
			return makeError(Errc::Invalid, "{}: not a numeric address", where());
		}
		fd_ = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd_ < 0)
			return makeError(Errc::Io, "{}: socket: {}", where(), std::strerror(errno));
		const int one = 1;
		(void)::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (::connect(fd_, reinterpret_cast<sockaddr *>(&ss), len) != 0 && errno != EINPROGRESS) {
			const int e = errno;
			disconnect();
			return makeError(Errc::Refused, "{}: connect: {}", where(), std::strerror(e));
		}
		if (auto r = waitFor(POLLOUT, deadline); !r) {
			disconnect();
			return makeError(Errc::Refused, "{}: connect timed out", where());
		}
		int err = 0;
		socklen_t l = sizeof err;
		::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err) {
			disconnect();
			return makeError(Errc::Refused, "{}: connect: {}", where(), std::strerror(err));
		}
		return success();
	}

	std::string name_, host_;
	int port_, timeoutMs_;
	int fd_ = -1;
	std::string in_;
};

} // namespace

std::unique_ptr<DataSource> makeTcpSource(const std::string &name, const std::string &host, int port, int timeoutMs)
{
	return std::make_unique<TcpSource>(name, host, port, timeoutMs);
}

std::unique_ptr<DataSource> makeHttpSource(const HttpEndpointOptions &o) { return std::make_unique<HttpSource>(o); }
std::unique_ptr<DataSink> makeHttpSink(const HttpEndpointOptions &o, size_t batch)
{
	return std::make_unique<HttpSink>(o, batch);
}

} // namespace xdc::data
