// SPDX-License-Identifier: Apache-2.0
// The metric sources' HTTP client over the dlopen'd libcurl.
#include "controller/metrics/http.h"

#include <algorithm>
#include <fstream>

#include <curl/curl.h>

#include "common/http/curl_api.h"
#include "common/log.h"

namespace xdc::metrics {

namespace {

constexpr size_t kMaxBody = 64u << 20; // a larger answer is an error, not an out-of-memory

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

bool tlsError(CURLcode rc)
{
	return rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CERTPROBLEM ||
	       rc == CURLE_SSL_CIPHER || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_ENGINE_NOTFOUND;
}

// Server text as it may appear in a message: one line, printable, bounded.
std::string printable(std::string s)
{
	for (auto &ch : s)
		if (static_cast<unsigned char>(ch) < 0x20)
			ch = ' ';
	if (s.size() > 300)
		s = s.substr(0, 300) + "...";
	return s;
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
	case Failure::Kind::Http: return "http";
	case Failure::Kind::BadJson: return "bad-json";
	case Failure::Kind::BadShape: return "bad-shape";
	case Failure::Kind::Server: return "server";
	}
	return "?";
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

struct HttpClient::Impl {
	const CurlApi *cx = nullptr;
	CURL *h = nullptr;
	std::string loadError;
	char errBuf[CURL_ERROR_SIZE];
	std::string body;
	bool tooLarge = false;
	std::shared_ptr<spdlog::logger> logger = xdc::log::get("metrics");

	static size_t onBody(char *data, size_t size, size_t n, void *self)
	{
		auto *p = static_cast<Impl *>(self);
		const size_t len = size * n;
		if (p->body.size() + len > kMaxBody) {
			p->tooLarge = true;
			return 0; // aborts the transfer with CURLE_WRITE_ERROR
		}
		p->body.append(data, len);
		return len;
	}
};

HttpClient::HttpClient(HttpTarget target, std::string userAgent) : target_(std::move(target)), impl_(new Impl)
{
	while (!target_.url.empty() && target_.url.back() == '/')
		target_.url.pop_back();
	Impl &m = *impl_;
	m.errBuf[0] = 0;
	auto api = curlApi("the metrics client");
	if (!api) {
		m.loadError = api.error().message;
		return;
	}
	m.cx = *api;
	m.h = m.cx->easyInit();
	if (!m.h) {
		m.loadError = "libcurl could not be initialised";
		return;
	}
	auto *cx = m.cx;
	CURL *h = m.h;
	// No signals: the controller is multi-threaded and curl's alarm()-based DNS timeout is not thread-safe.
	cx->easySetopt(h, CURLOPT_NOSIGNAL, 1L);
	cx->easySetopt(h, CURLOPT_ERRORBUFFER, m.errBuf);
	cx->easySetopt(h, CURLOPT_WRITEFUNCTION, &Impl::onBody);
	cx->easySetopt(h, CURLOPT_WRITEDATA, impl_.get());
	cx->easySetopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	// A redirect would carry the credentials to wherever the server points: never followed.
	cx->easySetopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	cx->easySetopt(h, CURLOPT_USERAGENT, userAgent.c_str());
	cx->easySetopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::max(1, target_.connectTimeoutMs)));
	cx->easySetopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max(1, target_.timeoutMs)));
	if (!target_.caFile.empty())
		cx->easySetopt(h, CURLOPT_CAINFO, target_.caFile.c_str());
	if (target_.insecure) {
		cx->easySetopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		cx->easySetopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

HttpClient::~HttpClient()
{
	if (impl_->h)
		impl_->cx->easyCleanup(impl_->h);
}

std::string HttpClient::urlFor(const std::string &path) const
{
	return target_.url + path;
}

std::string HttpClient::escape(const std::string &s) const
{
	if (!impl_->h)
		return s;
	char *e = impl_->cx->easyEscape(impl_->h, s.data(), static_cast<int>(s.size()));
	if (!e)
		return s;
	std::string out(e);
	impl_->cx->free(e);
	return out;
}

Error HttpClient::fail(Failure f, Errc code, const std::string &message)
{
	f.error = printable(f.error);
	failure_ = std::move(f);
	impl_->logger->debug("{}", message);
	return Error{code, message};
}

Result<HttpResponse> HttpClient::request(const std::string &url, const std::string *payload, const char *contentType)
{
	failure_ = {};
	Impl &m = *impl_;
	const char *method = payload ? "POST" : "GET";
	if (!m.h)
		return fail(Failure{Failure::Kind::Connect, 0, "", m.loadError, url}, Errc::Unsupported,
			    fmt::format("{} {}: {}", method, url, m.loadError));
	if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
		return fail(Failure{Failure::Kind::Config, 0, "", "not an http(s) URL", url}, Errc::Invalid,
			    fmt::format("'{}' is not an http:// or https:// URL", url));
	std::string secret; // the bearer header or basic credentials, wiped after the request
	std::string bearerHeader;
	if (!target_.bearerTokenFile.empty()) {
		auto t = firstLine(target_.bearerTokenFile, "bearer token");
		if (!t)
			return fail(Failure{Failure::Kind::Config, 0, "", t.error().message, url}, Errc::Invalid,
				    fmt::format("{} {}: {}", method, url, t.error().message));
		bearerHeader = "Authorization: Bearer " + *t;
		std::fill(t->begin(), t->end(), '\0');
	} else if (!target_.basicAuthFile.empty()) {
		auto t = firstLine(target_.basicAuthFile, "basic auth");
		if (!t)
			return fail(Failure{Failure::Kind::Config, 0, "", t.error().message, url}, Errc::Invalid,
				    fmt::format("{} {}: {}", method, url, t.error().message));
		if (t->find(':') == std::string::npos)
			return fail(Failure{Failure::Kind::Config, 0, "", "no ':' between user and password", url},
				    Errc::Invalid,
				    fmt::format("{} {}: the basic auth file '{}' must hold user:password", method, url,
						target_.basicAuthFile));
		secret = std::move(*t);
	}
	auto *cx = m.cx;
	CURL *h = m.h;
	m.body.clear();
	m.tooLarge = false;
	m.errBuf[0] = 0;
	cx->easySetopt(h, CURLOPT_URL, url.c_str());
	if (payload) {
		cx->easySetopt(h, CURLOPT_POST, 1L);
		cx->easySetopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload->size()));
		cx->easySetopt(h, CURLOPT_POSTFIELDS, payload->data());
	} else {
		cx->easySetopt(h, CURLOPT_HTTPGET, 1L);
	}
	curl_slist *headers = nullptr;
	headers = cx->slistAppend(headers, "Accept: application/json");
	headers = cx->slistAppend(headers, "Expect:");
	if (contentType)
		headers = cx->slistAppend(headers, fmt::format("Content-Type: {}", contentType).c_str());
	if (!bearerHeader.empty())
		headers = cx->slistAppend(headers, bearerHeader.c_str());
	if (!secret.empty()) {
		// Through curl's options, never in the URL, so they cannot reach a message.
		cx->easySetopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		cx->easySetopt(h, CURLOPT_USERPWD, secret.c_str());
	} else {
		cx->easySetopt(h, CURLOPT_USERPWD, static_cast<const char *>(nullptr));
	}
	cx->easySetopt(h, CURLOPT_HTTPHEADER, headers);
	const CURLcode rc = cx->easyPerform(h);
	cx->easySetopt(h, CURLOPT_HTTPHEADER, static_cast<curl_slist *>(nullptr));
	cx->easySetopt(h, CURLOPT_USERPWD, static_cast<const char *>(nullptr));
	cx->slistFreeAll(headers);
	std::fill(bearerHeader.begin(), bearerHeader.end(), '\0');
	std::fill(secret.begin(), secret.end(), '\0');
	HttpResponse r;
	cx->easyGetinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
	r.body = std::move(m.body);
	const std::string curlText = m.errBuf[0] ? std::string(m.errBuf) : std::string(cx->easyStrerror(rc));
	m.logger->debug("{} {} -> {} ({})", method, url, r.status, rc == CURLE_OK ? "ok" : curlText);
	if (rc == CURLE_OK)
		return r;
	Failure f{Failure::Kind::Connect, static_cast<int>(r.status), "", curlText, url};
	if (m.tooLarge) {
		f.kind = Failure::Kind::BadShape;
		f.error = fmt::format("response larger than {} MiB", kMaxBody >> 20);
		return fail(f, Errc::Protocol, fmt::format("{} {}: {}", method, url, f.error));
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		f.kind = Failure::Kind::Timeout;
		return fail(f, Errc::Timeout,
			    fmt::format("{} {}: timed out (connect timeout {} ms, total {} ms): {}", method, url,
					target_.connectTimeoutMs, target_.timeoutMs, printable(curlText)));
	}
	if (tlsError(rc)) {
		f.kind = Failure::Kind::Tls;
		return fail(f, Errc::Refused, fmt::format("{} {}: TLS failure: {}", method, url, printable(curlText)));
	}
	const bool connect = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
			     rc == CURLE_COULDNT_RESOLVE_PROXY;
	return fail(f, Errc::Io, fmt::format("{} {}: {}: {}", method, url, connect ? "cannot connect" : "transfer failed",
					     printable(curlText)));
}

} // namespace xdc::metrics
