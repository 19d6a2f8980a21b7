// SPDX-License-Identifier: Apache-2.0
// Where test data goes in and comes out: the DataSource and DataSink interfaces, and the sources in the shapes real
// Streams applications ingest (docs/DATA.md): streamsx.inet's HTTPJSONInjection (one JSON tuple per POST) and SPL's
// TCPSource (one tuple per line, no answer). The file drop through an agent (DirectoryScan + FileSource) is in
// controller/data/agent_drop.*; sinks are FileSinks read through their hosts' agents (controller/data/agent_sink.*).
//
// Contracts: one thread uses one source or sink. A source's send() writes the lines in order and stops at the first
// it cannot write: `written` lines went out (taken, for a source whose service answers; written to the connection,
// for one that does not), `uncertain` lines after them may or may not have (a timeout after sending), the rest did
// not. A sink's poll() returns the lines that came out since the previous poll (possibly none), never the same
// line twice.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace xdc::data {

// What one send() did.
struct SendResult {
	size_t written = 0;          // the first `written` lines went out
	size_t uncertain = 0;        // the lines after them whose outcome is unknown
	std::optional<Error> error;  // why it stopped short (nothing when every line was written)
};

class DataSource {
public:
	virtual ~DataSource() = default;
	virtual std::string name() const = 0; // the DC it feeds
	virtual std::string how() const = 0;  // for the report: "HTTPJSONInjection POST URL", ...
	// Writes `lines` (n newline-terminated JSON tuples), in order, up to the first it cannot write.
	virtual SendResult send(std::string_view lines, size_t n) = 0;
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
	// Reads after which tuples may have gone unseen (a window sink whose window moved past what was read): a run
	// with any cannot settle its counts.
	virtual uint64_t missed() const { return 0; }
};

struct HttpEndpointOptions {
	std::string name;     // DC name, for reports
	std::string url;      // the inject URL
	std::string user, password; // HTTP Basic (never logged)
	std::string caFile;
	bool insecure = false;
	int timeoutMs = 2000;
};

// HTTPJSONInjection: each tuple one POST of its JSON object (application/json) over one kept-alive connection; a 2xx
// answer means it was taken. A connection failure, any other status or a timeout stops the batch.
std::unique_ptr<DataSource> makeHttpJsonSource(const HttpEndpointOptions &o);
// TCPSource: the tuple lines written to one connection (reopened after an error); nothing is answered, so a line is
// written when the kernel took all of its bytes. Numeric host only.
std::unique_ptr<DataSource> makeTcpLineSource(const std::string &name, const std::string &host, int port, int timeoutMs);

// HTTPTupleView (streamsx.inetserver) on the application's output, its window sliding over the last N tuples and
// triggered by each one: each poll GETs the window (a JSON array, oldest first; `url` is its .../ports/input/0/tuples
// path) and returns the tuples after the longest overlap with the previous read. The first read only positions (what
// the window held before the run is skipped). A read that shares nothing with a non-empty previous one (the window
// moved by its whole size between two reads, or was emptied by a restart of its PE), or a first successful read of a
// non-empty window after failed ones, may have skipped tuples: missed() counts those reads, plus one while the view
// cannot be read (what it showed since the last read may have gone with its PE).
std::unique_ptr<DataSink> makeTupleViewSink(const HttpEndpointOptions &o);

// Two successive reads of a sliding window, each oldest first: `fresh` is how many of cur's last elements came after
// the longest suffix of prev that is a prefix of cur (all of cur when prev is empty); `joined` is false when prev is
// non-empty and they share nothing (cur empty, or no overlap), so elements between them may have gone unseen.
struct WindowJoin {
	size_t fresh = 0;
	bool joined = true;
};
WindowJoin joinWindow(const std::vector<std::string> &prev, const std::vector<std::string> &cur);

} // namespace xdc::data
