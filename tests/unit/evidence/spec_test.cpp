// SPDX-License-Identifier: Apache-2.0
// Sampler and probe spec parsing, validation and printing: every kind with defaults and limits, the errors users see
// (origin:line:column, key path, what was expected), toYaml round trips, and HOST:PORT splitting.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "common/evidence/spec.h"
#include "common/yaml_reader.h"

using namespace xdc;
using namespace xdc::evidence;
using namespace std::chrono_literals;

namespace {

const char *kCmd = "<command line>";

SamplerSpec parseOk(const std::string &text)
{
	auto r = parseSamplerText(text, kCmd);
	INFO(text);
	REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
	return *r;
}

std::string parseErr(const std::string &text)
{
	auto r = parseSamplerText(text, kCmd);
	if (r.ok())
		return "(parsed: " + toYaml(*r) + ")";
	CHECK(r.error().code == Errc::Invalid);
	return r.error().message;
}

// "origin:line:col: key.path: " for the first occurrence of `at` in text.
std::string prefixAt(const std::string &text, const std::string &at, const std::string &keyPath)
{
	size_t pos = text.find(at);
	REQUIRE_MESSAGE(pos != std::string::npos, at);
	size_t line = 1, col = 1;
	for (size_t i = 0; i < pos; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	return std::string(kCmd) + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + keyPath + ": ";
}

} // namespace

TEST_CASE("evidence spec: kinds by name")
{
	CHECK(samplerKindName(SamplerKind::ProbeTcp) == "probe.tcp");
	CHECK(*samplerKindFromName("probe.http") == SamplerKind::ProbeHttp);
	CHECK(*samplerKindFromName("host") == SamplerKind::Host);
	auto bad = samplerKindFromName("probe.tpc");
	REQUIRE(!bad.ok());
	CHECK(bad.error().message.find("did you mean 'probe.tcp'") != std::string::npos);
	CHECK(bad.error().message.find("known kinds: host, process, probe.tcp, probe.http, command") !=
	      std::string::npos);
	CHECK(isProbe(SamplerKind::ProbeHttp));
	CHECK(!isProbe(SamplerKind::Command));
}

TEST_CASE("evidence spec: the examples of the issue, with their defaults")
{
	auto tcp = parseOk("{kind: probe.tcp, on: {host: dc1-h1}, target: dc2-h1:7000, rate: 100hz, timeout: 10ms}");
	CHECK(tcp.kind == SamplerKind::ProbeTcp);
	CHECK(tcp.on.host == "dc1-h1");
	CHECK(tcp.target == "dc2-h1:7000");
	CHECK(tcp.interval == 10ms);
	CHECK(tcp.timeout == 10ms);
	CHECK(tcp.name == "probe.tcp:dc2-h1:7000");

	auto http = parseOk("{kind: probe.http, on: {dc: dc1}, target: \"http://dc2-h1:8080/health\", interval: 100ms,"
			    " expect_status: 200, body_match: \"ok\"}");
	CHECK(http.kind == SamplerKind::ProbeHttp);
	CHECK(http.on.dc == "dc1");
	CHECK(http.interval == 100ms);
	CHECK(http.timeout == 100ms); // probes: timeout defaults to the interval
	CHECK(http.expectStatus == 200);
	CHECK(http.bodyMatch == "ok");
	CHECK(!http.tlsInsecure);
	CHECK(http.name == "probe.http:http://dc2-h1:8080/health");

	auto host = parseOk("{kind: host, on: {dc: dc2}, interval: 1s, disks: [/, /var]}");
	CHECK(host.kind == SamplerKind::Host);
	CHECK(host.disks == std::vector<std::string>{"/", "/var"});
	CHECK(host.name == "host");
	CHECK(host.timeout == 0ns);

	auto proc = parseOk("{kind: process, on: {dc: dc1}, match: {preset: streams-pe}, interval: 200ms}");
	CHECK(proc.match.preset == "streams-pe");
	CHECK(proc.interval == 200ms);
	CHECK(proc.name == "process:preset streams-pe");

	auto cmd = parseOk("{kind: command, on: {host: dc1-h1}, command: streams-ping, interval: 5s}");
	CHECK(cmd.command == "streams-ping");
	CHECK(cmd.interval == 5s);
	CHECK(cmd.timeout == 5s);
	CHECK(cmd.name == "command:streams-ping");

	// Defaults without interval or rate: probes 100ms, host and process 1s, command 10s (timeout 5s).
	CHECK(parseOk("{kind: probe.tcp, on: {host: h}, target: 10.1.2.11:7000}").interval == 100ms);
	CHECK(parseOk("{kind: probe.tcp, on: {host: h}, target: 10.1.2.11:7000}").timeout == 100ms);
	CHECK(parseOk("{kind: host, on: {host: h}}").interval == 1s);
	CHECK(parseOk("{kind: host, on: {host: h}}").disks == std::vector<std::string>{"/"});
	CHECK(parseOk("{kind: process, on: {host: h}, match: {name: java}}").interval == 1s);
	auto c2 = parseOk("{kind: command, on: {host: h}, command: c}");
	CHECK(c2.interval == 10s);
	CHECK(c2.timeout == 5s);
	// A command every second gets a timeout of a second (never longer than its interval).
	CHECK(parseOk("{kind: command, on: {host: h}, command: c, interval: 1s}").timeout == 1s);
}

TEST_CASE("evidence spec: rates and intervals")
{
	const std::string T = "{kind: probe.tcp, on: {host: h}, target: a:1, ";
	CHECK(parseOk(T + "rate: 100hz}").interval == 10ms);
	CHECK(parseOk(T + "rate: 100}").interval == 10ms);
	CHECK(parseOk(T + "rate: 50Hz}").interval == 20ms);
	CHECK(parseOk(T + "rate: 3hz}").interval == 333333333ns);
	CHECK(parseOk(T + "rate: 0.5hz}").interval == 2s);
	CHECK(parseOk(T + "interval: 1h}").interval == 1h);
	CHECK(parseOk("{kind: host, on: {host: h}, rate: 10hz}").interval == 100ms);
	CHECK(parseOk("{kind: command, on: {host: h}, command: c, rate: 1}").interval == 1s);
}

TEST_CASE("evidence spec: names, selectors and matches")
{
	auto s = parseOk("{name: ping-b, kind: probe.tcp, on: {dc: dc1, role: streams}, target: \"[fd00::1]:80\"}");
	CHECK(s.name == "ping-b");
	CHECK(s.on.dc == "dc1");
	CHECK(s.on.labels.at("role") == "streams");
	auto h = parseOk("{kind: host, on: {hosts: [dc1-h1, dc1-h2]}}");
	CHECK(h.on.hosts == std::vector<std::string>{"dc1-h1", "dc1-h2"});
	CHECK(parseOk("{kind: process, on: {host: h}, match: {name: streams-pec}}").name == "process:name streams-pec");
	CHECK(parseOk("{kind: process, on: {host: h}, match: {cmdline: \"java .*Main\"}}").name ==
	      "process:cmdline java .*Main");
	CHECK(parseOk("{kind: process, on: {host: h}, match: {pidfile: /run/a.pid}}").match.pidfile == "/run/a.pid");
	CHECK(parseOk("{kind: process, on: {host: h}, match: {cgroup: system.slice/a.service}}").match.cgroup ==
	      "system.slice/a.service");
	auto https = parseOk("{kind: probe.http, on: {host: h}, target: \"https://[fd00::2]:8443/x?y=1\","
			     " ca_file: /etc/ssl/ca.pem}");
	CHECK(https.caFile == "/etc/ssl/ca.pem");
	CHECK(parseOk("{kind: probe.http, on: {host: h}, target: \"https://h:8443/\", tls_insecure: true}").tlsInsecure);
}

TEST_CASE("evidence spec: toYaml round trips")
{
	const char *specs[] = {
		"{kind: probe.tcp, on: {host: dc1-h1}, target: dc2-h1:7000, rate: 100hz, timeout: 10ms}",
		"{name: \"my probe: #1\", kind: probe.tcp, on: {hosts: [a, b]}, target: \"[fd00::1]:80\", rate: 3hz}",
		"{kind: probe.http, on: {dc: dc1}, target: \"http://dc2-h1:8080/health\", interval: 100ms,"
		" expect_status: 200, body_match: \"ok\"}",
		"{kind: probe.http, on: {dc: dc1, role: web}, target: \"https://dc2-h1/x?a=1&b=#frag\", interval: 2s,"
		" timeout: 1500ms, body_match: \"^\\\\{\\\"status\\\": *\\\"(ok|up)\\\"\", tls_insecure: true}",
		"{kind: probe.http, on: {host: h}, target: \"https://h:8443/\", ca_file: /etc/ssl/ca.pem, expect_status: 503}",
		"{kind: host, on: {dc: dc2}, interval: 1s, disks: [/, /var, \"/path with: colon\"]}",
		"{kind: host, on: {host: h}}",
		"{kind: process, on: {dc: dc1}, match: {preset: streams-pe}, interval: 200ms}",
		"{kind: process, on: {dc: dc1}, match: {cmdline: \"^/usr/bin/java .*-pe [0-9]+( |$)\"}}",
		"{kind: process, on: {dc: dc1}, match: {pidfile: /run/x.pid}}",
		"{kind: command, on: {host: dc1-h1}, command: streams-ping, interval: 5s}",
		"{kind: command, on: {host: dc1-h1}, command: a.b_c-d, interval: 1h, timeout: 30s}",
	};
	for (const char *text : specs) {
		INFO(text);
		auto a = parseOk(text);
		const std::string y = toYaml(a);
		INFO(y);
		auto b = parseOk(y);
		CHECK(a == b);
		CHECK(toYaml(b) == y);
	}
	CHECK(toYaml(parseOk("{kind: probe.tcp, on: {host: dc1-h1}, target: dc2-h1:7000, rate: 100hz}")) ==
	      "{name: probe.tcp:dc2-h1:7000, kind: probe.tcp, on: {host: dc1-h1}, interval: 10ms, timeout: 10ms, "
	      "target: dc2-h1:7000}");
	CHECK(toYaml(parseOk("{kind: host, on: {dc: dc2}}")) ==
	      "{name: host, kind: host, on: {dc: dc2}, interval: 1s, disks: [/]}");
	// A spec built in code (no name) prints its default name.
	SamplerSpec s;
	s.kind = SamplerKind::Command;
	s.on.host = "h";
	s.interval = 10s;
	s.timeout = 5s;
	s.command = "check";
	auto back = parseOk(toYaml(s));
	CHECK(back.name == "command:check");
	CHECK(back.command == "check");
}

TEST_CASE("evidence spec: a scenario's spec names its key path")
{
	auto doc = parseYaml("evidence:\n"
			     "  probes:\n"
			     "    - {kind: probe.tcp, on: {host: dc1-h1}, target: dc2-h1:7000, rate: 1000hz}\n",
			     "scn.yaml");
	REQUIRE(doc.ok());
	auto r = parseSamplerSpec((*doc)["evidence"]["probes"][0], "scn.yaml", "evidence.probes[0]");
	REQUIRE(!r.ok());
	CHECK_MESSAGE(r.error().message.starts_with("scn.yaml:3:72: evidence.probes[0].rate: rate 1000hz is too often"),
		      r.error().message);
	auto ok = parseSamplerSpec((*doc)["evidence"]["probes"][0]["target"], "scn.yaml", "evidence.probes[0]");
	REQUIRE(!ok.ok());
	CHECK(ok.error().message.find("evidence.probes[0]: expected a mapping") != std::string::npos);
}

TEST_CASE("evidence spec: malformed specs name the line, column, key and what was expected")
{
	const std::string T = "{kind: probe.tcp, on: {host: h}";
	const std::string H = "{kind: probe.http, on: {host: h}";
	const std::string C = "{kind: command, on: {host: h}";
	const std::string cases[][4] = {
		// kind
		{"{kind: probe.tpc, on: {host: h}}", "probe.tpc", "kind", "did you mean 'probe.tcp'"},
		{"{kind: vibes, on: {host: h}}", "vibes", "kind", "known kinds: host, process, probe.tcp"},
		{"{on: {host: h}}", "{", "kind", "required (one of host, process, probe.tcp, probe.http, command, log, file)"},
		{"{kind: [host], on: {host: h}}", "[host", "kind", "expected a string"},
		// unknown, duplicate and misplaced keys
		{"{kind: host, on: {host: h}, intervall: 1s}", "intervall", "intervall", "did you mean 'interval'"},
		{"{kind: host, on: {host: h}, zzzzzzzzzz: 1}", "zzzzzzzzzz", "zzzzzzzzzz",
		 "unknown key (known keys: name, kind, on, interval, rate"},
		{"{kind: host, on: {host: h}, on: {dc: d}}", "on: {dc", "on", "key given twice"},
		{"{kind: host, on: {host: h}, timeout: 1s}", "timeout", "timeout",
		 "timeout does not apply to host (it applies to probe.tcp, probe.http, command)"},
		{"{kind: host, on: {host: h}, target: a:1}", "target", "target", "target does not apply to host"},
		{T + ", target: a:1, disks: [/]}", "disks", "disks", "disks does not apply to probe.tcp (it applies to host)"},
		{T + ", target: a:1, expect_status: 200}", "expect_status", "expect_status",
		 "expect_status does not apply to probe.tcp (it applies to probe.http)"},
		{"{kind: process, on: {host: h}, match: {name: x}, command: c}", "command", "command",
		 "command does not apply to process"},
		{C + ", command: c, match: {name: x}}", "match", "match", "match does not apply to command"},
		// on
		{"{kind: host}", "{", "on", "required: the hosts to sample on"},
		{"{kind: host, on: dc1}", "dc1", "on", "expected a mapping such as {dc: dc1}"},
		{"{kind: host, on: {}}", "{}", "on", "must select at least one host"},
		{"{kind: host, on: {hosts: []}}", "[]", "on.hosts", "non-empty list of host names"},
		{"{kind: host, on: {cidrs: [10.0.0.0/8]}}", "cidrs", "on.cidrs", "cidrs are only allowed in peers"},
		// interval and rate
		{"{kind: host, on: {host: h}, interval: 1s, rate: 1hz}", "1hz", "rate", "either interval or rate, not both"},
		{"{kind: host, on: {host: h}, interval: 5}", "5", "interval", "unit"},
		{"{kind: host, on: {host: h}, interval: 0s}", "0s", "interval", "must be greater than 0"},
		{"{kind: host, on: {host: h}, interval: 50ms}", "50ms", "interval",
		 "interval 50ms is too often for host (at most every 100ms, 10hz)"},
		{"{kind: process, on: {host: h}, match: {name: x}, rate: 20hz}", "20hz", "rate",
		 "rate 20hz is too often for process (at most every 100ms"},
		{T + ", target: a:1, interval: 5ms}", "5ms", "interval", "too often for probe.tcp (at most every 10ms, 100hz)"},
		{T + ", target: a:1, rate: 200hz}", "200hz", "rate", "rate 200hz is too often for probe.tcp"},
		{C + ", command: c, interval: 500ms}", "500ms", "interval", "too often for command (at most every 1s, 1hz)"},
		{"{kind: host, on: {host: h}, interval: 2h}", "2h", "interval", "too rare (at least every 1h)"},
		{"{kind: host, on: {host: h}, rate: 0.0001hz}", "0.0001hz", "rate", "too rare"},
		{"{kind: host, on: {host: h}, rate: fast}", "fast", "rate", "expected a rate such as 100hz"},
		{"{kind: host, on: {host: h}, rate: 0hz}", "0hz", "rate", "must be greater than 0"},
		{"{kind: host, on: {host: h}, rate: -5}", "-5", "rate", "must be greater than 0"},
		// timeout
		{T + ", target: a:1, interval: 100ms, timeout: 200ms}", "200ms", "timeout",
		 "timeout 200ms is longer than the interval 100ms"},
		{T + ", target: a:1, rate: 100hz, timeout: 11ms}", "11ms", "timeout", "expected timeout <= interval"},
		{C + ", command: c, interval: 2s, timeout: 3s}", "3s", "timeout", "longer than the interval 2s"},
		{T + ", target: a:1, timeout: 0ms}", "0ms", "timeout", "must be greater than 0"},
		// targets
		{T + "}", "{", "target", "required for probe.tcp: HOST:PORT"},
		{H + "}", "{", "target", "required for probe.http: an http:// or https:// URL"},
		{T + ", target: dc2-h1}", "dc2-h1", "target", "has no port"},
		{T + ", target: \"dc2-h1:\"}", "\"dc2-h1:", "target", "not a number in 1..65535"},
		{T + ", target: dc2-h1:70000}", "dc2-h1:70000", "target", "port '70000' is not a number in 1..65535"},
		{T + ", target: \"fd00::1:80\"}", "\"fd00::1:80", "target", "must be written in brackets"},
		{T + ", target: \"[nothex]:80\"}", "\"[nothex]", "target", "is not an IPv6 address"},
		{T + ", target: \"http://a:80/\"}", "\"http", "target", "a URL belongs to probe.http"},
		{T + ", target: \"bad host:80\"}", "\"bad host", "target", "not a host name or address"},
		{H + ", target: dc2-h1:8080}", "dc2-h1", "target", "is not an http:// or https:// URL"},
		{H + ", target: \"ftp://x/\"}", "\"ftp", "target", "is not an http:// or https:// URL"},
		{H + ", target: \"http:///health\"}", "\"http:", "target", "has no host"},
		{H + ", target: \"http://h:0/\"}", "\"http:", "target", "not a number in 1..65535"},
		{H + ", target: \"http://u:p@h/\"}", "\"http:", "target", "credentials"},
		// probe.http options
		{H + ", target: \"http://h/\", expect_status: 99}", "99", "expect_status", "out of range (expected 100..599)"},
		{H + ", target: \"http://h/\", expect_status: 600}", "600", "expect_status", "out of range"},
		{H + ", target: \"http://h/\", expect_status: ok}", "ok}", "expect_status", "expected an HTTP status code"},
		{H + ", target: \"http://h/\", body_match: \"(unclosed\"}", "\"(unclosed", "body_match",
		 "invalid regular expression '(unclosed'"},
		{H + ", target: \"http://h/\", tls_insecure: maybe}", "maybe", "tls_insecure", "expected true or false"},
		{H + ", target: \"http://h/\", tls_insecure: true}", "true", "tls_insecure",
		 "applies to https:// targets only"},
		{H + ", target: \"http://h/\", ca_file: /ca.pem}", "/ca.pem", "ca_file", "applies to https:// targets only"},
		{H + ", target: \"https://h/\", ca_file: ca.pem}", "ca.pem", "ca_file", "not an absolute path"},
		{H + ", target: \"https://h/\", tls_insecure: true, ca_file: /ca.pem}", "/ca.pem", "ca_file", "not both"},
		// process
		{"{kind: process, on: {host: h}}", "{", "match", "required for process"},
		{"{kind: process, on: {host: h}, match: {nam: x}}", "nam", "match.nam", "did you mean 'name'"},
		{"{kind: process, on: {host: h}, match: {name: a, preset: streams-pe}}", "{name", "match",
		 "give exactly one of"},
		{"{kind: process, on: {host: h}, match: {cmdline: \"[x\"}}", "\"[x", "match.cmdline",
		 "invalid regular expression"},
		{"{kind: process, on: {host: h}, match: {preset: kafka}}", "kafka", "match.preset", "unknown preset"},
		// command
		{C + "}", "{", "command", "required for command: a name from the agent config's evidence.commands"},
		{C + ", command: \"/bin/sh -c reboot\"}", "\"/bin/sh", "command", "is not a command name"},
		// host
		{"{kind: host, on: {host: h}, disks: []}", "[]", "disks", "non-empty list of absolute paths"},
		{"{kind: host, on: {host: h}, disks: /}", "/}", "disks", "non-empty list of absolute paths"},
		{"{kind: host, on: {host: h}, disks: [var]}", "var", "disks[0]", "not an absolute path"},
		{"{kind: host, on: {host: h}, disks: [/, /]}", "/]", "disks[1]", "listed twice"},
		// name
		{"{name: \"\", kind: host, on: {host: h}}", "\"\"", "name", "must not be empty"},
		{"{name: \"a\\nb\", kind: host, on: {host: h}}", "\"a", "name", "printable characters"},
	};
	CHECK(std::size(cases) >= 60);
	for (const auto &c : cases) {
		const std::string &text = c[0];
		std::string msg = parseErr(text);
		std::string prefix = prefixAt(text, c[1], c[2]);
		INFO(text);
		CHECK_MESSAGE(msg.starts_with(prefix), msg, " / expected prefix ", prefix);
		CHECK_MESSAGE(msg.find(c[3]) != std::string::npos, msg, " / expected ", c[3]);
	}
}

TEST_CASE("evidence spec: log and file samplers")
{
	auto log = parseOk("{kind: log, on: {host: dc2-h1}, source: pe-trace, match: \"_XXXXX_\", interval: 200ms}");
	CHECK(log.kind == SamplerKind::Log);
	CHECK(samplerKindName(log.kind) == "log");
	CHECK(log.on.host == "dc2-h1");
	CHECK(log.source == "pe-trace");
	CHECK(log.lineMatch == "_XXXXX_");
	CHECK(log.interval == 200ms);
	CHECK(log.timeout == 0ns);
	CHECK(log.name == "log:pe-trace");
	auto bare = parseOk("{kind: log, on: {dc: dc2}, source: monitor.out}");
	CHECK(bare.interval == 500ms); // log default
	CHECK(bare.lineMatch.empty());
	CHECK(bare.name == "log:monitor.out");
	CHECK(parseOk("{kind: log, on: {host: h}, source: s, interval: 100ms}").interval == 100ms);

	auto file = parseOk("{kind: file, on: {host: dc2-h1}, source: snapshots, interval: 500ms}");
	CHECK(file.kind == SamplerKind::File);
	CHECK(*samplerKindFromName("file") == SamplerKind::File);
	CHECK(file.source == "snapshots");
	CHECK(file.interval == 500ms);
	CHECK(file.name == "file:snapshots");
	CHECK(parseOk("{kind: file, on: {host: h}, source: s}").interval == 1s); // file default
	CHECK(parseOk("{name: ckpt, kind: file, on: {host: h}, source: s}").name == "ckpt");

	const char *specs[] = {
		"{kind: log, on: {host: dc2-h1}, source: pe-trace, match: \"_XXXXX_\", interval: 200ms}",
		"{kind: log, on: {dc: dc2}, source: a.b_c-1}",
		"{kind: log, on: {host: h}, source: t, match: \"^\\\\d{4}-[0-9]+ (ERROR|WARN): \\\"x\\\" #1, [{]y[}]\"}",
		"{kind: file, on: {host: dc2-h1}, source: snapshots, interval: 500ms}",
		"{name: \"snap: dc2\", kind: file, on: {hosts: [a, b]}, source: snapshots, rate: 2hz}",
	};
	for (const char *text : specs) {
		INFO(text);
		auto a = parseOk(text);
		const std::string y = toYaml(a);
		INFO(y);
		auto b = parseOk(y);
		CHECK(a == b);
		CHECK(toYaml(b) == y);
	}
	CHECK(toYaml(log) == "{name: log:pe-trace, kind: log, on: {host: dc2-h1}, interval: 200ms, match: _XXXXX_, "
			     "source: pe-trace}");
	CHECK(toYaml(file) == "{name: file:snapshots, kind: file, on: {host: dc2-h1}, interval: 500ms, source: snapshots}");

	const std::string L = "{kind: log, on: {host: h}";
	const std::string F = "{kind: file, on: {host: h}";
	const std::string cases[][4] = {
		{L + "}", "{", "source", "required for log: a name from the agent config's evidence.logs"},
		{F + "}", "{", "source", "required for file: a name from the agent config's evidence.files"},
		{L + ", source: /var/log/x.trc}", "/var", "source", "is not a source name"},
		{F + ", source: \"a b\"}", "\"a b", "source", "never a path"},
		{L + ", source: [a]}", "[a", "source", "expected a string"},
		{L + ", source: t, match: \"(unclosed\"}", "\"(unclosed", "match", "invalid regular expression '(unclosed'"},
		{L + ", source: t, match: {name: x}}", "{name", "match", "expected a string"},
		{F + ", source: t, match: x}", "match", "match", "match does not apply to file (it applies to process, log)"},
		{L + ", source: t, interval: 50ms}", "50ms", "interval", "interval 50ms is too often for log (at most every 100ms"},
		{F + ", source: t, rate: 20hz}", "20hz", "rate", "rate 20hz is too often for file (at most every 100ms"},
		{L + ", source: t, timeout: 1s}", "timeout", "timeout", "timeout does not apply to log"},
		{L + ", source: t, command: c}", "command", "command", "command does not apply to log"},
		{"{kind: host, on: {host: h}, source: t}", "source", "source", "source does not apply to host (it applies to "
									       "log, file)"},
		{"{kind: lgo, on: {host: h}}", "lgo", "kind", "did you mean 'log'"},
	};
	for (const auto &c : cases) {
		const std::string &text = c[0];
		std::string msg = parseErr(text);
		std::string prefix = prefixAt(text, c[1], c[2]);
		INFO(text);
		CHECK_MESSAGE(msg.starts_with(prefix), msg, " / expected prefix ", prefix);
		CHECK_MESSAGE(msg.find(c[3]) != std::string::npos, msg, " / expected ", c[3]);
	}
	// In a scenario the key path starts with the spec's place.
	auto doc = parseYaml("evidence:\n"
			     "  samplers:\n"
			     "    - {kind: log, on: {host: dc2-h1}, source: pe-trace, interval: 10ms}\n",
			     "scn.yaml");
	REQUIRE(doc.ok());
	auto r = parseSamplerSpec((*doc)["evidence"]["samplers"][0], "scn.yaml", "evidence.samplers[0]");
	REQUIRE(!r.ok());
	CHECK_MESSAGE(r.error().message.starts_with("scn.yaml:3:67: evidence.samplers[0].interval: interval 10ms is too "
						    "often for log"),
		      r.error().message);
}

TEST_CASE("evidence spec: hostile and broken YAML is refused")
{
	CHECK(parseErr("{kind: host, on: {host: h").find("invalid YAML") != std::string::npos);
	CHECK(parseErr("").find("(top level): empty sampler spec") != std::string::npos);
	CHECK(parseErr("[1, 2]").starts_with("<command line>:1:1: (top level): expected a mapping"));
	CHECK(parseErr("{[a]: 1, kind: host}").find("keys must be plain names") != std::string::npos);
	// An alias bomb: yaml-cpp shares aliased nodes; walking the tree must stop at the node cap.
	std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
	for (char c = 'b'; c <= 'h'; c++)
		bomb += fmt::format("{}: &{} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n", c, c,
				    fmt::arg("p", std::string(1, static_cast<char>(c - 1))));
	bomb += "kind: host\n";
	CHECK(parseErr(bomb).find("YAML nodes") != std::string::npos);
	CHECK(parseErr(std::string(70 * 1024, ' ') + "{}").find("the limit is") != std::string::npos);
}

TEST_CASE("evidence spec: HOST:PORT targets")
{
	auto a = splitHostPort("dc2-h1:7000");
	REQUIRE(a.ok());
	CHECK(a->host == "dc2-h1");
	CHECK(a->port == 7000);
	auto b = splitHostPort("[fd00::1]:80");
	REQUIRE(b.ok());
	CHECK(b->host == "fd00::1");
	CHECK(b->port == 80);
	auto c = splitHostPort("10.1.2.11:65535");
	REQUIRE(c.ok());
	CHECK(c->host == "10.1.2.11");
	CHECK(c->port == 65535);
	for (const char *bad : {"", "h", "h:", ":80", "h:0", "h:65536", "h:80x", "[fd00::1]", "[fd00::1]80",
				"fd00::1:80", "[fd00::1:80", "h/x:80", "a b:1"}) {
		auto r = splitHostPort(bad);
		CHECK_MESSAGE(!r.ok(), bad);
		if (!r.ok())
			CHECK(r.error().code == Errc::Invalid);
	}
}
