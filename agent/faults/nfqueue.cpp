// SPDX-License-Identifier: Apache-2.0
#include "agent/faults/nfqueue.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>

#include "common/clock.h"

namespace xdc::agent {

namespace {

constexpr size_t kMaxAttrs = 64; // the largest request: a command and two flag words

// Appends one netlink attribute (header, value, padding to 4 bytes) to `out` at `used`.
void putAttr(unsigned char *out, size_t &used, uint16_t type, const void *value, size_t len)
{
	nlattr a{};
	a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
	a.nla_type = type;
	std::memcpy(out + used, &a, sizeof a);
	std::memcpy(out + used + NLA_HDRLEN, value, len);
	const size_t padded = NLA_ALIGN(NLA_HDRLEN + len);
	std::memset(out + used + NLA_HDRLEN + len, 0, padded - NLA_HDRLEN - len);
	used += padded;
}

void putBe32(unsigned char *out, size_t &used, uint16_t type, uint32_t v)
{
	const uint32_t be = htonl(v);
	putAttr(out, used, type, &be, sizeof be);
}

constexpr uint16_t msgType(uint16_t nfqnl) { return static_cast<uint16_t>((NFNL_SUBSYS_QUEUE << 8) | nfqnl); }

} // namespace

Result<void> NfQueue::open()
{
	if (fd_ >= 0)
		return success();
	fd_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd_ < 0)
		return makeError(Errc::Io, "netlink socket (NETLINK_NETFILTER): {}", strerror(errno));
	sockaddr_nl local{};
	local.nl_family = AF_NETLINK; // nl_pid 0: the kernel picks this socket's port id
	if (::bind(fd_, reinterpret_cast<sockaddr *>(&local), sizeof local) != 0) {
		const int e = errno;
		::close(fd_);
		fd_ = -1;
		return makeError(Errc::Io, "netlink bind: {}", strerror(e));
	}
	return success();
}

Result<void> NfQueue::send(uint16_t type, const void *attrs, size_t attrsLen, bool ack)
{
	alignas(NLMSG_ALIGNTO) unsigned char buf[NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg)) + kMaxAttrs];
	nlmsghdr h{};
	h.nlmsg_len = static_cast<uint32_t>(NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg)) + attrsLen);
	h.nlmsg_type = msgType(type);
	h.nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | (ack ? NLM_F_ACK : 0));
	h.nlmsg_seq = ++seq_;
	nfgenmsg g{};
	g.nfgen_family = AF_UNSPEC;
	g.version = NFNETLINK_V0;
	g.res_id = htons(queue_);
	std::memcpy(buf, &h, sizeof h);
	std::memcpy(buf + NLMSG_HDRLEN, &g, sizeof g);
	std::memcpy(buf + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg)), attrs, attrsLen);
	sockaddr_nl kernel{};
	kernel.nl_family = AF_NETLINK;
	ssize_t n;
	do
		n = ::sendto(fd_, buf, h.nlmsg_len, 0, reinterpret_cast<sockaddr *>(&kernel), sizeof kernel);
	while (n < 0 && errno == EINTR);
	if (n != static_cast<ssize_t>(h.nlmsg_len))
		return makeError(Errc::Io, "netlink send: {}", n < 0 ? strerror(errno) : "short write");
	return ack ? waitAck(h.nlmsg_seq) : success();
}

Result<void> NfQueue::waitAck(uint32_t seq)
{
	// The kernel answers a request with NLM_F_ACK at once; a second is far beyond any real answer.
	const int64_t deadline = clk::monoNs() + clk::kSec;
	alignas(8) unsigned char buf[65536];
	while (true) {
		const int64_t left = deadline - clk::monoNs();
		pollfd p{fd_, POLLIN, 0};
		const int r = left > 0 ? ::poll(&p, 1, static_cast<int>(left / clk::kMs) + 1) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return makeError(Errc::Timeout, "no acknowledgement from nfnetlink_queue within 1 s");
		const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return makeError(Errc::Io, "netlink receive: {}", strerror(errno));
		}
		size_t left_bytes = static_cast<size_t>(n);
		for (auto *h = reinterpret_cast<nlmsghdr *>(buf); NLMSG_OK(h, left_bytes); h = NLMSG_NEXT(h, left_bytes)) {
			if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr)))
				return makeError(Errc::Io, "netlink: truncated acknowledgement");
			nlmsgerr e{};
			std::memcpy(&e, NLMSG_DATA(h), sizeof e);
			if (e.error == 0)
				return success();
			errno = -e.error;
			return makeError(Errc::Io, "{}", strerror(-e.error));
		}
		// Anything else in the datagram (a packet notification) goes to the handler as usual.
		handle(buf, static_cast<size_t>(n));
	}
}

Result<void> NfQueue::bind(uint16_t num)
{
	queue_ = num;
	nfqnl_msg_config_cmd cmd{};
	cmd.command = NFQNL_CFG_CMD_BIND;
	cmd.pf = htons(AF_UNSPEC);
	unsigned char attrs[kMaxAttrs];
	size_t used = 0;
	putAttr(attrs, used, NFQA_CFG_CMD, &cmd, sizeof cmd);
	auto r = send(NFQNL_MSG_CONFIG, attrs, used, true);
	bound_ = r.ok();
	return r;
}

Result<void> NfQueue::setCopy(bool packet, uint32_t range)
{
	nfqnl_msg_config_params p{};
	p.copy_range = htonl(range);
	p.copy_mode = packet ? NFQNL_COPY_PACKET : NFQNL_COPY_META;
	unsigned char attrs[kMaxAttrs];
	size_t used = 0;
	putAttr(attrs, used, NFQA_CFG_PARAMS, &p, sizeof p);
	return send(NFQNL_MSG_CONFIG, attrs, used, true);
}

Result<void> NfQueue::setMaxLen(uint32_t packets)
{
	unsigned char attrs[kMaxAttrs];
	size_t used = 0;
	putBe32(attrs, used, NFQA_CFG_QUEUE_MAXLEN, packets);
	return send(NFQNL_MSG_CONFIG, attrs, used, true);
}

Result<void> NfQueue::setFlags(uint32_t mask, uint32_t flags)
{
	unsigned char attrs[kMaxAttrs];
	size_t used = 0;
	putBe32(attrs, used, NFQA_CFG_MASK, mask);
	putBe32(attrs, used, NFQA_CFG_FLAGS, flags);
	return send(NFQNL_MSG_CONFIG, attrs, used, true);
}

bool NfQueue::sendVerdict(uint16_t type, uint32_t id, uint32_t v)
{
	nfqnl_msg_verdict_hdr vh{htonl(v), htonl(id)};
	unsigned char attrs[kMaxAttrs];
	size_t used = 0;
	putAttr(attrs, used, NFQA_VERDICT_HDR, &vh, sizeof vh);
	return send(type, attrs, used, false).ok();
}

bool NfQueue::verdict(uint32_t id, uint32_t v) { return sendVerdict(NFQNL_MSG_VERDICT, id, v); }

bool NfQueue::verdictBatch(uint32_t id, uint32_t v) { return sendVerdict(NFQNL_MSG_VERDICT_BATCH, id, v); }

void NfQueue::handle(const void *buf, size_t len)
{
	const auto *base = static_cast<const unsigned char *>(buf);
	size_t left = len;
	for (auto *h = reinterpret_cast<const nlmsghdr *>(base); NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
		if (h->nlmsg_type != msgType(NFQNL_MSG_PACKET))
			continue;
		const size_t head = NLMSG_ALIGN(sizeof(nfgenmsg));
		if (h->nlmsg_len < NLMSG_HDRLEN + head)
			return;
		const auto *p = static_cast<const unsigned char *>(NLMSG_DATA(h)) + head;
		size_t rest = h->nlmsg_len - NLMSG_HDRLEN - head;
		bool haveHdr = false;
		Packet pkt{0, 0, nullptr, 0};
		while (rest >= NLA_HDRLEN) {
			nlattr a{};
			std::memcpy(&a, p, sizeof a);
			if (a.nla_len < NLA_HDRLEN || a.nla_len > rest)
				return;
			const size_t vlen = a.nla_len - NLA_HDRLEN;
			const int type = a.nla_type & NLA_TYPE_MASK;
			if (type == NFQA_PACKET_HDR && vlen >= sizeof(nfqnl_msg_packet_hdr)) {
				nfqnl_msg_packet_hdr ph{};
				std::memcpy(&ph, p + NLA_HDRLEN, sizeof ph);
				pkt.id = ntohl(ph.packet_id);
				pkt.hook = ph.hook;
				haveHdr = true;
			} else if (type == NFQA_PAYLOAD) {
				pkt.payload = p + NLA_HDRLEN;
				pkt.len = vlen;
			}
			const size_t step = NLA_ALIGN(a.nla_len);
			if (step >= rest)
				break;
			p += step;
			rest -= step;
		}
		if (haveHdr)
			onPacket_(pkt);
	}
}

void NfQueue::close()
{
	if (fd_ < 0)
		return;
	if (bound_) {
		nfqnl_msg_config_cmd cmd{};
		cmd.command = NFQNL_CFG_CMD_UNBIND;
		unsigned char attrs[kMaxAttrs];
		size_t used = 0;
		putAttr(attrs, used, NFQA_CFG_CMD, &cmd, sizeof cmd);
		(void)send(NFQNL_MSG_CONFIG, attrs, used, false); // closing the socket unbinds it too
		bound_ = false;
	}
	::close(fd_);
	fd_ = -1;
}

} // namespace xdc::agent
