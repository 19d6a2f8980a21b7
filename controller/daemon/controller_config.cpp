// SPDX-License-Identifier: Apache-2.0
// Controller configuration loading.
#include "controller/daemon/controller_config.h"

#include "common/yaml_reader.h"
#include "controller/control/metrics_endpoint.h"

namespace xdc::controller {

Result<ControllerConfig> loadControllerConfig(const std::string &file)
{
	ControllerConfig c;
	if (file.empty())
		return c;
	auto doc = loadYamlFile(file);
	if (!doc)
		return doc.error();
	MapReader r(*doc, file, "");
	r.str("listen", c.listen);
	r.str("control", c.control);
	std::string mode;
	r.str("control_mode", mode);
	if (!mode.empty()) {
		if (mode != "0600" && mode != "0660" && mode != "600" && mode != "660")
			return makeError(Errc::Invalid, "{}: control_mode: '{}' (expected 0600 or 0660)", file, mode);
		c.controlMode = mode.find("66") != std::string::npos ? 0660 : 0600;
	}
	r.str("control_group", c.controlGroup);
	r.str("key", c.keyFile);
	r.str("allow", c.allowFile);
	r.duration("heartbeat", c.heartbeat);
	int64_t lost = c.lostAfter;
	r.integer("lost_after", lost, 2, 100);
	c.lostAfter = static_cast<int>(lost);
	r.duration("lease", c.lease);
	r.duration("clock_interval", c.clockInterval);
	r.duration("command_ttl", c.commandTtl);
	r.size("max_frame", c.maxFrame);
	r.str("data_dir", c.dataDir);
	r.str("metrics_listen", c.metricsListen);
	XDC_TRY(readLogOptions(r, c.log));
	r.rejectUnknown();
	XDC_TRY(r.result());
	return c;
}

Result<void> validateControllerConfig(const ControllerConfig &c)
{
	if (c.listen.rfind("tcp://", 0) != 0 && c.listen.rfind("ipc://", 0) != 0)
		return makeError(Errc::Invalid, "listen: '{}' is not a tcp:// or ipc:// endpoint", c.listen);
	if (!c.insecure && (c.keyFile.empty() || c.allowFile.empty()))
		return makeError(Errc::Invalid, "key and allow are required: CURVE with a ZAP allow-list is on by default "
				 "(--insecure turns it off for experiments only)");
	if (c.heartbeat.count() < 100 || c.heartbeat.count() > 60000)
		return makeError(Errc::Invalid, "heartbeat: {} ms is out of range (100ms..60s)", c.heartbeat.count());
	if (c.lease < c.heartbeat * 2)
		return makeError(Errc::Invalid, "lease: must be at least two heartbeats");
	if (c.commandTtl.count() < 100 || c.commandTtl.count() > 300000)
		return makeError(Errc::Invalid, "command_ttl: {} ms is out of range (100ms..5m; agents refuse deadlines "
				 "further out than 5m)", c.commandTtl.count());
	if (c.clockInterval.count() < 100 || c.clockInterval.count() > 60000)
		return makeError(Errc::Invalid, "clock_interval: {} ms is out of range (100ms..60s)",
				 c.clockInterval.count());
	if (!c.metricsListen.empty())
		if (auto m = control::MetricsEndpoint::parseAddress(c.metricsListen); !m)
			return makeError(Errc::Invalid, "metrics_listen: {}", m.error().message);
	if (c.maxFrame < 4096 || c.maxFrame > (256u << 20))
		return makeError(Errc::Invalid, "max_frame: {} is out of range (4KiB..256MiB)", c.maxFrame);
	return success();
}

} // namespace xdc::controller
