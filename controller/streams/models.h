// SPDX-License-Identifier: Apache-2.0
// Typed views of the REST API's resources. Parsing tolerates unknown fields and lists the expected ones that were
// missing (`missing`); a field of the wrong type is an error naming the resource, the field and the type expected.
// Where IBM's own REST clients (Java com.ibm.streamsx.rest, Python streamsx.rest_primitives) declare a field a
// string, a number or a string is accepted: every std::string field below takes an integer as its decimal text,
// and the integer fields processId and lastTimeRetrieved (and Metric.value) take a string of decimal digits.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace xdc::streams {

struct Metric {
	std::string name;
	int64_t value = 0;       // a number, or a string of digits ("12")
	std::string metricKind;  // counter | gauge | time
	std::string metricType;  // system | custom
	int64_t lastTimeRetrieved = 0; // epoch ms; a number or, as the Python client declares it, a string
	std::vector<std::string> missing;
};

struct Instance {
	std::string id, self;
	std::string status;  // running | failed | stopped | ...
	std::string health;
	int64_t startTime = 0; // epoch ms
	std::vector<std::string> missing;
};

struct Job {
	std::string id, self, name, applicationName;
	std::string health;  // healthy | partiallyHealthy | partiallyUnhealthy | unhealthy | unknown
	std::string status;  // running | canceling | canceled | unknown
	int64_t submitTime = 0; // epoch ms
	std::vector<std::string> missing;
};

struct Pe {
	std::string id, self;
	int64_t indexWithinJob = 0;
	std::string health, status, statusReason;
	int64_t launchCount = 0;
	bool restartable = false;
	int64_t processId = 0;  // 0 when not running / not reported; a number, or a string as IBM's clients declare it
	std::string requiredConnections;
	std::string hostUrl, jobUrl;  // relations (absolute URLs)
	std::string host;             // host name when the server gives one (the `resource` id), else ""
	std::string jobId;            // the last path segment of jobUrl
	std::vector<std::string> missing;
};

struct Operator {
	std::string id, self, name, operatorKind;
	std::string peUrl;
	std::vector<std::string> missing;
};

struct Resource {
	std::string id, self, displayName, ipAddress, status;
	std::vector<std::string> missing;
};

// `what` names the resource in errors ("job 3", "pe list element 12").
Result<Metric> parseMetric(const nlohmann::json &j);
Result<Instance> parseInstance(const nlohmann::json &j);
Result<Job> parseJob(const nlohmann::json &j);
Result<Pe> parsePe(const nlohmann::json &j);
Result<Operator> parseOperator(const nlohmann::json &j);
Result<Resource> parseResource(const nlohmann::json &j);

nlohmann::json toJson(const Metric &m);
nlohmann::json toJson(const Instance &i);
nlohmann::json toJson(const Job &j);
nlohmann::json toJson(const Pe &p);

} // namespace xdc::streams
