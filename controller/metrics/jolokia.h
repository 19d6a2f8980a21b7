// SPDX-License-Identifier: Apache-2.0
// A client of Jolokia (JMX over HTTP/JSON): reads one MBean attribute, optionally a path inside it, and reports
// Jolokia's in-body errors (`status`, `error`, `error_type`) apart from HTTP and transport failures (docs/METRICS.md).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/metrics/http.h"

namespace xdc::metrics {

// Interprets one Jolokia response body: the `value` when `status` is 200, else a Server failure naming Jolokia's
// error_type and error. Exposed for tests.
Result<nlohmann::json> parseJolokiaResponse(const std::string &body, Failure &f);

// One Jolokia agent; target.url is the agent's URL, e.g. http://host:8778/jolokia. Thread-compatible.
class JolokiaClient {
public:
	explicit JolokiaClient(HttpTarget target);

	// POSTs {"type":"read","mbean":mbean,"attribute":attribute[,"path":path]} and returns the `value`. An empty
	// attribute reads every attribute (an object); path ("used", "a/b") selects inside a composite value.
	// Jolokia answers HTTP 200 with `status` 404 for an unknown MBean: that is NotFound here, with its message.
	[[nodiscard]] Result<nlohmann::json> read(const std::string &mbean, const std::string &attribute,
						  const std::string &path = "");

	const Failure &lastFailure() const { return http_.lastFailure(); }
	const HttpTarget &target() const { return http_.target(); }

private:
	http::Client http_;
};

} // namespace xdc::metrics
