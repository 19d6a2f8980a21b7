// SPDX-License-Identifier: Apache-2.0
// probe.http: one HTTP(S) request per sample through the one HTTP client (common/http/client.h). One client per
// sampler (its options are set once), but no connection reuse: see targetOf. libcurl is loaded with dlopen on the
// first HTTP probe, not linked: its dependency tree (OpenSSL, GnuTLS, LDAP, Kerberos, ...) is over 4 MiB of resident
// pages that an agent without HTTP probes would carry for nothing.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>
#include <optional>
#include <unistd.h>

#include "agent/evidence/sampler.h"
#include "common/http/client.h"
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

class HttpProbe final : public Sampler {
public:
	HttpProbe(const evidence::SamplerSpec &spec, std::unique_ptr<http::Client> client, std::optional<std::regex> re)
	    : spec_(spec), client_(std::move(client)), re_(std::move(re))
	{
		timeoutMs_ = static_cast<double>(timeoutNsOf(spec)) / 1e6;
	}

	// The probe's timeout: its own, else its interval, else 1 s.
	static int64_t timeoutNsOf(const evidence::SamplerSpec &spec)
	{
		if (spec.timeout.count() > 0)
			return spec.timeout.count();
		return spec.interval.count() > 0 ? spec.interval.count() : clk::kSec;
	}

	// The client's target for a probe of spec; keepBody when body_match needs the body.
	static http::Target targetOf(const evidence::SamplerSpec &spec, bool keepBody)
	{
		const int64_t timeoutNs = timeoutNsOf(spec);
		http::Target t;
		// Whole milliseconds for curl, never 0 (which would mean "no timeout").
		t.timeoutMs = t.connectTimeoutMs =
			static_cast<int>(std::max<int64_t>(1, (timeoutNs + clk::kMs - 1) / clk::kMs));
		// A new connection closed after each transfer, rather than a kept-alive one: every probe must be a real
		// connect + request, or a kept-alive connection would keep answering through a fault that only stops new
		// connections (a partition matching ct state new, a dead listener with live workers) and hide the outage;
		// and closing at once leaves no idle connection on the target per probe.
		t.reuse = false;
		// The probe measures the path to the target: never through a proxy from the agent's environment.
		t.noProxy = true;
		// RST on close, as probe.tcp: the client closes first, so at 100 Hz an orderly close would leave thousands of
		// TIME_WAIT sockets on the agent's host.
		t.resetOnClose = true;
		t.userAgent = "xdc-agent probe.http";
		t.insecure = spec.tlsInsecure;
		t.caFile = spec.caFile;
		// body_match reads the first kMaxBody bytes; the rest is still read (latency is to the last byte).
		t.maxBody = keepBody ? kMaxBody : 0;
		t.truncateBody = true;
		return t;
	}

	const evidence::SamplerSpec &spec() const override { return spec_; }

	void sample(std::vector<proto::Sample> &out) override
	{
		auto &s = out.emplace_back();
		s.kind = "probe.http";
		s.source = spec_.name;
		s.wallNs = clk::wallNs();
		s.monoNs = clk::monoNs();
		// A 3xx is an answer (2xx/3xx is ok by default): the client never follows it to another server.
		http::Response r = client_->perform(http::Request{"GET", spec_.target});
		const int64_t end = clk::monoNs();

		std::string error;
		if (r.kind == http::Failure::Kind::Timeout)
			error = "timeout";
		else if (!r.ok())
			error = r.error;
		else if (spec_.expectStatus ? r.status != spec_.expectStatus : r.status < 200 || r.status > 399)
			error = "status " + std::to_string(r.status);
		else if (re_ && !bodyMatches(r.body))
			error = "body did not match";
		client_->recycle(std::move(r.body));

		s.values["ok"] = error.empty() ? 1 : 0;
		s.values["latency_ms"] = static_cast<double>((end - s.monoNs) / 1000) / 1000.0;
		s.values["status"] = static_cast<double>(r.status);
		s.values["timeout_ms"] = timeoutMs_;
		s.tags["target"] = spec_.target;
		s.tags["error"] = std::move(error);
	}

private:
	bool bodyMatches(const std::string &body) const
	{
		try {
			return std::regex_search(body, *re_);
		} catch (const std::exception &) {
			// error_complexity / error_stack: a body the pattern cannot be decided on is not a match.
			return false;
		}
	}

	evidence::SamplerSpec spec_;
	std::unique_ptr<http::Client> client_;
	std::optional<std::regex> re_;
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
	auto client = std::make_unique<http::Client>(HttpProbe::targetOf(spec, re.has_value()), "probe.http");
	XDC_TRY(client->ready());
	return std::unique_ptr<Sampler>(std::make_unique<HttpProbe>(spec, std::move(client), std::move(re)));
}

} // namespace xdc::agent::samplers
