// SPDX-License-Identifier: Apache-2.0
// The REST Management API (both path styles), the emulator-only PE endpoints and the Prometheus page, as HTTP
// handlers over an Emulator. (The toolkit's receivers are its own operators' ports: emulator/toolkit.h.)
#pragma once

#include "emulator/emulator.h"
#include "emulator/http_server.h"

namespace xdc::emu {

// The host name PEs report (their `resource`): --host, else gethostname(). Set once at start.
void setHostName(const std::string &name);

class RestApi {
public:
	explicit RestApi(Emulator &emu) : emu_(emu) {}

	// Everything on --rest: /streams/rest/..., /streams/instances/..., /emulator/..., /metrics. Never throws.
	HttpResponse handle(const HttpRequest &req);

private:
	Emulator &emu_;
};

} // namespace xdc::emu
