// SPDX-License-Identifier: Apache-2.0
// Agent configuration loading.
#include "agent/config.h"

#include "agent/data/sink_tail.h"
#include "common/yaml_reader.h"

namespace xdc::agent {

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
		if (!en.IsMap()) {
			r.fail(en, "evidence", "expected a mapping");
		} else {
			MapReader e(en, file, "evidence");
			int64_t mem = static_cast<int64_t>(c.evidence.memorySamples);
			e.integer("memory_samples", mem, 10, 10000000);
			c.evidence.memorySamples = static_cast<uint64_t>(mem);
			e.size("spool_max", c.evidence.spoolMaxBytes);
			YAML::Node cn;
			if (e.child("commands", cn) && !cn.IsNull()) {
				if (!cn.IsMap()) {
					e.fail(cn, "commands", "expected a mapping of name: {argv: [...], timeout: 5s}");
				} else {
					for (const auto &kv : cn) {
						const std::string name = kv.first.as<std::string>();
						MapReader one(kv.second, file, "evidence.commands." + name);
						CommandDef d;
						one.strList("argv", d.argv);
						one.duration("timeout", d.timeout);
						one.rejectUnknown();
						XDC_TRY(one.result());
						if (d.argv.empty() || d.argv[0].empty() || d.argv[0][0] != '/')
							return makeError(Errc::Invalid, "{}: evidence.commands.{}.argv: expected a "
									 "list whose first element is an absolute path",
									 one.where(kv.second), name);
						if (d.timeout.count() <= 0 || d.timeout.count() > 600000)
							return makeError(Errc::Invalid, "{}: evidence.commands.{}.timeout: expected "
									 "1ms..10m", one.where(kv.second), name);
						c.evidence.commands[name] = d;
					}
				}
			}
			e.rejectUnknown();
			XDC_TRY(e.result());
		}
	}
	YAML::Node sn;
	if (r.child("streams", sn) && !sn.IsNull()) {
		if (!sn.IsMap()) {
			r.fail(sn, "streams", "expected a mapping");
		} else {
			MapReader st(sn, file, "streams");
			st.str("streamtool", c.streams.streamtool);
			st.str("instance", c.streams.instance);
			st.strMap("env", c.streams.env);
			st.str("password_file", c.streams.passwordFile);
			st.duration("timeout", c.streams.timeout);
			st.rejectUnknown();
			XDC_TRY(st.result());
			if (!c.streams.streamtool.empty() && c.streams.streamtool[0] != '/')
				return makeError(Errc::Invalid, "{}: streams.streamtool: expected an absolute path, got '{}'",
						 st.where(sn), c.streams.streamtool);
		}
	}
	YAML::Node dn;
	if (r.child("data", dn) && !dn.IsNull()) {
		if (!dn.IsMap()) {
			r.fail(dn, "data", "expected a mapping");
		} else {
			MapReader d(dn, file, "data");
			d.strMap("sinks", c.data.sinks);
			d.rejectUnknown();
			XDC_TRY(d.result());
			for (const auto &[name, path] : c.data.sinks) {
				if (!validSinkName(name))
					return makeError(Errc::Invalid, "{}: data.sinks: '{}': expected a name of 1 to 64 of "
							 "[a-zA-Z0-9._-]", d.where(dn), name);
				if (path.empty() || path[0] != '/' || path.find("/../") != std::string::npos ||
				    path.ends_with("/.."))
					return makeError(Errc::Invalid, "{}: data.sinks.{}: expected an absolute path "
							 "without '..', got '{}'", d.where(dn), name, path);
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
