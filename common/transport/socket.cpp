// SPDX-License-Identifier: Apache-2.0
// Socket options and monitors.
#include "common/transport/socket.h"

#include <algorithm>
#include <cstring>

namespace xdc::transport {

size_t hardFrameCap(size_t maxFrame) { return maxFrame * 2 + 65536; }

void applyCommon(zmq::socket_t &s, const SocketOptions &o)
{
	s.set(zmq::sockopt::linger, 0);
	if (o.heartbeatIvlMs > 0) {
		s.set(zmq::sockopt::heartbeat_ivl, o.heartbeatIvlMs);
		s.set(zmq::sockopt::heartbeat_timeout, o.heartbeatTimeoutMs);
		s.set(zmq::sockopt::heartbeat_ttl, o.heartbeatTimeoutMs);
	}
	if (o.deadPeerMs > 0) {
		s.set(zmq::sockopt::tcp_keepalive, 1);
		s.set(zmq::sockopt::tcp_keepalive_idle, std::max(1, o.deadPeerMs / 3000));
		s.set(zmq::sockopt::tcp_keepalive_intvl, std::max(1, o.deadPeerMs / 6000));
		s.set(zmq::sockopt::tcp_keepalive_cnt, 3);
		s.set(zmq::sockopt::tcp_maxrt, o.deadPeerMs);
	}
	s.set(zmq::sockopt::sndhwm, o.hwm);
	s.set(zmq::sockopt::rcvhwm, o.hwm);
	s.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(hardFrameCap(o.maxFrame)));
}

SocketOptions serverOptions()
{
	SocketOptions o;
	o.deadPeerMs = 30000;
	return o;
}

void makeCurveServer(zmq::socket_t &s, const std::string &secretKey)
{
	s.set(zmq::sockopt::curve_server, 1);
	s.set(zmq::sockopt::curve_secretkey, secretKey);
	s.set(zmq::sockopt::zap_domain, "xdc");
}

void makeCurveClient(zmq::socket_t &s, const std::string &publicKey, const std::string &secretKey,
		     const std::string &serverKey)
{
	s.set(zmq::sockopt::curve_serverkey, serverKey);
	s.set(zmq::sockopt::curve_publickey, publicKey);
	s.set(zmq::sockopt::curve_secretkey, secretKey);
}

Monitor::Monitor(zmq::context_t &ctx, zmq::socket_t &watched, const std::string &name, int events)
	: pair_(ctx, zmq::socket_type::pair)
{
	const std::string ep = "inproc://monitor." + name;
	if (zmq_socket_monitor(watched.handle(), ep.c_str(), events) != 0)
		throw zmq::error_t();
	pair_.set(zmq::sockopt::linger, 0);
	pair_.connect(ep);
}

bool Monitor::read(Event &ev)
{
	zmq::message_t head, addr;
	try {
		if (!pair_.recv(head, zmq::recv_flags::dontwait))
			return false;
		if (head.more())
			(void)pair_.recv(addr, zmq::recv_flags::none);
	} catch (const zmq::error_t &) {
		return false;
	}
	if (head.size() < 6)
		return false;
	std::memcpy(&ev.event, head.data(), 2);
	std::memcpy(&ev.value, static_cast<const char *>(head.data()) + 2, 4);
	ev.address = addr.to_string();
	return true;
}

std::string eventName(uint16_t event)
{
	switch (event) {
	case ZMQ_EVENT_CONNECTED: return "connected";
	case ZMQ_EVENT_CONNECT_DELAYED: return "connect_delayed";
	case ZMQ_EVENT_CONNECT_RETRIED: return "connect_retried";
	case ZMQ_EVENT_LISTENING: return "listening";
	case ZMQ_EVENT_ACCEPTED: return "accepted";
	case ZMQ_EVENT_ACCEPT_FAILED: return "accept_failed";
	case ZMQ_EVENT_CLOSED: return "closed";
	case ZMQ_EVENT_DISCONNECTED: return "disconnected";
	case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: return "handshake_failed";
	case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: return "handshake_succeeded";
	case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: return "handshake_failed_protocol";
	case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: return "handshake_failed_auth";
	}
	return "event_" + std::to_string(event);
}

} // namespace xdc::transport
