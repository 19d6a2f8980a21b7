// SPDX-License-Identifier: Apache-2.0
// The Beast HTTP server: one session object per connection, reading and answering requests in turn.
#include "emulator/http_server.h"

#include <optional>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>

#include "common/log.h"

namespace xdc::emu {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Bundles are the largest bodies; anything bigger is refused by the parser rather than buffered.
constexpr size_t kBodyLimit = 64 * 1024 * 1024;
constexpr auto kIdle = std::chrono::seconds(60);

class Session : public std::enable_shared_from_this<Session> {
public:
	Session(tcp::socket sock, std::shared_ptr<HttpHandler> handler)
		: stream_(std::move(sock)), handler_(std::move(handler))
	{
	}

	void start() { read(); }

private:
	void read()
	{
		parser_.emplace();
		parser_->body_limit(kBodyLimit);
		stream_.expires_after(kIdle);
		http::async_read(stream_, buf_, *parser_,
				 [self = shared_from_this()](beast::error_code ec, size_t) { self->onRead(ec); });
	}

	void onRead(beast::error_code ec)
	{
		if (ec) {
			// A malformed request gets a 400 where the connection still allows one; then the session ends.
			if (ec != http::error::end_of_stream && ec != beast::error::timeout && ec != asio::error::eof &&
			    ec != asio::error::connection_reset && ec != asio::error::operation_aborted) {
				auto res = std::make_shared<HttpResponse>(http::status::bad_request, 11);
				res->set(http::field::content_type, "application/json");
				res->set(http::field::connection, "close");
				res->body() = R"({"id":"CDISW5001E","message":"CDISW5001E The request could not be parsed."})";
				res->prepare_payload();
				http::async_write(stream_, *res, [self = shared_from_this(), res](beast::error_code, size_t) {
					self->shutdown();
				});
				return;
			}
			shutdown();
			return;
		}
		HttpRequest req = parser_->release();
		auto res = std::make_shared<HttpResponse>();
		try {
			*res = (*handler_)(req);
		} catch (const std::exception &e) {
			*res = HttpResponse(http::status::internal_server_error, req.version());
			res->set(http::field::content_type, "application/json");
			res->body() = nlohmannFree(e.what());
		}
		res->version(req.version());
		res->keep_alive(req.keep_alive());
		res->prepare_payload();
		const bool close = !res->keep_alive();
		http::async_write(stream_, *res, [self = shared_from_this(), res, close](beast::error_code wec, size_t) {
			if (wec || close)
				self->shutdown();
			else
				self->read();
		});
	}

	static std::string nlohmannFree(const std::string &what)
	{
		std::string clean;
		for (char c : what)
			if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20)
				clean += c;
		return R"({"id":"CDISW5001E","message":"CDISW5001E An unexpected error occurred: )" + clean + "\"}";
	}

	void shutdown()
	{
		beast::error_code ec;
		stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
		stream_.socket().close(ec);
	}

	beast::tcp_stream stream_;
	beast::flat_buffer buf_;
	std::optional<http::request_parser<http::string_body>> parser_;
	std::shared_ptr<HttpHandler> handler_;
};

} // namespace

HttpServer::HttpServer(asio::io_context &io, HttpHandler handler, std::string name)
	: io_(io), acceptor_(io), handler_(std::make_shared<HttpHandler>(std::move(handler))), name_(std::move(name))
{
}

Result<void> HttpServer::listen(const HostPort &at)
{
	beast::error_code ec;
	const auto addr = asio::ip::make_address(at.host, ec);
	if (ec)
		return makeError(Errc::Invalid, "{} listen address '{}' is not an IP address", name_, at.host);
	const tcp::endpoint ep(addr, at.port);
	acceptor_.open(ep.protocol(), ec);
	if (!ec)
		acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
	if (!ec)
		acceptor_.bind(ep, ec);
	if (!ec)
		acceptor_.listen(asio::socket_base::max_listen_connections, ec);
	if (ec)
		return makeError(Errc::Io, "{} cannot listen on {}: {}", name_, at.str(), ec.message());
	accept();
	return success();
}

void HttpServer::close()
{
	beast::error_code ec;
	acceptor_.close(ec);
}

void HttpServer::accept()
{
	acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket sock) {
		if (ec == asio::error::operation_aborted || !acceptor_.is_open())
			return;
		if (!ec)
			std::make_shared<Session>(std::move(sock), handler_)->start();
		accept();
	});
}

} // namespace xdc::emu
