// SPDX-License-Identifier: Apache-2.0
#include "emulator/tcp_source.h"

#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <fmt/format.h>

namespace xdc::emu {

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr size_t kMaxBatch = 64 << 20; // a batch larger than this closes the connection

class Session : public std::enable_shared_from_this<Session> {
public:
	Session(tcp::socket s, Emulator &emu) : sock_(std::move(s)), emu_(emu), buf_(kMaxBatch) {}
	void start() { read(); }

private:
	void read()
	{
		auto self = shared_from_this();
		asio::async_read_until(sock_, buf_, "\n\n", [this, self](boost::system::error_code ec, size_t n) {
			if (ec)
				return; // closed, or a batch over the limit: the connection ends
			std::string batch(asio::buffers_begin(buf_.data()), asio::buffers_begin(buf_.data()) + std::ptrdiff_t(n));
			buf_.consume(n);
			auto r = emu_.injectTuples(batch);
			reply_ = r ? fmt::format("ok {}\n", *r)
				   : fmt::format("{} {}\n", r.error().code == Errc::Refused ? "refused" : "error", r.error().message);
			asio::async_write(sock_, asio::buffer(reply_), [this, self](boost::system::error_code wec, size_t) {
				if (!wec)
					read();
			});
		});
	}

	tcp::socket sock_;
	Emulator &emu_;
	asio::streambuf buf_;
	std::string reply_;
};

} // namespace

TcpSource::TcpSource(asio::io_context &io, Emulator &emu) : io_(io), emu_(emu), acceptor_(io) {}

Result<void> TcpSource::listen(const HostPort &at)
{
	boost::system::error_code ec;
	const auto addr = asio::ip::make_address(at.host, ec);
	if (ec)
		return makeError(Errc::Invalid, "data TCP source: bad address '{}'", at.host);
	tcp::endpoint ep(addr, static_cast<unsigned short>(at.port));
	acceptor_.open(ep.protocol(), ec);
	if (!ec)
		acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
	if (!ec)
		acceptor_.bind(ep, ec);
	if (!ec)
		acceptor_.listen(asio::socket_base::max_listen_connections, ec);
	if (ec)
		return makeError(Errc::Io, "data TCP source: cannot listen on {}: {}", at.str(), ec.message());
	accept();
	return success();
}

void TcpSource::close()
{
	boost::system::error_code ec;
	acceptor_.close(ec);
}

void TcpSource::accept()
{
	acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
		if (ec)
			return;
		s.set_option(tcp::no_delay(true), ec);
		std::make_shared<Session>(std::move(s), emu_)->start();
		accept();
	});
}

} // namespace xdc::emu
