// SPDX-License-Identifier: Apache-2.0
// probe.http: one HTTP(S) request per sample with libcurl. One easy handle per sampler (its options are set once),
// but no connection reuse: see the constructor. libcurl is loaded with dlopen on the first HTTP probe, not linked:
// its dependency tree (OpenSSL, GnuTLS, LDAP, Kerberos, ...) is over 4 MiB of resident pages that an agent without
// HTTP probes would carry for nothing.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <fmt/format.h>
#include <mutex>
#include <optional>
#include <sys/socket.h>
#include <type_traits>
#include <unistd.h>

#include <curl/curl.h>

#include "agent/evidence/sampler.h"
#include "common/http/curl_api.h"
#include "common/clock.h"

// GCC 12 reports a false -Wmaybe-uninitialized inside <regex> when built with sanitizers at -O2.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>

namespace xdc::agent::samplers {

namespace {

// body_match looks at this much of the body. libstdc++'s regex executor recurses per character, so an unbounded body
// could exhaust the sampler thread's stack; the rest of the body is still read (latency is to the last byte).
constexpr size_t kMaxBody = 64 * 1024;

// libcurl comes through common/http/curl_api (dlopen on first use). curl_easy_setopt and curl_easy_getinfo are variadic
// in libcurl's ABI too, so calling them through its pointers is the same call.
class HttpProbe final : public Sampler {
public:
	HttpProbe(const evidence::SamplerSpec &spec, const CurlApi &api, CURL *h, std::optional<std::regex> re)
	    : spec_(spec), curl_(api), h_(h), re_(std::move(re))
	{
		const int64_t timeoutNs = spec.timeout.count() > 0 ? spec.timeout.count()
					: spec.interval.count() > 0 ? spec.interval.count()
								    : clk::kSec;
		timeoutMs_ = static_cast<double>(timeoutNs) / 1e6;
		// Whole milliseconds for curl, never 0 (which would mean "no timeout").
		const long curlMs = std::max<long>(1, static_cast<long>((timeoutNs + clk::kMs - 1) / clk::kMs));
		if (re_)
			body_.reserve(kMaxBody);
		errBuf_[0] = 0;

		curl_.easySetopt(h_, CURLOPT_URL, spec_.target.c_str());
		// No signals: the agent is multi-threaded and curl's alarm()-based DNS timeout is not thread-safe.
		curl_.easySetopt(h_, CURLOPT_NOSIGNAL, 1L);
		curl_.easySetopt(h_, CURLOPT_TIMEOUT_MS, curlMs);
		// FORBID_REUSE (close after each transfer) rather than FRESH_CONNECT (new connection, old one kept in the
		// cache): every probe must be a real connect + request, or a kept-alive connection would keep answering
		// through a fault that only stops new connections (a partition matching ct state new, a dead listener with
		// live workers) and hide the outage; and closing at once leaves no idle connection on the target per probe.
		curl_.easySetopt(h_, CURLOPT_FORBID_REUSE, 1L);
		// The probe measures the path to the target: never through a proxy from the agent's environment.
		curl_.easySetopt(h_, CURLOPT_PROXY, "");
		curl_.easySetopt(h_, CURLOPT_PROTOCOLS_STR, "http,https");
		// A 3xx is an answer (2xx/3xx is ok by default): do not follow it to another server.
		curl_.easySetopt(h_, CURLOPT_FOLLOWLOCATION, 0L);
		curl_.easySetopt(h_, CURLOPT_USERAGENT, "xdc-agent probe.http");
		curl_.easySetopt(h_, CURLOPT_ERRORBUFFER, errBuf_);
		curl_.easySetopt(h_, CURLOPT_WRITEFUNCTION, &HttpProbe::onBody);
		curl_.easySetopt(h_, CURLOPT_WRITEDATA, this);
		// RST on close, as probe.tcp: the client closes first, so at 100 Hz an orderly close would leave thousands of
		// TIME_WAIT sockets on the agent's host.
		curl_.easySetopt(h_, CURLOPT_SOCKOPTFUNCTION, &HttpProbe::onSocket);
		if (spec_.tlsInsecure) {
			curl_.easySetopt(h_, CURLOPT_SSL_VERIFYPEER, 0L);
			curl_.easySetopt(h_, CURLOPT_SSL_VERIFYHOST, 0L);
		}
		if (!spec_.caFile.empty())
			curl_.easySetopt(h_, CURLOPT_CAINFO, spec_.caFile.c_str());
	}
	~HttpProbe() override { curl_.easyCleanup(h_); }
	HttpProbe(const HttpProbe &) = delete;
	HttpProbe &operator=(const HttpProbe &) = delete;

	const evidence::SamplerSpec &spec() const override { return spec_; }

	void sample(std::vector<proto::Sample> &out) override
	{
		auto &s = out.emplace_back();
		s.kind = "probe.http";
		s.source = spec_.name;
		s.wallNs = clk::wallNs();
		s.monoNs = clk::monoNs();
		body_.clear();
		errBuf_[0] = 0;
		const CURLcode rc = curl_.easyPerform(h_);
		const int64_t end = clk::monoNs();
		long status = 0;
		curl_.easyGetinfo(h_, CURLINFO_RESPONSE_CODE, &status);

		std::string error;
		if (rc == CURLE_OPERATION_TIMEDOUT)
			error = "timeout";
		else if (rc != CURLE_OK)
			error = errBuf_[0] ? std::string(errBuf_) : std::string(curl_.easyStrerror(rc));
		else if (spec_.expectStatus ? status != spec_.expectStatus : status < 200 || status > 399)
			error = "status " + std::to_string(status);
		else if (re_ && !bodyMatches())
			error = "body did not match";

		s.values["ok"] = error.empty() ? 1 : 0;
		s.values["latency_ms"] = static_cast<double>((end - s.monoNs) / 1000) / 1000.0;
		s.values["status"] = static_cast<double>(status);
		s.values["timeout_ms"] = timeoutMs_;
		s.tags["target"] = spec_.target;
		s.tags["error"] = std::move(error);
	}

private:
	bool bodyMatches() const
	{
		try {
			return std::regex_search(body_, *re_);
		} catch (const std::exception &) {
			// error_complexity / error_stack: a body the pattern cannot be decided on is not a match.
			return false;
		}
	}

	static size_t onBody(char *data, size_t size, size_t n, void *self)
	{
		auto *p = static_cast<HttpProbe *>(self);
		const size_t len = size * n;
		if (p->re_ && p->body_.size() < kMaxBody)
			p->body_.append(data, std::min(len, kMaxBody - p->body_.size()));
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

	evidence::SamplerSpec spec_;
	const CurlApi &curl_;
	CURL *h_;
	std::optional<std::regex> re_;
	std::string body_;
	char errBuf_[CURL_ERROR_SIZE];
	double timeoutMs_ = 0;
};

} // namespace

Result<std::unique_ptr<Sampler>> makeHttpProbe(const evidence::SamplerSpec &spec, const SamplerEnv &)
{
	if (spec.target.rfind("http://", 0) != 0 && spec.target.rfind("https://", 0) != 0)
		return makeError(Errc::Invalid, "probe.http target '{}': expected an http:// or https:// URL", spec.target);
	std::optional<std::regex> re;
	if (!spec.bodyMatch.empty()) {
		try {
			re.emplace(spec.bodyMatch, std::regex::ECMAScript | std::regex::optimize);
		} catch (const std::regex_error &e) {
			return makeError(Errc::Invalid, "probe.http body_match '{}': {}", spec.bodyMatch, e.what());
		}
	}
	if (!spec.caFile.empty() && ::access(spec.caFile.c_str(), R_OK) != 0)
		return makeError(Errc::Invalid, "probe.http ca_file '{}' cannot be read: {}", spec.caFile,
				 strerrordesc_np(errno) ? strerrordesc_np(errno) : "error");
	auto api = curlApi("probe.http");
	if (!api)
		return api.error();
	CURL *h = (*api)->easyInit();
	if (!h)
		return makeError(Errc::Unsupported, "probe.http: curl_easy_init failed");
	return std::unique_ptr<Sampler>(std::make_unique<HttpProbe>(spec, **api, h, std::move(re)));
}

} // namespace xdc::agent::samplers
