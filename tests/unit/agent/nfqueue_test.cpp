// SPDX-License-Identifier: Apache-2.0
// NfQueue::handle: the packet notifications of a datagram as the kernel lays them out (nlmsghdr, nfgenmsg, nlattrs
// padded to 4 bytes), several per datagram, among acknowledgements; truncated and malformed input.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <cstring>
#include <string>
#include <vector>

#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <linux/netlink.h>

#include "agent/faults/nfqueue.h"

using namespace xdc::agent;

namespace {

struct NfqSeen {
	uint32_t id;
	uint8_t hook;
	std::string payload;
};

void nfqPad(std::vector<unsigned char> &b)
{
	while (b.size() % 4)
		b.push_back(0);
}

void nfqAttr(std::vector<unsigned char> &b, uint16_t type, const void *v, size_t len)
{
	nlattr a{};
	a.nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
	a.nla_type = type;
	const auto *p = reinterpret_cast<const unsigned char *>(&a);
	b.insert(b.end(), p, p + sizeof a);
	const auto *q = static_cast<const unsigned char *>(v);
	b.insert(b.end(), q, q + len);
	nfqPad(b);
}

// One NFQNL_MSG_PACKET message, appended to `out`.
void nfqPacketMsg(std::vector<unsigned char> &out, uint32_t id, uint8_t hook, const std::string &payload,
		  bool withPayload = true)
{
	std::vector<unsigned char> body(NLMSG_ALIGN(sizeof(nfgenmsg)), 0);
	nfqnl_msg_packet_hdr ph{};
	ph.packet_id = htonl(id);
	ph.hw_protocol = htons(0x0800);
	ph.hook = hook;
	nfqAttr(body, NFQA_PACKET_HDR, &ph, sizeof ph);
	const uint32_t mark = htonl(7);
	nfqAttr(body, NFQA_MARK, &mark, sizeof mark); // an attribute the line does not use
	if (withPayload)
		nfqAttr(body, NFQA_PAYLOAD | NLA_F_NET_BYTEORDER, payload.data(), payload.size());
	nlmsghdr h{};
	h.nlmsg_len = static_cast<uint32_t>(NLMSG_HDRLEN + body.size());
	h.nlmsg_type = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;
	const auto *p = reinterpret_cast<const unsigned char *>(&h);
	out.insert(out.end(), p, p + sizeof h);
	out.insert(out.end(), body.begin(), body.end());
	nfqPad(out);
}

void nfqAckMsg(std::vector<unsigned char> &out)
{
	nlmsghdr h{};
	h.nlmsg_len = NLMSG_LENGTH(sizeof(nlmsgerr));
	h.nlmsg_type = NLMSG_ERROR;
	nlmsgerr e{};
	const auto *p = reinterpret_cast<const unsigned char *>(&h);
	out.insert(out.end(), p, p + sizeof h);
	const auto *q = reinterpret_cast<const unsigned char *>(&e);
	out.insert(out.end(), q, q + sizeof e);
}

} // namespace

TEST_CASE("nfqueue: packet notifications are parsed, other messages skipped")
{
	std::vector<NfqSeen> seen;
	NfQueue q([&](const NfQueue::Packet &p) {
		seen.push_back({p.id, p.hook,
				p.payload ? std::string(reinterpret_cast<const char *>(p.payload), p.len) : std::string()});
	});
	std::vector<unsigned char> dgram;
	nfqPacketMsg(dgram, 41, NF_INET_LOCAL_OUT, "abcde"); // 5 bytes: the attribute needs padding
	nfqAckMsg(dgram);
	nfqPacketMsg(dgram, 42, NF_INET_LOCAL_IN, "", false);
	nfqPacketMsg(dgram, 0xfffffffe, NF_INET_LOCAL_IN, std::string(1500, 'x'));
	alignas(8) unsigned char buf[4096];
	REQUIRE(dgram.size() <= sizeof buf);
	std::memcpy(buf, dgram.data(), dgram.size());
	q.handle(buf, dgram.size());
	REQUIRE(seen.size() == 3);
	CHECK(seen[0].id == 41);
	CHECK(seen[0].hook == NF_INET_LOCAL_OUT);
	CHECK(seen[0].payload == "abcde");
	CHECK(seen[1].id == 42);
	CHECK(seen[1].hook == NF_INET_LOCAL_IN);
	CHECK(seen[1].payload.empty());
	CHECK(seen[2].id == 0xfffffffe);
	CHECK(seen[2].payload == std::string(1500, 'x'));
}

TEST_CASE("nfqueue: truncated and malformed datagrams end the parse without reading past them")
{
	int calls = 0;
	NfQueue q([&](const NfQueue::Packet &) { calls++; });
	std::vector<unsigned char> one;
	nfqPacketMsg(one, 1, NF_INET_LOCAL_OUT, "payload");
	alignas(8) unsigned char buf[512];
	std::memcpy(buf, one.data(), one.size());
	// Every cut short of the whole message: no packet (its header says more than there is).
	for (size_t cut = 0; cut < one.size(); cut++)
		q.handle(buf, cut);
	CHECK(calls == 0);
	q.handle(buf, one.size());
	CHECK(calls == 1);

	// An attribute whose length runs past its message: the message is dropped.
	std::vector<unsigned char> bad = one;
	const size_t firstAttr = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));
	nlattr a{};
	std::memcpy(&a, bad.data() + firstAttr, sizeof a);
	a.nla_len = 0xfff0;
	std::memcpy(bad.data() + firstAttr, &a, sizeof a);
	std::memcpy(buf, bad.data(), bad.size());
	q.handle(buf, bad.size());
	CHECK(calls == 1);
	// An attribute shorter than its own header: dropped too.
	a.nla_len = 2;
	std::memcpy(bad.data() + firstAttr, &a, sizeof a);
	std::memcpy(buf, bad.data(), bad.size());
	q.handle(buf, bad.size());
	CHECK(calls == 1);
}
