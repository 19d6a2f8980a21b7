// SPDX-License-Identifier: Apache-2.0
// The Streams REST client: discovery, Basic and token auth, retries, paging and error classification over libcurl.
#include "controller/streams/client.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include <curl/curl.h>

#include "common/http/curl_api.h"

#include "common/log.h"

namespace xdc::streams {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

// A body larger than this is refused rather than held: no Streams resource comes close, so it is a broken server.
constexpr size_t kMaxBody = 64u << 20;
// Tokens are refreshed this long before they expire, or at 4/5 of their life when that is shorter.
constexpr int64_t kTokenMarginMs = 30000;
// Without `expiresIn` a token is refreshed after 4 minutes: the product's tokens live a few minutes.
constexpr int64_t kDefaultTokenLifeMs = 4 * 60 * 1000;
constexpr int kMaxBackoffMs = 5000;
// Guards for servers whose paging never ends.
constexpr int kMaxPages = 100000;
constexpr size_t kMaxElements = 10000000;

bool isAbsolute(const std::string &s)
{
	return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

// "https://h:1/a/b?c" -> {"https://h:1", "/a/b?c"}.
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

std::string base64(const std::string &in)
{
	static const char *t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	std::string out;
	size_t i = 0;
	for (; i + 2 < in.size(); i += 3) {
		const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
				   static_cast<unsigned char>(in[i + 2]);
		out += {t[(v >> 18) & 63], t[(v >> 12) & 63], t[(v >> 6) & 63], t[v & 63]};
	}
	if (i + 1 == in.size()) {
		const unsigned v = static_cast<unsigned char>(in[i]) << 16;
		out += {t[(v >> 18) & 63], t[(v >> 12) & 63], '=', '='};
	} else if (i + 2 == in.size()) {
		const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
		out += {t[(v >> 18) & 63], t[(v >> 12) & 63], t[(v >> 6) & 63], '='};
	}
	return out;
}

// Server text goes into messages and logs: keep it printable and short.
std::string printable(std::string_view s, size_t max = 300)
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

// "CDISW5000E ..." -> "CDISW5000E": the product's message ids are 5 letters, 4 digits and a severity letter.
std::string leadingMessageId(const std::string &text)
{
	size_t i = 0;
	while (i < text.size() && i < 5 && std::isupper(static_cast<unsigned char>(text[i])))
		i++;
	if (i != 5)
		return "";
	size_t d = i;
	while (d < text.size() && std::isdigit(static_cast<unsigned char>(text[d])))
		d++;
	if (d - i != 4 || d >= text.size() || !std::strchr("EWI", text[d]))
		return "";
	return text.substr(0, d + 1);
}

// The id and text of an error body, in any of the three shapes the product's services use.
void readErrorBody(const std::string &body, std::string &id, std::string &text)
{
	const json j = json::parse(body, nullptr, false);
	auto str = [](const json &o, const char *k) -> std::string {
		if (!o.is_object())
			return "";
		auto it = o.find(k);
		return it != o.end() && it->is_string() ? it->get<std::string>() : "";
	};
	if (j.is_object()) {
		id = str(j, "id");
		text = str(j, "message");
		for (const char *list : {"messages", "errors"}) {
			auto it = j.find(list);
			if (!text.empty() || it == j.end() || !it->is_array())
				continue;
			std::vector<std::string> parts;
			for (const auto &m : *it) {
				if (m.is_string()) {
					parts.push_back(m.get<std::string>());
				} else if (m.is_object()) {
					if (id.empty())
						id = !str(m, "id").empty() ? str(m, "id") : str(m, "messageId");
					if (!str(m, "message").empty())
						parts.push_back(str(m, "message"));
				}
			}
			text = fmt::format("{}", fmt::join(parts, "; "));
		}
	} else if (j.is_discarded()) {
		// An HTML error page from a proxy, or plain text: its first words are still the best explanation.
		text = body;
	}
	text = printable(text);
	id = printable(id, 40);
	if (id.empty())
		id = leadingMessageId(text);
}

bool tlsError(CURLcode rc)
{
	switch (rc) {
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
		return true;
	default:
		return false;
	}
}

bool connectError(CURLcode rc)
{
	return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY;
}

// Transport failures worth another attempt for an idempotent request: the request may never have reached the server.
bool transientCurl(CURLcode rc)
{
	return rc == CURLE_OPERATION_TIMEDOUT || connectError(rc) || rc == CURLE_RECV_ERROR || rc == CURLE_SEND_ERROR ||
	       rc == CURLE_GOT_NOTHING || rc == CURLE_PARTIAL_FILE;
}

std::string idOf(const json &e)
{
	if (e.is_object()) {
		if (auto it = e.find("id"); it != e.end())
			return it->dump();
		if (auto it = e.find("self"); it != e.end())
			return it->dump();
	}
	return e.dump();
}

} // namespace

const char *failureKindName(ApiFailure::Kind k)
{
	switch (k) {
	case ApiFailure::Kind::None: return "none";
	case ApiFailure::Kind::Connect: return "connect";
	case ApiFailure::Kind::Timeout: return "timeout";
	case ApiFailure::Kind::Tls: return "tls";
	case ApiFailure::Kind::Auth: return "auth";
	case ApiFailure::Kind::NotFound: return "not-found";
	case ApiFailure::Kind::Http: return "http";
	case ApiFailure::Kind::BadJson: return "bad-json";
	case ApiFailure::Kind::BadShape: return "bad-shape";
	}
	return "?";
}

struct Client::Impl {
	enum class Auth { Basic, Session }; // Session: the Bearer token when one is in use, else Basic

	struct Attempt {
		CURLcode rc = CURLE_OK;
		long status = 0;
		std::string body;
		std::string curlText;
		bool tooLarge = false;
	};

	Client &c;
	CURL *h = nullptr;
	const CurlApi *cx = nullptr; // libcurl, loaded on first use (common/http/curl_api.h)
	std::string loadError;
	char errBuf[CURL_ERROR_SIZE];
	std::string body;        // the answer being received; keeps its capacity between requests (see requestJson)
	curl_slist *plainHeaders = nullptr; // the headers of a request without body or token, built once
	bool tooLarge = false;
	std::string origin;      // scheme://host:port, from the endpoint
	std::string instanceUrl; // resolved by discovery
	bool discovered = false;
	std::string tokenUrl;    // the root's accessTokens, when tokens are in use
	std::string token;
	Clock::time_point tokenRefreshAt{};
	std::shared_ptr<spdlog::logger> logger = xdc::log::get("streams");
	long lastStatus = 0;       // of the last response, for failures found after a 2xx

	explicit Impl(Client &owner) : c(owner)
	{
		errBuf[0] = 0;
		origin = splitOrigin(c.ep_.url).first;
		auto api = curlApi("the Streams REST client");
		if (!api) {
			loadError = api.error().message;
			return;
		}
		cx = *api;
		h = cx->easyInit();
		if (!h) {
			loadError = "libcurl could not be initialised";
			return;
		}
		const Endpoint &ep = c.ep_;
		// No signals: the controller is multi-threaded and curl's alarm()-based DNS timeout is not thread-safe.
		cx->easySetopt(h, CURLOPT_NOSIGNAL, 1L);
		cx->easySetopt(h, CURLOPT_ERRORBUFFER, errBuf);
		cx->easySetopt(h, CURLOPT_WRITEFUNCTION, &Impl::onBody);
		cx->easySetopt(h, CURLOPT_WRITEDATA, this);
		cx->easySetopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		// A redirect would carry the credentials to wherever the server points: never followed.
		cx->easySetopt(h, CURLOPT_FOLLOWLOCATION, 0L);
		cx->easySetopt(h, CURLOPT_USERAGENT, "xdc streams-client");
		cx->easySetopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
		cx->easySetopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::max(1, ep.connectTimeoutMs)));
		cx->easySetopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max(1, ep.timeoutMs)));
		if (!ep.caFile.empty())
			cx->easySetopt(h, CURLOPT_CAINFO, ep.caFile.c_str());
		if (!ep.clientCert.empty())
			cx->easySetopt(h, CURLOPT_SSLCERT, ep.clientCert.c_str());
		if (!ep.clientKey.empty())
			cx->easySetopt(h, CURLOPT_SSLKEY, ep.clientKey.c_str());
		if (ep.insecure) {
			cx->easySetopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
			cx->easySetopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}

	~Impl()
	{
		if (h)
			cx->easyCleanup(h);
		if (plainHeaders)
			cx->slistFreeAll(plainHeaders);
	}

	Impl(const Impl &) = delete;
	Impl &operator=(const Impl &) = delete;

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

	// Removes every secret from text that may reach a message or a log, whatever the server echoed back.
	std::string scrub(std::string s) const
	{
		const Endpoint &ep = c.ep_;
		std::vector<std::string> secrets;
		if (!ep.password.empty()) {
			secrets.push_back(base64(ep.user + ":" + ep.password));
			secrets.push_back(ep.password);
		}
		if (!token.empty())
			secrets.push_back(token);
		for (const auto &secret : secrets) {
			for (size_t p = s.find(secret); p != std::string::npos; p = s.find(secret, p + 3))
				s.replace(p, secret.size(), "***");
		}
		return s;
	}

	// Records the failure and turns it into the Result error every public call returns.
	Error fail(ApiFailure f, Errc code, const std::string &message)
	{
		f.text = scrub(f.text);
		f.url = scrub(f.url);
		c.failure_ = std::move(f);
		Error e{code, scrub(message)};
		logger->debug("{}", e.message);
		return e;
	}

	Error shapeError(const char *method, const std::string &url, const std::string &what, bool badJson = false)
	{
		ApiFailure f;
		f.kind = badJson ? ApiFailure::Kind::BadJson : ApiFailure::Kind::BadShape;
		f.httpStatus = static_cast<int>(lastStatus);
		f.text = what;
		f.url = url;
		return fail(f, Errc::Protocol, fmt::format("{} {}: {}", method, url, what));
	}

	Attempt perform(const char *method, const std::string &url, const std::string *payload, const char *contentType,
			bool bearer)
	{
		Attempt a;
		c.requests_++;
		body.clear();
		tooLarge = false;
		errBuf[0] = 0;
		const std::string m = method;
		cx->easySetopt(h, CURLOPT_URL, url.c_str());
		if (m == "POST") {
			cx->easySetopt(h, CURLOPT_CUSTOMREQUEST, static_cast<const char *>(nullptr));
			cx->easySetopt(h, CURLOPT_POST, 1L);
			cx->easySetopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload ? payload->size() : 0));
			cx->easySetopt(h, CURLOPT_POSTFIELDS, payload ? payload->data() : "");
		} else {
			cx->easySetopt(h, CURLOPT_HTTPGET, 1L);
			cx->easySetopt(h, CURLOPT_CUSTOMREQUEST, m == "GET" ? static_cast<const char *>(nullptr) : method);
		}
		// The usual request (no body, no token) reuses one header list: building it was three allocations a
		// request, 80 requests a second in a 10 Hz watch.
		const bool plain = !contentType && !bearer;
		auto baseHeaders = [&] {
			curl_slist *l = cx->slistAppend(nullptr, "Accept: application/json");
			// No "Expect: 100-continue" round trip before bundle uploads.
			return cx->slistAppend(l, "Expect:");
		};
		if (plain && !plainHeaders)
			plainHeaders = baseHeaders();
		curl_slist *headers = plain ? nullptr : baseHeaders();
		if (contentType)
			headers = cx->slistAppend(headers, fmt::format("Content-Type: {}", contentType).c_str());
		std::string bearerHeader;
		if (bearer) {
			bearerHeader = "Authorization: Bearer " + token;
			headers = cx->slistAppend(headers, bearerHeader.c_str());
			cx->easySetopt(h, CURLOPT_USERNAME, static_cast<const char *>(nullptr));
			cx->easySetopt(h, CURLOPT_PASSWORD, static_cast<const char *>(nullptr));
		} else if (!c.ep_.user.empty()) {
			// Credentials through curl's options, never in the URL, so they cannot leak into messages.
			cx->easySetopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
			cx->easySetopt(h, CURLOPT_USERNAME, c.ep_.user.c_str());
			cx->easySetopt(h, CURLOPT_PASSWORD, c.ep_.password.c_str());
		} else {
			cx->easySetopt(h, CURLOPT_USERNAME, static_cast<const char *>(nullptr));
			cx->easySetopt(h, CURLOPT_PASSWORD, static_cast<const char *>(nullptr));
		}
		cx->easySetopt(h, CURLOPT_HTTPHEADER, plain ? plainHeaders : headers);
		const auto start = Clock::now();
		a.rc = cx->easyPerform(h);
		cx->easySetopt(h, CURLOPT_HTTPHEADER, static_cast<curl_slist *>(nullptr));
		if (headers)
			cx->slistFreeAll(headers);
		if (!bearerHeader.empty())
			std::fill(bearerHeader.begin(), bearerHeader.end(), '\0');
		cx->easyGetinfo(h, CURLINFO_RESPONSE_CODE, &a.status);
		lastStatus = a.status;
		a.body = std::move(body);
		a.tooLarge = tooLarge;
		a.curlText = errBuf[0] ? std::string(errBuf) : std::string(cx->easyStrerror(a.rc));
		const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
		logger->debug("{} {} -> {} ({}) in {} ms", method, url, a.status, a.rc == CURLE_OK ? "ok" : scrub(a.curlText),
			   ms);
		return a;
	}

	Error classify(const char *method, const std::string &url, const Attempt &a)
	{
		const Endpoint &ep = c.ep_;
		ApiFailure f;
		f.url = url;
		f.httpStatus = static_cast<int>(a.status);
		if (a.rc != CURLE_OK) {
			f.text = printable(a.curlText);
			if (a.tooLarge) {
				f.kind = ApiFailure::Kind::BadShape;
				f.text = fmt::format("response larger than {} MiB", kMaxBody >> 20);
				return fail(f, Errc::Protocol, fmt::format("{} {}: {}", method, url, f.text));
			}
			if (a.rc == CURLE_OPERATION_TIMEDOUT) {
				f.kind = ApiFailure::Kind::Timeout;
				return fail(f, Errc::Timeout,
					    fmt::format("{} {}: timed out (connect timeout {} ms, total {} ms): {}", method, url,
							ep.connectTimeoutMs, ep.timeoutMs, f.text));
			}
			if (tlsError(a.rc)) {
				f.kind = ApiFailure::Kind::Tls;
				return fail(f, Errc::Refused, fmt::format("{} {}: TLS failure: {}", method, url, f.text));
			}
			f.kind = ApiFailure::Kind::Connect;
			return fail(f, Errc::Io, fmt::format("{} {}: {}: {}", method, url,
							     connectError(a.rc) ? "cannot connect" : "transfer failed", f.text));
		}
		readErrorBody(a.body, f.messageId, f.text);
		Errc code = Errc::Io;
		if (a.status == 401 || a.status == 403) {
			f.kind = ApiFailure::Kind::Auth;
			code = Errc::Refused;
		} else if (a.status == 404) {
			f.kind = ApiFailure::Kind::NotFound;
			code = Errc::NotFound;
		} else {
			f.kind = ApiFailure::Kind::Http;
			code = a.status == 400 || a.status == 422 ? Errc::Invalid : a.status == 409 ? Errc::Exists : Errc::Io;
		}
		// The product repeats the id at the start of its text: said once in the message.
		std::string text = f.text;
		if (!f.messageId.empty() && text.rfind(f.messageId, 0) == 0)
			text = printable(text.substr(f.messageId.size()));
		text.erase(0, std::min(text.size(), text.find_first_not_of(": ")));
		std::string msg = fmt::format("{} {}: HTTP {}", method, url, a.status);
		if (!f.messageId.empty())
			msg += " " + f.messageId;
		if (!text.empty())
			msg += (f.messageId.empty() ? " " : ": ") + text;
		if (f.kind == ApiFailure::Kind::Auth && f.text.empty())
			msg += " (not authorized: check the user and password)";
		return fail(f, code, msg);
	}

	// One request with retries (GET only), the token kept fresh, and failures classified. Success is any 2xx.
	Result<std::string> request(const char *method, const std::string &url, const std::string *payload = nullptr,
				    const char *contentType = nullptr, Auth auth = Auth::Session)
	{
		if (!h)
			return fail(ApiFailure{ApiFailure::Kind::Connect, 0, "", loadError, url}, Errc::Internal,
				    fmt::format("{} {}: {}", method, url, loadError));
		const bool idempotent = std::string_view(method) == "GET";
		const int attempts = idempotent ? 1 + std::max(0, c.ep_.retries) : 1;
		int backoff = std::max(0, c.ep_.retryBackoffMs);
		bool refreshedOn401 = false;
		for (int attempt = 1;; attempt++) {
			const bool bearer = auth == Auth::Session && !tokenUrl.empty();
			if (bearer && (token.empty() || Clock::now() >= tokenRefreshAt))
				XDC_TRY(fetchToken());
			Attempt a = perform(method, url, payload, contentType, bearer);
			if (a.rc == CURLE_OK && a.status >= 200 && a.status < 300) {
				c.failure_ = ApiFailure{};
				return std::move(a.body);
			}
			// A 401 with a token means it expired early or was revoked: the request was not executed, so even a
			// POST can be sent again once with a fresh token.
			if (a.rc == CURLE_OK && a.status == 401 && bearer && !refreshedOn401) {
				refreshedOn401 = true;
				token.clear();
				attempt--;
				continue;
			}
			const bool transient = a.rc != CURLE_OK ? transientCurl(a.rc) && !a.tooLarge : a.status >= 500;
			if (transient && attempt < attempts) {
				logger->debug("{} {}: attempt {} of {} failed, next in {} ms", method, url, attempt, attempts,
					   backoff);
				std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
				backoff = std::min(kMaxBackoffMs, std::max(1, backoff * 2));
				continue;
			}
			return classify(method, url, a);
		}
	}

	Result<json> requestJson(const char *method, const std::string &url, const std::string *payload = nullptr,
				 const char *contentType = nullptr, Auth auth = Auth::Session)
	{
		auto text = request(method, url, payload, contentType, auth);
		if (!text)
			return text.error();
		json j = json::parse(*text, nullptr, false);
		if (j.is_discarded())
			return shapeError(method, url,
					  text->empty() ? std::string("empty response, expected JSON")
							: fmt::format("response is not JSON: '{}'", printable(*text, 80)),
					  true);
		// The parsed answer's buffer receives the next one: growing a fresh string for every answer was a
		// chain of reallocations per request.
		if (text->capacity() > body.capacity() && text->capacity() <= (1u << 20))
			body = std::move(*text);
		return j;
	}

	Result<void> fetchToken()
	{
		const std::string payload = R"({"audience":"streams"})";
		auto j = requestJson("POST", tokenUrl, &payload, "application/json", Auth::Basic);
		if (!j)
			return j.error();
		auto it = j->is_object() ? j->find("accessToken") : j->end();
		if (!j->is_object() || it == j->end() || !it->is_string() || it->get<std::string>().empty())
			return shapeError("POST", tokenUrl, "no 'accessToken' string in the answer");
		token = it->get<std::string>();
		int64_t lifeMs = kDefaultTokenLifeMs;
		for (const char *k : {"expiresIn", "expires_in"}) {
			auto e = j->find(k);
			if (e != j->end() && e->is_number() && e->get<double>() > 0 && e->get<double>() < 1e9) {
				lifeMs = static_cast<int64_t>(e->get<double>() * 1000);
				break;
			}
		}
		const int64_t margin = std::min(kTokenMarginMs, lifeMs / 5);
		tokenRefreshAt = Clock::now() + std::chrono::milliseconds(lifeMs - margin);
		logger->debug("access token from {}, refreshed in {} ms", tokenUrl, lifeMs - margin);
		return success();
	}

	// A relation or `self` URL from the server, re-rooted on the configured origin: credentials only ever go to the
	// server the config names, and a server that reports an internal host name (a pod behind a route) still works.
	std::string resolveUrl(const std::string &pathOrUrl) const
	{
		if (isAbsolute(pathOrUrl))
			return origin + splitOrigin(pathOrUrl).second;
		if (!pathOrUrl.empty() && pathOrUrl[0] == '/')
			return origin + pathOrUrl;
		if (pathOrUrl.empty())
			return instanceUrl;
		return instanceUrl + "/" + pathOrUrl;
	}

	std::string escape(const std::string &s) const
	{
		char *e = h ? cx->easyEscape(h, s.data(), static_cast<int>(s.size())) : nullptr;
		if (!e)
			return s;
		std::string out(e);
		cx->free(e);
		return out;
	}

	// Picks the configured instance (or the first) from an `instances` collection.
	Result<std::string> pickInstance(const std::string &listUrl, const json &j)
	{
		auto it = j.is_object() ? j.find("instances") : j.end();
		if (!j.is_object() || it == j.end() || !it->is_array())
			return shapeError("GET", listUrl, "no 'instances' array in the answer");
		std::vector<std::string> ids;
		for (const auto &e : *it) {
			if (!e.is_object())
				continue;
			std::string id;
			if (auto idIt = e.find("id"); idIt != e.end())
				id = idIt->is_string() ? idIt->get<std::string>() : idIt->is_number() ? idIt->dump() : "";
			ids.push_back(id);
			if (!c.ep_.instance.empty() && id != c.ep_.instance)
				continue;
			auto self = e.find("self");
			if (self != e.end() && self->is_string())
				return resolveUrl(self->get<std::string>());
			if (id.empty())
				continue;
			return splitOrigin(listUrl).first + splitOrigin(listUrl).second + "/" + escape(id);
		}
		ApiFailure f{ApiFailure::Kind::NotFound, 200, "", "", listUrl};
		if (c.ep_.instance.empty()) {
			f.text = "the server lists no instance";
			return fail(f, Errc::NotFound, fmt::format("GET {}: {}", listUrl, f.text));
		}
		f.text = fmt::format("instance '{}' is not among the {} listed ({})", c.ep_.instance, ids.size(),
				     fmt::join(ids, ", "));
		return fail(f, Errc::NotFound, fmt::format("GET {}: {}", listUrl, f.text));
	}

	Result<void> discover()
	{
		const Endpoint &ep = c.ep_;
		if (origin.empty())
			return fail(ApiFailure{ApiFailure::Kind::Connect, 0, "", "not an http(s) URL", ep.url}, Errc::Invalid,
				    fmt::format("'{}' is not an http:// or https:// URL", scrub(ep.url)));
		PathStyle style = ep.style;
		std::string tokens;
		if (style != PathStyle::Instances) {
			const std::string rootUrl = origin + "/streams/rest/resources";
			auto root = requestJson("GET", rootUrl, nullptr, nullptr, Auth::Basic);
			if (!root) {
				// 7.x has no /streams/rest: its 404 is the sign to use the instances path.
				if (style != PathStyle::Auto || c.failure_.kind != ApiFailure::Kind::NotFound)
					return root.error();
				logger->debug("{}: 404, using the 7.x path /streams/instances", rootUrl);
				style = PathStyle::Instances;
			} else {
				auto list = root->is_object() ? root->find("resources") : root->end();
				if (!root->is_object() || list == root->end() || !list->is_array())
					return shapeError("GET", rootUrl, "no 'resources' array in the answer");
				std::string instances;
				for (const auto &r : *list) {
					if (!r.is_object() || !r.contains("name") || !r["name"].is_string() ||
					    !r.contains("resource") || !r["resource"].is_string())
						continue;
					if (r["name"] == "instances")
						instances = resolveUrl(r["resource"].get<std::string>());
					else if (r["name"] == "accessTokens")
						tokens = resolveUrl(r["resource"].get<std::string>());
				}
				if (instances.empty())
					return shapeError("GET", rootUrl, "the root lists no 'instances' resource");
				auto il = requestJson("GET", instances, nullptr, nullptr, Auth::Basic);
				if (!il)
					return il.error();
				auto picked = pickInstance(instances, *il);
				if (!picked)
					return picked.error();
				instanceUrl = *picked;
			}
		}
		if (style == PathStyle::Instances) {
			if (!ep.instance.empty()) {
				instanceUrl = origin + "/streams/instances/" + escape(ep.instance);
			} else {
				const std::string listUrl = origin + "/streams/instances";
				auto il = requestJson("GET", listUrl, nullptr, nullptr, Auth::Basic);
				if (!il)
					return il.error();
				auto picked = pickInstance(listUrl, *il);
				if (!picked)
					return picked.error();
				instanceUrl = *picked;
			}
		}
		if (ep.useTokens)
			tokenUrl = tokens;
		discovered = true;
		// A 404 root that led to the 7.x path is not a failure of the call.
		c.failure_ = ApiFailure{};
		logger->debug("{}: instance at {}{}", ep.dc, instanceUrl, tokenUrl.empty() ? "" : ", access tokens in use");
		return success();
	}

	Result<void> ensure()
	{
		if (!discovered)
			XDC_TRY(discover());
		if (!tokenUrl.empty() && (token.empty() || Clock::now() >= tokenRefreshAt))
			XDC_TRY(fetchToken());
		return success();
	}

	std::string withQuery(std::string u, const std::vector<std::pair<std::string, std::string>> &params) const
	{
		for (const auto &[k, v] : params) {
			u += u.find('?') == std::string::npos ? '?' : '&';
			u += escape(k) + "=" + escape(v);
		}
		return u;
	}

	Result<std::vector<json>> list(const std::string &pathOrUrl, const std::string &plural, const Query &q)
	{
		XDC_TRY(ensure());
		const std::string base = resolveUrl(pathOrUrl);
		std::vector<std::pair<std::string, std::string>> params;
		if (!q.fields.empty())
			params.emplace_back("fields", fmt::format("{}", fmt::join(q.fields, ",")));
		for (const auto &[k, v] : q.filters)
			params.emplace_back(k, v);
		const int count = c.ep_.pageSize;
		std::vector<json> out;
		std::vector<std::string> firstIds;
		for (int page = 1; page <= kMaxPages; page++) {
			auto ps = params;
			if (count > 0) {
				ps.emplace_back("count", std::to_string(count));
				ps.emplace_back("page", std::to_string(page));
			}
			const std::string u = withQuery(base, ps);
			auto j = requestJson("GET", u, nullptr, nullptr);
			if (!j)
				return j.error();
			auto arr = j->is_object() ? j->find(plural) : j->end();
			if (!j->is_object() || arr == j->end())
				return shapeError("GET", u, fmt::format("no '{}' array in the answer", plural));
			if (!arr->is_array())
				return shapeError("GET", u, fmt::format("field '{}' is not an array", plural));
			int64_t total = -1;
			if (auto t = j->find("total"); t != j->end() && !t->is_null()) {
				if (!t->is_number_integer() && !t->is_number_unsigned())
					return shapeError("GET", u, "field 'total' is not an integer");
				total = t->get<int64_t>();
			}
			if (count <= 0) {
				out.insert(out.end(), arr->begin(), arr->end());
				break;
			}
			if (arr->empty())
				break;
			std::vector<std::string> ids;
			for (const auto &e : *arr)
				ids.push_back(idOf(e));
			// A server that ignores `page` answers the first page again: what it sent the first time is all.
			if (page == 1)
				firstIds = ids;
			else if (ids == firstIds)
				break;
			out.insert(out.end(), arr->begin(), arr->end());
			if (total >= 0 && static_cast<int64_t>(out.size()) >= total)
				break;
			if (total < 0 && static_cast<int>(arr->size()) < count)
				break;
			if (out.size() > kMaxElements)
				return shapeError("GET", u, fmt::format("more than {} elements: paging never ends", kMaxElements));
		}
		return out;
	}

	template<typename T, typename Parse>
	Result<std::vector<T>> typedList(const std::string &path, const std::string &plural, const Query &q, Parse parse)
	{
		auto els = list(path, plural, q);
		if (!els)
			return els.error();
		std::vector<T> out;
		out.reserve(els->size());
		for (const auto &e : *els) {
			auto t = parse(e);
			if (!t)
				return shapeError("GET", resolveUrl(path), t.error().message);
			out.push_back(std::move(*t));
		}
		return out;
	}
};

Client::Client(Endpoint ep) : ep_(std::move(ep))
{
	// Credentials written into the URL are moved to the options: a URL is printed in every message.
	const auto scheme = ep_.url.find("://");
	if (scheme != std::string::npos) {
		const auto hostEnd = ep_.url.find_first_of("/?#", scheme + 3);
		const auto at = ep_.url.rfind('@', hostEnd == std::string::npos ? std::string::npos : hostEnd);
		if (at != std::string::npos && at > scheme && (hostEnd == std::string::npos || at < hostEnd)) {
			const std::string info = ep_.url.substr(scheme + 3, at - scheme - 3);
			const auto colon = info.find(':');
			if (ep_.user.empty())
				ep_.user = info.substr(0, colon);
			if (ep_.password.empty() && colon != std::string::npos)
				ep_.password = info.substr(colon + 1);
			ep_.url.erase(scheme + 3, at - scheme - 2);
		}
	}
	while (!ep_.url.empty() && ep_.url.back() == '/')
		ep_.url.pop_back();
	impl_ = std::make_unique<Impl>(*this);
}

Client::~Client() = default;

Result<void> Client::connect()
{
	return impl_->ensure();
}

Result<Instance> Client::instance()
{
	XDC_TRY(impl_->ensure());
	auto j = impl_->requestJson("GET", impl_->instanceUrl);
	if (!j)
		return j.error();
	auto i = parseInstance(*j);
	if (!i)
		return impl_->shapeError("GET", impl_->instanceUrl, i.error().message);
	return i;
}

Result<std::vector<Job>> Client::jobs(const Query &q)
{
	return impl_->typedList<Job>("jobs", "jobs", q, parseJob);
}

Result<std::vector<Pe>> Client::pes(const Query &q)
{
	return impl_->typedList<Pe>("pes", "pes", q, parsePe);
}

Result<std::vector<Pe>> Client::jobPes(const std::string &jobId)
{
	return impl_->typedList<Pe>("jobs/" + impl_->escape(jobId) + "/pes", "pes", {}, parsePe);
}

Result<std::vector<Operator>> Client::jobOperators(const std::string &jobId)
{
	return impl_->typedList<Operator>("jobs/" + impl_->escape(jobId) + "/operators", "operators", {},
					  parseOperator);
}

Result<std::vector<Metric>> Client::peMetrics(const std::string &peId)
{
	return impl_->typedList<Metric>("pes/" + impl_->escape(peId) + "/metrics", "metrics", {}, parseMetric);
}

Result<std::vector<Metric>> Client::operatorMetrics(const std::string &operatorId, const Query &q)
{
	return impl_->typedList<Metric>("operators/" + impl_->escape(operatorId) + "/metrics", "metrics", q,
					parseMetric);
}

Result<std::vector<Metric>> Client::portMetrics(const std::string &operatorId, bool input, int index, const Query &q)
{
	return impl_->typedList<Metric>(fmt::format("operators/{}/{}/{}/metrics", impl_->escape(operatorId),
						    input ? "inputPorts" : "outputPorts", index),
					"metrics", q, parseMetric);
}

Result<std::vector<Resource>> Client::resources()
{
	return impl_->typedList<Resource>("resources", "resources", {}, parseResource);
}

Result<std::string> Client::uploadBundle(const std::string &sabPath)
{
	std::ifstream f(sabPath, std::ios::binary);
	std::stringstream ss;
	if (f)
		ss << f.rdbuf();
	if (!f || f.bad()) {
		// Nothing was sent: the failure is local, so its kind stays None and the text says why.
		failure_ = ApiFailure{};
		failure_.text = fmt::format("cannot read bundle '{}'", sabPath);
		return makeError(Errc::Io, "cannot read bundle '{}'", sabPath);
	}
	XDC_TRY(impl_->ensure());
	const std::string bytes = ss.str();
	const std::string u = impl_->resolveUrl("applicationbundles");
	auto j = impl_->requestJson("POST", u, &bytes, "application/x-jar");
	if (!j)
		return j.error();
	auto it = j->is_object() ? j->find("bundleId") : j->end();
	if (!j->is_object() || it == j->end())
		return impl_->shapeError("POST", u, "no 'bundleId' in the answer");
	if (it->is_string() && !it->get<std::string>().empty())
		return it->get<std::string>();
	if (it->is_number_integer() || it->is_number_unsigned())
		return it->dump();
	return impl_->shapeError("POST", u, "field 'bundleId' is not a string");
}

Result<Job> Client::submitJob(const std::string &bundleId, const nlohmann::json &overlay)
{
	XDC_TRY(impl_->ensure());
	const std::string payload =
		nlohmann::json{{"application", bundleId}, {"jobConfigurationOverlay", overlay}, {"preview", false}}.dump();
	const std::string u = impl_->resolveUrl("jobs");
	auto j = impl_->requestJson("POST", u, &payload, "application/json");
	if (!j)
		return j.error();
	auto job = parseJob(*j);
	if (!job)
		return impl_->shapeError("POST", u, job.error().message);
	return job;
}

Result<void> Client::cancelJob(const std::string &jobId)
{
	XDC_TRY(impl_->ensure());
	auto r = impl_->request("DELETE", impl_->resolveUrl("jobs/" + impl_->escape(jobId)));
	if (!r)
		return r.error();
	return success();
}

Result<nlohmann::json> Client::get(const std::string &pathOrUrl)
{
	XDC_TRY(impl_->ensure());
	return impl_->requestJson("GET", impl_->resolveUrl(pathOrUrl));
}

Result<std::vector<nlohmann::json>> Client::list(const std::string &pathOrUrl, const std::string &plural,
						 const Query &q)
{
	return impl_->list(pathOrUrl, plural, q);
}

} // namespace xdc::streams
