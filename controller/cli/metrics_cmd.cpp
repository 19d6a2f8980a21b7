// SPDX-License-Identifier: Apache-2.0
// `xdc metrics prom|jmx`: one PromQL query against a Prometheus server, or one MBean attribute read through a Jolokia
// agent, printed as text or JSON (docs/METRICS.md).
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "common/clock.h"
#include "common/duration.h"
#include "controller/cli/cli.h"
#include "controller/metrics/jolokia.h"
#include "controller/metrics/prometheus.h"

namespace xdc::cli {

namespace {

const char *kPromHelp =
	"Usage: xdc metrics prom QUERY --url URL [--time T | --range DUR [--step DUR] [--end T]] [--check] [--json]\n"
	"\n"
	"Evaluates the PromQL expression QUERY on the Prometheus server at URL (e.g. http://10.200.0.11:9090):\n"
	"an instant query (/api/v1/query) at --time (Unix seconds; default: the server's now), or with --range a\n"
	"range query (/api/v1/query_range) over the DUR before --end (default now) every --step (default 1s).\n"
	"With --check the instant query is a condition, as an alerting rule reads it: it holds when the result has\n"
	"at least one sample (a comparison without `bool` keeps only the series where it is true, so\n"
	"`up{job=\"dc2\"} == 0` holds while dc2's target is down) or is a non-zero scalar; nothing is printed\n"
	"unless --json is given ({\"holds\": true|false, \"result\": ...}).\n"
	"Put `--` before a QUERY that starts with '-'.\n"
	"Credentials come from files and are never printed: --bearer-token-file (first line: a token) or\n"
	"--basic-auth-file (first line: user:password).\n"
	"Exit codes: 0 ok (with --check: the condition holds), 1 the condition does not hold, or Prometheus\n"
	"answered with an error or an unexpected response, 2 bad arguments or a query Prometheus refused as bad_data,\n"
	"3 the server could not be reached (connect, timeout, TLS).\n";

const char *kJmxHelp =
	"Usage: xdc metrics jmx --url URL --mbean MBEAN [--attribute A] [--path P] [--json]\n"
	"\n"
	"Reads one MBean attribute through the Jolokia agent at URL (e.g. http://127.0.0.1:8778/jolokia) with a\n"
	"POST {\"type\":\"read\",\"mbean\":...,\"attribute\":...,\"path\":...}. Without --attribute, every attribute\n"
	"of the MBean; --path selects inside a composite value (e.g. --attribute HeapMemoryUsage --path used).\n"
	"Prints the value (JSON, or a plain number or string); with --json {\"mbean\",\"attribute\",\"path\",\"value\"}.\n"
	"Credentials as for `xdc metrics prom`.\n"
	"Exit codes: 0 ok, 1 Jolokia reported an error (e.g. status 404: no such MBean or attribute) or answered\n"
	"unexpectedly, 2 bad arguments, 3 the agent could not be reached (connect, timeout, TLS).\n";

std::vector<FlagSpec> httpFlags()
{
	return {{"--url", true, "the server's base URL"},
		{"--timeout", true, "whole-request timeout (default 10s)"},
		{"--connect-timeout", true, "connect timeout (default 2s)"},
		{"--bearer-token-file", true, "file whose first line is a bearer token"},
		{"--basic-auth-file", true, "file whose first line is user:password"},
		{"--ca-file", true, "TLS: CA bundle"},
		{"--insecure", false, "TLS: do not verify the server"},
		{"--json", false, "machine-readable output"},
		{"--help", false, "show help"}};
}

Result<metrics::HttpTarget> targetOf(const Args &a)
{
	metrics::HttpTarget t;
	t.url = a.get("--url");
	if (t.url.empty())
		return makeError(Errc::Invalid, "--url is required");
	t.bearerTokenFile = a.get("--bearer-token-file");
	t.basicAuthFile = a.get("--basic-auth-file");
	if (!t.bearerTokenFile.empty() && !t.basicAuthFile.empty())
		return makeError(Errc::Invalid, "give --bearer-token-file or --basic-auth-file, not both");
	t.caFile = a.get("--ca-file");
	t.insecure = a.has("--insecure");
	for (const auto &[flag, ms] : {std::pair{"--timeout", &t.timeoutMs}, std::pair{"--connect-timeout",
										      &t.connectTimeoutMs}}) {
		if (!a.has(flag))
			continue;
		auto d = parseDuration(a.get(flag));
		if (!d)
			return makeError(Errc::Invalid, "{}: {}", flag, d.error().message);
		if (d->count() <= 0)
			return makeError(Errc::Invalid, "{} must be positive", flag);
		*ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(*d).count());
	}
	return t;
}

// The exit code for a failed request, from what failed (see the help texts).
int exitFor(const metrics::Failure &f, const Error &e)
{
	using K = metrics::Failure::Kind;
	if (f.kind == K::Connect || f.kind == K::Timeout || f.kind == K::Tls)
		return kUnreachable;
	if (f.kind == K::Config || (f.kind == K::None && e.code == Errc::Invalid) || f.errorType == "bad_data")
		return kUsage;
	return kFailed;
}

void printFailure(const char *cmd, const Args &a, const metrics::Failure &f, const Error &e)
{
	fprintf(stderr, "xdc metrics %s: %s\n", cmd, e.message.c_str());
	if (!a.has("--json"))
		return;
	json j = {{"error", {{"message", e.message}, {"code", errcName(e.code)}, {"kind", failureKindName(f.kind)}}}};
	if (f.httpStatus)
		j["error"]["http_status"] = f.httpStatus;
	if (!f.errorType.empty())
		j["error"]["error_type"] = f.errorType;
	if (!f.error.empty())
		j["error"]["server_error"] = f.error;
	if (!f.url.empty())
		j["error"]["url"] = f.url;
	printf("%s\n", j.dump(2).c_str());
}

// Unix seconds ("1700000000", "1700000000.5") as ns.
Result<int64_t> parseTime(const std::string &s)
{
	char *end = nullptr;
	const double v = std::strtod(s.c_str(), &end);
	if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(v) || v < 0)
		return makeError(Errc::Invalid, "'{}' is not a Unix time in seconds", s);
	return static_cast<int64_t>(std::llround(v * 1e3)) * 1000000;
}

std::string labelsText(const metrics::Labels &l)
{
	std::string name, rest;
	for (const auto &[k, v] : l) {
		if (k == "__name__") {
			name = v;
			continue;
		}
		rest += fmt::format("{}{}=\"{}\"", rest.empty() ? "" : ", ", k, v);
	}
	return name + "{" + rest + "}";
}

std::string valueText(double v)
{
	if (std::isnan(v))
		return "NaN";
	if (std::isinf(v))
		return v > 0 ? "+Inf" : "-Inf";
	return fmt::format("{}", v);
}

void printResult(const metrics::QueryResult &r)
{
	using T = metrics::QueryResult::Type;
	switch (r.type) {
	case T::Vector:
		if (r.vector.empty())
			printf("(empty vector)\n");
		for (const auto &s : r.vector)
			printf("%s %s @ %s\n", labelsText(s.labels).c_str(), valueText(s.point.value).c_str(),
			       clockTimeMs(s.point.tNs).c_str());
		break;
	case T::Matrix:
		if (r.matrix.empty())
			printf("(empty matrix)\n");
		for (const auto &s : r.matrix) {
			printf("%s\n", labelsText(s.labels).c_str());
			for (const auto &p : s.points)
				printf("  %s %s\n", clockTimeMs(p.tNs).c_str(), valueText(p.value).c_str());
		}
		break;
	case T::Scalar: printf("scalar %s @ %s\n", valueText(r.scalar.value).c_str(), clockTimeMs(r.scalar.tNs).c_str()); break;
	case T::String: printf("string \"%s\" @ %s\n", r.string.c_str(), clockTimeMs(r.scalar.tNs).c_str()); break;
	}
	for (const auto &w : r.warnings)
		fprintf(stderr, "warning: %s\n", w.c_str());
}

int metricsProm(const std::vector<std::string> &argv)
{
	auto specs = httpFlags();
	specs.push_back({"--time", true, "instant query time, Unix seconds"});
	specs.push_back({"--range", true, "range query over this duration before --end (e.g. 60s)"});
	specs.push_back({"--step", true, "range query resolution (default 1s)"});
	specs.push_back({"--end", true, "range query end, Unix seconds (default now)"});
	specs.push_back({"--check", false, "exit 0 when the condition holds, 1 when it does not"});
	auto a = parseArgs(argv, specs);
	if (!a) {
		fprintf(stderr, "xdc metrics prom: %s (see xdc metrics prom --help)\n", a.error().message.c_str());
		return kUsage;
	}
	if (a->has("--help")) {
		fputs(kPromHelp, stdout);
		return kOk;
	}
	auto fail = [](const std::string &m) {
		fprintf(stderr, "xdc metrics prom: %s (see xdc metrics prom --help)\n", m.c_str());
		return kUsage;
	};
	if (a->positional.size() != 1)
		return fail("give exactly one QUERY");
	const std::string q = a->positional[0];
	const bool range = a->has("--range");
	if (range && (a->has("--time") || a->has("--check")))
		return fail("--range cannot be combined with --time or --check");
	if (!range && (a->has("--step") || a->has("--end")))
		return fail("--step and --end need --range");
	auto target = targetOf(*a);
	if (!target)
		return fail(target.error().message);
	metrics::PrometheusClient client(*target);

	if (a->has("--check")) {
		auto holds = metrics::conditionHolds(client, q);
		if (!holds) {
			printFailure("prom", *a, client.lastFailure(), holds.error());
			return exitFor(client.lastFailure(), holds.error());
		}
		if (a->has("--json"))
			printf("%s\n", json{{"query", q}, {"holds", *holds}}.dump().c_str());
		return *holds ? kOk : kFailed;
	}
	Result<metrics::QueryResult> r = metrics::QueryResult{};
	if (range) {
		auto d = parseDuration(a->get("--range"));
		if (!d || d->count() <= 0)
			return fail("--range: " + (d ? std::string("must be positive") : d.error().message));
		auto step = parseDuration(a->get("--step", "1s"));
		if (!step || step->count() <= 0)
			return fail("--step: " + (step ? std::string("must be positive") : step.error().message));
		int64_t endNs = clk::wallNs();
		if (a->has("--end")) {
			auto e = parseTime(a->get("--end"));
			if (!e)
				return fail("--end: " + e.error().message);
			endNs = *e;
		}
		r = client.queryRange(q, endNs - d->count(), endNs, step->count());
	} else {
		std::optional<int64_t> t;
		if (a->has("--time")) {
			auto tt = parseTime(a->get("--time"));
			if (!tt)
				return fail("--time: " + tt.error().message);
			t = *tt;
		}
		r = client.query(q, t);
	}
	if (!r) {
		printFailure("prom", *a, client.lastFailure(), r.error());
		return exitFor(client.lastFailure(), r.error());
	}
	if (a->has("--json")) {
		json j = metrics::toJson(*r);
		j["query"] = q;
		printf("%s\n", j.dump(2).c_str());
	} else {
		printResult(*r);
	}
	return kOk;
}

int metricsJmx(const std::vector<std::string> &argv)
{
	auto specs = httpFlags();
	specs.push_back({"--mbean", true, "the MBean's object name, e.g. java.lang:type=Memory"});
	specs.push_back({"--attribute", true, "the attribute (default: all of them)"});
	specs.push_back({"--path", true, "a path inside the value, e.g. used"});
	auto a = parseArgs(argv, specs);
	if (!a) {
		fprintf(stderr, "xdc metrics jmx: %s (see xdc metrics jmx --help)\n", a.error().message.c_str());
		return kUsage;
	}
	if (a->has("--help")) {
		fputs(kJmxHelp, stdout);
		return kOk;
	}
	auto fail = [](const std::string &m) {
		fprintf(stderr, "xdc metrics jmx: %s (see xdc metrics jmx --help)\n", m.c_str());
		return kUsage;
	};
	if (!a->positional.empty())
		return fail(fmt::format("unexpected argument '{}'", a->positional[0]));
	if (a->get("--mbean").empty())
		return fail("--mbean is required");
	auto target = targetOf(*a);
	if (!target)
		return fail(target.error().message);
	metrics::JolokiaClient client(*target);
	auto v = client.read(a->get("--mbean"), a->get("--attribute"), a->get("--path"));
	if (!v) {
		printFailure("jmx", *a, client.lastFailure(), v.error());
		return exitFor(client.lastFailure(), v.error());
	}
	if (a->has("--json")) {
		json j = {{"mbean", a->get("--mbean")}, {"value", *v}};
		if (a->has("--attribute"))
			j["attribute"] = a->get("--attribute");
		if (a->has("--path"))
			j["path"] = a->get("--path");
		printf("%s\n", j.dump(2).c_str());
	} else if (v->is_string()) {
		printf("%s\n", v->get<std::string>().c_str());
	} else {
		printf("%s\n", v->is_structured() ? v->dump(2).c_str() : v->dump().c_str());
	}
	return kOk;
}

} // namespace

int cmdMetrics(const std::vector<std::string> &argv)
{
	const std::string sub = argv.empty() ? "" : argv[0];
	const std::vector<std::string> rest(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
	if (sub == "prom")
		return metricsProm(rest);
	if (sub == "jmx")
		return metricsJmx(rest);
	if (sub.empty() || sub == "--help" || sub == "-h") {
		printf("Usage: xdc metrics prom QUERY --url URL [--range DUR --step DUR] [--check] [--json]\n"
		       "       xdc metrics jmx --url URL --mbean MBEAN [--attribute A] [--path P] [--json]\n\n"
		       "Reads metric sources outside xdc: a Prometheus server (PromQL) and a JVM's MBeans through a\n"
		       "Jolokia agent (docs/METRICS.md). `xdc metrics prom --help` and `xdc metrics jmx --help` say more.\n"
		       "Exit codes: 0 ok, 1 failed (a server error, a condition that does not hold), 2 bad usage,\n"
		       "3 the server could not be reached.\n");
		return sub.empty() ? kUsage : kOk;
	}
	fprintf(stderr, "xdc metrics: unknown subcommand '%s' (prom, jmx)\n", sub.c_str());
	return kUsage;
}

} // namespace xdc::cli
