// SPDX-License-Identifier: Apache-2.0
// Loading of the `streams:` config: defaults, instances, passwords from files or the environment.
#include "controller/streams/config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>

#include "common/yaml_reader.h"

namespace xdc::streams {

namespace {

// Where the password comes from at one level; an instance that names either source replaces the defaults' source.
struct PasswordSource {
	std::string file, env;
	YAML::Node at;
	std::string key;
};

std::string trim(std::string s)
{
	const char *ws = " \t\r\n";
	s.erase(0, std::min(s.size(), s.find_first_not_of(ws)));
	const auto end = s.find_last_not_of(ws);
	s.resize(end == std::string::npos ? 0 : end + 1);
	return s;
}

// Keys allowed both under `defaults` and in each instance.
void readCommon(MapReader &r, Endpoint &ep, PasswordSource &pw)
{
	r.str("user", ep.user);
	PasswordSource here;
	YAML::Node n;
	if (r.child("password_file", n)) {
		r.str("password_file", here.file);
		here.at = n;
		here.key = r.keyPath("password_file");
	}
	if (r.child("password_env", n)) {
		r.str("password_env", here.env);
		if (!here.file.empty() && r.ok())
			return r.fail(n, r.keyPath("password_env"), "give password_file or password_env, not both");
		here.at = n;
		here.key = r.keyPath("password_env");
	}
	if (!here.file.empty() || !here.env.empty())
		pw = here;
	r.str("ca_file", ep.caFile);
	r.str("client_cert", ep.clientCert);
	r.str("client_key", ep.clientKey);
	r.boolean("insecure", ep.insecure);
	r.boolean("tokens", ep.useTokens);
	std::chrono::milliseconds t{ep.timeoutMs}, ct{ep.connectTimeoutMs}, backoff{ep.retryBackoffMs};
	r.duration("timeout", t);
	r.duration("connect_timeout", ct);
	r.duration("retry_backoff", backoff);
	if (r.child("timeout", n) && r.ok() && (t.count() < 100 || t.count() > 600000))
		r.fail(n, r.keyPath("timeout"), "out of range (expected 100ms..10m)");
	if (r.child("connect_timeout", n) && r.ok() && (ct.count() < 10 || ct.count() > 600000))
		r.fail(n, r.keyPath("connect_timeout"), "out of range (expected 10ms..10m)");
	if (r.child("retry_backoff", n) && r.ok() && backoff.count() > 60000)
		r.fail(n, r.keyPath("retry_backoff"), "out of range (expected 0..1m)");
	ep.timeoutMs = static_cast<int>(t.count());
	ep.connectTimeoutMs = static_cast<int>(ct.count());
	ep.retryBackoffMs = static_cast<int>(backoff.count());
	int64_t retries = ep.retries, pageSize = ep.pageSize;
	r.integer("retries", retries, 0, 10);
	r.integer("page_size", pageSize, 0, 100000);
	ep.retries = static_cast<int>(retries);
	ep.pageSize = static_cast<int>(pageSize);
	r.str("job_name", ep.jobName);
	r.str("application", ep.application);
	if (r.child("toolkit", n)) {
		if (!n.IsMap())
			return r.fail(n, r.keyPath("toolkit"), "expected a mapping {prefix, sink_operator}");
		MapReader tr(n, r.origin(), r.keyPath("toolkit"));
		tr.str("prefix", ep.toolkitPrefix);
		tr.str("sink_operator", ep.sinkOperator);
		tr.rejectUnknown();
		r.adopt(tr);
	}
	if (r.child("ingest", n)) {
		if (!n.IsMap())
			return r.fail(n, r.keyPath("ingest"), "expected a mapping {http_json, tcp, file}");
		MapReader ir(n, r.origin(), r.keyPath("ingest"));
		ir.str("http_json", ep.ingest.httpJson);
		ir.str("tcp", ep.ingest.tcp);
		ir.str("file", ep.ingest.file);
		ir.rejectUnknown();
		const auto &u = ep.ingest.httpJson;
		if (ir.ok() && !u.empty() && u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
			ir.fail(n["http_json"], ir.keyPath("http_json"),
				fmt::format("'{}' (expected the inject URL, http:// or https://)", u));
		const auto colon = ep.ingest.tcp.rfind(':');
		if (ir.ok() && !ep.ingest.tcp.empty() &&
		    (colon == std::string::npos || colon == 0 || colon + 1 == ep.ingest.tcp.size()))
			ir.fail(n["tcp"], ir.keyPath("tcp"), fmt::format("'{}' (expected ADDRESS:PORT)", ep.ingest.tcp));
		r.adopt(ir);
	}
	if (r.child("egress", n)) {
		if (!n.IsMap())
			return r.fail(n, r.keyPath("egress"), "expected a mapping {tuple_view}");
		MapReader er(n, r.origin(), r.keyPath("egress"));
		er.str("tuple_view", ep.egress.tupleView);
		er.rejectUnknown();
		const auto &u = ep.egress.tupleView;
		if (er.ok() && !u.empty() && u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
			er.fail(n["tuple_view"], er.keyPath("tuple_view"),
				fmt::format("'{}' (expected the view's tuples URL, http:// or https://)", u));
		r.adopt(er);
	}
	if (r.child("host_signals", n)) {
		if (!n.IsMap())
			return r.fail(n, r.keyPath("host_signals"), "expected a mapping {trace, monitor, snapshots, failover_script}");
		MapReader hr(n, r.origin(), r.keyPath("host_signals"));
		hr.str("trace", ep.hostSignals.trace);
		hr.str("monitor", ep.hostSignals.monitor);
		hr.str("snapshots", ep.hostSignals.snapshots);
		hr.str("failover_script", ep.hostSignals.failoverScript);
		hr.rejectUnknown();
		r.adopt(hr);
	}
	std::string style;
	r.str("path_style", style);
	if (!style.empty() && r.ok()) {
		if (style == "auto")
			ep.style = PathStyle::Auto;
		else if (style == "resources")
			ep.style = PathStyle::Resources;
		else if (style == "instances")
			ep.style = PathStyle::Instances;
		else if (r.child("path_style", n))
			r.fail(n, r.keyPath("path_style"), fmt::format("'{}' (expected auto, resources or instances)", style));
	}
}

// The password itself, from the file's first line or the environment; errors point at the key that named it.
void readPassword(MapReader &r, Endpoint &ep, const PasswordSource &pw)
{
	if (!r.ok())
		return;
	if (!pw.file.empty()) {
		std::ifstream f(pw.file);
		if (!f)
			return r.fail(pw.at, pw.key, fmt::format("cannot read '{}': {}", pw.file, std::strerror(errno)));
		std::string line;
		std::getline(f, line);
		ep.password = trim(line);
		if (ep.password.empty())
			r.fail(pw.at, pw.key, fmt::format("'{}' is empty (expected the password on its first line)", pw.file));
	} else if (!pw.env.empty()) {
		const char *v = std::getenv(pw.env.c_str());
		if (!v || !*v)
			return r.fail(pw.at, pw.key, fmt::format("environment variable {} is not set", pw.env));
		ep.password = trim(v);
	}
}

void checkUrl(MapReader &r, const YAML::Node &at, const std::string &url)
{
	if (!r.ok())
		return;
	const auto scheme = url.find("://");
	const std::string s = scheme == std::string::npos ? "" : url.substr(0, scheme);
	if (s != "http" && s != "https")
		return r.fail(at, r.keyPath("url"), fmt::format("'{}' (expected http://host:port or https://host:port)", url));
	const std::string rest = url.substr(scheme + 3);
	if (rest.find('@') != std::string::npos)
		return r.fail(at, r.keyPath("url"), "credentials in the URL (use user and password_file)");
	const auto slash = rest.find_first_of("/?#");
	if (rest.empty() || slash == 0)
		return r.fail(at, r.keyPath("url"), fmt::format("'{}' has no host", url));
	if (slash != std::string::npos && rest.substr(slash) != "/")
		return r.fail(at, r.keyPath("url"), fmt::format("'{}' has a path (expected scheme://host:port only: the "
								 "client finds the API's paths itself)", url));
}

} // namespace

Result<std::vector<Endpoint>> parseStreamsConfig(const std::string &text, const std::string &origin)
{
	auto doc = parseYaml(text, origin);
	if (!doc)
		return doc.error();
	MapReader top(*doc, origin, "");
	YAML::Node streams;
	const bool present = top.child("streams", streams);
	top.rejectUnknown();
	XDC_TRY(top.result());
	if (!present || !streams.IsMap())
		return makeError(Errc::Invalid, "{}: streams: expected a mapping with 'defaults' and 'instances'", origin);

	MapReader sr(streams, origin, "streams");
	Endpoint defaults;
	PasswordSource defaultPw;
	YAML::Node n;
	if (sr.child("defaults", n)) {
		MapReader dr(n, origin, "streams.defaults");
		readCommon(dr, defaults, defaultPw);
		dr.rejectUnknown();
		XDC_TRY(dr.result());
	}
	YAML::Node list;
	const bool haveList = sr.child("instances", list);
	sr.rejectUnknown();
	XDC_TRY(sr.result());
	if (!haveList || !list.IsSequence() || list.size() == 0)
		return Error{Errc::Invalid, fmt::format("{}: streams.instances: expected a list of at least one instance",
							haveList ? sr.where(list) : origin)};

	std::vector<Endpoint> out;
	std::set<std::string> dcs;
	for (size_t i = 0; i < list.size(); i++) {
		const YAML::Node node = list[i];
		MapReader r(node, origin, fmt::format("streams.instances[{}]", i));
		Endpoint ep = defaults;
		PasswordSource pw = defaultPw;
		r.str("dc", ep.dc);
		r.str("url", ep.url);
		r.str("instance", ep.instance);
		r.str("host", ep.host);
		readCommon(r, ep, pw);
		r.rejectUnknown();
		if (r.ok() && ep.dc.empty())
			r.fail(node, r.keyPath("dc"), "required (the DC this instance serves, e.g. dc1)");
		if (r.ok() && ep.url.empty())
			r.fail(node, r.keyPath("url"), "required (e.g. https://streams1.example:8443)");
		if (r.ok() && !dcs.insert(ep.dc).second && r.child("dc", n))
			r.fail(n, r.keyPath("dc"), fmt::format("'{}' is given twice", ep.dc));
		if (r.ok() && r.child("url", n))
			checkUrl(r, n, ep.url);
		if (r.ok() && ep.connectTimeoutMs > ep.timeoutMs)
			r.fail(node, r.keyPath("connect_timeout"), fmt::format("{} ms is longer than the total timeout of {} ms",
									      ep.connectTimeoutMs, ep.timeoutMs));
		readPassword(r, ep, pw);
		XDC_TRY(r.result());
		while (!ep.url.empty() && ep.url.back() == '/')
			ep.url.pop_back();
		out.push_back(std::move(ep));
	}
	return out;
}

Result<std::vector<Endpoint>> loadStreamsConfig(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	if (!f)
		return makeError(Errc::NotFound, "cannot read '{}': {}", path, std::strerror(errno));
	std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
	return parseStreamsConfig(text, path);
}

} // namespace xdc::streams
