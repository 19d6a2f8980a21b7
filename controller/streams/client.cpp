// SPDX-License-Identifier: Apache-2.0
// The Streams REST client: discovery, Basic and token auth, retries, paging and error classification over the one HTTP client
// (common/http/client.h).
#include "controller/streams/client.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

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

using http::isHttpUrl;
using http::printable;
using http::splitOrigin;

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

struct Client::Impl {
	enum class Auth { Basic, Session }; // Session: the Bearer token when one is in use, else Basic

	Client &c;
	http::Client http;       // one connection to the instance, kept alive
	std::string origin;      // scheme://host:port, from the endpoint
	std::string instanceUrl; // resolved by discovery
	bool discovered = false;
	std::string tokenUrl;    // the root's accessTokens, when tokens are in use
	std::string token;
	Clock::time_point tokenRefreshAt{};
	std::shared_ptr<spdlog::logger> logger = xdc::log::get("streams");
	long lastStatus = 0;       // of the last response, for failures found after a 2xx

	static http::Target targetOf(const Endpoint &ep)
	{
		http::Target t;
		t.url = ep.url;
		t.user = ep.user;
		t.password = ep.password;
		t.caFile = ep.caFile;
		t.clientCert = ep.clientCert;
		t.clientKey = ep.clientKey;
		t.insecure = ep.insecure;
		t.connectTimeoutMs = ep.connectTimeoutMs;
		t.timeoutMs = ep.timeoutMs;
		t.userAgent = "xdc streams-client";
		t.accept = "application/json";
		return t;
	}

	explicit Impl(Client &owner)
	    : c(owner), http(targetOf(owner.ep_), "the Streams REST client"), origin(splitOrigin(owner.ep_.url).first)
	{
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
		f.error = scrub(f.error);
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
		f.error = what;
		f.url = url;
		return fail(f, Errc::Protocol, fmt::format("{} {}: {}", method, url, what));
	}

	http::Response perform(const char *method, const std::string &url, const std::string *payload,
			       const char *contentType, bool bearer)
	{
		c.requests_++;
		http::Request r{method, url};
		if (payload || std::string_view(method) == "POST")
			r.body = payload ? std::string_view(*payload) : std::string_view();
		r.contentType = contentType;
		if (bearer)
			r.bearerToken = token;
		const auto start = Clock::now();
		http::Response a = http.perform(r);
		lastStatus = a.status;
		const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
		logger->debug("{} {} -> {} ({}) in {} ms", method, url, a.status, a.ok() ? "ok" : scrub(a.error), ms);
		return a;
	}

	Error classify(const char *method, const std::string &url, const http::Response &a)
	{
		ApiFailure f;
		if (!a.ok()) {
			Error e = http::transportError(method, url, a, http.target(), f);
			return fail(f, e.code, e.message);
		}
		f.url = url;
		f.httpStatus = static_cast<int>(a.status);
		readErrorBody(a.body, f.errorType, f.error);
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
		std::string text = f.error;
		if (!f.errorType.empty() && text.rfind(f.errorType, 0) == 0)
			text = printable(text.substr(f.errorType.size()));
		text.erase(0, std::min(text.size(), text.find_first_not_of(": ")));
		std::string msg = fmt::format("{} {}: HTTP {}", method, url, a.status);
		if (!f.errorType.empty())
			msg += " " + f.errorType;
		if (!text.empty())
			msg += (f.errorType.empty() ? " " : ": ") + text;
		if (f.kind == ApiFailure::Kind::Auth && f.error.empty())
			msg += " (not authorized: check the user and password)";
		return fail(f, code, msg);
	}

	// One request with retries (GET only), the token kept fresh, and failures classified. Success is any 2xx.
	Result<std::string> request(const char *method, const std::string &url, const std::string *payload = nullptr,
				    const char *contentType = nullptr, Auth auth = Auth::Session)
	{
		if (auto ready = http.ready(); !ready)
			return fail(ApiFailure{ApiFailure::Kind::Connect, 0, "", ready.error().message, url}, Errc::Internal,
				    fmt::format("{} {}: {}", method, url, ready.error().message));
		const bool idempotent = std::string_view(method) == "GET";
		const int attempts = idempotent ? 1 + std::max(0, c.ep_.retries) : 1;
		int backoff = std::max(0, c.ep_.retryBackoffMs);
		bool refreshedOn401 = false;
		for (int attempt = 1;; attempt++) {
			const bool bearer = auth == Auth::Session && !tokenUrl.empty();
			if (bearer && (token.empty() || Clock::now() >= tokenRefreshAt))
				XDC_TRY(fetchToken());
			http::Response a = perform(method, url, payload, contentType, bearer);
			if (a.ok() && a.status >= 200 && a.status < 300) {
				c.failure_ = ApiFailure{};
				return std::move(a.body);
			}
			// A 401 with a token means it expired early or was revoked: the request was not executed, so even a
			// POST can be sent again once with a fresh token.
			if (a.ok() && a.status == 401 && bearer && !refreshedOn401) {
				refreshedOn401 = true;
				token.clear();
				attempt--;
				continue;
			}
			const bool transient = a.ok() ? a.status >= 500 : a.transient;
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
		http.recycle(std::move(*text));
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
		if (isHttpUrl(pathOrUrl))
			return origin + splitOrigin(pathOrUrl).second;
		if (!pathOrUrl.empty() && pathOrUrl[0] == '/')
			return origin + pathOrUrl;
		if (pathOrUrl.empty())
			return instanceUrl;
		return instanceUrl + "/" + pathOrUrl;
	}

	static std::string escape(const std::string &s) { return http::escape(s); }

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
			f.error = "the server lists no instance";
			return fail(f, Errc::NotFound, fmt::format("GET {}: {}", listUrl, f.error));
		}
		f.error = fmt::format("instance '{}' is not among the {} listed ({})", c.ep_.instance, ids.size(),
				     fmt::join(ids, ", "));
		return fail(f, Errc::NotFound, fmt::format("GET {}: {}", listUrl, f.error));
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
		failure_.error = fmt::format("cannot read bundle '{}'", sabPath);
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
