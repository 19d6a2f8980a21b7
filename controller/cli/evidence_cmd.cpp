// SPDX-License-Identifier: Apache-2.0
// `xdc record` (run samplers and probes, write an evidence bundle) and `xdc evidence` (read one back, with the
// outage analysis).
#include <algorithm>
#include <atomic>
#include <climits>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "common/clock.h"
#include "common/duration.h"
#include "common/evidence/spec.h"
#include "common/yaml_reader.h"
#include "controller/cli/cli.h"
#include "controller/evidence/recording.h"

namespace xdc::cli {

namespace {

std::string pm(int64_t boundNs)
{
	return boundNs < 0 ? "± ?" : fmt::format("± {:.1f} ms", static_cast<double>(boundNs) / 1e6);
}

// A spec from the command line: inline YAML flow, or @FILE.
Result<control::RecordSpec> specArg(const std::string &arg, const char *flag, size_t index)
{
	std::string text = arg, origin = fmt::format("{}[{}]", flag, index);
	if (!arg.empty() && arg[0] == '@') {
		origin = arg.substr(1);
		std::ifstream f(origin, std::ios::binary);
		if (!f)
			return makeError(Errc::Invalid, "{}: cannot read '{}'", flag, origin);
		std::stringstream ss;
		ss << f.rdbuf();
		text = ss.str();
	}
	auto s = evidence::parseSamplerText(text, origin);
	if (!s)
		return s.error();
	const bool probe = evidence::isProbe(s->kind);
	if (probe != (std::string(flag) == "--probe"))
		return makeError(Errc::Invalid, "{}: kind {} belongs with {}", origin, evidence::samplerKindName(s->kind),
				 probe ? "--probe" : "--sample");
	return control::RecordSpec{text, origin};
}

void printSummary(const json &meta)
{
	printf("recording %s: %s\n", meta.value("recording", "").c_str(),
	       meta.value("complete", false) ? "complete" : "INCOMPLETE (see gaps)");
	const json hosts = meta.value("hosts", json::array());
	for (const auto &h : hosts) {
		printf("  %-10s %7llu samples", h.value("host", "").c_str(),
		       static_cast<unsigned long long>(h.value("received", uint64_t{0})));
		if (h.contains("max_clock_bound_ns"))
			printf(", clock offset %+.3f ms, bound <= %.3f ms", h.value("last_offset_ns", int64_t{0}) / 1e6,
			       h.value("max_clock_bound_ns", int64_t{0}) / 1e6);
		if (h.value("spilled", uint64_t{0}))
			printf(", %llu spilled to the agent's disk",
			       static_cast<unsigned long long>(h.value("spilled", uint64_t{0})));
		if (h.contains("stop_error"))
			printf(", STOP FAILED: %s", h.value("stop_error", "").c_str());
		printf("\n");
		const json samplers = h.value("samplers", json::object());
		for (const auto &[name, c] : samplers.items()) {
			printf("    %-40s %6llu received", name.c_str(),
			       static_cast<unsigned long long>(c.value("received", uint64_t{0})));
			if (c.contains("taken") && c.value("taken", uint64_t{0}) != c.value("received", uint64_t{0}))
				printf(" of %llu taken", static_cast<unsigned long long>(c.value("taken", uint64_t{0})));
			if (c.value("missed_slots", uint64_t{0}))
				printf(", %llu slots missed (sampler slower than its interval)",
				       static_cast<unsigned long long>(c.value("missed_slots", uint64_t{0})));
			printf("\n");
		}
	}
	const json gaps = meta.value("gaps", json::array());
	for (const auto &g : gaps)
		printf("  GAP %s seq %llu..%llu (%llu samples): %s\n", g.value("host", "").c_str(),
		       static_cast<unsigned long long>(g.value("first_seq", uint64_t{0})),
		       static_cast<unsigned long long>(g.value("last_seq", uint64_t{0})),
		       static_cast<unsigned long long>(g.value("count", uint64_t{0})), g.value("reason", "").c_str());
}

void printOutages(const json &outages)
{
	for (const auto &p : outages) {
		const auto &list = p["outages"];
		printf("probe %s on %s -> %s: %zu outage%s\n", p.value("source", "").c_str(), p.value("host", "").c_str(),
		       p.value("target", "").c_str(), list.size(), list.size() == 1 ? "" : "s");
		for (const auto &o : list) {
			if (o.value("open", false))
				printf("  from %s %s, still failing at the end (%llu failed attempts, first: %s)\n",
				       clockTimeMs(o["start_ns"]).c_str(), pm(o["start_bound_ns"]).c_str(),
				       static_cast<unsigned long long>(o.value("failed", uint64_t{0})),
				       o.value("first_error", "").c_str());
			else
				printf("  %s %s  ->  %s %s   %.1f ms, %llu failed attempts (first: %s)\n",
				       clockTimeMs(o["start_ns"]).c_str(), pm(o["start_bound_ns"]).c_str(),
				       clockTimeMs(o["end_ns"]).c_str(), pm(o["end_bound_ns"]).c_str(),
				       o.value("duration_ms", 0.0), static_cast<unsigned long long>(o.value("failed", uint64_t{0})),
				       o.value("first_error", "").c_str());
		}
	}
}

// The flags of `xdc record` (on top of the controller's own).
std::vector<FlagSpec> recordFlags()
{
	auto specs = controlFlags();
	specs.push_back({"--probe", true, "a probe spec (YAML flow or @FILE); repeatable"});
	specs.push_back({"--sample", true, "a host/process/command/log/file sampler spec (YAML flow or @FILE); "
					   "repeatable"});
	specs.push_back({"--for", true, "stop after DURATION (e.g. 60s); without it, Ctrl-C stops"});
	specs.push_back({"--out", true, "bundle directory (must not exist or be empty)"});
	specs.push_back({"--name", true, "recording id (default r<date>-<time>-<n>)"});
	specs.push_back({"--memory-samples", true, "samples each agent keeps in memory before spilling to disk"});
	specs.push_back({"--drain", true, "after stopping, wait up to DURATION for samples in flight (default 30s)"});
	specs.push_back({"--max", true, "without --for: the longest the recording may run (default 1h)"});
	specs.push_back({"--quiet", false, "no progress on stderr"});
	return specs;
}

// The help text of `xdc record`.
void printRecordUsage()
{
	printf("Usage: xdc record [--probe SPEC ...] [--sample SPEC ...] [--for DURATION] --out DIR [--json]\n\n"
	       "Runs probes and samplers on the agents the specs select, stops them after --for or at Ctrl-C,\n"
	       "and writes an evidence bundle to DIR: per host samples, fault records, clock offsets and agent\n"
	       "log lines, plus timeline.jsonl with every entry on the controller's clock as time ± bound.\n\n"
	       "Examples:\n"
	       "  xdc record --probe '{kind: probe.tcp, on: {host: dc1-h1}, target: dc2-h1:7000, rate: 100hz}' \\\n"
	       "             --sample '{kind: host, on: {dc: dc2}, interval: 1s}' --for 60s --out /tmp/ev1\n"
	       "  xdc evidence /tmp/ev1          # summary and outages\n\n"
	       "Options:\n"
	       "  --probe SPEC           probe.tcp / probe.http spec, inline YAML flow or @FILE (repeatable)\n"
	       "  --sample SPEC          host / process / command / log / file sampler spec, the same forms\n"
	       "                         (repeatable), e.g. '{kind: log, on: {host: dc2-h1}, source: pe-trace,\n"
	       "                         match: \"_XXXXX_\"}' (log and file sources: the agent config's\n"
	       "                         evidence.logs / evidence.files)\n"
	       "  --for DURATION         stop after this long (default: at Ctrl-C, or --max)\n"
	       "  --max DURATION         hard cap on the recording (default 1h)\n"
	       "  --out DIR              bundle directory; must not exist or be empty\n"
	       "  --name ID              recording id (default r<date>-<time>-<n>)\n"
	       "  --memory-samples N     samples each agent holds in memory before spilling to disk\n"
	       "  --drain DURATION       after the stop, how long to wait for samples in flight (default 30s)\n"
	       "  --quiet                no progress lines\n"
	       "  --json                 machine-readable result: {ok, recording, dir, meta}\n"
	       "  --lab NAME, --control PATH  which controller (as for every command)\n\n"
	       "The spec format is in docs/EVIDENCE.md. Samples that cannot reach the controller wait on the agent\n"
	       "(memory, then a disk spool) and are delivered when it is reachable again; gaps are reported.\n"
	       "Exit codes: 0 complete bundle, 1 bundle written with gaps or a host that did not stop cleanly,\n"
	       "2 bad spec or arguments, 3 controller unreachable.\n");
}

// Every --probe and --sample spec, parsed; at least one.
Result<std::vector<control::RecordSpec>> recordSpecs(const Args &a)
{
	std::vector<control::RecordSpec> specList;
	for (const char *flag : {"--probe", "--sample"}) {
		size_t i = 0;
		for (const auto &s : a.all(flag)) {
			auto j = specArg(s, flag, i++);
			XDC_TRY(j);
			specList.push_back(*j);
		}
	}
	if (specList.empty())
		return makeError(Errc::Invalid, "give at least one --probe or --sample (xdc record --help)");
	return specList;
}

// `--out DIR` (required), made absolute: the controller writes the bundle from its own working directory.
Result<std::string> recordOutDir(const Args &a)
{
	if (!a.has("--out"))
		return makeError(Errc::Invalid, "--out DIR is required");
	std::string out = a.get("--out");
	if (out[0] != '/') {
		char cwd[PATH_MAX];
		if (!::getcwd(cwd, sizeof cwd))
			return makeError(Errc::Invalid, "cannot resolve the current directory");
		out = std::string(cwd) + "/" + out;
	}
	return out;
}

// How long a recording runs, at most runs, and waits for samples in flight after the stop.
struct RecordTimes {
	int64_t forMs = 0;
	int64_t drainMs = 30000;
	int64_t maxMs = 3600000;
};

// `--for`, `--drain` and `--max` in milliseconds (defaults when not given).
Result<RecordTimes> recordTimes(const Args &a)
{
	RecordTimes t;
	for (auto [flag, ms] : {std::pair{"--for", &t.forMs}, {"--drain", &t.drainMs}, {"--max", &t.maxMs}}) {
		if (!a.has(flag))
			continue;
		auto d = parseDuration(a.get(flag));
		if (!d)
			return makeError(Errc::Invalid, "{}: {}", flag, d.error().message);
		*ms = std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
	}
	return t;
}

// What `xdc record` asks the controller for: the record.start request, the bundle directory and the times.
struct RecordPlan {
	control::RecordStartRequest req;
	std::string out;
	RecordTimes times;
};

// Reads and checks the flags of `xdc record` into the record.start request.
Result<RecordPlan> recordPlan(const Args &a)
{
	auto specList = recordSpecs(a);
	XDC_TRY(specList);
	RecordPlan p;
	auto out = recordOutDir(a);
	XDC_TRY(out);
	p.out = *out;
	auto times = recordTimes(a);
	XDC_TRY(times);
	p.times = *times;
	const RecordTimes &t = p.times;
	p.req.specs = std::move(*specList);
	p.req.out = p.out;
	p.req.forMs = t.forMs;
	p.req.maxMs = std::max(t.maxMs, t.forMs);
	p.req.name = a.get("--name");
	if (a.has("--memory-samples")) {
		try {
			p.req.memorySamples = std::stoull(a.get("--memory-samples"));
		} catch (...) {
			return makeError(Errc::Invalid, "--memory-samples: expected a number");
		}
	}
	return p;
}

// Waits until --for (or --max) has passed or Ctrl-C, showing the samples received once a second on a terminal.
void waitForRecording(const Args &a, const std::string &id, const RecordTimes &t, bool quiet,
		      const std::atomic<int> &interrupts)
{
	const int64_t startMono = clk::monoNs();
	const int64_t endMono = t.forMs ? startMono + t.forMs * clk::kMs
					: startMono + std::max(t.maxMs, t.forMs) * clk::kMs;
	int64_t nextProgress = startMono + clk::kSec;
	while (interrupts.load() == 0 && clk::monoNs() < endMono) {
		const int64_t now = clk::monoNs();
		const int64_t wake = std::min(endMono, nextProgress);
		if (wake > now)
			::usleep(static_cast<useconds_t>(std::min<int64_t>((wake - now) / 1000, 200000)));
		if (clk::monoNs() < nextProgress)
			continue;
		nextProgress += clk::kSec;
		if (!quiet && isatty(2)) {
			// Best effort and silent: a progress line must not add output (or --json documents) when it fails.
			auto socket = controlPathFor(a);
			auto st = socket ? control::request(*socket, control::RecordStatusRequest{id, 0}, 5000)
					 : Result<json>(socket.error());
			auto ans = st && st->value("ok", false)
					   ? control::parseAnswer<control::RecordStatusAnswer>(*st)
					   : Result<control::RecordStatusAnswer>(Error{Errc::Protocol, ""});
			if (ans && ans->status)
				fprintf(stderr, "\r  %.0f s, %llu samples received   ", (clk::monoNs() - startMono) / 1e9,
					static_cast<unsigned long long>(ans->status->value("samples", uint64_t{0})));
		}
	}
}

} // namespace

int cmdRecord(const std::vector<std::string> &argv)
{
	auto a = parseArgs(argv, recordFlags());
	if (!a) {
		fprintf(stderr, "xdc record: %s\n", a.error().message.c_str());
		return kUsage;
	}
	if (a->has("--help")) {
		printRecordUsage();
		return kOk;
	}
	auto plan = recordPlan(*a);
	if (!plan) {
		fprintf(stderr, "xdc record: %s\n", plan.error().message.c_str());
		return kUsage;
	}
	const std::string &out = plan->out;
	int rc = 0;
	auto started = callController(*a, plan->req, rc, 30000);
	if (!started)
		return rc;
	auto startAnswer = control::parseAnswer<control::RecordStartAnswer>(*started);
	if (!startAnswer) {
		fprintf(stderr, "xdc record: %s\n", startAnswer.error().message.c_str());
		return kFailed;
	}
	const std::string id = startAnswer->recording;
	const bool quiet = a->has("--quiet") || a->has("--json");
	const int64_t forMs = plan->times.forMs, drainMs = plan->times.drainMs;
	if (!quiet)
		fprintf(stderr, "recording %s -> %s (%s)\n", id.c_str(), out.c_str(),
			forMs ? fmt::format("for {} s", forMs / 1000.0).c_str() : "Ctrl-C to stop");
	// Ctrl-C stops the recording cleanly: the bundle is still written.
	const std::atomic<int> &interrupts = catchStopSignals();
	waitForRecording(*a, id, plan->times, quiet, interrupts);
	if (!quiet) {
		if (isatty(2))
			fprintf(stderr, "\n");
		fprintf(stderr, "%s; collecting what is in flight (up to %lld s)...\n",
			interrupts.load() ? "interrupted" : "done", static_cast<long long>(drainMs / 1000));
	}
	auto stopped = callController(*a, control::RecordStopRequest{id, drainMs}, rc,
				      static_cast<int>(drainMs + 60000));
	if (!stopped)
		return rc;
	auto stopAnswer = control::parseAnswer<control::RecordStopAnswer>(*stopped);
	if (!stopAnswer) {
		fprintf(stderr, "xdc record: %s\n", stopAnswer.error().message.c_str());
		return kFailed;
	}
	const json &meta = stopAnswer->meta;
	if (a->has("--json")) {
		printf("%s\n", stopped->dump(2).c_str());
	} else {
		printSummary(meta);
		printOutages(meta.value("outages", json::array()));
		printf("bundle: %s\n", out.c_str());
	}
	return meta.value("complete", false) ? kOk : kFailed;
}

namespace {

// A sample's value as the timeline prints it: a time (a key ending in _ns whose value is a date, already on the
// controller's clock in the bundle) as a clock time, a whole number without an exponent, anything else as is.
std::string valueText(const std::string &key, const json &v)
{
	if (!v.is_number())
		return v.dump();
	const double d = v.get<double>();
	if ((key.ends_with("_ns") || key == "mtime_ns") && d > 1e17)
		return clockTimeMs(static_cast<int64_t>(d));
	if (std::abs(d) < 1e15 && d == std::floor(d))
		return fmt::format("{:.0f}", d);
	return fmt::format("{:g}", d);
}

// A tag on one line: a multi-line value (an nft read-back) shows its first line and how many follow (--json has
// all of it); long values are cut.
std::string tagText(const std::string &key, const std::string &v)
{
	const size_t limit = key == "line" ? 300 : 80;
	const size_t nl = v.find('\n');
	std::string first = v.substr(0, std::min(nl, limit));
	if (nl == std::string::npos)
		return v.size() > limit ? first + "..." : first;
	size_t more = 0;
	for (size_t i = nl; i != std::string::npos && i + 1 < v.size(); i = v.find('\n', i + 1))
		more++;
	return fmt::format("{} (+{} lines; --json has all)", first, more);
}

} // namespace

int cmdEvidence(const std::vector<std::string> &argv)
{
	std::vector<FlagSpec> specs = {{"--help", false, "this text"},
				       {"--host", true, "only entries of this host"},
				       {"--kind", true, "only entries of this kind (probe.tcp, host, fault, ...)"},
				       {"--timeline", false, "print the timeline entries (implied by --host/--kind)"},
				       {"--json", false, "machine-readable output"}};
	auto a = parseArgs(argv, specs);
	if (!a) {
		fprintf(stderr, "xdc evidence: %s\n", a.error().message.c_str());
		return kUsage;
	}
	if (a->has("--help") || a->positional.size() != 1) {
		printf("Usage: xdc evidence DIR [--host H] [--kind K] [--timeline] [--json]\n\n"
		       "Prints an evidence bundle written by `xdc record` (or a scenario run): per host counts, gaps,\n"
		       "clock bounds, and the outage analysis of every probe: intervals of failure, each end as\n"
		       "time ± (probe interval + clock bound) on the controller's clock. --host/--kind/--timeline add\n"
		       "the matching timeline entries. --json prints {meta, outages, entries}.\n"
		       "Exit codes: 0 complete bundle, 1 bundle with gaps, 2 not a bundle, bad arguments or a --host\n"
		       "the bundle does not have (its hosts are named).\n");
		return a->has("--help") ? kOk : kUsage;
	}
	const std::string dir = a->positional[0];
	const std::string host = a->get("--host"), kind = a->get("--kind");
	const bool listEntries = a->has("--timeline") || !host.empty() || !kind.empty();
	// The outages were computed when the bundle was written (meta.json); the timeline is read only when listed.
	auto full = controller::evidence::loadBundle(dir, host, kind, listEntries);
	if (!full) {
		fprintf(stderr, "xdc evidence: %s\n", full.error().message.c_str());
		return kUsage;
	}
	// A host filter that names no host of the bundle and matches nothing is a typo, not an empty answer.
	if (!host.empty() && full->entries.empty()) {
		std::vector<std::string> known;
		for (const auto &h : full->meta.value("hosts", json::array()))
			known.push_back(h.value("host", ""));
		if (std::find(known.begin(), known.end(), host) == known.end()) {
			const std::string hint = didYouMean(host, known);
			std::string list;
			for (const auto &k : known)
				list += (list.empty() ? "" : ", ") + k;
			fprintf(stderr, "xdc evidence: --host %s: no such host in %s (its hosts: %s)%s\n", host.c_str(),
				dir.c_str(), list.empty() ? "none" : list.c_str(),
				hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint).c_str());
			return kUsage;
		}
	}
	json outages = json::array();
	const json allOutages = full->meta.value("outages", json::array());
	for (const auto &o : allOutages)
		if (host.empty() || o.value("host", "") == host)
			outages.push_back(o);
	const std::vector<json> &entries = full->entries;
	if (a->has("--json")) {
		json j = {{"meta", full->meta}, {"outages", outages}};
		if (listEntries)
			j["entries"] = entries;
		printf("%s\n", j.dump(2).c_str());
	} else {
		printSummary(full->meta);
		printOutages(outages);
		for (const auto &e : entries) {
			std::string vals;
			const json values = e.value("values", json::object()), tags = e.value("tags", json::object());
			for (const auto &[k, v] : values.items())
				vals += fmt::format(" {}={}", k, valueText(k, v));
			for (const auto &[k, v] : tags.items())
				if (!v.get<std::string>().empty())
					vals += fmt::format(" {}={}", k, tagText(k, v.get<std::string>()));
			printf("%s %s %-8s %-12s %-24s%s\n", clockTimeMs(e.value("t_ns", int64_t{0})).c_str(),
			       pm(e.value("bound_ns", int64_t{-1})).c_str(), e.value("host", "").c_str(),
			       e.value("kind", "").c_str(), e.value("source", "").c_str(), vals.c_str());
		}
	}
	return full->meta.value("complete", false) ? kOk : kFailed;
}

} // namespace xdc::cli
