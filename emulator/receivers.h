// SPDX-License-Identifier: Apache-2.0
// Listening sockets that exist only while the operator behind them runs, as a PE's ports do:
//  - BlobReceiver: streamsx.inet's HTTPBLOBInjection as the cross-DC toolkit uses it (`CrossDataCenterReceiverForHB`,
//    `CrossDataCenterReceiver[k]`): a POST of any body to its one inject path becomes one output tuple; the answer
//    is 204. Other paths get 404, other methods 405.
//  - LineReceiver: SPL's TCPSource in server role: each line a client writes is one tuple (no answer).
// Each runs one accept thread that serves its connections one after the other (the toolkit's traffic is a few
// requests a second). close() stops accepting, drops open connections and joins the thread; after it the port is
// free, as after the PE's death. Callbacks run on the receiver's thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <thread>

#include "common/result.h"
#include "emulator/options.h"

namespace xdc::emu {

class BlobReceiver {
public:
	using Handler = std::function<void(const std::string &body, const std::map<std::string, std::string> &headers)>;
	BlobReceiver() = default;
	~BlobReceiver();
	BlobReceiver(const BlobReceiver &) = delete;
	BlobReceiver &operator=(const BlobReceiver &) = delete;

	// Binds and starts accepting; errors name the address.
	[[nodiscard]] Result<void> listen(const HostPort &at, std::string path, Handler h);
	void close();

private:
	void run();
	void serve(int fd);
	int lfd_ = -1;
	int wake_[2] = {-1, -1};
	std::string path_;
	Handler handler_;
	std::thread thread_;
};

class LineReceiver {
public:
	using Handler = std::function<void(const std::string &line)>;
	LineReceiver() = default;
	~LineReceiver();
	LineReceiver(const LineReceiver &) = delete;
	LineReceiver &operator=(const LineReceiver &) = delete;

	[[nodiscard]] Result<void> listen(const HostPort &at, Handler h);
	void close();

private:
	void run();
	int lfd_ = -1;
	int wake_[2] = {-1, -1};
	Handler handler_;
	std::thread thread_;
};

} // namespace xdc::emu
