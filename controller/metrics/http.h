// SPDX-License-Identifier: Apache-2.0
// The HTTP plumbing the metric sources share: one libcurl handle (common/http/curl_api.h), timeouts, credentials read from
// files, and failures kept apart by kind with the server's own words.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"

namespace xdc::metrics {

// Where a metrics server is and how to reach it. Credentials are read from files when a request is made and are
// never logged, printed or put into a URL or an error message.
struct HttpTarget {
	std::string url;             // base URL, scheme://host:port[/prefix] (http or https), no trailing query
	std::string bearerTokenFile; // first line: a token sent as "Authorization: Bearer ..."
	std::string basicAuthFile;   // first line: "user:password" (HTTP Basic)
	std::string caFile;          // TLS: CA bundle (empty = system store)
	bool insecure = false;       // TLS: skip peer and host verification (explicit only)
	int connectTimeoutMs = 2000;
	int timeoutMs = 10000;       // the whole request
};

// What went wrong with the last request, beyond the Result's Errc + message.
struct Failure {
	enum class Kind {
		None,
		Config,   // bad URL or unreadable credentials file
		Connect,  // could not resolve or connect
		Timeout,  // connect or total timeout
		Tls,      // certificate or handshake failure
		Auth,     // HTTP 401/403
		Http,     // another non-2xx status
		BadJson,  // the body is not JSON
		BadShape, // JSON of the wrong shape or types
		Server,   // the server answered with its own error (Prometheus "status":"error", Jolokia "status" != 200)
	};
	Kind kind = Kind::None;
	int httpStatus = 0;    // 0 when there was no response
	std::string errorType; // Prometheus `errorType` ("bad_data", "timeout", ...), Jolokia `error_type` (a class)
	std::string error;     // the server's `error` text, or curl's error text
	std::string url;       // the request URL (never with credentials)
};
const char *failureKindName(Failure::Kind k);

struct HttpResponse {
	long status = 0;
	std::string body;
};

// One connection to one server. Thread-compatible: one thread uses one HttpClient.
class HttpClient {
public:
	explicit HttpClient(HttpTarget target, std::string userAgent);
	~HttpClient();
	HttpClient(const HttpClient &) = delete;
	HttpClient &operator=(const HttpClient &) = delete;

	const HttpTarget &target() const { return target_; }
	// The base URL followed by path (which starts with '/'), without a doubled slash.
	std::string urlFor(const std::string &path) const;
	// "k=v&k2=v2" with each value percent-encoded.
	std::string escape(const std::string &s) const;

	// GET (payload null) or POST (payload with contentType). Any HTTP status is a success here, so that callers can
	// read an error body; transport failures (connect, timeout, TLS, unreadable credentials) are errors that set
	// lastFailure().
	[[nodiscard]] Result<HttpResponse> request(const std::string &url, const std::string *payload = nullptr,
						   const char *contentType = nullptr);

	// Records a failure found by the caller (bad status, bad JSON, a server error) and returns it as an Error.
	Error fail(Failure f, Errc code, const std::string &message);
	const Failure &lastFailure() const { return failure_; }
	void clearFailure() { failure_ = {}; }

private:
	struct Impl;
	HttpTarget target_;
	std::unique_ptr<Impl> impl_;
	Failure failure_;
};

// The usual Error for a non-2xx response whose body said nothing more useful: "GET URL: HTTP 503 <text>".
Errc errcForStatus(long status);

} // namespace xdc::metrics
