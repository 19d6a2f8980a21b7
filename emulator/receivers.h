// SPDX-License-Identifier: Apache-2.0
// Listening sockets that exist only while the operator behind them runs, as a PE's ports do:
//  - BlobReceiver: streamsx.inet's HTTP injection operators: HTTPBLOBInjection as the cross-DC toolkit uses it
//    (`CrossDataCenterReceiverForHB`, `CrossDataCenterReceiver[k]`: a POST of any body to its inject path becomes
//    one output tuple) and HTTPJSONInjection (one JSON object per POST); the answer is the handler's status (204:
//    taken), and says nothing more; with onGet(), streamsx.inet's HTTPTupleView instead: a GET of its path answers
//    the window's tuples as a JSON array. Other paths get 404, other methods 405. Keep-alive; each connection is served
//    on its own thread (at most 32 at once).
//  - LineReceiver: SPL's TCPSource in server role: each line a client writes is one tuple (no answer); one
//    connection at a time, kept open as long as the client keeps it.
// Each runs one accept thread that serves its connections one after the other (the toolkit's traffic is a few
// requests a second). close() stops accepting, drops open connections and joins the thread; after it the port is
// free, as after the PE's death. Callbacks run on the receiver's thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <vector>
#include <string>
#include <thread>

#include "common/result.h"
#include "emulator/options.h"

namespace xdc::emu {

class BlobReceiver {
public:
	// Returns the HTTP status to answer (204: taken; 400: not a tuple).
	using Handler = std::function<int(const std::string &body, const std::map<std::string, std::string> &headers)>;
	BlobReceiver() = default;
	~BlobReceiver();
	BlobReceiver(const BlobReceiver &) = delete;
	BlobReceiver &operator=(const BlobReceiver &) = delete;

	// Binds and starts accepting; errors name the address. `paths`: the inject paths it answers.
	[[nodiscard]] Result<void> listen(const HostPort &at, std::vector<std::string> paths, Handler h);
	// An HTTPTupleView's side: a GET of one of the paths answers 200 with this JSON (before listen()).
	void onGet(std::function<std::string()> f) { get_ = std::move(f); }
	void close();

private:
	struct Conn {
		std::thread thread;
		std::atomic<bool> done{false};
	};
	void run();
	void serve(int fd);
	int lfd_ = -1;
	int wake_[2] = {-1, -1};
	std::vector<std::string> paths_;
	Handler handler_;
	std::function<std::string()> get_;
	std::thread thread_;
	std::vector<std::unique_ptr<Conn>> conns_;
};

class LineReceiver {
public:
	using Handler = std::function<void(const std::string &line)>;
	LineReceiver() = default;
	~LineReceiver();
	LineReceiver(const LineReceiver &) = delete;
	LineReceiver &operator=(const LineReceiver &) = delete;

	[[nodiscard]] Result<void> listen(const HostPort &at, Handler h);
	// Called at close() for every line still unread in the open connection (what dies with the operator's PE).
	void setDrain(Handler h) { drain_ = std::move(h); }
	void close();

private:
	void run();
	int lfd_ = -1;
	int wake_[2] = {-1, -1};
	Handler handler_, drain_;
	std::thread thread_;
};

} // namespace xdc::emu
