// SPDX-License-Identifier: Apache-2.0
// A small HTTP/1.1 server on Boost.Beast: keep-alive sessions, a size limit, an idle timeout, one handler.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http.hpp>

#include "common/result.h"
#include "emulator/options.h"

namespace xdc::emu {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;
// Called on an io_context thread for every request; must not throw (exceptions become 500s).
using HttpHandler = std::function<HttpResponse(const HttpRequest &)>;

class HttpServer {
public:
	HttpServer(boost::asio::io_context &io, HttpHandler handler, std::string name);
	// Binds and listens; errors name the address. Accepting starts at once.
	[[nodiscard]] Result<void> listen(const HostPort &at);
	void close();

private:
	void accept();
	boost::asio::io_context &io_;
	boost::asio::ip::tcp::acceptor acceptor_;
	std::shared_ptr<HttpHandler> handler_;
	std::string name_;
};

} // namespace xdc::emu
