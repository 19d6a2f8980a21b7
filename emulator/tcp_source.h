// SPDX-License-Identifier: Apache-2.0
// The data plane's TCP line source (the second DataSource kind, docs/DATA.md): a client writes tuple lines and ends
// a batch with an empty line; the emulator answers one line per batch: "ok N", "refused REASON" (nothing accepted:
// standby, no job, job not healthy) or "error REASON" (nothing accepted: a line that is not a tuple).
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "common/result.h"
#include "emulator/emulator.h"
#include "emulator/options.h"

namespace xdc::emu {

class TcpSource {
public:
	TcpSource(boost::asio::io_context &io, Emulator &emu);
	[[nodiscard]] Result<void> listen(const HostPort &at);
	void close();

private:
	void accept();
	boost::asio::io_context &io_;
	Emulator &emu_;
	boost::asio::ip::tcp::acceptor acceptor_;
};

} // namespace xdc::emu
