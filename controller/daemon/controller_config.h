// SPDX-License-Identifier: Apache-2.0
// The controller daemon's configuration, read once from YAML and flags.
#pragma once

#include <chrono>
#include <string>

#include "common/log.h"
#include "common/proto/protocol.h"
#include "common/result.h"

namespace xdc::controller {

using std::chrono::milliseconds;

// Where console commands look for the controller when given neither --control nor --lab.
constexpr const char *kDefaultControlPath = "/run/xdc/control.sock";

struct ControllerConfig {
	std::string listen = "tcp://127.0.0.1:7700"; // agent endpoint; in the lab, the management address only
	std::string control = kDefaultControlPath;    // console socket
	int controlMode = 0600;
	std::string controlGroup;
	std::string keyFile;        // controller key pair (required unless insecure)
	std::string allowFile;      // agent allow-list (required unless insecure)
	bool insecure = false;
	milliseconds heartbeat{1000};
	int lostAfter = 3;          // missed heartbeats before an agent is marked lost
	milliseconds lease{5000};   // fault lease an agent is granted per heartbeat ack
	milliseconds clockInterval{1000};
	milliseconds commandTtl{10000};
	size_t maxFrame = proto::kDefaultMaxFrame;
	std::string dataDir = "/var/lib/xdc";
	std::string metricsListen;  // /metrics for Prometheus: "" off, PORT (127.0.0.1), HOST:PORT or [V6]:PORT
	log::Options log;
};

Result<ControllerConfig> loadControllerConfig(const std::string &file);
Result<void> validateControllerConfig(const ControllerConfig &c);

} // namespace xdc::controller
