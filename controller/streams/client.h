// SPDX-License-Identifier: Apache-2.0
// A client of the Streams REST Management API (4.x/5.x `/streams/rest/resources` and 7.x `/streams/instances/{id}`),
// over the one HTTP client (common/http/client.h), returning typed models. Facts it follows: ../shared/reference/streams.md and docs/STREAMS.md.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http/client.h"
#include "common/result.h"
#include "controller/streams/models.h"

namespace xdc::streams {

enum class PathStyle {
	Auto,      // GET /streams/rest/resources first; fall back to /streams/instances/{id} when it is 404
	Resources, // 4.x/5.x: root discovery from /streams/rest/resources
	Instances, // 7.x: https://host:port/streams/instances/{id}
};

// Where one DC's instance is and how to reach it. Secrets are read from files or the environment by the loader
// (see loadStreamsConfig) and are never logged or printed.
struct Endpoint {
	std::string dc;        // "dc1": the DC this instance serves
	std::string url;       // scheme://host:port, no path ("https://streams1.example:8443")
	std::string instance;  // instance id; empty = the only (or first) instance the root lists
	PathStyle style = PathStyle::Auto;
	std::string user;
	std::string password;  // Basic credentials; also what the token resource is asked with
	bool useTokens = true; // use `accessTokens` when the root lists it; refresh before expiry
	std::string caFile;    // TLS: CA bundle (empty = system store)
	std::string clientCert, clientKey;
	bool insecure = false; // TLS: skip peer and host verification (explicit only)
	int connectTimeoutMs = 2000;
	int timeoutMs = 5000;
	int retries = 2;        // extra attempts for idempotent requests (GET) after a timeout, connect error or 5xx
	int retryBackoffMs = 100; // doubled after each attempt
	int pageSize = 100;     // `count` per page when listing collections (0 = let the server choose, no paging)
	std::string jobName;    // the job the toolkit view follows in this DC (matched by name, then applicationName)
	std::string application;
	std::string host;       // the Streams host (agent id) whose streamtool stop-pe/restart-pe use
	// Where the cross-DC toolkit's operators and the application's output are (`toolkit:` in the config):
	std::string toolkitPrefix; // the composite instance's name ("" = found by the operators' local names)
	std::string sinkOperator;  // the operator whose input port is the application's output ("" = Sink, else the
				   // only FileSink)
	// Where the application takes test tuples in (`ingest:`, docs/DATA.md): the URL of its HTTPJSONInjection
	// operator's inject path, the HOST:PORT of its TCPSource, the name of its DirectoryScan's directory in the
	// agent's data.drops on `host`. Empty = the application has none.
	struct Ingest {
		std::string httpJson, tcp, file;
	} ingest;
	// Where the application's output can be read besides its FileSink (`egress:`, docs/DATA.md).
	struct Egress {
		std::string tupleView; // an HTTPTupleView's .../ports/input/0/tuples URL
	} egress;
	// What the Streams host shows through its agent (`host_signals:`): names from the agent's own config.
	struct HostSignals {
		std::string trace;          // evidence.logs source with the PE trace files
		std::string monitor;        // evidence.logs source with the passive monitor's output
		std::string snapshots;      // evidence.files source: the toolkit's snapshot directory
		std::string failoverScript; // the failover script's name, as its process command line shows it
		bool any() const { return !trace.empty() || !monitor.empty() || !snapshots.empty() || !failoverScript.empty(); }
	} hostSignals;
};

// What went wrong with a request: the one HTTP failure taxonomy (common/http/client.h). For the Streams client,
// errorType is the product's message id ("CDISW5000E") when the server sent one, and error the server's message text
// or libcurl's; NotFound is a 404.
using ApiFailure = http::Failure;
using http::failureKindName;

// Filters and field selection for collection requests: `fields=a,b`, `job.restid=12`, ...
struct Query {
	std::vector<std::string> fields;
	std::map<std::string, std::string> filters;
};

// One connection to one instance. Thread-compatible: one thread uses one Client (each DC gets its own).
class Client {
public:
	explicit Client(Endpoint ep);
	~Client();
	Client(const Client &) = delete;
	Client &operator=(const Client &) = delete;

	const Endpoint &endpoint() const { return ep_; }

	// Resolves the instance URL (root discovery or the 7.x path) and, when tokens are in use, gets one.
	// Called implicitly by every request below; calling it first makes errors surface early.
	[[nodiscard]] Result<void> connect();

	// The instance, its jobs and PEs (all pages), one job's PEs, a PE's or operator's metrics.
	[[nodiscard]] Result<Instance> instance();
	[[nodiscard]] Result<std::vector<Job>> jobs(const Query &q = {});
	[[nodiscard]] Result<std::vector<Pe>> pes(const Query &q = {});
	[[nodiscard]] Result<std::vector<Pe>> jobPes(const std::string &jobId);
	[[nodiscard]] Result<std::vector<Operator>> jobOperators(const std::string &jobId);
	[[nodiscard]] Result<std::vector<Metric>> peMetrics(const std::string &peId);
	[[nodiscard]] Result<std::vector<Metric>> operatorMetrics(const std::string &operatorId, const Query &q = {});
	// The metrics of one operator port (`operators/{id}/inputPorts|outputPorts/{index}/metrics`).
	[[nodiscard]] Result<std::vector<Metric>> portMetrics(const std::string &operatorId, bool input, int index,
							      const Query &q = {});
	[[nodiscard]] Result<std::vector<Resource>> resources();

	// Writes (5.x/7.x): upload a .sab, submit it with a job configuration overlay, cancel a job. Never retried.
	[[nodiscard]] Result<std::string> uploadBundle(const std::string &sabPath);
	[[nodiscard]] Result<Job> submitJob(const std::string &bundleId, const nlohmann::json &overlay);
	[[nodiscard]] Result<void> cancelJob(const std::string &jobId);

	// Raw GET of a path under the instance URL, or an absolute URL from a `self`/relation field.
	[[nodiscard]] Result<nlohmann::json> get(const std::string &pathOrUrl);
	// Every element of a collection: follows `count`/`page` until `total` elements are read.
	[[nodiscard]] Result<std::vector<nlohmann::json>> list(const std::string &pathOrUrl, const std::string &plural,
							      const Query &q = {});

	// Details of the last failed request (Kind::None after a success).
	const ApiFailure &lastFailure() const { return failure_; }
	// Requests made, and pages read, since construction (for tests and benchmarks).
	uint64_t requestCount() const { return requests_; }

private:
	struct Impl;
	Endpoint ep_;
	std::unique_ptr<Impl> impl_;
	ApiFailure failure_;
	uint64_t requests_ = 0;
};

} // namespace xdc::streams
