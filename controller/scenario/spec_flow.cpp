// SPDX-License-Identifier: Apache-2.0
// The scenario parser: the streams: and data: blocks and streams.* operations (spec_parser.h).
#include "controller/scenario/spec_parser.h"

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

namespace xdc::scenario::detail {

using namespace std::chrono_literals;

void Parser::readStreams(MapReader &top, const YAML::Node &n, StreamsWatch &w)
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

void Parser::readData(MapReader &top, const YAML::Node &n, DataFlow &d)
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
void Parser::readDataSink(const YAML::Node &sub, DataFlow &d)
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

bool Parser::validDataSinkName(const std::string &name)
{
	if (name.empty() || name.size() > 64)
		return false;
	for (char c : name)
		if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
			return false;
	return true;
}

// One inject entry of kind streams.*: {kind, dc, pes, bundle, job_name, start}.
Result<StreamsAction> Parser::readStreamsAction(const YAML::Node &n, const std::string &path)
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

std::string Parser::fileDirOf(const std::string &file)
{
	const auto slash = file.rfind('/');
	return slash == std::string::npos ? "." : file.substr(0, slash);
}

} // namespace xdc::scenario::detail
