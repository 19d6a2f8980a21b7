// SPDX-License-Identifier: Apache-2.0
// Scenario parsing and offline validation.
#include "controller/scenario/spec.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "common/duration.h"
#include "common/yaml_reader.h"
#include "controller/scenario/assertions/assertion.h"
#include "controller/scenario/spec_read.h"

namespace xdc::scenario {

using namespace std::chrono_literals;

namespace {

constexpr size_t kMaxBytes = 4 << 20;
constexpr size_t kMaxNodes = 200000;
constexpr int kMaxDepth = 32;

} // namespace

std::string whereOf(const std::string &origin, const YAML::Node &n)
{
	auto m = n.Mark();
	if (m.is_null())
		return origin;
	return fmt::format("{}:{}:{}", origin, m.line + 1, m.column + 1);
}

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

namespace {

bool plainWord(const std::string &v)
{
	static const std::regex re("^[A-Za-z0-9_.:/%+@-]*$");
	return std::regex_match(v, re);
}

// Replaces ${name} by the variable's value in the text; line numbers stay (values never hold line breaks).
Result<std::string> substitute(const std::string &text, const std::string &origin,
			       const std::map<std::string, std::string> &vars)
{
	std::string out;
	out.reserve(text.size());
	size_t line = 1, col = 1;
	for (size_t i = 0; i < text.size();) {
		if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
			size_t end = text.find('}', i + 2);
			const size_t nl = text.find('\n', i);
			if (end == std::string::npos || (nl != std::string::npos && nl < end))
				return makeError(Errc::Invalid, "{}:{}:{}: '${{' without a closing '}}' on the same line",
						 origin, line, col);
			const std::string name = text.substr(i + 2, end - i - 2);
			auto it = vars.find(name);
			if (it == vars.end()) {
				std::vector<std::string> names;
				for (const auto &[k, v] : vars)
					names.push_back(k);
				const std::string hint = didYouMean(name, names);
				return makeError(Errc::Invalid, "{}:{}:{}: variables: undefined variable '{}'{}", origin, line, col,
						 name,
						 hint.empty() ? fmt::format(" (defined: {})", names.empty() ? "none"
									: fmt::format("{}", fmt::join(names, ", ")))
							      : fmt::format("; did you mean '{}'?", hint));
			}
			out += it->second;
			col += end + 1 - i;
			i = end + 1;
			continue;
		}
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
		out += text[i++];
	}
	return out;
}

class Parser {
public:
	Parser(std::string origin, const ParseOptions &opt) : origin_(std::move(origin)), opt_(opt) {}

	Result<Scenario> parse(const YAML::Node &doc)
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
		if (top.child("steady_state", n))
			readSteady(top, n, s);
		settle();
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

private:
	void readTopology(MapReader &top, const YAML::Node &n, Topology &t)
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

	void readStreams(MapReader &top, const YAML::Node &n, StreamsWatch &w)
	{
		if (error_)
			return;
		MapReader r(n, origin_, "streams");
		w.present = true;
		w.where = r.where(n);
		if (!n.IsMap() && !n.IsNull()) {
			r.fail(n, "streams", "expected a mapping: {config, interval, require_active, reset, host_signals}");
			carry(top, r);
			return;
		}
		r.str("config", w.config);
		std::chrono::milliseconds iv = std::chrono::duration_cast<std::chrono::milliseconds>(w.interval);
		r.duration("interval", iv);
		if (r.ok() && (iv < 50ms || iv > 10s))
			r.fail(n["interval"], "streams.interval", "expected a poll interval from 50ms to 10s");
		w.interval = iv;
		r.boolean("require_active", w.requireActive);
		r.boolean("reset", w.reset);
		r.boolean("host_signals", w.hostSignals);
		r.rejectUnknown();
		carry(top, r);
	}

	void readData(MapReader &top, const YAML::Node &n, DataFlow &d)
	{
		if (error_)
			return;
		MapReader r(n, origin_, "data");
		d.present = true;
		d.where = r.where(n);
		if (!n.IsMap()) {
			r.fail(n, "data", "expected a mapping: {rate, keys, payload, gap, poll, drain, source, route, sink}");
			carry(top, r);
			return;
		}
		auto readRate = [&](MapReader &m, const YAML::Node &parent, const char *key, const std::string &path,
				    double &out) {
			std::string rate;
			m.str(key, rate);
			if (!m.ok() || rate.empty())
				return;
			std::string num = rate.size() > 2 && rate.substr(rate.size() - 2) == "/s" ? rate.substr(0, rate.size() - 2)
												: rate;
			double v = -1;
			try {
				size_t used = 0;
				v = std::stod(num, &used);
				if (used != num.size())
					v = -1;
			} catch (...) {
			}
			if (!(v > 0 && v <= 1e6))
				m.fail(parent[key], path, fmt::format("'{}' is not a rate (expected tuples per second, e.g. 200 or "
								      "200/s, up to 1000000)", rate));
			else
				out = v;
		};
		readRate(r, n, "rate", "data.rate", d.rate);
		YAML::Node sub;
		if (r.ok() && r.child("ramp", sub)) {
			MapReader m(sub, origin_, "data.ramp");
			readRate(m, sub, "from", "data.ramp.from", d.rampFrom);
			std::chrono::milliseconds over{0};
			m.duration("over", over);
			d.rampOver = over;
			m.rejectUnknown();
			if (m.ok() && (d.rampFrom < 0 || over.count() <= 0))
				m.fail(sub, "data.ramp", "give from (a rate) and over (a duration): the ramp ends at data.rate");
			if (!m.ok())
				error_ = m.result().error();
		}
		if (r.ok() && !error_ && r.child("bursts", sub)) {
			MapReader m(sub, origin_, "data.bursts");
			std::chrono::milliseconds every{0}, len{0};
			m.duration("every", every);
			m.duration("for", len);
			std::string f;
			m.str("factor", f);
			m.rejectUnknown();
			double factor = 0;
			try {
				factor = std::stod(f);
			} catch (...) {
			}
			if (m.ok() && (every.count() <= 0 || len.count() <= 0 || len >= every))
				m.fail(sub, "data.bursts", "give every and for (durations, for < every) and factor");
			else if (m.ok() && !(factor > 0 && factor <= 1000))
				m.fail(sub["factor"] ? sub["factor"] : sub, "data.bursts.factor",
				       "expected the rate multiplier during a burst, above 0 and at most 1000");
			d.burstEvery = every;
			d.burstFor = len;
			d.burstFactor = factor;
			if (!m.ok())
				error_ = m.result().error();
		}
		if (error_)
			return;
		int64_t keys = d.keys, payload = static_cast<int64_t>(d.payload);
		r.integer("keys", keys, 1, 100000);
		r.integer("payload", payload, 0, 65536);
		d.keys = static_cast<uint32_t>(keys);
		d.payload = static_cast<size_t>(payload);
		for (auto [key, dst, lo] : {std::tuple<const char *, Nanos *, Nanos>{"gap", &d.gap, 50ms},
					    {"poll", &d.poll, 10ms}, {"drain", &d.drain, 0ms}}) {
			std::chrono::milliseconds v = std::chrono::duration_cast<std::chrono::milliseconds>(*dst);
			r.duration(key, v);
			if (r.ok() && v < lo)
				r.fail(n[key], std::string("data.") + key, fmt::format("must be at least {}", formatDuration(lo)));
			*dst = v;
		}
		r.str("source", d.source);
		if (r.ok() && d.source == "http")
			r.fail(n["source"], "data.source", "'http' (the emulator-only endpoint) is gone: http_json posts each tuple "
							   "as an HTTPJSONInjection operator takes it");
		else if (r.ok() && d.source != "http_json" && d.source != "tcp" && d.source != "file")
			r.fail(n["source"], "data.source",
			       fmt::format("'{}' is not a source (expected http_json, tcp or file)", d.source));
		r.str("route", d.route);
		if (r.ok() && !validDataSinkName(d.route))
			r.fail(n["route"], "data.route",
			       fmt::format("'{}' is not a route (expected both, active or a DC of the streams config)", d.route));
		r.str("generate_on", d.generateOn);
		if (r.ok() && !validDataSinkName(d.generateOn))
			r.fail(n["generate_on"], "data.generate_on",
			       fmt::format("'{}' is neither controller nor a host name", d.generateOn));
		if (r.ok() && d.generateOn != "controller" && d.source == "file")
			r.fail(n["generate_on"], "data.generate_on", "file drops go through the controller: with source: file "
								     "the generator runs there (generate_on: controller)");
		if (r.ok() && d.generateOn != "controller" && d.route == "active")
			r.fail(n["route"], "data.route", "route: active follows the toolkit view, which runs beside the "
							 "controller: only with generate_on: controller");
		if (r.ok() && r.child("sink", sub))
			readDataSink(sub, d);
		if (error_)
			return;
		r.rejectUnknown();
		carry(top, r);
	}

	// data.sink: {via: agent, file: NAME} or {via: tuple_view}.
	void readDataSink(const YAML::Node &sub, DataFlow &d)
	{
		MapReader m(sub, origin_, "data.sink");
		if (!sub.IsMap()) {
			m.fail(sub, "data.sink", "expected a mapping: {via: agent, file: NAME} or {via: tuple_view}");
		} else {
			m.str("via", d.sinkVia);
			m.str("file", d.sinkFile);
			m.rejectUnknown();
			if (m.ok() && d.sinkVia == "http")
				m.fail(sub["via"], "data.sink.via", "'http' (the emulator-only endpoint) is gone: the sinks are "
								    "FileSinks read through the agents (via: agent)");
			else if (m.ok() && d.sinkVia != "agent" && d.sinkVia != "tuple_view")
				m.fail(sub["via"], "data.sink.via",
				       fmt::format("'{}' is not a way to read the sinks (expected agent or tuple_view)", d.sinkVia));
			else if (m.ok() && d.sinkVia == "tuple_view" && sub["file"])
				m.fail(sub["file"], "data.sink.file", "only with via: agent (a tuple view is found through the "
								      "streams config's egress.tuple_view)");
			if (m.ok() && !validDataSinkName(d.sinkFile))
				m.fail(sub["file"], "data.sink.file",
				       fmt::format("'{}' is not a sink name of the agents' data.sinks (1 to 64 of "
						   "[a-zA-Z0-9._-])", d.sinkFile));
		}
		if (!m.ok())
			error_ = m.result().error();
	}

	static bool validDataSinkName(const std::string &name)
	{
		if (name.empty() || name.size() > 64)
			return false;
		for (char c : name)
			if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
				return false;
		return true;
	}

	// One inject entry of kind streams.*: {kind, dc, pes, bundle, job_name, start}.
	Result<StreamsAction> readStreamsAction(const YAML::Node &n, const std::string &path)
	{
		MapReader r(n, origin_, path);
		StreamsAction a;
		a.where = whereOf(origin_, n);
		a.path = path;
		std::string kind;
		r.str("kind", kind);
		if (kind == "data.route") {
			// {kind: data.route, to: both | active | DC, start}: where the test tuples go from its instant on.
			a.kind = "route";
			r.str("to", a.dc);
			if (r.ok() && (a.dc.empty() || !validDataSinkName(a.dc)))
				r.fail(n, path + ".to", "required: both, active or a DC of the streams config");
			std::chrono::milliseconds start{0};
			r.duration("start", start);
			a.start = start;
			r.rejectUnknown();
			XDC_TRY(r.result());
			return a;
		}
		a.kind = kind.substr(std::string("streams.").size());
		static const std::vector<std::string> kinds = {"stop_pe", "restart_pe", "orderly_shutdown", "cancel_job",
							       "submit_job"};
		if (r.ok() && std::find(kinds.begin(), kinds.end(), a.kind) == kinds.end()) {
			std::vector<std::string> full;
			for (const auto &k : kinds)
				full.push_back("streams." + k);
			const std::string hint = didYouMean(kind, full);
			r.fail(n["kind"], path + ".kind", fmt::format("'{}' is not a Streams operation (expected {}){}", kind,
								      fmt::join(full, ", "),
								      hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint)));
		}
		r.str("dc", a.dc);
		if (r.ok() && a.dc.empty())
			r.fail(n, path + ".dc", "required: the DC whose instance the operation acts on (a DC of the streams "
						"config)");
		if (a.kind == "stop_pe" || a.kind == "restart_pe") {
			if (n["pes"] && n["pes"].IsScalar()) {
				std::string one;
				r.str("pes", one);
				if (one != "all")
					a.pes = {one};
			} else {
				r.strList("pes", a.pes);
			}
		}
		if (a.kind == "submit_job") {
			r.str("bundle", a.bundle);
			r.str("job_name", a.jobName);
			if (r.ok() && a.bundle.empty())
				r.fail(n, path + ".bundle", "required: the application bundle (.sab) to submit, relative to the "
							    "scenario file");
			if (!a.bundle.empty() && a.bundle[0] != '/')
				a.bundle = fileDirOf(origin_) + "/" + a.bundle;
		}
		std::chrono::milliseconds start{0};
		r.duration("start", start);
		a.start = start;
		r.rejectUnknown();
		XDC_TRY(r.result());
		return a;
	}

	static std::string fileDirOf(const std::string &file)
	{
		const auto slash = file.rfind('/');
		return slash == std::string::npos ? "." : file.substr(0, slash);
	}

	// Moves a nested reader's error into the top reader (first error wins).
	void carry(MapReader &top, MapReader &r)
	{
		(void)top;
		if (!r.ok() && !error_)
			error_ = r.result().error();
	}

	void readEvidence(MapReader &top, const YAML::Node &n, Scenario &s)
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

	void readSteady(MapReader &top, const YAML::Node &n, Scenario &s)
	{
		if (error_ || n.IsNull())
			return;
		if (!n.IsSequence())
			return void(error_ = failAt(origin_, n, "steady_state", "expected a list of checks: {probe, min_success, "
								"window} or {sampler, value, stat, min, max, window}"));
		for (size_t i = 0; i < n.size(); i++) {
			MapReader r(n[i], origin_, fmt::format("steady_state[{}]", i));
			SteadyCheck c;
			const bool metric = n[i].IsMap() && n[i]["sampler"];
			if (metric) {
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
			r.rejectUnknown();
			carry(top, r);
			s.steadyState.push_back(c);
			settle();
		}
	}

	void readAssertions(MapReader &top, const YAML::Node &n, Scenario &s)
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

	void readStops(MapReader &top, const YAML::Node &n, Scenario &s)
	{
		if (error_ || n.IsNull())
			return;
		if (!n.IsSequence())
			return void(error_ = failAt(origin_, n, "stop_conditions", "expected a list of {name, probe, failing_for} "
									       "conditions"));
		for (size_t i = 0; i < n.size(); i++) {
			MapReader r(n[i], origin_, fmt::format("stop_conditions[{}]", i));
			StopCondition c;
			c.where = r.where(n[i]);
			r.str("name", c.name);
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

	Result<void> readPhases(const YAML::Node &phases, Scenario &s)
	{
		MapReader r(phases, origin_, "phases");
		struct Slot {
			const char *name;
			Phase *phase;
		};
		for (Slot slot : {Slot{"setup", &s.setup}, Slot{"baseline", &s.baseline}, Slot{"inject", &s.inject},
				  Slot{"observe", &s.observe}, Slot{"recover", &s.recover}, Slot{"validate", nullptr},
				  Slot{"teardown", nullptr}}) {
			YAML::Node n;
			if (!r.child(slot.name, n))
				continue;
			const std::string path = fmt::format("phases.{}", slot.name);
			MapReader p(n, origin_, path);
			if (slot.phase) {
				slot.phase->present = true;
				slot.phase->where = p.where(n);
			}
			if (slot.phase == &s.inject) {
				YAML::Node faults;
				bool control = false;
				p.boolean("control", control);
				s.controlRun = control;
				const bool haveFaults = p.child("faults", faults);
				if (control && haveFaults && faults.IsSequence() && faults.size() > 0) {
					p.fail(faults, path + ".faults", "a control run (control: true) injects nothing: remove the faults "
									 "or control");
				} else if (control) {
					// nothing to inject: the run measures the system undisturbed
				} else if (!haveFaults || !faults.IsSequence() || faults.size() == 0) {
					p.fail(faults ? faults : n, path + ".faults", "required: a list of fault specs "
										  "(docs/FAULTS.md), each with an optional start offset "
										  "(or control: true for a run without faults)");
				} else {
					for (size_t i = 0; i < faults.size(); i++) {
						const std::string fpath = fmt::format("{}.faults[{}]", path, i);
						if (faults[i].IsMap() && faults[i]["kind"] && faults[i]["kind"].IsScalar() &&
						    (faults[i]["kind"].Scalar().rfind("streams.", 0) == 0 ||
						     faults[i]["kind"].Scalar() == "data.route")) {
							auto a = readStreamsAction(faults[i], fpath);
							if (!a) {
								note(a.error());
								continue;
							}
							s.streamsActions.push_back(*a);
							continue;
						}
						auto f = fault::parseSpec(faults[i], origin_, fpath, opt_.limits);
						if (!f) {
							note(f.error());
							continue;
						}
						s.faults.push_back({*f, fault::toYaml(*f), whereOf(origin_, faults[i]), fpath});
					}
				}
			} else if (slot.phase == &s.observe) {
				std::chrono::milliseconds d{0}, t{0}, okFor{1000};
				p.duration("duration", d);
				if (!p.ok())
					return p.result();
				YAML::Node until;
				if (p.child("until", until)) {
					MapReader u(until, origin_, path + ".until");
					if (until.IsMap() && (until["metric"] || until["prom"])) {
						XDC_TRY(readUntilMetric(u, until, path + ".until", s));
					} else if (until.IsMap() && until["streams"]) {
						u.str("streams", slot.phase->untilStreams);
						std::vector<std::string> names;
						for (const auto &c : kStreamsConditions)
							names.push_back(c.first);
						if (u.ok() && std::find(names.begin(), names.end(), slot.phase->untilStreams) == names.end())
							u.fail(until["streams"], path + ".until.streams",
							       fmt::format("'{}' is not a Streams condition (expected {})",
									   slot.phase->untilStreams, fmt::join(names, ", ")));
					} else {
						slot.phase->until = readProbeRef(u, until);
						u.duration("ok_for", okFor);
					}
					u.rejectUnknown();
					if (!u.ok())
						return u.result();
					p.duration("timeout", t);
					if (p.ok() && t.count() <= 0)
						p.fail(n, path + ".timeout", "required with until: the longest to wait (e.g. 60s)");
					if (p.ok() && d.count() > 0)
						p.fail(n["duration"], path + ".duration", "give either duration or until, not both");
				} else if (p.ok() && d.count() <= 0) {
					p.fail(n, path + ".duration", "required: how long to observe (or until: with a timeout)");
				}
				slot.phase->duration = d;
				slot.phase->timeout = t;
				slot.phase->okFor = okFor;
			} else if (slot.phase) {
				std::chrono::milliseconds d{0};
				p.duration("duration", d);
				slot.phase->duration = d;
			}
			p.rejectUnknown();
			if (!p.ok())
				return p.result();
		}
		r.rejectUnknown();
		XDC_TRY(r.result());
		if (!s.inject.present)
			return failAt(origin_, phases, "phases.inject", "required: the faults to inject");
		for (auto slot : {std::pair<const char *, Phase *>{"baseline", &s.baseline}, {"observe", &s.observe},
				  {"recover", &s.recover}})
			if (!slot.second->present)
				return failAt(origin_, phases, fmt::format("phases.{}", slot.first),
					      "required (a duration: how long to watch the system before the faults / while "
					      "they act / after they are reverted)");
		return success();
	}

	// observe.until: {metric: {source, op, value}} or {prom: {url, query, ...}} (an unnamed source of its own).
	Result<void> readUntilMetric(MapReader &u, const YAML::Node &until, const std::string &path, Scenario &s)
	{
		YAML::Node body;
		if (until["metric"] && until["prom"])
			return failAt(origin_, until, path, "give either metric or prom, not both");
		if (u.child("metric", body)) {
			MapReader m(body, origin_, path + ".metric");
			MetricPredicate p;
			readMetricPredicate(m, body, p, true);
			m.rejectUnknown();
			XDC_TRY(m.result());
			s.observe.untilMetric = p;
			return success();
		}
		u.child("prom", body);
		auto src = readMetricSourceBody("prom", body, origin_, path + ".prom");
		if (!src)
			return src.error();
		src->name = "observe.until";
		s.metrics.present = true;
		s.metrics.sources.push_back(*src);
		s.observe.untilMetric = MetricPredicate{src->name, "", 0, src->where};
		return success();
	}

	Result<void> crossCheck(const Scenario &s)
	{
		for (size_t i = 0; i < s.steadyState.size(); i++) {
			const auto &c = s.steadyState[i];
			if (!c.isMetric()) {
				XDC_TRY(checkProbeRef(c.ref, s, fmt::format("steady_state[{}]", i)));
				continue;
			}
			bool ok = false;
			for (const auto &sm : s.samplers)
				ok |= sm.name == c.sampler &&
				      (sm.kind == evidence::SamplerKind::Host || sm.kind == evidence::SamplerKind::Process);
			if (!ok)
				return makeError(Errc::Invalid, "{}: steady_state[{}].sampler: no host or process sampler named '{}' "
						 "under evidence.samplers", c.ref.where, i, c.sampler);
		}
		for (const auto &a : s.streamsActions) {
			if (a.kind != "route")
				continue;
			if (!s.data.present)
				return makeError(Errc::Invalid, "{}: {}: a data.route step needs a data: block (the tuples it routes)",
						 a.where, a.path);
			if (s.data.generateOn != "controller")
				return makeError(Errc::Invalid, "{}: {}: a data.route step switches the controller's generator; with "
						 "generate_on: {} the route is fixed at the agent's start", a.where, a.path,
						 s.data.generateOn);
		}
		for (size_t i = 0; i < s.stopConditions.size(); i++)
			XDC_TRY(checkProbeRef(s.stopConditions[i].ref, s, fmt::format("stop_conditions[{}]", i)));
		if (s.observe.until)
			XDC_TRY(checkProbeRef(*s.observe.until, s, "phases.observe.until"));
		if (s.observe.untilMetric)
			XDC_TRY(checkMetricRef(*s.observe.untilMetric, s.metrics, "phases.observe.until.metric"));
		for (size_t i = 0; i < s.assertions.size(); i++)
			XDC_TRY(s.assertions[i].check->crossCheck(s, fmt::format("assertions[{}]", i), s.assertions[i].where));
		// Faults: the same kind, overlapping windows, the same targets: refused (one fault per kind per host).
		// Selectors that differ are checked against a topology in checkTopology().
		for (size_t i = 0; i < s.faults.size(); i++)
			for (size_t j = i + 1; j < s.faults.size(); j++) {
				const auto &a = s.faults[i].spec, &b = s.faults[j].spec;
				if (a.kind == b.kind && a.targets == b.targets && a.start < b.start + b.duration &&
				    b.start < a.start + a.duration)
					return makeError(Errc::Invalid, "{}: {}: overlaps {} ({} on the same targets from {} "
							 "to {}); faults of one kind do not stack on a host", s.faults[j].where,
							 s.faults[j].path, s.faults[i].path, fault::kindName(a.kind),
							 formatDuration(a.start), formatDuration(a.start + a.duration));
			}
		return success();
	}

	// Every error of the file in one pass, up to kMaxErrors; error_ is the one of the section being read.
	static constexpr size_t kMaxErrors = 20;
	std::vector<Error> errors_;
	size_t moreErrors_ = 0;

	void note(const Error &e)
	{
		if (errors_.size() < kMaxErrors)
			errors_.push_back(e);
		else
			moreErrors_++;
	}

	// Moves the section's error (if any) to the file's list.
	void settle()
	{
		if (error_)
			note(*error_);
		error_.reset();
	}

	// The file's errors as one, in the order of their positions (file:line:column), one per line.
	Error combined() const
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

	std::string origin_;
	ParseOptions opt_;

public:
	// Set before parse(): the variables as substituted.
	void setVariables(std::map<std::string, std::string> v) { opt_.variables = std::move(v); }
	std::optional<Error> error_;
};

} // namespace

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

namespace {

// The variables block: plain values, or random ones drawn from the seed: {choose: [a, b, c]} picks one value,
// {uniform: [1s, 5s]} a duration between the two (whole milliseconds). Each variable draws from its own generator,
// seeded by the run's seed and its name, so adding a variable never changes what the others draw.
Result<void> readVariables(const YAML::Node &doc, const std::string &origin, uint64_t seed,
			   std::map<std::string, std::string> &vars, std::map<std::string, std::string> &drawn)
{
	const YAML::Node block = doc["variables"];
	if (!block || block.IsNull())
		return success();
	if (!block.IsMap())
		return failAt(origin, block, "variables", "expected a mapping of names to values");
	static const std::regex varName("^[A-Za-z_][A-Za-z0-9_]{0,63}$");
	for (const auto &kv : block) {
		if (!kv.first.IsScalar())
			return failAt(origin, kv.first, "variables", "expected variable names as keys");
		const std::string k = kv.first.Scalar(), path = "variables." + k;
		if (!std::regex_match(k, varName))
			return failAt(origin, kv.first, path, "not a valid variable name (letters, digits, '_')");
		const YAML::Node &v = kv.second;
		std::string value;
		if (v.IsScalar()) {
			value = v.Scalar();
		} else if (v.IsMap() && v.size() == 1 && (v["choose"] || v["uniform"])) {
			uint64_t h = 1469598103934665603ULL; // FNV-1a of the name, mixed with the seed
			for (unsigned char c : k)
				h = (h ^ c) * 1099511628211ULL;
			std::mt19937_64 rng(seed ^ h);
			const bool choose = static_cast<bool>(v["choose"]);
			const YAML::Node list = choose ? v["choose"] : v["uniform"];
			const std::string lpath = path + (choose ? ".choose" : ".uniform");
			if (!list.IsSequence() || list.size() == 0 || (!choose && list.size() != 2))
				return failAt(origin, list, lpath, choose ? "expected a non-empty list of values to choose from"
									 : "expected [min, max] durations, e.g. [1s, 5s]");
			for (const auto &e : list)
				if (!e.IsScalar())
					return failAt(origin, e, lpath, "expected plain values");
			if (choose) {
				value = list[static_cast<size_t>(rng() % list.size())].Scalar();
			} else {
				auto lo = parseDuration(list[0].Scalar());
				auto hi = parseDuration(list[1].Scalar());
				if (!lo)
					return failAt(origin, list[0], lpath + "[0]", lo.error().message);
				if (!hi)
					return failAt(origin, list[1], lpath + "[1]", hi.error().message);
				if (*hi < *lo)
					return failAt(origin, list, lpath, "max is below min");
				const int64_t a = std::chrono::duration_cast<std::chrono::milliseconds>(*lo).count();
				const int64_t b = std::chrono::duration_cast<std::chrono::milliseconds>(*hi).count();
				value = fmt::format("{}ms", a + static_cast<int64_t>(rng() % static_cast<uint64_t>(b - a + 1)));
			}
			drawn[k] = value;
		} else {
			return failAt(origin, v, path, "expected a plain value, {choose: [a, b, ...]} or {uniform: [min, max]}");
		}
		if (!plainWord(value))
			return failAt(origin, v, path,
				      fmt::format("'{}' is not a plain value (letters, digits and _ . : / % + @ - only)", value));
		vars[k] = value;
	}
	return success();
}

} // namespace

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
	std::ifstream f(path, std::ios::binary);
	if (!f)
		return makeError(Errc::NotFound, "{}: cannot read the file", path);
	f.seekg(0, std::ios::end);
	const auto size = f.tellg();
	if (size > static_cast<std::streamoff>(kMaxBytes))
		return makeError(Errc::Invalid, "{}: {} bytes is larger than the {} byte limit for a scenario", path,
				 static_cast<long long>(size), kMaxBytes);
	f.seekg(0);
	std::stringstream ss;
	ss << f.rdbuf();
	return parseScenario(ss.str(), path, opt);
}

std::vector<std::string> selectHosts(const fault::Selector &s, const std::vector<Host> &hosts)
{
	std::vector<std::string> out;
	if (s.empty())
		return out;
	for (const auto &h : hosts) {
		if (!s.dc.empty() && s.dc != h.dc)
			continue;
		if (!s.host.empty() && s.host != h.name)
			continue;
		if (!s.hosts.empty() && std::find(s.hosts.begin(), s.hosts.end(), h.name) == s.hosts.end())
			continue;
		bool labels = true;
		for (const auto &[k, v] : s.labels) {
			auto it = h.labels.find(k);
			labels &= it != h.labels.end() && it->second == v;
		}
		if (labels)
			out.push_back(h.name);
	}
	return out;
}

Result<void> checkTopology(const Scenario &s, const std::vector<Host> &hosts, bool live)
{
	std::vector<std::string> names;
	std::set<std::string> dcs;
	for (const auto &h : hosts) {
		names.push_back(h.name);
		dcs.insert(h.dc);
	}
	auto need = [&](const fault::Selector &sel, const std::string &where, const std::string &path) -> Result<void> {
		if (sel.empty() || !selectHosts(sel, hosts).empty())
			return success();
		std::string what = "the selector", hint;
		if (!sel.host.empty()) {
			what = fmt::format("host '{}'", sel.host);
			if (!didYouMean(sel.host, names).empty())
				hint = fmt::format("; did you mean '{}'?", didYouMean(sel.host, names));
		} else if (!sel.dc.empty()) {
			what = fmt::format("dc '{}'", sel.dc);
			hint = fmt::format(" (datacenters: {})", fmt::join(dcs, ", "));
		}
		return makeError(Errc::Invalid, "{}: {}: {} matches no host of the topology ({} hosts){}", where, path, what,
				 hosts.size(), hint);
	};
	for (const auto *list : {&s.probes, &s.samplers})
		for (size_t i = 0; i < list->size(); i++) {
			const auto &sp = (*list)[i];
			const std::string path = fmt::format("evidence.{}[{}]", list == &s.probes ? "probes" : "samplers", i);
			XDC_TRY(need(sp.on, s.origin, path + ".on"));
			if (sp.kind == evidence::SamplerKind::ProbeTcp) {
				auto hp = evidence::splitHostPort(sp.target);
				const bool literal = hp && (hp->host.find_first_not_of("0123456789.") == std::string::npos ||
							    hp->host.find(':') != std::string::npos);
				if (hp && !literal && std::find(names.begin(), names.end(), hp->host) == names.end())
					return makeError(Errc::Invalid, "{}: {}.target: '{}' is neither an address nor a host of "
							 "the topology{}", s.origin, path, hp->host,
							 didYouMean(hp->host, names).empty()
								 ? std::string()
								 : fmt::format("; did you mean '{}'?", didYouMean(hp->host, names)));
			}
		}
	auto checkHost = [&](const ProbeRef &r, const std::string &path) -> Result<void> {
		if (r.host.empty())
			return success();
		const auto *p = s.probe(r.probe);
		if (p) {
			auto on = selectHosts(p->on, hosts);
			if (std::find(on.begin(), on.end(), r.host) == on.end())
				return makeError(Errc::Invalid, "{}: {}.host: probe '{}' does not run on '{}' (it runs on: {})",
						 r.where, path, r.probe, r.host, fmt::join(on, ", "));
		}
		return success();
	};
	for (size_t i = 0; i < s.assertions.size(); i++)
		for (const auto *ref : s.assertions[i].check->probeRefs())
			XDC_TRY(checkHost(*ref, fmt::format("assertions[{}]", i)));
	for (size_t i = 0; i < s.stopConditions.size(); i++)
		XDC_TRY(checkHost(s.stopConditions[i].ref, fmt::format("stop_conditions[{}]", i)));
	for (const auto &a : s.streamsActions)
		if (!hosts.empty() && !dcs.count(a.dc))
			return makeError(Errc::Invalid, "{}: {}.dc: '{}' is not a DC of the topology (datacenters: {})", a.where,
					 a.path, a.dc, fmt::join(dcs, ", "));
	// Faults: targets and peers exist; per host and kind, no two windows overlap.
	std::map<std::pair<std::string, fault::Kind>, std::vector<size_t>> perHost;
	for (size_t i = 0; i < s.faults.size(); i++) {
		const auto &f = s.faults[i];
		XDC_TRY(need(f.spec.targets, f.where, f.path + ".targets"));
		XDC_TRY(need(f.spec.peers.selector, f.where, f.path + ".peers"));
		auto targets = selectHosts(f.spec.targets, hosts);
		if (f.spec.kind == fault::Kind::NetworkPartition && f.spec.direction == fault::Direction::Both)
			for (const auto &p : selectHosts(f.spec.peers.selector, hosts))
				if (std::find(targets.begin(), targets.end(), p) == targets.end())
					targets.push_back(p);
		for (const auto &t : targets) {
			auto &prev = perHost[{t, f.spec.kind}];
			for (size_t j : prev) {
				const auto &o = s.faults[j].spec;
				if (f.spec.start < o.start + o.duration && o.start < f.spec.start + f.spec.duration)
					return makeError(Errc::Invalid, "{}: {}: overlaps {} on host '{}' ({} from {} to {}); "
							 "faults of one kind do not stack on a host", f.where, f.path,
							 s.faults[j].path, t, fault::kindName(o.kind), formatDuration(o.start),
							 formatDuration(o.start + o.duration));
			}
			prev.push_back(i);
			if (live && fault::needsNetem(f.spec.kind)) {
				for (const auto &h : hosts)
					if (h.name == t) {
						auto it = h.capabilities.find("qdisc.netem");
						if (it == h.capabilities.end() || it->second != "yes")
							return makeError(Errc::Invalid, "{}: {}.kind: {} needs tc netem and the kernel "
									 "of host '{}' lacks sch_netem", f.where, f.path,
									 fault::kindName(f.spec.kind), t);
					}
			}
		}
	}
	return success();
}

} // namespace xdc::scenario
