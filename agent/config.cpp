// SPDX-License-Identifier: Apache-2.0
// Agent configuration loading.
#include "agent/config.h"

#include "agent/data/sink_tail.h"
#include "agent/streams_cmds.h"
#include "common/yaml_reader.h"

namespace xdc::agent {

namespace {

constexpr size_t kMaxHookArgs = 32;

// An absolute path without '..' components (the agent's own config names the only files it reads).
bool cleanAbsolutePath(const std::string &p)
{
	return !p.empty() && p[0] == '/' && p.find("/../") == std::string::npos && !p.ends_with("/..");
}

// evidence.commands: name -> {argv, timeout}.
Result<void> readCommands(const YAML::Node &cn, const std::string &file, AgentConfig::Evidence &out)
{
	for (const auto &kv : cn) {
		const std::string name = kv.first.as<std::string>();
		MapReader one(kv.second, file, "evidence.commands." + name);
		CommandDef d;
		one.strList("argv", d.argv);
		one.duration("timeout", d.timeout);
		one.rejectUnknown();
		XDC_TRY(one.result());
		if (d.argv.empty() || d.argv[0].empty() || d.argv[0][0] != '/')
			return makeError(Errc::Invalid, "{}: evidence.commands.{}.argv: expected a list whose first element "
					 "is an absolute path", one.where(kv.second), name);
		if (d.timeout.count() <= 0 || d.timeout.count() > 600000)
			return makeError(Errc::Invalid, "{}: evidence.commands.{}.timeout: expected 1ms..10m",
					 one.where(kv.second), name);
		out.commands[name] = d;
	}
	return success();
}

// The name of an evidence.logs / evidence.files entry, checked like data.sinks names.
Result<std::string> sourceName(const YAML::Node &key, const MapReader &r, const char *block)
{
	const std::string name = key.IsScalar() ? key.Scalar() : std::string();
	if (!validSinkName(name))
		return makeError(Errc::Invalid, "{}: evidence.{}: '{}': expected a name of 1 to 64 of [a-zA-Z0-9._-]",
				 r.where(key), block, name);
	return name;
}

// evidence.logs: NAME -> /abs/file, or NAME -> {path: /abs/dir, glob: "*.trc", recursive: true}.
Result<void> readLogs(const YAML::Node &ln, const std::string &file, const MapReader &e, AgentConfig::Evidence &out)
{
	for (const auto &kv : ln) {
		auto name = sourceName(kv.first, e, "logs");
		XDC_TRY(name);
		const std::string kp = "evidence.logs." + *name;
		LogSourceDef d;
		if (kv.second.IsScalar()) {
			d.path = kv.second.Scalar();
		} else if (kv.second.IsMap()) {
			MapReader one(kv.second, file, kp);
			one.str("path", d.path);
			one.str("glob", d.glob);
			one.boolean("recursive", d.recursive);
			one.rejectUnknown();
			XDC_TRY(one.result());
			d.directory = true;
			if (d.glob.empty() || d.glob.size() > 255 || d.glob.find('/') != std::string::npos)
				return makeError(Errc::Invalid, "{}: {}.glob: expected a pattern over base names such as "
						 "\"*.trc\" (no '/', at most 255 characters)",
						 e.where(kv.second["glob"] ? kv.second["glob"] : kv.second), kp);
		} else {
			return makeError(Errc::Invalid, "{}: {}: expected an absolute file path, or {{path: /dir, glob: "
					 "\"*.trc\", recursive: true}}", e.where(kv.second), kp);
		}
		if (!cleanAbsolutePath(d.path))
			return makeError(Errc::Invalid, "{}: {}{}: expected an absolute path without '..', got '{}'",
					 e.where(kv.second.IsMap() && kv.second["path"] ? kv.second["path"] : kv.second), kp,
					 d.directory ? ".path" : "", d.path);
		out.logs[*name] = d;
	}
	return success();
}

// evidence.files: NAME -> /abs/path (a file or a directory).
Result<void> readFiles(const YAML::Node &fn, const MapReader &e, AgentConfig::Evidence &out)
{
	for (const auto &kv : fn) {
		auto name = sourceName(kv.first, e, "files");
		XDC_TRY(name);
		const std::string path = kv.second.IsScalar() ? kv.second.Scalar() : std::string();
		if (!cleanAbsolutePath(path))
			return makeError(Errc::Invalid, "{}: evidence.files.{}: expected the absolute path (without '..') of a "
					 "file or a directory, got '{}'", e.where(kv.second), *name,
					 kv.second.IsScalar() ? path : std::string("a ") + (kv.second.IsMap() ? "mapping" : "list"));
		out.files[*name] = path;
	}
	return success();
}

Result<void> readEvidence(const YAML::Node &en, const std::string &file, AgentConfig::Evidence &out)
{
	MapReader e(en, file, "evidence");
	int64_t mem = static_cast<int64_t>(out.memorySamples);
	e.integer("memory_samples", mem, 10, 10000000);
	out.memorySamples = static_cast<uint64_t>(mem);
	e.size("spool_max", out.spoolMaxBytes);
	const struct {
		const char *key;
		const char *expected;
	} blocks[] = {{"commands", "expected a mapping of name: {argv: [...], timeout: 5s}"},
		      {"logs", "expected a mapping of name: /abs/file or name: {path: /abs/dir, glob: \"*.trc\"}"},
		      {"files", "expected a mapping of name: /abs/path (a file or a directory)"}};
	for (const auto &b : blocks) {
		YAML::Node n;
		if (!e.child(b.key, n) || n.IsNull())
			continue;
		if (!n.IsMap()) {
			e.fail(n, e.keyPath(b.key), b.expected);
			break;
		}
		const std::string key = b.key;
		XDC_TRY(key == "commands" ? readCommands(n, file, out)
					  : key == "logs" ? readLogs(n, file, e, out) : readFiles(n, e, out));
	}
	e.rejectUnknown();
	return e.result();
}

Result<void> readStreams(const YAML::Node &sn, const std::string &file, AgentConfig::Streams &out)
{
	MapReader st(sn, file, "streams");
	st.str("streamtool", out.streamtool);
	st.str("instance", out.instance);
	st.strMap("env", out.env);
	st.str("password_file", out.passwordFile);
	st.duration("timeout", out.timeout);
	st.strList("orderly_shutdown", out.orderlyShutdown);
	st.rejectUnknown();
	XDC_TRY(st.result());
	if (!out.streamtool.empty() && out.streamtool[0] != '/')
		return makeError(Errc::Invalid, "{}: streams.streamtool: expected an absolute path, got '{}'", st.where(sn),
				 out.streamtool);
	if (const YAML::Node n = sn["orderly_shutdown"]; n && !n.IsNull()) {
		const auto &argv = out.orderlyShutdown;
		if (argv.empty() || argv[0].empty() || argv[0][0] != '/')
			return makeError(Errc::Invalid, "{}: streams.orderly_shutdown: expected a list whose first element is "
					 "the absolute path of the program, e.g. [/opt/site/bin/app-shutdown, --instance, "
					 "prod]; got {}", st.where(n), argv.empty() ? "an empty list" : "'" + argv[0] + "'");
		if (argv.size() > kMaxHookArgs + 1)
			return makeError(Errc::Invalid, "{}: streams.orderly_shutdown: {} arguments; at most {}", st.where(n),
					 argv.size() - 1, kMaxHookArgs);
		if (argv[0] == kJobPlaceholder)
			return makeError(Errc::Invalid, "{}: streams.orderly_shutdown: {} cannot be the program", st.where(n),
					 kJobPlaceholder);
	}
	return success();
}

} // namespace

Result<AgentConfig> loadAgentConfig(const std::string &file)
{
	AgentConfig c;
	if (file.empty())
		return c;
	auto doc = loadYamlFile(file);
	if (!doc)
		return doc.error();
	MapReader r(*doc, file, "");
	r.str("id", c.id);
	r.str("host", c.host);
	r.str("dc", c.dc);
	r.strMap("labels", c.labels);
	r.str("controller", c.controller);
	r.str("controller_key", c.controllerKey);
	r.str("key", c.keyFile);
	r.str("state_dir", c.stateDir);
	r.size("max_frame", c.maxFrame);
	r.duration("reconnect_max", c.reconnectMax);
	r.duration("connect_timeout", c.connectTimeout);
	r.duration("hello_retry", c.helloRetry);
	r.duration("max_fault_duration", c.maxFaultDuration);
	YAML::Node fn;
	if (r.child("faults", fn) && !fn.IsNull()) {
		if (!fn.IsMap()) {
			r.fail(fn, "faults", "expected a mapping");
		} else {
			MapReader f(fn, file, "faults");
			int64_t cap = static_cast<int64_t>(c.faults.processMatchCap);
			f.integer("process_match_cap", cap, 1, 100000);
			c.faults.processMatchCap = static_cast<size_t>(cap);
			f.str("streams_pe_pattern", c.faults.streamsPePattern);
			f.strList("disk_fill_allow", c.faults.diskFillAllow);
			size_t fillMax = c.faults.diskFillMaxBytes;
			f.size("disk_fill_max", fillMax);
			c.faults.diskFillMaxBytes = fillMax;
			int64_t memPct = static_cast<int64_t>(c.faults.memoryMaxFraction * 100 + 0.5);
			f.integer("memory_max_percent", memPct, 1, 100);
			c.faults.memoryMaxFraction = static_cast<double>(memPct) / 100.0;
			f.rejectUnknown();
			XDC_TRY(f.result());
		}
	}
	YAML::Node en;
	if (r.child("evidence", en) && !en.IsNull()) {
		if (!en.IsMap())
			r.fail(en, "evidence", "expected a mapping");
		else
			XDC_TRY(readEvidence(en, file, c.evidence));
	}
	YAML::Node sn;
	if (r.child("streams", sn) && !sn.IsNull()) {
		if (!sn.IsMap())
			r.fail(sn, "streams", "expected a mapping");
		else
			XDC_TRY(readStreams(sn, file, c.streams));
	}
	YAML::Node dn;
	if (r.child("data", dn) && !dn.IsNull()) {
		if (!dn.IsMap()) {
			r.fail(dn, "data", "expected a mapping");
		} else {
			MapReader d(dn, file, "data");
			d.strMap("sinks", c.data.sinks);
			d.strMap("drops", c.data.drops);
			d.rejectUnknown();
			XDC_TRY(d.result());
			for (const auto *m : {&c.data.sinks, &c.data.drops}) {
				const char *key = m == &c.data.sinks ? "sinks" : "drops";
				for (const auto &[name, path] : *m) {
					if (!validSinkName(name))
						return makeError(Errc::Invalid, "{}: data.{}: '{}': expected a name of 1 to 64 of "
								 "[a-zA-Z0-9._-]", d.where(dn), key, name);
					if (path.empty() || path[0] != '/' || path.find("/../") != std::string::npos ||
					    path.ends_with("/.."))
						return makeError(Errc::Invalid, "{}: data.{}.{}: expected an absolute path "
								 "without '..', got '{}'", d.where(dn), key, name, path);
				}
			}
		}
	}
	r.boolean("test_features", c.testFeatures);
	r.integer("test_clock_skew_ms", c.testClockSkewMs, -86400000, 86400000);
	XDC_TRY(readLogOptions(r, c.log));
	r.rejectUnknown();
	XDC_TRY(r.result());
	return c;
}

Result<void> validateAgentConfig(const AgentConfig &c)
{
	if (c.dc.empty())
		return makeError(Errc::Invalid, "dc: required (the datacenter this host belongs to)");
	if (c.controller.empty())
		return makeError(Errc::Invalid, "controller: required (e.g. tcp://10.0.0.1:7700)");
	if (c.controller.rfind("tcp://", 0) != 0 && c.controller.rfind("ipc://", 0) != 0)
		return makeError(Errc::Invalid, "controller: '{}' is not a tcp:// or ipc:// endpoint", c.controller);
	if (!c.insecure && (c.controllerKey.empty() || c.keyFile.empty()))
		return makeError(Errc::Invalid, "controller_key and key are required (CURVE is on by default; "
				 "--insecure turns it off for experiments only)");
	if (c.maxFrame < 4096 || c.maxFrame > (256u << 20))
		return makeError(Errc::Invalid, "max_frame: {} is out of range (4KiB..256MiB)", c.maxFrame);
	if (c.testClockSkewMs != 0 && !c.testFeatures)
		return makeError(Errc::Refused, "test_clock_skew needs test_features: true in the agent config");
	if (c.testProtoVersion != 0 && !c.testFeatures)
		return makeError(Errc::Refused, "test_proto_version needs test_features: true in the agent config");
	return success();
}

} // namespace xdc::agent
