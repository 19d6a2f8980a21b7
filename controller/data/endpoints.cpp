// SPDX-License-Identifier: Apache-2.0
#include "controller/data/endpoints.h"

#include <fmt/format.h>

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

} // namespace

std::unique_ptr<DataSource> makeHttpSource(const HttpEndpointOptions &o) { return std::make_unique<HttpSource>(o); }
std::unique_ptr<DataSink> makeHttpSink(const HttpEndpointOptions &o, size_t batch)
{
	return std::make_unique<HttpSink>(o, batch);
}

} // namespace xdc::data
