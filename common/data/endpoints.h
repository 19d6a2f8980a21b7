// SPDX-License-Identifier: Apache-2.0
// Where test data goes in and comes out: the DataSource and DataSink interfaces and their HTTP implementations
// (EndpointSource: POST of JSON tuple lines; EndpointSink: GET of JSON tuple lines after a cursor).
//
// Contracts: one thread uses one source or sink. A source's send() is all-or-nothing: Errc::Refused means the
// service said no (nothing was accepted: safe to send elsewhere), Errc::Timeout means the outcome is unknown (it may
// have been accepted), any other error means it was not delivered to the service. A sink's poll() returns the lines
// that came out since the previous poll (possibly none), never the same line twice.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace xdc::data {

class DataSource {
public:
	virtual ~DataSource() = default;
	virtual std::string name() const = 0; // the DC or host it feeds
	// Sends `lines` (n newline-terminated JSON tuples); returns how many the service accepted (all of them).
	virtual Result<size_t> send(std::string_view lines, size_t n) = 0;
};

class DataSink {
public:
	virtual ~DataSink() = default;
	virtual std::string name() const = 0;
	virtual Result<std::string> poll() = 0;
	// How it is read, for the report: "http GET URL", "agent HOST: sink file NAME (data.tail)".
	virtual std::string how() const = 0;
	// Times the source was found replaced or truncated and read again from its start (file sinks).
	virtual uint64_t restarts() const { return 0; }
};

struct HttpEndpointOptions {
	std::string name;     // DC name, for reports
	std::string url;      // the service's full URL
	std::string user, password; // HTTP Basic (never logged)
	std::string caFile;
	bool insecure = false;
	int timeoutMs = 2000;
};

std::unique_ptr<DataSource> makeHttpSource(const HttpEndpointOptions &o);
// The TCP line source: tuple lines, a batch ended by an empty line, one answer line per batch ("ok N",
// "refused REASON", "error REASON"). One connection, reopened after an error. Numeric host only.
std::unique_ptr<DataSource> makeTcpSource(const std::string &name, const std::string &host, int port, int timeoutMs);
std::unique_ptr<DataSink> makeHttpSink(const HttpEndpointOptions &o, size_t batch = 20000);

} // namespace xdc::data
