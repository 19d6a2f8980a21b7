// SPDX-License-Identifier: Apache-2.0
// Fault spec parsing, validation and printing: every kind, the errors users see, and hostile YAML.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "common/fault/spec.h"
#include "common/yaml_reader.h"

using namespace xdc;
using namespace xdc::fault;
using namespace std::chrono_literals;

namespace {

const char *kCmd = "<command line>";

FaultSpec parseOk(const std::string &text)
{
	auto r = parseSpecText(text, kCmd);
	INFO(text);
	REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
	return *r;
}

std::string parseErr(const std::string &text, const std::string &origin = kCmd, const Limits &limits = {})
{
	auto r = parseSpecText(text, origin, limits);
	if (r.ok())
		return "(parsed: " + toYaml(*r) + ")";
	CHECK(r.error().code == Errc::Invalid);
	return r.error().message;
}

// "origin:line:col: key.path: " for the first occurrence of `at` in text.
std::string prefixAt(const std::string &text, const std::string &at, const std::string &keyPath,
		     const std::string &origin = kCmd)
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
	return origin + ":" + std::to_string(line) + ":" + std::to_string(col) + ": " + keyPath + ": ";
}

struct BadCase {
	const char *text;
	const char *at;      // the token the error must point at (first occurrence)
	const char *keyPath; // the key path the error must name
	const char *says;    // a fragment of what was expected
};

const std::string kPart = "{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s";

} // namespace

TEST_CASE("fault: kinds by name")
{
	CHECK(kindName(Kind::NetworkPartition) == "network.partition");
	CHECK(kindName(Kind::ResourceDiskFill) == "resource.disk_fill");
	CHECK(*kindFromName("process.kill") == Kind::ProcessKill);
	auto bad = kindFromName("network.partiton");
	REQUIRE(!bad.ok());
	CHECK(bad.error().message.find("did you mean 'network.partition'") != std::string::npos);
	CHECK(bad.error().message.find("known kinds: network.partition, network.loss") != std::string::npos);
	CHECK(isNetwork(Kind::NetworkReorder));
	CHECK(!isNetwork(Kind::ProcessKill));
	CHECK(needsNetem(Kind::NetworkCorrupt));
	CHECK(!needsNetem(Kind::NetworkDuplicate));
	CHECK(!needsNetem(Kind::NetworkReorder));
	CHECK(!needsNetem(Kind::NetworkDelay));
	CHECK(!needsNetem(Kind::NetworkLoss));
}

TEST_CASE("fault: which kinds stack on one host")
{
	// Different kinds compose; never two of one kind; never two on the agent's NFQUEUE line.
	CHECK(stackable(Kind::NetworkDelay, Kind::NetworkLoss));
	CHECK(stackable(Kind::NetworkReorder, Kind::NetworkPartition));
	CHECK(stackable(Kind::NetworkDuplicate, Kind::ResourceCpu));
	CHECK(!stackable(Kind::NetworkLoss, Kind::NetworkLoss));
	CHECK(!stackable(Kind::NetworkDelay, Kind::NetworkReorder));
	CHECK(!stackable(Kind::NetworkDuplicate, Kind::NetworkDelay));
	CHECK(!stackable(Kind::NetworkReorder, Kind::NetworkDuplicate));
	CHECK(unstackableReason(Kind::NetworkLoss, Kind::NetworkDelay).empty());
	CHECK(unstackableReason(Kind::NetworkLoss, Kind::NetworkLoss).find("faults of one kind do not stack") !=
	      std::string::npos);
	CHECK(unstackableReason(Kind::NetworkDelay, Kind::NetworkReorder)
		      .starts_with("network.delay and network.reorder both use the agent's NFQUEUE line"));
}

TEST_CASE("fault: rates")
{
	CHECK(*parseRate("8mbit") == 8'000'000);
	CHECK(*parseRate("500kbit") == 500'000);
	CHECK(*parseRate("1gbit") == 1'000'000'000);
	CHECK(*parseRate("100000bit") == 100'000);
	CHECK(*parseRate("10mbps") == 80'000'000);
	CHECK(*parseRate("1.5Mbit") == 1'500'000);
	CHECK(*parseRate("1kibit") == 1024);
	for (const char *bad : {"", "8", "mbit", "8mbits", "-8mbit", "0mbit", "2tbit", "8 mbit", "1..2mbit"})
		CHECK_MESSAGE(!parseRate(bad).ok(), bad);
	CHECK(parseRate("8").error().message.find("missing unit") != std::string::npos);
}

TEST_CASE("fault: the partition from the issue")
{
	auto s = parseOk("{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s}");
	CHECK(s.kind == Kind::NetworkPartition);
	CHECK(s.targets.dc == "dc1");
	CHECK(s.peers.selector.dc == "dc2");
	CHECK(s.duration == 10s);
	CHECK(s.direction == Direction::Both);
	CHECK(s.action == Action::Drop);
	CHECK(s.protocol == "all");
	CHECK(s.id.empty());
	CHECK(toYaml(s) == "{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, "
			   "direction: both, action: drop, protocol: all}");
}

TEST_CASE("fault: valid specs of every kind, and toYaml round trips")
{
	const char *specs[] = {
		// network.partition with everything
		"{id: part-1, kind: network.partition, targets: {dc: dc1, role: streams}, duration: 1m30s, start: 5s,"
		" peers: {hosts: [dc2-h1, dc2-h2], cidrs: [10.1.0.0/16, \"fd00::/8\", 192.0.2.7]},"
		" direction: out, action: reject, protocol: tcp, ports: [9092, 443]}",
		"{kind: network.partition, targets: {host: dc1-h1}, peers: {cidrs: [fd00::/8]}, duration: 10s,"
		" direction: in, protocol: icmp}",
		"{kind: network.loss, targets: {dc: dc1}, peers: {dc: dc2}, duration: 30s, percent: 30,"
		" correlation: 25}",
		"{kind: network.loss, targets: {dc: dc1}, peers: {dc: dc2}, duration: 30s, percent: 33.3%}",
		"{kind: network.delay, targets: {dc: dc1}, peers: {dc: dc2}, duration: 1m, delay: 100ms, jitter: 10ms,"
		" correlation: 12.5, protocol: udp, ports: [53]}",
		"{kind: network.bandwidth, targets: {dc: dc1}, peers: {dc: dc2}, duration: 1m, rate: 8mbit}",
		"{kind: network.bandwidth, targets: {dc: dc1}, peers: {dc: dc2}, duration: 1m, rate: 1.5mbps}",
		"{kind: network.corrupt, targets: {dc: dc1}, peers: {dc: dc2}, duration: 1m, percent: 0.5}",
		"{kind: network.duplicate, targets: {dc: dc1}, peers: {dc: dc2}, duration: 1m, percent: 1}",
		"{kind: network.reorder, targets: {dc: dc1}, peers: {dc: dc2}, duration: 1m, percent: 25,"
		" delay: 10ms, correlation: 50}",
		"{kind: process.kill, targets: {host: dc1-h1}, duration: 30s, match: {preset: streams-pe},"
		" signal: SIGTERM, count: 50%, every: 5s}",
		"{kind: process.kill, targets: {host: dc1-h1}, duration: 30s, match: {name: streams-pec}, count: 2}",
		"{kind: process.kill, targets: {host: dc1-h1}, duration: 30s,"
		" match: {cmdline: \"^/opt/streams/bin/streams-pec .*-pe 3( |$)\"}}",
		"{kind: process.pause, targets: {host: dc1-h1}, duration: 30s, match: {pidfile: /run/app.pid}}",
		"{kind: process.pause, targets: {host: dc1-h1}, duration: 30s, match: {cgroup: system.slice/app.service},"
		" count: all}",
		"{kind: resource.cpu, targets: {dc: dc1}, duration: 1m, workers: 4, cpu_percent: 80}",
		"{kind: resource.cpu, targets: {dc: dc1}, duration: 1m}",
		"{kind: resource.memory, targets: {dc: dc1}, duration: 1m, bytes: 512MiB}",
		"{kind: resource.memory, targets: {dc: dc1}, duration: 1m, bytes: 1000001}",
		"{kind: resource.disk_fill, targets: {dc: dc1}, duration: 1m, path: /var/tmp, bytes: 1GiB}",
		"{kind: resource.disk_fill, targets: {dc: dc1}, duration: 1m, path: /var/tmp, free_percent: 5}",
		"{kind: resource.disk_fill, targets: {dc: dc1}, duration: 1m, path: /var/tmp, free_percent: 0}",
		// labels whose values look like other YAML types must stay strings through the round trip
		"{kind: resource.cpu, targets: {zone: \"~\", odd: \"a: b\", flag: \"true\"}, duration: 1s}",
	};
	for (const char *text : specs) {
		auto s = parseOk(text);
		std::string yaml = toYaml(s);
		INFO(text);
		INFO(yaml);
		CHECK(yaml.front() == '{');
		CHECK(yaml.find('\n') == std::string::npos);
		auto back = parseSpecText(yaml, kCmd);
		REQUIRE_MESSAGE(back.ok(), (back.ok() ? std::string() : back.error().message));
		CHECK(toYaml(*back) == yaml);
		const FaultSpec &b = *back;
		CHECK(b.id == s.id);
		CHECK(b.kind == s.kind);
		CHECK(b.targets.dc == s.targets.dc);
		CHECK(b.targets.host == s.targets.host);
		CHECK(b.targets.hosts == s.targets.hosts);
		CHECK(b.targets.labels == s.targets.labels);
		CHECK(b.duration == s.duration);
		CHECK(b.start == s.start);
		CHECK(b.peers.selector.dc == s.peers.selector.dc);
		CHECK(b.peers.selector.hosts == s.peers.selector.hosts);
		CHECK(b.peers.cidrs == s.peers.cidrs);
		CHECK(b.direction == s.direction);
		CHECK(b.action == s.action);
		CHECK(b.protocol == s.protocol);
		CHECK(b.ports == s.ports);
		CHECK(b.lossPercent == s.lossPercent);
		CHECK(b.delay == s.delay);
		CHECK(b.jitter == s.jitter);
		CHECK(b.correlationPercent == s.correlationPercent);
		CHECK(b.rateBitsPerSec == s.rateBitsPerSec);
		CHECK(b.match.name == s.match.name);
		CHECK(b.match.cmdline == s.match.cmdline);
		CHECK(b.match.pidfile == s.match.pidfile);
		CHECK(b.match.cgroup == s.match.cgroup);
		CHECK(b.match.preset == s.match.preset);
		CHECK(b.signal == s.signal);
		CHECK(b.count.mode == s.count.mode);
		CHECK(b.count.value == s.count.value);
		CHECK(b.every == s.every);
		CHECK(b.workers == s.workers);
		CHECK(b.cpuPercent == s.cpuPercent);
		CHECK(b.bytes == s.bytes);
		CHECK(b.freePercent == s.freePercent);
		CHECK(b.path == s.path);
	}
}

TEST_CASE("fault: parsed values")
{
	auto p = parseOk("{id: part-1, kind: network.partition, targets: {dc: dc1, role: streams}, duration: 1m30s,"
			 " start: 5s, peers: {hosts: [dc2-h1, dc2-h2], cidrs: [10.1.0.0/16, \"fd00::/8\"]},"
			 " direction: out, action: reject, protocol: tcp, ports: [9092, 443]}");
	CHECK(p.id == "part-1");
	CHECK(p.targets.labels.at("role") == "streams");
	CHECK(p.duration == 90s);
	CHECK(p.start == 5s);
	CHECK(p.peers.selector.hosts == std::vector<std::string>{"dc2-h1", "dc2-h2"});
	CHECK(p.peers.cidrs == std::vector<std::string>{"10.1.0.0/16", "fd00::/8"});
	CHECK(p.direction == Direction::Out);
	CHECK(p.action == Action::Reject);
	CHECK(p.ports == std::vector<int>{9092, 443});

	auto d = parseOk("{kind: network.delay, targets: {dc: dc1}, peers: {dc: dc2}, duration: 1m, delay: 100ms,"
			 " jitter: 10ms, correlation: 12.5}");
	CHECK(d.delay == 100ms);
	CHECK(d.jitter == 10ms);
	CHECK(d.correlationPercent == 12.5);

	auto k = parseOk("{kind: process.kill, targets: {host: dc1-h1}, duration: 30s, match: {preset: streams-pe},"
			 " signal: sigterm, count: 50%, every: 5s}");
	CHECK(k.match.preset == "streams-pe");
	CHECK(k.signal == "TERM");
	CHECK(k.count.mode == Count::Mode::Percent);
	CHECK(k.count.value == 50);
	CHECK(k.every == 5s);
	auto k2 = parseOk("{kind: process.kill, targets: {host: dc1-h1}, duration: 30s, match: {name: streams-pec}}");
	CHECK(k2.signal == "KILL");
	CHECK(k2.count.mode == Count::Mode::All);
	CHECK(k2.every == 0s);

	auto m = parseOk("{kind: resource.memory, targets: {dc: dc1}, duration: 1m, bytes: 512MiB}");
	CHECK(m.bytes == 512ULL << 20);
	auto f = parseOk("{kind: resource.disk_fill, targets: {dc: dc1}, duration: 1m, path: /var/tmp, free_percent: 5}");
	CHECK(f.freePercent == 5);
	CHECK(f.bytes == 0);
	auto b = parseOk("{kind: network.bandwidth, targets: {dc: dc1}, peers: {dc: dc2}, duration: 1m, rate: 8mbit}");
	CHECK(b.rateBitsPerSec == 8'000'000);
	auto c = parseOk("{kind: resource.cpu, targets: {dc: dc1}, duration: 1m}");
	CHECK(c.workers == 1);
	CHECK(c.cpuPercent == 100);
}

TEST_CASE("fault: a spec from a file, block style")
{
	const std::string text = "# delay between the DCs\n"
				 "kind: network.delay\n"
				 "targets:\n"
				 "  dc: dc1\n"
				 "peers:\n"
				 "  dc: dc2\n"
				 "duration: 2m\n"
				 "delay: 100ms\n";
	auto r = parseSpecText(text, "spec.yaml");
	REQUIRE(r.ok());
	CHECK(r->delay == 100ms);

	CHECK(parseErr(text + "jitter: 200ms\n", "spec.yaml") ==
	      "spec.yaml:9:9: jitter: jitter 200ms is larger than delay 100ms (expected jitter <= delay)");
	CHECK(parseErr(text + "percent: 5\n", "spec.yaml")
		      .starts_with("spec.yaml:9:1: percent: percent does not apply to network.delay"));
	CHECK(parseErr("kind: network.delay\ntargets: {dc: dc1}\nduration: 10s\n", "spec.yaml")
		      .starts_with("spec.yaml:1:1: peers: required for network.delay"));
	CHECK(parseErr("kind: network.partition\ntargets: {dc: dc1}\npeers: {dc: dc2}\nduration: 2h\n", "spec.yaml") ==
	      "spec.yaml:4:11: duration: duration 2h exceeds the agent cap of 1h");
}

TEST_CASE("fault: the agent's duration cap")
{
	Limits l;
	l.maxDuration = 5min;
	CHECK(parseErr(kPart.substr(0, kPart.size() - 3) + "6m}", kCmd, l) ==
	      prefixAt(kPart, "10s", "duration") + "duration 6m exceeds the agent cap of 5m");
	auto r = parseSpecText(kPart.substr(0, kPart.size() - 3) + "5m}", kCmd, l);
	CHECK(r.ok());
}

TEST_CASE("fault: malformed specs name the line, column and key")
{
	const std::string P = kPart;
	const std::string L = "{kind: network.loss, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s";
	const std::string K = "{kind: process.kill, targets: {host: dc1-h1}, duration: 10s";
	const std::string F = "{kind: resource.disk_fill, targets: {dc: dc1}, duration: 10s";
	const std::string cases[][4] = {
		// kind
		{"{kind: network.partiton, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s}", "network.partiton",
		 "kind", "did you mean 'network.partition'"},
		{"{kind: chaos.monkey, targets: {dc: dc1}, duration: 10s}", "chaos.monkey", "kind",
		 "known kinds: network.partition, network.loss"},
		{"{targets: {dc: dc1}, duration: 10s}", "{", "kind", "required"},
		{"{kind: [network.partition], targets: {dc: dc1}, duration: 10s}", "[network", "kind",
		 "expected a string"},
		// unknown and misplaced keys
		{P + ", durration: 5s}", "durration", "durration", "did you mean 'duration'"},
		{P + ", bogus_key_name: 1}", "bogus_key_name", "bogus_key_name", "unknown key (known keys: id, kind, targets, peers, duration"},
		{P + ", percent: 10}", "percent", "percent",
		 "percent does not apply to network.partition (it applies to network.loss"},
		{K + ", match: {name: x}, delay: 10ms}", "delay", "delay", "delay does not apply to process.kill"},
		{"{kind: process.pause, targets: {host: h}, duration: 10s, match: {name: x}, every: 1s}", "every",
		 "every", "every does not apply to process.pause"},
		{P + ", duration: 5s}", "duration: 5s", "duration", "key given twice"},
		// id
		{"{id: ../etc, kind: resource.cpu, targets: {dc: dc1}, duration: 1s}", "../etc", "id",
		 "not a valid id"},
		// duration and start
		{"{kind: resource.cpu, targets: {dc: dc1}, duration: -3s}", "-3s", "duration", "negative"},
		{"{kind: resource.cpu, targets: {dc: dc1}, duration: 2h}", "2h", "duration",
		 "duration 2h exceeds the agent cap of 1h"},
		{"{kind: resource.cpu, targets: {dc: dc1}, duration: 0}", "0}", "duration", "greater than 0"},
		{"{kind: resource.cpu, targets: {dc: dc1}, duration: 10}", "10}", "duration", "missing unit"},
		{"{kind: resource.cpu, targets: {dc: dc1}, duration: {s: 1}}", "{s: 1}", "duration",
		 "expected a duration"},
		{"{kind: resource.cpu, targets: {dc: dc1}}", "{", "duration", "required"},
		{"{kind: resource.cpu, targets: {dc: dc1}, duration: 1s, start: -1s}", "-1s", "start", "negative"},
		// targets
		{"{kind: resource.cpu, duration: 1s}", "{", "targets", "required"},
		{"{kind: resource.cpu, targets: {}, duration: 1s}", "{}", "targets", "at least one host"},
		{"{kind: resource.cpu, targets: dc1-h1, duration: 1s}", "dc1-h1", "targets", "expected a mapping"},
		{"{kind: resource.cpu, targets: {hosts: dc1-h1}, duration: 1s}", "dc1-h1", "targets.hosts",
		 "non-empty list"},
		{"{kind: resource.cpu, targets: {hosts: [a, [b]]}, duration: 1s}", "[b]", "targets.hosts[1]",
		 "expected a string"},
		{"{kind: resource.cpu, targets: {role: [a, b]}, duration: 1s}", "[a, b]", "targets.role",
		 "single string value"},
		{"{kind: resource.cpu, targets: {dc: \"\"}, duration: 1s}", "\"\"", "targets.dc", "must not be empty"},
		{"{kind: network.loss, targets: {cidrs: [10.0.0.0/8]}, peers: {dc: dc2}, duration: 1s, percent: 1}",
		 "cidrs", "targets.cidrs", "only allowed in peers"},
		{"{kind: resource.cpu, targets: {dc: dc1, dc: dc2}, duration: 1s}", "dc: dc2", "targets.dc",
		 "key given twice"},
		// peers
		{"{kind: network.loss, targets: {dc: dc1}, duration: 10s, percent: 5}", "{", "peers",
		 "required for network.loss"},
		{"{kind: network.partition, targets: {dc: dc1}, peers: {}, duration: 10s}", "{}", "peers",
		 "at least one peer"},
		{"{kind: network.partition, targets: {dc: dc1}, peers: dc2, duration: 10s}", "dc2", "peers",
		 "expected a mapping"},
		{"{kind: network.partition, targets: {dc: dc1}, peers: {cidrs: [10.1.0.0/33]}, duration: 10s}",
		 "10.1.0.0/33", "peers.cidrs[0]", "invalid prefix length (expected 0..32)"},
		{"{kind: network.partition, targets: {dc: dc1}, peers: {cidrs: [10.1.0.0/8x]}, duration: 10s}",
		 "10.1.0.0/8x", "peers.cidrs[0]", "invalid prefix length"},
		{"{kind: network.partition, targets: {dc: dc1}, peers: {cidrs: [fd00::/16, 10.1.0/16]}, duration: 1s}",
		 "10.1.0/16", "peers.cidrs[1]", "not an IPv4 or IPv6 address"},
		{"{kind: network.partition, targets: {dc: dc1}, peers: {cidrs: [\"fd00::1/8\"]}, duration: 1s}",
		 "\"fd00::1/8\"", "peers.cidrs[0]", "host bits set; did you mean 'fd00::/8'?"},
		{"{kind: network.partition, targets: {dc: dc1}, peers: {cidrs: [10.1.2.3/16]}, duration: 1s}",
		 "10.1.2.3/16", "peers.cidrs[0]", "did you mean '10.1.0.0/16'?"},
		{"{kind: network.partition, targets: {dc: dc1}, peers: {cidrs: []}, duration: 1s}", "[]",
		 "peers.cidrs", "non-empty list"},
		{"{kind: network.partition, targets: {dc: dc1}, peers: {cidrs: [\"fd00::/129\"]}, duration: 1s}",
		 "\"fd00::/129\"", "peers.cidrs[0]", "expected 0..128"},
		// direction, action, protocol, ports
		{P + ", direction: sideways}", "sideways", "direction", "not one of both, in, out"},
		{P + ", action: accept}", "accept", "action", "not one of drop, reject"},
		{P + ", protocol: sctp}", "sctp", "protocol", "not one of all, tcp, udp, icmp"},
		{P + ", ports: [80]}", "[80]", "ports", "ports need protocol tcp or udp (protocol is all)"},
		{P + ", protocol: icmp, ports: [80]}", "[80]", "ports", "protocol is icmp"},
		{P + ", protocol: tcp, ports: [80, 70000]}", "70000", "ports[1]", "out of range (expected 1..65535)"},
		{P + ", protocol: tcp, ports: [80, 0]}", "0]", "ports[1]", "out of range"},
		{P + ", protocol: tcp, ports: [80, http]}", "http", "ports[1]", "expected an integer"},
		{P + ", protocol: tcp, ports: [80, 80]}", "80]", "ports[1]", "listed twice"},
		{P + ", protocol: tcp, ports: 80}", "80}", "ports", "non-empty list of ports"},
		// percent, delay, jitter, correlation, rate
		{L + "}", "{", "percent", "required for network.loss"},
		{L + ", percent: 0}", "0}", "percent", "out of range (expected 0 < percent <= 100)"},
		{L + ", percent: 150}", "150", "percent", "out of range"},
		{L + ", percent: lots}", "lots", "percent", "expected a number"},
		{L + ", percent: nan}", "nan", "percent", "expected a number"},
		{L + ", percent: 5, correlation: 101}", "101", "correlation", "out of range (expected 0..100)"},
		{"{kind: network.delay, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s}", "{", "delay",
		 "required for network.delay"},
		{"{kind: network.delay, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, delay: 0}", "0}", "delay",
		 "greater than 0"},
		{"{kind: network.delay, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, delay: 10ms, jitter: 20ms}",
		 "20ms", "jitter", "jitter 20ms is larger than delay 10ms"},
		{"{kind: network.delay, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, delay: 10ms, jitter: -1ms}",
		 "-1ms", "jitter", "negative"},
		{"{kind: network.reorder, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, percent: 25}", "{",
		 "delay", "required for network.reorder"},
		{"{kind: network.reorder, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, delay: 10ms}", "{",
		 "percent", "required for network.reorder"},
		{"{kind: network.corrupt, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s}", "{", "percent",
		 "required for network.corrupt"},
		{"{kind: network.duplicate, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, percent: 101}", "101",
		 "percent", "out of range"},
		{"{kind: network.bandwidth, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s}", "{", "rate",
		 "required for network.bandwidth"},
		{"{kind: network.bandwidth, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, rate: 8mbits}",
		 "8mbits", "rate", "unknown unit 'mbits'"},
		{"{kind: network.bandwidth, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s, rate: 8}", "8}", "rate",
		 "missing unit"},
		// process.*
		{K + "}", "{", "match", "required for process.kill"},
		{K + ", match: {}}", "{}", "match", "exactly one of name, cmdline, pidfile, cgroup, preset (got 0)"},
		{K + ", match: {name: a, cmdline: b}}", "{name", "match", "exactly one"},
		{K + ", match: streams-pec}", "streams-pec", "match", "expected a mapping"},
		{K + ", match: {nmae: streams-pec}}", "nmae", "match.nmae", "did you mean 'name'?"},
		{K + ", match: {cmdline: \"([\"}}", "\"([\"", "match.cmdline", "invalid regular expression"},
		{K + ", match: {preset: flink}}", "flink", "match.preset", "known presets: streams-pe"},
		{K + ", match: {name: a-very-long-process-name}}", "a-very", "match.name", "15 characters"},
		{K + ", match: {pidfile: run/app.pid}}", "run/app.pid", "match.pidfile", "not an absolute path"},
		{K + ", match: {cgroup: ../../init.scope}}", "../../", "match.cgroup", "'..'"},
		{K + ", match: {name: x}, signal: BOGUS}", "BOGUS", "signal", "not one of KILL, TERM"},
		{K + ", match: {name: x}, count: 0}", "0}", "count", "out of range (expected 1..1000000)"},
		{K + ", match: {name: x}, count: 150%}", "150%", "count", "out of range (expected 1%..100%)"},
		{K + ", match: {name: x}, count: some}", "some", "count", "expected all, a number"},
		{K + ", match: {name: x}, every: 10s}", "10s}", "every", "must be shorter than the duration 10s"},
		{K + ", match: {name: x}, every: 1ns}", "1ns", "every", "too short"},
		{K + ", match: {name: x}, every: 0}", "0}", "every", "too short"},
		// resource.*
		{"{kind: resource.cpu, targets: {dc: dc1}, duration: 1s, workers: 0}", "0}", "workers",
		 "out of range (expected 1..256)"},
		{"{kind: resource.cpu, targets: {dc: dc1}, duration: 1s, workers: 300}", "300", "workers",
		 "out of range"},
		{"{kind: resource.cpu, targets: {dc: dc1}, duration: 1s, cpu_percent: 0}", "0}", "cpu_percent",
		 "out of range (expected 1..100)"},
		{"{kind: resource.cpu, targets: {dc: dc1}, duration: 1s, workers: 2.5}", "2.5", "workers",
		 "expected an integer"},
		{"{kind: resource.memory, targets: {dc: dc1}, duration: 1s}", "{", "bytes",
		 "required for resource.memory"},
		{"{kind: resource.memory, targets: {dc: dc1}, duration: 1s, bytes: 0}", "0}", "bytes",
		 "greater than 0"},
		{"{kind: resource.memory, targets: {dc: dc1}, duration: 1s, bytes: 12XB}", "12XB", "bytes",
		 "invalid size unit"},
		{F + ", bytes: 1GiB}", "{", "path", "required for resource.disk_fill"},
		{F + ", path: var/tmp, bytes: 1GiB}", "var/tmp", "path", "not an absolute path"},
		{F + ", path: /var/tmp/../../etc, bytes: 1GiB}", "/var/tmp/..", "path", "'..'"},
		{F + ", path: /var/tmp, bytes: 1GiB, free_percent: 5}", "5}", "free_percent", "not both"},
		{F + ", path: /var/tmp}", "{", "bytes", "either bytes (e.g. 1GiB) or free_percent"},
		{F + ", path: /var/tmp, free_percent: 100}", "100", "free_percent", "out of range (expected 0..99)"},
	};
	CHECK(std::size(cases) >= 30);
	for (const auto &c : cases) {
		const std::string &text = c[0];
		std::string msg = parseErr(text);
		std::string prefix = prefixAt(text, c[1], c[2]);
		INFO(text);
		CHECK_MESSAGE(msg.starts_with(prefix), msg, " / expected prefix ", prefix);
		CHECK_MESSAGE(msg.find(c[3]) != std::string::npos, msg, " / expected ", c[3]);
	}
}

TEST_CASE("fault: a spec inside a scenario names its key path")
{
	auto doc = parseYaml("phases:\n"
			     "  - faults:\n"
			     "      - {kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s,"
			     " percent: 3}\n",
			     "scn.yaml");
	REQUIRE(doc.ok());
	auto r = parseSpec((*doc)["phases"][0]["faults"][0], "scn.yaml", "phases[0].faults[0]");
	REQUIRE(!r.ok());
	CHECK(r.error().message.starts_with("scn.yaml:3:88: phases[0].faults[0].percent: percent does not apply"));
	const YAML::Node root = *doc;
	auto r2 = parseSpec(root["phases"][0]["faults"][1], "scn.yaml", "phases[0].faults[1]");
	REQUIRE(!r2.ok());
	CHECK(r2.error().message.find("phases[0].faults[1]: empty fault spec") != std::string::npos);
}

TEST_CASE("fault: hostile and broken YAML is refused, never a crash or a hang")
{
	// Malformed YAML: the position of the syntax error, no key path to give.
	auto broken = parseErr("{kind: network.partition, targets: {dc: dc1");
	CHECK(broken.starts_with("<command line>:1:"));
	CHECK(broken.find("invalid YAML") != std::string::npos);
	CHECK(parseErr("kind: [a\n").find("invalid YAML") != std::string::npos);

	// Empty documents and non-mappings.
	CHECK(parseErr("").find("(top level): empty fault spec") != std::string::npos);
	CHECK(parseErr("# only a comment\n").find("(top level): empty fault spec") != std::string::npos);
	CHECK(parseErr("~").find("empty fault spec") != std::string::npos);
	CHECK(parseErr("[1, 2]") == std::string("<command line>:1:1: (top level): expected a mapping such as "
						"{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, "
						"duration: 10s}"));
	CHECK(parseErr("network.partition").starts_with("<command line>:1:1: (top level): expected a mapping"));
	CHECK(parseErr("{[a]: b}").starts_with("<command line>:1:2: (top level): keys must be plain names"));

	// Billion laughs: yaml-cpp shares aliased nodes, so loading is cheap; walking it must be cut off.
	std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
	std::string prev = "a";
	for (char c = 'b'; c <= 'j'; c++) {
		std::string name(1, c);
		bomb += name + ": &" + name + " [";
		for (int i = 0; i < 10; i++)
			bomb += (i ? ", *" : "*") + prev;
		bomb += "]\n";
		prev = name;
	}
	auto b = parseErr(bomb);
	CHECK(b.find("more than 4096 YAML nodes") != std::string::npos);
	auto b2 = parseErr("{kind: resource.cpu, duration: 1s, targets: {dc: dc1}, x: &x [&y [*x, *x], *x]}");
	CHECK(!b2.starts_with("(parsed"));

	// A node that contains itself (an alias to an anchor still being built).
	CHECK(parseErr("&a [*a]").find("nested more than 8 levels") != std::string::npos);
	CHECK(parseErr("&a {kind: *a}").find("(top level)") != std::string::npos);

	// Deep nesting, inside the spec and beyond yaml-cpp's own guard.
	std::string deep = "{kind: resource.cpu, duration: 1s, targets: {dc: dc1, x: ";
	for (int i = 0; i < 20; i++)
		deep += "{a: ";
	deep += "1" + std::string(20, '}') + "}}";
	auto d = parseErr(deep);
	CHECK(d.starts_with("<command line>:1:"));
	CHECK(d.find("nested more than 8 levels") != std::string::npos);
	std::string deeper(100000, '[');
	CHECK(!parseErr(deeper).starts_with("(parsed"));
	std::string deeperMap;
	for (int i = 0; i < 5000; i++)
		deeperMap += "{a: ";
	CHECK(!parseErr(deeperMap).starts_with("(parsed"));

	// Size cap.
	std::string huge = "{kind: resource.cpu, targets: {dc: dc1}, duration: 1s, id: " + std::string(70000, 'x') + "}";
	CHECK(parseErr(huge).find("the limit is 65536 bytes") != std::string::npos);

	// Binary junk.
	std::string junk;
	for (int i = 0; i < 512; i++)
		junk += static_cast<char>((i * 37) & 0xff);
	CHECK(!parseErr(junk).starts_with("(parsed"));
}
