// SPDX-License-Identifier: Apache-2.0
#include "common/data/endpoints.h"

#include <algorithm>
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
#include <nlohmann/json.hpp>

#include "common/clock.h"

#include "common/http/client.h"

namespace xdc::data {

namespace {

// One keep-alive connection to one endpoint, through the one HTTP client; libcurl is loaded on the first request.
class Http {
public:
	explicit Http(HttpEndpointOptions o) : o_(std::move(o)) {}

	using Response = http::Response;

	Result<Response> request(const std::string &url, std::string_view postBody) { return perform(url, postBody); }
	Result<Response> get(const std::string &url) { return perform(url, std::nullopt); }

	const HttpEndpointOptions &opts() const { return o_; }

private:
	Result<Response> perform(const std::string &url, std::optional<std::string_view> postBody)
	{
		if (!client_) {
			http::Target t;
			t.user = o_.user;
			t.password = o_.password;
			t.caFile = o_.caFile;
			t.insecure = o_.insecure;
			t.timeoutMs = o_.timeoutMs;
			t.connectTimeoutMs = std::min(o_.timeoutMs, 2000);
			client_ = std::make_unique<http::Client>(std::move(t), "the data endpoints");
		}
		XDC_TRY(client_->ready());
		http::Request req{postBody ? "POST" : "GET", url, postBody};
		if (postBody)
			req.contentType = "application/json";
		Response r = client_->perform(req);
		if (r.kind == http::Failure::Kind::Timeout)
			return makeError(Errc::Timeout, "{}: no answer within {} ms", url, o_.timeoutMs);
		if (r.kind == http::Failure::Kind::Config)
			return Error{r.setupCode, fmt::format("{}: {}", url, r.error)};
		if (!r.ok())
			return makeError(r.curlCode == http::kCouldNotConnect ? Errc::Refused : Errc::Io, "{}: {}", url,
					 r.tooLarge ? r.error : r.errorName);
		return r;
	}

	HttpEndpointOptions o_;
	std::unique_ptr<http::Client> client_;
};

class HttpJsonSource final : public DataSource {
public:
	explicit HttpJsonSource(HttpEndpointOptions o) : http_(std::move(o)) {}
	std::string name() const override { return http_.opts().name; }
	std::string how() const override { return "HTTPJSONInjection: POST " + http_.opts().url; }
	SendResult send(std::string_view lines, size_t) override
	{
		SendResult out;
		size_t start = 0;
		while (start < lines.size()) {
			size_t end = lines.find('\n', start);
			if (end == std::string_view::npos)
				end = lines.size();
			const std::string_view one = lines.substr(start, end - start);
			start = end + 1;
			if (one.empty())
				continue;
			auto r = http_.request(http_.opts().url, one);
			if (!r) {
				if (r.error().code == Errc::Timeout)
					out.uncertain = 1; // sent, no answer: it may have been taken
				out.error = r.error();
				return out;
			}
			if (r->status / 100 != 2) {
				out.error = makeError(Errc::Refused, "{}: HTTP {}: {}", http_.opts().url, r->status,
						      r->body.substr(0, 200));
				return out;
			}
			out.written++;
		}
		return out;
	}

private:
	Http http_;
};

class TupleViewSink final : public DataSink {
public:
	explicit TupleViewSink(HttpEndpointOptions o) : http_(std::move(o)) {}
	std::string name() const override { return http_.opts().name; }
	std::string how() const override { return "HTTPTupleView: GET " + http_.opts().url; }
	// While the view cannot be read, what came out since the last read may be gone with it (its PE stopped): that
	// counts until a read joins the last one again.
	uint64_t missed() const override { return missed_ + (gap_ ? 1 : 0); }

	Result<std::string> poll() override
	{
		auto r = http_.get(http_.opts().url);
		if (r && r->status != 200)
			r = makeError(Errc::Refused, "{}: HTTP {}: {}", http_.opts().url, r->status, r->body.substr(0, 200));
		nlohmann::json j;
		if (r) {
			j = nlohmann::json::parse(r->body, nullptr, false);
			if (j.is_discarded() || !j.is_array())
				r = makeError(Errc::Invalid, "{}: the answer is not a JSON array of tuples", http_.opts().url);
		}
		if (!r) {
			gap_ = true;
			return r.error();
		}
		std::vector<std::string> cur;
		cur.reserve(j.size());
		for (const auto &t : j)
			cur.push_back(t.dump());
		std::string out;
		if (!started_) {
			// Position only; a window holding tuples after failed reads may hold some of this run's.
			started_ = true;
			missed_ += gap_ && !cur.empty();
		} else {
			const WindowJoin w = joinWindow(prev_, cur);
			// After failed reads, a window read empty before has no anchor: what it shows may not be all.
			missed_ += !w.joined || (gap_ && prev_.empty() && !cur.empty());
			for (size_t i = cur.size() - w.fresh; i < cur.size(); i++) {
				out += cur[i];
				out += '\n';
			}
		}
		gap_ = false;
		prev_ = std::move(cur);
		return out;
	}

private:
	Http http_;
	std::vector<std::string> prev_;
	bool started_ = false, gap_ = false;
	uint64_t missed_ = 0;
};

class TcpSource final : public DataSource {
public:
	TcpSource(std::string name, std::string host, int port, int timeoutMs)
	    : name_(std::move(name)), host_(std::move(host)), port_(port), timeoutMs_(timeoutMs)
	{
	}
	~TcpSource() override { disconnect(); }
	std::string name() const override { return name_; }

	std::string how() const override { return "TCPSource: lines to " + where(); }

	SendResult send(std::string_view lines, size_t) override
	{
		SendResult out;
		const int64_t deadline = clk::monoNs() + int64_t(timeoutMs_) * clk::kMs;
		// A service that went away closed its end: writing into that would "succeed" into nothing. Reconnect first.
		if (fd_ >= 0) {
			pollfd p{fd_, static_cast<short>(POLLIN | POLLRDHUP), 0};
			if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)))
				disconnect();
		}
		if (fd_ < 0)
			if (auto r = connect(deadline); !r) {
				out.error = r.error();
				return out;
			}
		// No answer comes: a line is written once the kernel has taken its last byte.
		size_t off = 0;
		auto countWritten = [&] {
			size_t n = 0;
			for (size_t i = 0; i < off && i < lines.size(); ++i)
				n += lines[i] == '\n';
			return n;
		};
		while (off < lines.size()) {
			const ssize_t w = ::send(fd_, lines.data() + off, lines.size() - off, MSG_NOSIGNAL);
			if (w > 0) {
				off += static_cast<size_t>(w);
				continue;
			}
			if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
				if (auto r = waitFor(POLLOUT, deadline); !r) {
					// A partly written line may have reached the service: its outcome is unknown.
					out.written = countWritten();
					out.uncertain = off > 0 && lines[off - 1] != '\n' ? 1 : 0;
					out.error = r.error();
					disconnect();
					return out;
				}
				continue;
			}
			const int e = errno;
			out.written = countWritten();
			out.uncertain = off > 0 && lines[off - 1] != '\n' ? 1 : 0;
			out.error = makeError(Errc::Io, "{}: send: {}", where(), std::strerror(e));
			disconnect();
			return out;
		}
		out.written = countWritten();
		return out;
	}

private:
	std::string where() const { return fmt::format("tcp://{}:{}", host_, port_); }

	void disconnect()
	{
		if (fd_ >= 0)
			::close(fd_);
		fd_ = -1;
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
};

} // namespace

WindowJoin joinWindow(const std::vector<std::string> &prev, const std::vector<std::string> &cur)
{
	if (prev.empty())
		return {cur.size(), true};
	if (cur.empty())
		return {0, false};
	// The longest overlap first: the earliest position of prev from which the rest of prev starts cur.
	for (size_t j = prev.size() > cur.size() ? prev.size() - cur.size() : 0; j < prev.size(); j++)
		if (prev[j] == cur[0] && std::equal(prev.begin() + static_cast<std::ptrdiff_t>(j), prev.end(), cur.begin()))
			return {cur.size() - (prev.size() - j), true};
	return {cur.size(), false};
}

std::unique_ptr<DataSink> makeTupleViewSink(const HttpEndpointOptions &o)
{
	return std::make_unique<TupleViewSink>(o);
}

std::unique_ptr<DataSource> makeTcpLineSource(const std::string &name, const std::string &host, int port, int timeoutMs)
{
	return std::make_unique<TcpSource>(name, host, port, timeoutMs);
}

std::unique_ptr<DataSource> makeHttpJsonSource(const HttpEndpointOptions &o)
{
	return std::make_unique<HttpJsonSource>(o);
}

} // namespace xdc::data
