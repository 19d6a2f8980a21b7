// SPDX-License-Identifier: Apache-2.0
// The one HTTP client over the dlopen'd libcurl (common/http/curl_api.h). curl_easy_setopt and curl_easy_getinfo are
// variadic in libcurl's ABI too, so calling them through the loaded pointers is the same call.
#include "common/http/client.h"

#include <algorithm>
#include <fstream>
#include <sys/socket.h>

#include <curl/curl.h>

#include "common/http/curl_api.h"
#include "common/log.h"

namespace xdc::http {

static_assert(kCouldNotConnect == CURLE_COULDNT_CONNECT);

namespace {

// The first line of a secrets file, without its line end.
Result<std::string> firstLine(const std::string &path, const char *what)
{
	std::ifstream f(path);
	if (!f)
		return makeError(Errc::Invalid, "cannot read the {} file '{}'", what, path);
	std::string line;
	std::getline(f, line);
	while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
		line.pop_back();
	if (line.empty())
		return makeError(Errc::Invalid, "the {} file '{}' is empty", what, path);
	return line;
}

void wipe(std::string &s)
{
	std::fill(s.begin(), s.end(), '\0');
	s.clear();
}

} // namespace

const char *failureKindName(Failure::Kind k)
{
	switch (k) {
	case Failure::Kind::None: return "none";
	case Failure::Kind::Config: return "config";
	case Failure::Kind::Connect: return "connect";
	case Failure::Kind::Timeout: return "timeout";
	case Failure::Kind::Tls: return "tls";
	case Failure::Kind::Auth: return "auth";
	case Failure::Kind::NotFound: return "not-found";
	case Failure::Kind::Http: return "http";
	case Failure::Kind::BadJson: return "bad-json";
	case Failure::Kind::BadShape: return "bad-shape";
	case Failure::Kind::Server: return "server";
	}
	return "?";
}

std::string escape(std::string_view s)
{
	static const char *hex = "0123456789ABCDEF";
	std::string out;
	out.reserve(s.size());
	for (const char c : s) {
		const auto u = static_cast<unsigned char>(c);
		if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' || u == '.' ||
		    u == '_' || u == '~') {
			out.push_back(c);
		} else {
			out.push_back('%');
			out.push_back(hex[u >> 4]);
			out.push_back(hex[u & 15]);
		}
	}
	return out;
}

std::pair<std::string, std::string> splitOrigin(const std::string &url)
{
	const auto p = url.find("://");
	if (p == std::string::npos)
		return {"", url};
	const auto slash = url.find_first_of("/?#", p + 3);
	if (slash == std::string::npos)
		return {url, ""};
	return {url.substr(0, slash), url.substr(slash)};
}

bool isHttpUrl(std::string_view url)
{
	return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

std::string printable(std::string_view s, size_t max)
{
	std::string out;
	for (char c : s) {
		if (out.size() >= max) {
			out += "...";
			break;
		}
		const auto u = static_cast<unsigned char>(c);
		out.push_back(u == '\n' || u == '\r' || u == '\t' ? ' ' : (u < 0x20 || u == 0x7f) ? '?' : c);
	}
	while (!out.empty() && out.back() == ' ')
		out.pop_back();
	return out;
}

Failure::Kind kindOfCurlCode(int curlCode)
{
	switch (static_cast<CURLcode>(curlCode)) {
	case CURLE_OK:
		return Failure::Kind::None;
	case CURLE_OPERATION_TIMEDOUT:
		return Failure::Kind::Timeout;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		return Failure::Kind::Tls;
	default:
		return Failure::Kind::Connect;
	}
}

bool isConnectCurlCode(int curlCode)
{
	return curlCode == CURLE_COULDNT_CONNECT || curlCode == CURLE_COULDNT_RESOLVE_HOST ||
	       curlCode == CURLE_COULDNT_RESOLVE_PROXY;
}

bool isTransientCurlCode(int curlCode)
{
	return curlCode == CURLE_OPERATION_TIMEDOUT || isConnectCurlCode(curlCode) || curlCode == CURLE_RECV_ERROR ||
	       curlCode == CURLE_SEND_ERROR || curlCode == CURLE_GOT_NOTHING || curlCode == CURLE_PARTIAL_FILE;
}

Errc errcForStatus(long status)
{
	if (status == 401 || status == 403)
		return Errc::Refused;
	if (status == 404)
		return Errc::NotFound;
	if (status == 400 || status == 422)
		return Errc::Invalid;
	if (status == 503 || status == 504)
		return Errc::Timeout;
	return Errc::Io;
}

Error transportError(const char *method, const std::string &url, const Response &r, const Target &t, Failure &f)
{
	f = Failure{r.kind, static_cast<int>(r.status), "", printable(r.error), url};
	switch (r.kind) {
	case Failure::Kind::None:
		return Error{Errc::Internal, fmt::format("{} {}: no failure", method, url)};
	case Failure::Kind::Config:
		f.httpStatus = 0;
		if (!isHttpUrl(url))
			return Error{Errc::Invalid, fmt::format("'{}' is not an http:// or https:// URL", url)};
		return Error{r.setupCode, fmt::format("{} {}: {}", method, url, r.error)};
	case Failure::Kind::BadShape:
		return Error{Errc::Protocol, fmt::format("{} {}: {}", method, url, f.error)};
	case Failure::Kind::Timeout:
		return Error{Errc::Timeout, fmt::format("{} {}: timed out (connect timeout {} ms, total {} ms): {}", method,
							url, t.connectTimeoutMs, t.timeoutMs, f.error)};
	case Failure::Kind::Tls:
		return Error{Errc::Refused, fmt::format("{} {}: TLS failure: {}", method, url, f.error)};
	default:
		return Error{Errc::Io, fmt::format("{} {}: {}: {}", method, url,
						   isConnectCurlCode(r.curlCode) ? "cannot connect" : "transfer failed",
						   f.error)};
	}
}

struct Client::Impl {
	const CurlApi *cx = nullptr;
	CURL *h = nullptr;
	std::string loadError;
	Errc loadCode = Errc::Unsupported;
	char errBuf[CURL_ERROR_SIZE];
	std::string body;                   // the answer being received (keeps its capacity, see recycle)
	size_t maxBody = 0;
	bool truncate = false;
	bool tooLarge = false;
	curl_slist *plainHeaders = nullptr; // the headers of a request without body or token, built once
	const Target *target = nullptr;
	std::shared_ptr<spdlog::logger> logger = xdc::log::get("http");

	static size_t onBody(char *data, size_t size, size_t n, void *self)
	{
		auto *p = static_cast<Impl *>(self);
		const size_t len = size * n;
		if (p->body.size() + len > p->maxBody) {
			if (p->truncate) {
				p->body.append(data, p->maxBody - std::min(p->maxBody, p->body.size()));
				return len;
			}
			p->tooLarge = true;
			return 0; // aborts the transfer with CURLE_WRITE_ERROR
		}
		p->body.append(data, len);
		return len;
	}

	static int onSocket(void *, curl_socket_t fd, curlsocktype purpose)
	{
		if (purpose == CURLSOCKTYPE_IPCXN) {
			const linger lg{1, 0};
			(void)::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		}
		return CURL_SOCKOPT_OK;
	}

	static int onProgress(void *abort, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
	{
		return *static_cast<const bool *>(abort) ? 1 : 0;
	}

	curl_slist *baseHeaders() const
	{
		curl_slist *l = nullptr;
		if (!target->accept.empty())
			l = cx->slistAppend(l, ("Accept: " + target->accept).c_str());
		// No "Expect: 100-continue" round trip before large bodies (bundle uploads).
		return cx->slistAppend(l, "Expect:");
	}
};

Client::Client(Target target, const char *user) : target_(std::move(target)), impl_(new Impl)
{
	while (!target_.url.empty() && target_.url.back() == '/')
		target_.url.pop_back();
	Impl &m = *impl_;
	m.errBuf[0] = 0;
	m.target = &target_;
	m.maxBody = target_.maxBody;
	m.truncate = target_.truncateBody;
	if (target_.truncateBody)
		m.body.reserve(target_.maxBody);
	auto api = curlApi(user);
	if (!api) {
		m.loadError = api.error().message;
		return;
	}
	m.cx = *api;
	m.h = m.cx->easyInit();
	if (!m.h) {
		m.loadError = fmt::format("{}: libcurl could not be initialised", user);
		m.loadCode = Errc::Internal;
		return;
	}
	auto *cx = m.cx;
	CURL *h = m.h;
	const Target &t = target_;
	// No signals: xdc's programs are multi-threaded and curl's alarm()-based DNS timeout is not thread-safe.
	cx->easySetopt(h, CURLOPT_NOSIGNAL, 1L);
	cx->easySetopt(h, CURLOPT_ERRORBUFFER, m.errBuf);
	cx->easySetopt(h, CURLOPT_WRITEFUNCTION, &Impl::onBody);
	cx->easySetopt(h, CURLOPT_WRITEDATA, impl_.get());
	// Only http and https, whatever URL a config gives. libcurl >= 7.85 takes them as a string; older ones (RHEL
	// 8's 7.61, RHEL 9's 7.76) answer CURLE_UNKNOWN_OPTION and take only the bitmask option (number 181, named
	// CURLOPT_PROTOCOLS, deprecated in the headers this builds with). If neither is taken, nothing is sent.
	constexpr auto kProtocolsBitmask = static_cast<CURLoption>(CURLOPTTYPE_LONG + 181);
	if (cx->easySetopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK &&
	    cx->easySetopt(h, kProtocolsBitmask, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS)) != CURLE_OK) {
		m.loadError = fmt::format("{}: this host's libcurl cannot be limited to http and https", user);
		m.loadCode = Errc::Unsupported;
		return;
	}
	// A redirect would carry the credentials to wherever the server points, and a 3xx is an answer: never followed.
	cx->easySetopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	if (!t.userAgent.empty())
		cx->easySetopt(h, CURLOPT_USERAGENT, t.userAgent.c_str());
	cx->easySetopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::max(1, t.connectTimeoutMs)));
	cx->easySetopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max(1, t.timeoutMs)));
	if (t.reuse)
		cx->easySetopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	else // close after each transfer (rather than FRESH_CONNECT, which keeps the old one in the cache)
		cx->easySetopt(h, CURLOPT_FORBID_REUSE, 1L);
	if (t.noProxy)
		cx->easySetopt(h, CURLOPT_PROXY, "");
	if (t.resetOnClose)
		cx->easySetopt(h, CURLOPT_SOCKOPTFUNCTION, &Impl::onSocket);
	if (!t.caFile.empty())
		cx->easySetopt(h, CURLOPT_CAINFO, t.caFile.c_str());
	if (!t.clientCert.empty())
		cx->easySetopt(h, CURLOPT_SSLCERT, t.clientCert.c_str());
	if (!t.clientKey.empty())
		cx->easySetopt(h, CURLOPT_SSLKEY, t.clientKey.c_str());
	if (t.insecure) {
		cx->easySetopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		cx->easySetopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

Client::~Client()
{
	if (impl_->h)
		impl_->cx->easyCleanup(impl_->h);
	if (impl_->plainHeaders)
		impl_->cx->slistFreeAll(impl_->plainHeaders);
}

Result<void> Client::ready() const
{
	if (!impl_->h)
		return Error{impl_->loadCode, impl_->loadError};
	return success();
}

std::string Client::joinUrl(const std::string &base, const std::string &path)
{
	if (!base.empty() && base.back() == '/' && !path.empty() && path.front() == '/')
		return base + path.substr(1);
	return base + path;
}

void Client::recycle(std::string &&buffer)
{
	if (buffer.capacity() > impl_->body.capacity() && buffer.capacity() <= (1u << 20)) {
		buffer.clear();
		impl_->body = std::move(buffer);
	}
}

Error Client::fail(Failure f, Errc code, const std::string &message)
{
	f.error = printable(f.error);
	failure_ = std::move(f);
	impl_->logger->debug("{}", message);
	return Error{code, message};
}

Response Client::perform(const Request &r)
{
	Impl &m = *impl_;
	Response out;
	auto setup = [&](std::string text, Errc code = Errc::Invalid) {
		out.kind = Failure::Kind::Config;
		out.setupCode = code;
		out.curlCode = -1;
		out.error = std::move(text);
		return std::move(out);
	};
	if (!m.h)
		return setup(m.loadError, m.loadCode);
	if (!isHttpUrl(r.url))
		return setup("not an http(s) URL");
	// Credentials: the request's token, else the target's (given, or read from files now), wiped after the request.
	std::string bearerHeader, user, password;
	if (!r.bearerToken.empty()) {
		bearerHeader = fmt::format("Authorization: Bearer {}", r.bearerToken);
	} else if (!r.noAuth && !target_.bearerTokenFile.empty()) {
		auto t = firstLine(target_.bearerTokenFile, "bearer token");
		if (!t)
			return setup(t.error().message);
		bearerHeader = "Authorization: Bearer " + *t;
		wipe(*t);
	} else if (!r.noAuth && !target_.basicAuthFile.empty()) {
		auto t = firstLine(target_.basicAuthFile, "basic auth");
		if (!t)
			return setup(t.error().message);
		const auto colon = t->find(':');
		if (colon == std::string::npos)
			return setup(fmt::format("the basic auth file '{}' must hold user:password", target_.basicAuthFile));
		user = t->substr(0, colon);
		password = t->substr(colon + 1);
		wipe(*t);
	} else if (!r.noAuth && !target_.user.empty()) {
		user = target_.user;
		password = target_.password;
	}
	auto *cx = m.cx;
	CURL *h = m.h;
	m.body.clear();
	m.tooLarge = false;
	m.errBuf[0] = 0;
	const std::string_view method = r.method;
	cx->easySetopt(h, CURLOPT_URL, r.url.c_str());
	if (r.body || method == "POST") {
		const std::string_view payload = r.body.value_or(std::string_view());
		cx->easySetopt(h, CURLOPT_POST, 1L);
		cx->easySetopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload.size()));
		cx->easySetopt(h, CURLOPT_POSTFIELDS, payload.empty() ? "" : payload.data());
		cx->easySetopt(h, CURLOPT_CUSTOMREQUEST, method == "POST" ? static_cast<const char *>(nullptr) : r.method);
	} else {
		cx->easySetopt(h, CURLOPT_HTTPGET, 1L);
		cx->easySetopt(h, CURLOPT_CUSTOMREQUEST, method == "GET" ? static_cast<const char *>(nullptr) : r.method);
	}
	// The usual request (no body type, no token) reuses one header list: building it was three allocations a
	// request, 80 requests a second in a 10 Hz watch.
	const bool plain = !r.contentType && bearerHeader.empty();
	if (plain && !m.plainHeaders)
		m.plainHeaders = m.baseHeaders();
	curl_slist *headers = plain ? nullptr : m.baseHeaders();
	if (r.contentType)
		headers = cx->slistAppend(headers, fmt::format("Content-Type: {}", r.contentType).c_str());
	if (!bearerHeader.empty())
		headers = cx->slistAppend(headers, bearerHeader.c_str());
	// Credentials through curl's options, never in the URL, so they cannot reach a message.
	if (!user.empty()) {
		cx->easySetopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		cx->easySetopt(h, CURLOPT_USERNAME, user.c_str());
		cx->easySetopt(h, CURLOPT_PASSWORD, password.c_str());
	} else {
		cx->easySetopt(h, CURLOPT_USERNAME, static_cast<const char *>(nullptr));
		cx->easySetopt(h, CURLOPT_PASSWORD, static_cast<const char *>(nullptr));
	}
	if (r.abort) {
		cx->easySetopt(h, CURLOPT_NOPROGRESS, 0L);
		cx->easySetopt(h, CURLOPT_XFERINFOFUNCTION, &Impl::onProgress);
		cx->easySetopt(h, CURLOPT_XFERINFODATA, r.abort);
	} else {
		cx->easySetopt(h, CURLOPT_NOPROGRESS, 1L);
	}
	cx->easySetopt(h, CURLOPT_HTTPHEADER, plain ? m.plainHeaders : headers);
	const CURLcode rc = cx->easyPerform(h);
	cx->easySetopt(h, CURLOPT_HTTPHEADER, static_cast<curl_slist *>(nullptr));
	cx->easySetopt(h, CURLOPT_USERNAME, static_cast<const char *>(nullptr));
	cx->easySetopt(h, CURLOPT_PASSWORD, static_cast<const char *>(nullptr));
	if (headers)
		cx->slistFreeAll(headers);
	wipe(bearerHeader);
	wipe(password);
	cx->easyGetinfo(h, CURLINFO_RESPONSE_CODE, &out.status);
	out.body = std::move(m.body);
	out.curlCode = rc;
	if (rc == CURLE_OK)
		return out;
	out.errorName = cx->easyStrerror(rc);
	out.error = m.errBuf[0] ? std::string(m.errBuf) : out.errorName;
	out.tooLarge = m.tooLarge;
	if (m.tooLarge) {
		out.kind = Failure::Kind::BadShape;
		out.error = fmt::format("response larger than {} MiB", target_.maxBody >> 20);
	} else {
		out.kind = kindOfCurlCode(rc);
		out.transient = isTransientCurlCode(rc);
	}
	return out;
}

Result<Response> Client::request(const Request &r)
{
	failure_ = {};
	Response resp = perform(r);
	impl_->logger->debug("{} {} -> {} ({})", r.method, r.url, resp.status, resp.ok() ? "ok" : printable(resp.error));
	if (resp.ok())
		return resp;
	Failure f;
	Error e = transportError(r.method, r.url, resp, target_, f);
	failure_ = std::move(f);
	return e;
}

} // namespace xdc::http
