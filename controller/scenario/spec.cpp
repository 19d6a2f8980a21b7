// SPDX-License-Identifier: Apache-2.0
// Scenario parsing and offline validation.
#include "controller/scenario/spec.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <sys/stat.h>

#include "common/duration.h"
#include "common/sys/file.h"
#include "common/yaml_reader.h"
#include "controller/scenario/assertions/assertion.h"
#include "controller/scenario/spec_parser.h"
#include "controller/scenario/spec_read.h"

namespace xdc::scenario {

using namespace std::chrono_literals;
using detail::Parser;
using detail::plainWord;
using detail::readVariables;
using detail::substitute;

namespace {

constexpr size_t kMaxBytes = 4 << 20;
constexpr size_t kMaxNodes = 200000;
constexpr int kMaxDepth = 32;

} // namespace

std::string whereOf(const std::string &origin, const YAML::Node &n) { return nodeWhere(origin, n); }

Error failAt(const std::string &origin, const YAML::Node &n, const std::string &path, const std::string &what)
{
	return makeError(Errc::Invalid, "{}: {}: {}", whereOf(origin, n), path, what);
}

namespace {

// Refuses documents too large or too deep to be a scenario; aliases are walked as often as they are used, so an
// alias bomb hits the node limit instead of expanding.
Result<void> checkShape(const std::string &origin, const YAML::Node &root, const YAML::Node &n, int depth,
			size_t &count)
{
	// Reported at the document's start: inside an alias bomb no one node is to blame.
	if (++count > kMaxNodes)
		return failAt(origin, root, "(document)",
			      fmt::format("more than {} YAML nodes (aliases expanding too far?)", kMaxNodes));
	if (depth > kMaxDepth)
		return failAt(origin, root, "(document)", fmt::format("nested more than {} levels deep", kMaxDepth));
	if (n.IsSequence()) {
		for (const auto &item : n)
			XDC_TRY(checkShape(origin, root, item, depth + 1, count));
	} else if (n.IsMap()) {
		for (const auto &kv : n) {
			XDC_TRY(checkShape(origin, root, kv.first, depth + 1, count));
			XDC_TRY(checkShape(origin, root, kv.second, depth + 1, count));
		}
	}
	return success();
}

} // namespace

Result<YAML::Node> parseChecked(const std::string &text, const std::string &origin)
{
	auto doc = parseYaml(text, origin, kMaxBytes);
	if (!doc)
		return doc.error();
	if (doc->IsNull())
		return makeError(Errc::Invalid, "{}:1:1: (document): the file is empty or holds only comments (expected a "
				 "scenario: version, name, phases; see docs/SCENARIOS.md)", origin);
	size_t count = 0;
	XDC_TRY(checkShape(origin, *doc, *doc, 0, count));
	if (!doc->IsMap())
		return makeError(Errc::Invalid, "{}: (top level): expected a mapping with version, name and phases "
				 "(see docs/SCENARIOS.md)", whereOf(origin, *doc).c_str());
	return doc;
}

namespace detail {

Result<Scenario> Parser::parse(const YAML::Node &doc)
{
	Scenario s;
	s.origin = origin_;
	MapReader top(doc, origin_, "");
	int64_t version = 0;
	top.integer("version", version, 1, 1000);
	if (top.ok() && version == 0)
		top.fail(doc, "version", fmt::format("required: the scenario format version ({})", kVersion));
	if (top.ok() && version != kVersion)
		top.fail(doc["version"], "version",
			 fmt::format("version {} is not supported by this xdc (it reads version {})", version, kVersion));
	top.str("name", s.name);
	if (top.ok() && s.name.empty())
		top.fail(doc, "name", "required: the scenario's name (letters, digits, '-', '_', '.')");
	static const std::regex nameRe("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$");
	if (top.ok() && !std::regex_match(s.name, nameRe))
		top.fail(doc["name"], "name", fmt::format("'{}' is not a valid name (letters, digits, '-', '_', '.'; "
							  "at most 64)", s.name));
	top.str("description", s.description);
	YAML::Node varsNode;
	top.child("variables", varsNode); // read, drawn and substituted before; marked known here
	s.variables = opt_.variables;
	YAML::Node n;
	XDC_TRY(top.result()); // without a version and a name nothing else is worth reading
	// Each section, and each entry of a list, is read on its own: its error is noted and reading goes on, so
	// one pass reports every error of the file (up to kMaxErrors).
	if (top.child("topology", n))
		readTopology(top, n, s.topology);
	settle();
	if (top.child("evidence", n))
		readEvidence(top, n, s);
	settle();
	// Read after the metrics block: a check with a PromQL query of its own adds a source to it.
	YAML::Node steady;
	const bool hasSteady = top.child("steady_state", steady);
	if (top.child("streams", n))
		readStreams(top, n, s.streams);
	settle();
	if (top.child("data", n))
		readData(top, n, s.data);
	settle();
	if (top.child("metrics", n)) {
		auto m = readMetricsBlock(n, origin_);
		if (m)
			s.metrics = *m;
		else
			note(m.error());
	}
	if (hasSteady)
		readSteady(top, steady, s);
	settle();
	YAML::Node phases;
	const bool hasPhases = top.child("phases", phases);
	YAML::Node assertions, stops;
	const bool hasAssertions = top.child("assertions", assertions);
	const bool hasStops = top.child("stop_conditions", stops);
	top.rejectUnknown();
	if (!top.ok())
		note(top.result().error());
	if (!hasPhases || !phases.IsMap())
		note(failAt(origin_, hasPhases ? phases : doc, "phases",
			    "required: a mapping with baseline, inject, observe and recover (setup, validate and "
			    "teardown are optional)"));
	else if (auto ph = readPhases(phases, s); !ph)
		note(ph.error());
	if (hasAssertions)
		readAssertions(top, assertions, s);
	settle();
	if (hasStops)
		readStops(top, stops, s);
	settle();
	if (!errors_.empty())
		return combined();
	XDC_TRY(crossCheck(s));
	return s;
}

void Parser::readTopology(MapReader &top, const YAML::Node &n, Topology &t)
{
	MapReader r(n, origin_, "topology");
	t.where = r.where(n);
	r.str("lab", t.lab);
	r.str("inventory", t.inventory);
	r.rejectUnknown();
	if (r.ok() && !t.lab.empty() && !t.inventory.empty())
		r.fail(n, "topology", "give either lab or inventory, not both");
	carry(top, r);
}

// Moves a nested reader's error into the top reader (first error wins).
void Parser::carry(MapReader &top, MapReader &r)
{
	(void)top;
	if (!r.ok() && !error_)
		error_ = r.result().error();
}

void Parser::readEvidence(MapReader &top, const YAML::Node &n, Scenario &s)
{
	if (error_)
		return;
	MapReader r(n, origin_, "evidence");
	YAML::Node list;
	for (const char *key : {"probes", "samplers"}) {
		if (!r.child(key, list) || list.IsNull())
			continue;
		if (!list.IsSequence()) {
			r.fail(list, r.keyPath(key), "expected a list of specs (docs/EVIDENCE.md)");
			break;
		}
		for (size_t i = 0; i < list.size(); i++) {
			const std::string path = fmt::format("evidence.{}[{}]", key, i);
			auto spec = evidence::parseSamplerSpec(list[i], origin_, path);
			if (!spec) {
				note(spec.error());
				continue;
			}
			const bool probe = evidence::isProbe(spec->kind);
			if (probe != (std::string(key) == "probes")) {
				r.fail(list[i], path + ".kind",
				       fmt::format("{} belongs under evidence.{}", evidence::samplerKindName(spec->kind),
						   probe ? "probes" : "samplers"));
				break;
			}
			if (spec->name.empty())
				spec->name = evidence::defaultName(*spec);
			for (const auto *other : {&s.probes, &s.samplers})
				for (const auto &o : *other)
					if (o.name == spec->name) {
						r.fail(list[i], path + ".name",
						       fmt::format("'{}' is already the name of another probe or sampler",
								   spec->name));
					}
			if (!r.ok())
				break;
			(probe ? s.probes : s.samplers).push_back(*spec);
		}
		if (!r.ok())
			break;
	}
	r.rejectUnknown();
	carry(top, r);
}

void Parser::readSteady(MapReader &top, const YAML::Node &n, Scenario &s)
{
	if (error_ || n.IsNull())
		return;
	if (!n.IsSequence())
		return void(error_ = failAt(origin_, n, "steady_state", "expected a list of checks: {probe, min_success, "
							"window}, {sampler, value, stat, min, max, window} or "
							"{metric | prom, window}"));
	for (size_t i = 0; i < n.size(); i++) {
		MapReader r(n[i], origin_, fmt::format("steady_state[{}]", i));
		SteadyCheck c;
		const bool metric = n[i].IsMap() && n[i]["sampler"];
		if (n[i].IsMap() && (n[i]["metric"] || n[i]["prom"])) {
			// {metric: {source, op, value}} or {prom: {url, query}}, window: a metric-source condition.
			const std::string path = fmt::format("steady_state[{}]", i);
			c.ref.where = r.where(n[i]);
			auto p = readMetricCondition(r, n[i], path, path, s);
			if (!p) {
				error_ = p.error();
				return;
			}
			if (p->heldFor.count() > 0)
				r.fail(n[i]["metric"]["for"], path + ".metric.for",
				       "not used here: the check's window is how long the condition must hold");
			c.condition = *p;
		} else if (metric) {
			// {sampler, value, stat, min, max, host, window}: a metric of a host/process sampler.
			c.ref.where = r.where(n[i]);
			r.str("sampler", c.sampler);
			r.str("value", c.value);
			r.str("stat", c.stat);
			r.str("host", c.ref.host);
			for (const char *key : {"min", "max"}) {
				const YAML::Node v = n[i][key];
				if (!r.ok() || !v)
					continue;
				std::string ignored;
				r.str(key, ignored);
				double x = 0;
				if (!v.IsScalar() || !YAML::convert<double>::decode(v, x)) {
					r.fail(v, r.keyPath(key), "expected a number");
					continue;
				}
				(std::string(key) == "min" ? c.minValue : c.maxValue) = x;
			}
			static const std::set<std::string> stats = {"max", "min", "mean", "last"};
			if (r.ok() && c.value.empty())
				r.fail(n[i], r.keyPath("value"), "required: which value of the samples (e.g. cpu_percent)");
			if (r.ok() && !stats.count(c.stat))
				r.fail(n[i]["stat"], r.keyPath("stat"),
				       fmt::format("'{}' is not a statistic (expected max, min, mean or last)", c.stat));
			if (r.ok() && !c.minValue && !c.maxValue)
				r.fail(n[i], r.keyPath("max"), "give at least one bound: min, max (numbers)");
		} else {
			c.ref = readProbeRef(r, n[i]);
			std::optional<double> ratio;
			readRatio(r, n[i], "min_success", ratio);
			if (ratio)
				c.minSuccess = *ratio;
		}
		std::chrono::milliseconds w = std::chrono::duration_cast<std::chrono::milliseconds>(c.window);
		r.duration("window", w);
		c.window = w;
		if (r.ok() && c.window < 100ms)
			r.fail(n[i]["window"], r.keyPath("window"), "must be at least 100ms");
		if (r.ok() && c.window > 120s)
			r.fail(n[i]["window"], r.keyPath("window"),
			       "must be at most 120s (the controller keeps each source's last 120 s live)");
		r.rejectUnknown();
		carry(top, r);
		s.steadyState.push_back(c);
		settle();
	}
}

void Parser::readAssertions(MapReader &top, const YAML::Node &n, Scenario &s)
{
	if (error_ || n.IsNull())
		return;
	std::vector<std::string> names;
	for (const auto &k : assertionKinds())
		names.push_back(k.name);
	const std::string kinds = fmt::format("{}", fmt::join(names, ", "));
	if (!n.IsSequence())
		return void(error_ = failAt(origin_, n, "assertions", fmt::format("expected a list of assertions ({})", kinds)));
	for (size_t i = 0; i < n.size(); i++) {
		const std::string path = fmt::format("assertions[{}]", i);
		MapReader r(n[i], origin_, path);
		Assertion a;
		a.where = r.where(n[i]);
		r.str("name", a.name);
		int found = 0;
		YAML::Node body;
		const AssertionKind *kind = nullptr;
		for (const auto &k : assertionKinds()) {
			YAML::Node b;
			if (r.child(k.name, b)) {
				found++;
				body = b;
				kind = &k;
			}
		}
		r.rejectUnknown();
		if (r.ok() && found != 1)
			r.fail(n[i], path, found == 0 ? "expected one of " + kinds
						      : "give one of " + kinds + " per assertion");
		if (!r.ok()) {
			carry(top, r);
			settle();
			continue;
		}
		a.kind = kind->name;
		MapReader b(body, origin_, path + "." + a.kind);
		AssertionParse p{b, body, path + "." + a.kind, origin_, error_};
		a.check = kind->parse(p);
		carry(top, b);
		if (error_) {
			settle();
			continue;
		}
		if (a.name.empty())
			a.name = a.check->defaultName();
		s.assertions.push_back(a);
	}
}

void Parser::readStops(MapReader &top, const YAML::Node &n, Scenario &s)
{
	if (error_ || n.IsNull())
		return;
	if (!n.IsSequence())
		return void(error_ = failAt(origin_, n, "stop_conditions", "expected a list of {name, probe, failing_for} "
								       "or {name, metric | prom} conditions"));
	for (size_t i = 0; i < n.size(); i++) {
		const std::string path = fmt::format("stop_conditions[{}]", i);
		MapReader r(n[i], origin_, path);
		StopCondition c;
		c.where = r.where(n[i]);
		r.str("name", c.name);
		if (n[i].IsMap() && (n[i]["metric"] || n[i]["prom"])) {
			// A metric condition: no probe; `for` inside `metric:` (a prom body holds at one sample).
			auto p = readMetricCondition(r, n[i], path, path, s);
			if (!p) {
				error_ = p.error();
				return;
			}
			c.metric = *p;
			r.rejectUnknown();
			if (c.name.empty())
				c.name = c.metric->op.empty()
						 ? c.metric->source
						 : fmt::format("{} {} {:g}", c.metric->source, c.metric->op, c.metric->value);
			carry(top, r);
			s.stopConditions.push_back(c);
			settle();
			continue;
		}
		c.ref = readProbeRef(r, n[i]);
		std::chrono::milliseconds d{0};
		r.duration("failing_for", d);
		c.failingFor = d;
		if (r.ok() && d.count() <= 0)
			r.fail(n[i], r.keyPath("failing_for"), "required: how long the probe must fail (e.g. 10s)");
		r.rejectUnknown();
		if (c.name.empty())
			c.name = fmt::format("{} failing for {}", c.ref.probe, formatDuration(c.failingFor));
		carry(top, r);
		s.stopConditions.push_back(c);
		settle();
	}
}

void Parser::note(const Error &e)
{
	if (errors_.size() < kMaxErrors)
		errors_.push_back(e);
	else
		moreErrors_++;
}

// Moves the section's error (if any) to the file's list.
void Parser::settle()
{
	if (error_)
		note(*error_);
	error_.reset();
}

// The file's errors as one, in the order of their positions (file:line:column), one per line.
Error Parser::combined() const
{
	auto pos = [&](const Error &e) -> std::pair<long, long> {
		constexpr long kEnd = std::numeric_limits<long>::max();
		if (e.message.rfind(origin_ + ":", 0) != 0)
			return {kEnd, kEnd};
		const char *p = e.message.c_str() + origin_.size() + 1;
		char *end = nullptr;
		const long line = std::strtol(p, &end, 10);
		if (end == p || *end != ':')
			return {kEnd, kEnd};
		const char *q = end + 1;
		const long col = std::strtol(q, &end, 10);
		return {line, end == q ? 0 : col};
	};
	std::vector<Error> sorted = errors_;
	std::stable_sort(sorted.begin(), sorted.end(),
			 [&](const Error &a, const Error &b) { return pos(a) < pos(b); });
	Error e = sorted.front();
	for (size_t i = 1; i < sorted.size(); i++)
		e.message += "\n" + sorted[i].message;
	if (moreErrors_ > 0)
		e.message += fmt::format("\n(and {} more errors: the first {} are shown)", moreErrors_, kMaxErrors);
	return e;
}

} // namespace detail

const evidence::SamplerSpec *Scenario::probe(const std::string &n) const
{
	for (const auto &p : probes)
		if (p.name == n)
			return &p;
	return nullptr;
}

const std::vector<std::pair<std::string, std::string>> kStreamsConditions = {
	{"failover_complete", "takeover_complete"}, {"takeover_complete", "takeover_complete"},
	{"remote_down", "remote_down"},             {"remote_up", "remote_up"},
	{"split_brain", "split_brain"},             {"fail_back", "fail_back"},
	{"state_handed_over", "state_handed_over"}, {"job_submitted", "job_submitted"},
	{"job_healthy", "job_healthy"}};

bool Scenario::usesStreams() const
{
	if (streams.present || data.present || !streamsActions.empty() || !observe.untilStreams.empty() ||
	    metrics.usesStreams())
		return true;
	for (const auto &a : assertions)
		if (a.check->needsStreams())
			return true;
	return false;
}

Nanos Scenario::plannedDuration() const
{
	// Inject lasts until the last fault group is sent; observe starts then.
	Nanos lastStart{0};
	for (const auto &f : faults)
		lastStart = std::max(lastStart, f.spec.start);
	for (const auto &a : streamsActions)
		lastStart = std::max(lastStart, a.start);
	const Nanos obs = observe.until || !observe.untilStreams.empty() || observe.untilMetric ? observe.timeout
												: observe.duration;
	return setup.duration + baseline.duration + lastStart + obs + recover.duration;
}

Result<Scenario> parseScenario(const std::string &text, const std::string &origin, const ParseOptions &opt)
{
	try {
		if (text.find_first_not_of(" \t\r\n") == std::string::npos)
			return makeError(Errc::Invalid, "{}:1:1: (document): the file is empty (expected a scenario: version, name, phases; "
					 "see docs/SCENARIOS.md)", origin);
		// First pass: the variables, on the text with every ${...} replaced by a plain word, so a reference that
		// YAML would misread before substitution (an unquoted ${x} inside a flow mapping) cannot hide them.
		static const std::regex ref("\\$\\{[^}\n]*\\}");
		auto raw = parseChecked(std::regex_replace(text, ref, "x"), origin);
		if (!raw)
			return raw.error();
		std::map<std::string, std::string> vars, drawn;
		XDC_TRY(readVariables(*raw, origin, opt.seed, vars, drawn));
		static const std::regex varName("^[A-Za-z_][A-Za-z0-9_]{0,63}$");
		for (const auto &[k, v] : opt.params) {
			if (!std::regex_match(k, varName))
				return makeError(Errc::Invalid, "--param {}={}: not a valid variable name", k, v);
			if (!plainWord(v))
				return makeError(Errc::Invalid, "--param {}={}: not a plain value (letters, digits and "
						 "_ . : / % + @ - only)", k, v);
			vars[k] = v;
		}
		auto expanded = substitute(text, origin, vars);
		if (!expanded)
			return expanded.error();
		auto doc = parseChecked(*expanded, origin);
		if (!doc)
			return doc.error();
		Parser p(origin, opt);
		p.setVariables(vars);
		auto s = p.parse(*doc);
		if (p.error_)
			return *p.error_;
		if (s.ok())
			for (const auto &[k, v] : drawn)
				if (!opt.params.count(k))
					s->drawn[k] = v;
		return s;
	} catch (const std::exception &e) {
		// yaml-cpp throws on a few malformed inputs even after Load (e.g. conversions); never let one escape.
		return makeError(Errc::Invalid, "{}: invalid scenario: {}", origin, e.what());
	}
}

Result<Scenario> loadScenario(const std::string &path, const ParseOptions &opt)
{
	struct stat st{};
	if (::stat(path.c_str(), &st) != 0)
		return makeError(errno == ENOENT ? Errc::NotFound : Errc::Io, "{}: cannot read the file: {}", path,
				 std::strerror(errno));
	if (S_ISDIR(st.st_mode))
		return makeError(Errc::Invalid, "{}: is a directory, not a scenario file", path);
	if (st.st_size > static_cast<off_t>(kMaxBytes))
		return makeError(Errc::Invalid, "{}: {} bytes is larger than the {} byte limit for a scenario", path,
				 static_cast<long long>(st.st_size), kMaxBytes);
	// Read up to one byte past the limit: a file that grew since stat, or a pipe, is still held to it.
	auto text = sys::readFile(path, kMaxBytes + 1);
	if (!text)
		return makeError(text.error().code, "{}: cannot read the file: {}", path,
				 text.error().message.substr(std::min(text.error().message.size(), path.size() + 2)));
	if (text->size() > kMaxBytes)
		return makeError(Errc::Invalid, "{}: more than the {} byte limit for a scenario", path, kMaxBytes);
	return parseScenario(*text, path, opt);
}

} // namespace xdc::scenario
