// SPDX-License-Identifier: Apache-2.0
// The metric sources' names for the one HTTP client (common/http/client.h): a target is an http::Target, and their
// failures are http::Failure, so that the CLI and the scenario report them with the same kinds as every other user.
#pragma once

#include "common/http/client.h"

namespace xdc::metrics {

using HttpTarget = http::Target;
using Failure = http::Failure;
using http::errcForStatus;
using http::failureKindName;

// The target as the metric sources send it: with their User-Agent, asking for JSON.
inline http::Target metricsTarget(HttpTarget t, const char *userAgent)
{
	t.userAgent = userAgent;
	t.accept = "application/json";
	return t;
}

} // namespace xdc::metrics
