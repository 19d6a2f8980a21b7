// SPDX-License-Identifier: Apache-2.0
// ZAP (RFC 27) request handling.
#include "common/transport/zap.h"

#include <vector>

#include "common/clock.h"
#include "common/log.h"

namespace xdc::transport {

ZapHandler::ZapHandler(zmq::context_t &ctx) : sock_(ctx, zmq::socket_type::rep) {}

Result<std::unique_ptr<ZapHandler>> ZapHandler::create(zmq::context_t &ctx, AllowList allow)
{
	std::unique_ptr<ZapHandler> h(new ZapHandler(ctx));
	try {
		h->sock_.set(zmq::sockopt::linger, 0);
		h->sock_.bind("inproc://zeromq.zap.01");
	} catch (const zmq::error_t &e) {
		return makeError(Errc::Io, "cannot bind the ZAP handler: {}", e.what());
	}
	h->allow_ = std::move(allow);
	return h;
}

bool ZapHandler::handle()
{
	std::vector<zmq::message_t> parts;
	try {
		while (true) {
			zmq::message_t m;
			if (!sock_.recv(m, zmq::recv_flags::dontwait))
				break;
			bool more = m.more();
			parts.push_back(std::move(m));
			if (!more)
				break;
		}
	} catch (const zmq::error_t &) {
		return false;
	}
	if (parts.empty())
		return false;
	auto reply = [&](const std::string &code, const std::string &text, const std::string &user) {
		try {
			sock_.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
			sock_.send(parts.size() > 1 ? zmq::message_t(parts[1].data(), parts[1].size()) : zmq::message_t(),
				   zmq::send_flags::sndmore);
			sock_.send(zmq::buffer(code), zmq::send_flags::sndmore);
			sock_.send(zmq::buffer(text), zmq::send_flags::sndmore);
			sock_.send(zmq::buffer(user), zmq::send_flags::sndmore);
			sock_.send(zmq::message_t(), zmq::send_flags::none);
		} catch (const zmq::error_t &) {
		}
	};
	// version, request id, domain, address, identity, mechanism, credentials...
	if (parts.size() < 6 || parts[0].to_string() != "1.0") {
		reply("500", "malformed ZAP request", "");
		return true;
	}
	const std::string address = parts[3].to_string();
	const std::string mechanism = parts[5].to_string();
	if (mechanism != "CURVE" || parts.size() < 7 || parts[6].size() != 32) {
		refused_++;
		log::get("transport")->warn("refused a {} client from {}: only CURVE is accepted", mechanism, address);
		reply("400", "CURVE required", "");
		return true;
	}
	char z85[41];
	zmq_z85_encode(z85, static_cast<const uint8_t *>(parts[6].data()), 32);
	const std::string key(z85);
	auto it = allow_.idByKey.find(key);
	if (it == allow_.idByKey.end()) {
		refused_++;
		const int64_t now = clk::monoNs();
		// Bounded memory whatever keys a hostile client cycles through.
		if (lastLogged_.size() > 1024) {
			lastLogged_.clear();
			suppressed_.clear();
		}
		auto &last = lastLogged_[key];
		if (last == 0 || now - last > 60 * clk::kSec) {
			log::get("transport")->warn("refused agent key {} from {}: not in the allow-list{}",
						    fingerprint(key), address,
						    suppressed_[key] ? fmt::format(" ({} more refusals since the last report)",
										   suppressed_[key])
								     : "");
			last = now;
			suppressed_[key] = 0;
		} else {
			suppressed_[key]++;
		}
		reply("400", "key not allowed", "");
		return true;
	}
	accepted_++;
	reply("200", "OK", it->second);
	return true;
}

} // namespace xdc::transport
