// SPDX-License-Identifier: Apache-2.0
// The JSON form of a fault spec (common/fault/spec_json.h): every kind round-trips equal to itself, and the JSON
// reader refuses what the YAML parser refuses, with the key named.
#include <doctest/doctest.h>

#include <string>

#include "common/fault/spec.h"
#include "common/fault/spec_json.h"

using namespace xdc;
using namespace xdc::fault;
using nlohmann::json;

TEST_CASE("fault json: a spec of every kind round-trips through its JSON form")
{
	const char *specs[] = {
		"{id: part-1, kind: network.partition, targets: {dc: dc1, role: streams}, duration: 1m30s, start: 5s,"
		" peers: {hosts: [dc2-h1, dc2-h2], cidrs: [10.1.0.0/16, \"fd00::/8\", 192.0.2.7]},"
		" direction: out, action: reject, protocol: tcp, ports: [9092, 443]}",
		"{kind: network.partition, targets: {host: dc1-h1}, peers: {cidrs: [fd00::/8]}, duration: 10s,"
		" direction: in, protocol: icmp}",
		"{kind: network.loss, targets: {dc: dc1}, peers: {dc: dc2}, duration: 30s, percent: 30, correlation: 25}",
		"{kind: network.loss, targets: {dc: dc1}, peers: {dc: dc2}, duration: 30s, percent: 33.3%}",
		"{kind: network.delay, targets: {dc: dc1}, peers: {dc: dc2}, duration: 1m, delay: 100ms, jitter: 10ms,"
		" correlation: 12.5, protocol: udp, ports: [53]}",
		"{kind: network.bandwidth, targets: {dc: dc1}, peers: {dc: dc2}, duration: 1m, rate: 1.5mbps}",
		"{kind: network.corrupt, targets: {dc: dc1}, peers: {dc: dc2}, duration: 1m, percent: 0.5}",
		"{kind: network.duplicate, targets: {dc: dc1}, peers: {dc: dc2}, duration: 1m, percent: 1}",
		"{kind: network.reorder, targets: {dc: dc1}, peers: {dc: dc2}, duration: 1m, percent: 25, delay: 10ms,"
		" correlation: 50}",
		"{kind: process.kill, targets: {host: dc1-h1}, duration: 30s, match: {preset: streams-pe},"
		" signal: SIGTERM, count: 50%, every: 5s}",
		"{kind: process.kill, targets: {host: dc1-h1}, duration: 30s, match: {name: streams-pec}, count: 2}",
		"{kind: process.kill, targets: {host: dc1-h1}, duration: 30s,"
		" match: {cmdline: \"^/opt/streams/bin/streams-pec .*-pe 3( |$)\"}}",
		"{kind: process.pause, targets: {host: dc1-h1}, duration: 30s, match: {pidfile: /run/app.pid}}",
		"{kind: process.pause, targets: {host: dc1-h1}, duration: 30s, match: {cgroup: system.slice/app.service},"
		" count: all}",
		"{kind: resource.cpu, targets: {dc: dc1}, duration: 1m, workers: 4, cpu_percent: 80}",
		"{kind: resource.memory, targets: {dc: dc1}, duration: 1m, bytes: 1000001}",
		"{kind: resource.disk_fill, targets: {dc: dc1}, duration: 1m, path: /var/tmp, bytes: 1GiB}",
		"{kind: resource.disk_fill, targets: {dc: dc1}, duration: 1m, path: /var/tmp, free_percent: 5}",
		// Values that look like numbers, booleans or null stay what they were.
		"{id: '007', kind: resource.cpu, targets: {zone: \"~\", odd: \"a: b\", flag: \"true\", n: \"1.50\"},"
		" duration: 1s}",
		"{kind: resource.cpu, targets: {hosts: ['1', '2.0']}, duration: 1s}",
	};
	for (const char *text : specs) {
		INFO(text);
		auto s = parseSpecText(text, "<test>");
		REQUIRE_MESSAGE(s.ok(), (s.ok() ? std::string() : s.error().message));
		const json j = toJson(*s);
		INFO(j.dump());
		CHECK(j.is_object());
		CHECK(j["kind"] == std::string(kindName(s->kind)));
		// Through the text of the wire, as the control socket carries it.
		auto back = parseSpecJson(json::parse(j.dump()), "<test>");
		REQUIRE_MESSAGE(back.ok(), (back.ok() ? std::string() : back.error().message));
		CHECK(toYaml(*back) == toYaml(*s));
		CHECK(toJson(*back) == j);
	}
}

TEST_CASE("fault json: numbers are JSON numbers where the printed value is one")
{
	auto s = parseSpecText("{kind: network.loss, targets: {dc: dc1}, peers: {dc: dc2}, duration: 30s, percent: 30,"
			       " protocol: tcp, ports: [9092]}", "<test>");
	REQUIRE(s.ok());
	const json j = toJson(*s);
	CHECK(j["percent"] == 30);
	CHECK(j["ports"] == json::array({9092}));
	CHECK(j["duration"] == "30s");
	CHECK(j["targets"] == json{{"dc", "dc1"}});
}

TEST_CASE("fault json: the reader checks what the YAML parser checks, naming the key")
{
	auto err = [](const json &j) {
		auto r = parseSpecJson(j, "<console>");
		if (r.ok())
			return "(parsed: " + toYaml(*r) + ")";
		CHECK(r.error().code == Errc::Invalid);
		return r.error().message;
	};
	const json base = {{"kind", "network.partition"}, {"targets", {{"dc", "dc1"}}}, {"peers", {{"dc", "dc2"}}},
			   {"duration", "5s"}};
	CHECK(err(base).rfind("(parsed:", 0) == 0);
	json j = base;
	j["kind"] = "network.partiton";
	CHECK(err(j).find("network.partition") != std::string::npos);
	j = base;
	j["duration"] = "5h";
	CHECK(err(j).find("<console>: duration: duration 5h exceeds the agent cap") == 0);
	j = base;
	j["percent"] = 3;
	CHECK(err(j).find("percent") != std::string::npos);
	j = base;
	j.erase("peers");
	CHECK(err(j).find("peers") != std::string::npos);
	j = base;
	j["duration"] = 5;
	CHECK(err(j).find("duration") != std::string::npos);
	j = base;
	j["targets"] = "dc1";
	CHECK(err(j).find("targets") != std::string::npos);
	j = base;
	j["extra"] = true;
	CHECK(err(j).find("extra") != std::string::npos);
	CHECK(err(json::array()).find("must be a mapping") != std::string::npos);
	CHECK(err(json("kind: network.partition")).find("must be a mapping") != std::string::npos);
	// Too deep to be a spec: refused before any key is read, without deep recursion.
	json deep = "x";
	for (int i = 0; i < 200; i++)
		deep = json::array({deep});
	j = base;
	j["targets"] = deep;
	CHECK(err(j).find("deeper") != std::string::npos);
}
