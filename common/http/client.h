// SPDX-License-Identifier: Apache-2.0
// The one HTTP client of xdc: the Streams REST client, the metric sources, the data endpoints, the agent's probe.http
// and the emulator all make their requests through it, and only this folder includes libcurl's header or calls
// libcurl (loaded on first use, common/http/curl_api.h). One handle per Client, so a kept-alive connection is reused;
// timeouts, credentials (given or read from files), TLS options; and one failure taxonomy (Failure) for every user.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace xdc::http {

// Where a server is and how to reach it. Credentials are never logged, printed or put into a URL or a message.
struct Target {
	std::string url;             // base URL, scheme://host:port[/prefix] (http or https), no trailing query
	std::string user, password;  // HTTP Basic credentials given directly (empty user = none)
	std::string bearerTokenFile; // first line: a token sent as "Authorization: Bearer ..." (read per request)
	std::string basicAuthFile;   // first line: "user:password" (HTTP Basic, read per request)
	std::string caFile;          // TLS: CA bundle (empty = system store)
	std::string clientCert, clientKey; // TLS client certificate and key (empty = none)
	bool insecure = false;       // TLS: skip peer and host verification (explicit only)
	int connectTimeoutMs = 2000;
	int timeoutMs = 10000;       // the whole request
	std::string userAgent;       // empty: no User-Agent header
	std::string accept;          // the Accept header (empty: libcurl's default)
	// Connection behaviour. reuse=false closes the connection after each request, so each one is a real connect
	// (probes, which must see a fault that only stops new connections).
	bool reuse = true;
	bool noProxy = false;        // never through a proxy from the environment
	bool resetOnClose = false;   // SO_LINGER 0: RST instead of FIN, no TIME_WAIT on this side
	// Bodies: larger than maxBody is a failure (BadShape), unless truncateBody, which keeps the first maxBody bytes
	// and reads (drops) the rest.
	size_t maxBody = size_t{64} << 20;
	bool truncateBody = false;
};

// What went wrong with a request, beyond the Result's Errc + message: one taxonomy for every user of HTTP, so that
// callers and tests tell the kinds apart and report the server's own words.
struct Failure {
	enum class Kind {
		None,
		Config,   // bad URL or unreadable credentials file
		Connect,  // could not resolve or connect, or the transfer broke off
		Timeout,  // connect or total timeout
		Tls,      // certificate or handshake failure
		Auth,     // HTTP 401/403, or a token resource refused
		NotFound, // HTTP 404 where the caller tells it apart
		Http,     // another non-2xx status
		BadJson,  // the body is not JSON
		BadShape, // JSON of the wrong shape or types, or a body over the size limit
		Server,   // the server answered with its own error (Prometheus "status":"error", Jolokia "status" != 200)
	};
	Kind kind = Kind::None;
	int httpStatus = 0;    // 0 when there was no response
	std::string errorType; // the server's error kind or id: Prometheus errorType, Jolokia error_type, Streams CDISW id
	std::string error;     // the server's error text, or libcurl's
	std::string url;       // the request URL (never with credentials)
};
// "none", "config", "connect", "timeout", "tls", "auth", "not-found", "http", "bad-json", "bad-shape", "server".
const char *failureKindName(Failure::Kind k);

struct Request {
	const char *method = "GET";           // GET, POST, PUT, DELETE, ...
	std::string url;                      // absolute http(s) URL
	std::optional<std::string_view> body; // sent as is (POST without one sends an empty body)
	const char *contentType = nullptr;    // Content-Type of the body
	std::string_view bearerToken;         // in place of the target's credentials for this request
	bool noAuth = false;                  // send none of the target's credentials
	const bool *abort = nullptr;          // when it turns true during the transfer, the transfer stops (Connect)
};

// The outcome of one exchange. kind is None when the server answered (any status); otherwise the request failed
// before (Config: library, URL or credentials) or during the transfer (Connect, Timeout, Tls, BadShape: too large).
struct Response {
	long status = 0;
	std::string body;
	Failure::Kind kind = Failure::Kind::None;
	Errc setupCode = Errc::Invalid; // for Config: Unsupported when libcurl is missing
	int curlCode = 0;               // libcurl's code (0: none)
	std::string error;              // libcurl's detailed text, or the setup problem
	std::string errorName;          // libcurl's short text for curlCode (curl_easy_strerror)
	bool transient = false;         // worth another attempt for an idempotent request (the server may not have seen it)
	bool tooLarge = false;
	bool ok() const { return kind == Failure::Kind::None; }
};

// One connection to one server. Thread-compatible: one thread uses one Client.
class Client {
public:
	// `user` names the feature in the message when libcurl is missing ("probe.http", "the metrics client").
	explicit Client(Target target, const char *user = "the HTTP client");
	~Client();
	Client(const Client &) = delete;
	Client &operator=(const Client &) = delete;

	const Target &target() const { return target_; }
	// Fails (Unsupported, naming the package) when libcurl could not be loaded.
	[[nodiscard]] Result<void> ready() const;
	// The base URL followed by path (which starts with '/').
	std::string urlFor(const std::string &path) const { return joinUrl(target_.url, path); }

	// One exchange, reported as it went: never an error, see Response.
	Response perform(const Request &r);
	// perform, then a Config or transport failure becomes an Error with the usual message ("GET URL: timed out
	// (...)", "GET URL: cannot connect: ...") and sets lastFailure(). Any HTTP status is a success here, so that
	// callers can read an error body.
	[[nodiscard]] Result<Response> request(const Request &r);

	// Records a failure found by the caller (bad status, bad JSON, a server error) and returns it as an Error.
	Error fail(Failure f, Errc code, const std::string &message);
	const Failure &lastFailure() const { return failure_; }
	void clearFailure() { failure_ = {}; }

	// Hands a body's buffer back so that the next answer is received into its capacity (at most 1 MiB kept).
	void recycle(std::string &&buffer);
	static std::string joinUrl(const std::string &base, const std::string &path);

private:
	struct Impl;
	Target target_;
	std::unique_ptr<Impl> impl_;
	Failure failure_;
};

// The pure parts, shared and unit-tested.
// Percent-encodes everything but RFC 3986's unreserved characters (as curl_easy_escape does).
std::string escape(std::string_view s);
// "https://h:1/a/b?c" -> {"https://h:1", "/a/b?c"}; no "://" -> {"", url}.
std::pair<std::string, std::string> splitOrigin(const std::string &url);
bool isHttpUrl(std::string_view url);
// Server or library text as it may appear in a message: one line, printable, at most `max` characters then "...".
std::string printable(std::string_view s, size_t max = 300);
// What a libcurl code means: Timeout, Tls, Connect (any other transfer failure), None for 0.
Failure::Kind kindOfCurlCode(int curlCode);
// libcurl's code for a connection that could not be made (CURLE_COULDNT_CONNECT: refused, unreachable), for the
// callers that tell it apart from other transfer failures without including libcurl.
inline constexpr int kCouldNotConnect = 7;
// Whether the code means a failure to resolve or connect (as opposed to a transfer that broke off).
bool isConnectCurlCode(int curlCode);
// Transport failures worth another attempt for an idempotent request.
bool isTransientCurlCode(int curlCode);
// The Errc of a non-2xx status: 401/403 Refused, 404 NotFound, 400/422 Invalid, 503/504 Timeout, else Io.
Errc errcForStatus(long status);
// The Error (and its Failure) for a response that is not ok(): "METHOD URL: timed out (connect timeout N ms, total
// M ms): text", "...: TLS failure: text", "...: cannot connect: text", "...: transfer failed: text", "...: response
// larger than N MiB", or the setup problem.
Error transportError(const char *method, const std::string &url, const Response &r, const Target &t, Failure &out);

} // namespace xdc::http
