// SPDX-License-Identifier: Apache-2.0
// One NFQUEUE queue spoken to directly over a netlink socket (NETLINK_NETFILTER, subsystem nfnetlink_queue, as laid
// out in the kernel's uapi header linux/netfilter/nfnetlink_queue.h). The agent needs only bind, configure, read
// packets and give verdicts, which is a few message layouts; speaking them here instead of through
// libnetfilter_queue keeps the shipped agent free of libnetfilter_queue, libnfnetlink and libmnl, which RHEL does
// not install by default (see docs/DEPLOYMENT.md, "A self-contained agent").
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "common/result.h"

namespace xdc::agent {

class NfQueue {
public:
	// What a queued packet's notification carries that the delay line uses.
	struct Packet {
		uint32_t id;                  // the kernel's packet id (host order), one more per queued packet
		uint8_t hook;                 // NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT, ...
		const unsigned char *payload; // the packet from its network header, when the copy mode copies it
		size_t len;                   // payload bytes (0 without a copy)
	};
	// Called for each packet notification read, also those that arrive while a configuration request waits for
	// its acknowledgement (none should: the queue is configured before rules feed it).
	using Handler = std::function<void(const Packet &)>;

	explicit NfQueue(Handler onPacket) : onPacket_(std::move(onPacket)) {}
	~NfQueue() { close(); }
	NfQueue(const NfQueue &) = delete;
	NfQueue &operator=(const NfQueue &) = delete;

	// Opens and binds the netlink socket (close-on-exec). Fails with the socket's errno.
	[[nodiscard]] Result<void> open();
	// Binds queue `num` to this socket. Fails (the kernel's errno in the message, EBUSY when another socket holds
	// it) with nothing bound. One queue per NfQueue.
	[[nodiscard]] Result<void> bind(uint16_t num);
	// Copy mode: metadata only, or the packet's first `range` bytes.
	[[nodiscard]] Result<void> setCopy(bool packet, uint32_t range);
	[[nodiscard]] Result<void> setMaxLen(uint32_t packets);
	// Sets the NFQA_CFG_F_* bits in `mask` to their values in `flags`.
	[[nodiscard]] Result<void> setFlags(uint32_t mask, uint32_t flags);
	// Unbinds the queue (the kernel drops what is still queued) and closes the socket. Idempotent.
	void close();

	int fd() const { return fd_; }
	// Parses one datagram read from fd() and calls the handler per packet notification; other messages (late
	// acknowledgements) are skipped. Truncated or malformed messages end the parse of that datagram.
	void handle(const void *buf, size_t len);
	// The verdict for one packet; or, batched, for every packet still queued with an id up to `id`. False when the
	// request could not be sent (no acknowledgement is asked: a verdict for an id no longer queued is not an error
	// the line could act on).
	bool verdict(uint32_t id, uint32_t verdict);
	bool verdictBatch(uint32_t id, uint32_t verdict);

private:
	// Sends one nfnetlink_queue message (type NFQNL_MSG_*) for this queue with the attributes in `attrs`
	// (already laid out), optionally waiting for the kernel's acknowledgement.
	Result<void> send(uint16_t type, const void *attrs, size_t attrsLen, bool ack);
	Result<void> waitAck(uint32_t seq);
	// One verdict message (NFQNL_MSG_VERDICT or NFQNL_MSG_VERDICT_BATCH), no acknowledgement asked.
	bool sendVerdict(uint16_t type, uint32_t id, uint32_t verdict);

	Handler onPacket_;
	int fd_ = -1;
	uint16_t queue_ = 0;
	bool bound_ = false;
	uint32_t seq_ = 0;
};

} // namespace xdc::agent
