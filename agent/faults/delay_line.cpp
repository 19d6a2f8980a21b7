// SPDX-License-Identifier: Apache-2.0
// NFQUEUE delay line.
#include "agent/faults/delay_line.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include "common/clock.h"
#include "common/log.h"

namespace xdc::agent {

namespace {

// Hook numbers in the packet header (enum nf_inet_hooks).
constexpr uint8_t kHookLocalIn = 1;

uint64_t seedOf(const DelayLineOptions &o) { return o.seed ? o.seed : static_cast<uint64_t>(clk::monoNs()); }

} // namespace

DelaySchedule::DelaySchedule(int64_t delayNs, int64_t jitterNs, double correlationPercent, uint64_t seed)
	: delayNs_(delayNs), jitterNs_(std::clamp<int64_t>(jitterNs, 0, delayNs)),
	  rho_(std::clamp(correlationPercent, 0.0, 100.0) / 100.0), rng_(seed)
{
}

int64_t DelaySchedule::sampleNs()
{
	if (jitterNs_ == 0)
		return delayNs_;
	const double fresh = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
	// netem's get_crandom(): the first draw has nothing to correlate with.
	const double u = haveLast_ ? (1.0 - rho_) * fresh + rho_ * lastU_ : fresh;
	lastU_ = u;
	haveLast_ = true;
	const auto offset = static_cast<int64_t>(std::llround((2.0 * u - 1.0) * static_cast<double>(jitterNs_)));
	return std::max<int64_t>(0, delayNs_ + offset);
}

int64_t DelaySchedule::releaseAt(int64_t arrivalNs)
{
	lastRelease_ = std::max(arrivalNs + sampleNs(), lastRelease_);
	return lastRelease_;
}

CorrelatedChance::CorrelatedChance(double percent, double correlationPercent, uint64_t seed)
	: p_(std::clamp(percent, 0.0, 100.0) / 100.0), rho_(std::clamp(correlationPercent, 0.0, 100.0) / 100.0),
	  rng_(seed)
{
}

bool CorrelatedChance::draw()
{
	if (p_ <= 0)
		return false;
	if (p_ >= 1)
		return true;
	const double fresh = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
	// netem's get_crandom(): the first draw has nothing to correlate with.
	const double u = haveLast_ ? (1.0 - rho_) * fresh + rho_ * lastU_ : fresh;
	lastU_ = u;
	haveLast_ = true;
	return u < p_;
}

DelayLine::DelayLine(DelayLineOptions o)
	: o_(o), outSched_(o.delayNs, o.jitterNs, o.correlationPercent, seedOf(o)),
	  inSched_(o.delayNs, o.jitterNs, o.correlationPercent, seedOf(o) * 6364136223846793005ull + 1),
	  outReorder_(o.reorderPercent, o.reorderCorrelationPercent, seedOf(o) * 2862933555777941757ull + 3037000493ull),
	  inReorder_(o.reorderPercent, o.reorderCorrelationPercent, seedOf(o) * 3935559000370003845ull + 2691343689ull),
	  outDup_(o.duplicatePercent, o.duplicateCorrelationPercent, seedOf(o) * 2685821657736338717ull + 1442695040888963407ull),
	  inDup_(o.duplicatePercent, o.duplicateCorrelationPercent, seedOf(o) * 1181783497276652981ull + 7046029254386353131ull)
{
}

DelayLine::~DelayLine() { stop(); }

Result<void> DelayLine::start()
{
	if (running_)
		return success();
	if (auto r = nfq_.open(); !r)
		return makeError(Errc::Io, "{} (nfnetlink_queue unavailable?)", r.error().message);
	auto fail = [this](std::string what) {
		for (int *fd : {&raw4_, &raw6_})
			if (*fd >= 0) {
				::close(*fd);
				*fd = -1;
			}
		nfq_.close();
		return makeError(Errc::Io, "{}", what);
	};
	const int span = o_.maxQueue - o_.minQueue + 1;
	uint16_t q = std::clamp(o_.firstQueue, o_.minQueue, o_.maxQueue);
	std::string tried, why;
	bool bound = false;
	for (int i = 0; i < o_.tries && !bound; i++) {
		// Fails with EBUSY when another process (another agent in this namespace, a user's tool) has it bound.
		if (auto r = nfq_.bind(q); r) {
			queue_ = q;
			bound = true;
			break;
		} else {
			why = r.error().message;
		}
		tried += (tried.empty() ? "" : ",") + std::to_string(q);
		q = static_cast<uint16_t>(o_.minQueue + (q - o_.minQueue + 1) % span);
	}
	if (!bound)
		return fail(fmt::format("no free NFQUEUE number (tried {}): {}", tried, why));
	const bool dup = o_.duplicatePercent > 0;
	// Metadata only unless packets are duplicated: copying payloads costs a copy per packet.
	if (auto r = nfq_.setCopy(dup, dup ? 0xffff : 0); !r)
		return fail(fmt::format("queue {}: cannot set copy mode: {}", queue_, r.error().message));
	if (dup) {
		// Header included (IPPROTO_RAW): the copy goes out as queued, routed by its destination; marked so the
		// rules feeding the queue let it pass instead of queueing it again.
		raw4_ = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		raw6_ = ::socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
		if (raw4_ < 0 || raw6_ < 0)
			return fail(fmt::format("raw socket for duplicates: {}", strerror(errno)));
		for (int fd : {raw4_, raw6_})
			if (::setsockopt(fd, SOL_SOCKET, SO_MARK, &o_.injectMark, sizeof o_.injectMark) != 0)
				return fail(fmt::format("SO_MARK {:#x} on the duplicates' raw socket: {}", o_.injectMark,
							strerror(errno)));
	}
	if (auto r = nfq_.setMaxLen(o_.maxQueued); !r)
		return fail(fmt::format("queue {}: cannot set the queue length: {}", queue_, r.error().message));
	// Fail open: a full queue or socket lets packets through undelayed rather than dropping them (the fault is a
	// delay, not a loss). GSO: large segments are queued whole, one verdict each instead of one per MSS.
	// Duplicating needs packets as they go on the wire: without F_GSO the kernel segments GSO packets and fills in
	// partial checksums before queueing.
	const uint32_t flags = NFQA_CFG_F_FAIL_OPEN | (dup ? 0 : NFQA_CFG_F_GSO);
	if (auto r = nfq_.setFlags(NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO, flags); !r)
		log::get("faults")->warn("queue {}: fail-open/GSO flags refused by the kernel: {}", queue_,
					 r.error().message);
	fd_ = nfq_.fd();
	// 100 ms of packets at a high rate is a lot of notifications: a big socket buffer, and no ENOBUFS errors (the
	// kernel then fails open for packets it cannot notify).
	int buf = 16 << 20, one = 1;
	if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf) != 0)
		(void)::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	(void)::setsockopt(fd_, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
	stopFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (stopFd_ < 0)
		return fail(fmt::format("eventfd: {}", strerror(errno)));
	running_ = true;
	try {
		thread_ = std::thread([this] { loop(); });
	} catch (const std::exception &e) {
		running_ = false;
		::close(stopFd_);
		stopFd_ = -1;
		return fail(fmt::format("cannot start the delay-line thread: {}", e.what()));
	}
	return success();
}

void DelayLine::onPacket(const NfQueue::Packet &p)
{
	const uint32_t id = p.id;
	const bool in = p.hook == kHookLocalIn;
	received_.fetch_add(1, std::memory_order_relaxed);
	if (raw4_ >= 0 && (in ? inDup_ : outDup_).draw())
		inject(p.payload, static_cast<int>(p.len));
	if ((in ? inReorder_ : outReorder_).draw()) {
		// Reordered: accepted now, ahead of the packets held. It leaves the kernel queue here, so the batch
		// verdicts of releaseDue() (which cover only ids still queued) never see it.
		if (!nfq_.verdict(id, NF_ACCEPT))
			verdictErrors_.fetch_add(1, std::memory_order_relaxed);
		released_.fetch_add(1, std::memory_order_relaxed);
		immediate_.fetch_add(1, std::memory_order_relaxed);
		return;
	}
	auto &q = in ? in_ : out_;
	q.push_back({id, (in ? inSched_ : outSched_).releaseAt(now_)});
	const uint64_t held = in_.size() + out_.size();
	if (held > maxHeld_.load(std::memory_order_relaxed))
		maxHeld_.store(held, std::memory_order_relaxed);
}

void DelayLine::inject(const unsigned char *pkt, int len)
{
	// The destination comes from the packet's own header; the kernel routes the copy like the original: out of the
	// host for a packet to a peer, through loopback to the local socket for a packet from one.
	ssize_t n = -1;
	if (pkt && len >= 20 && (pkt[0] >> 4) == 4) {
		sockaddr_in a{};
		a.sin_family = AF_INET;
		std::memcpy(&a.sin_addr, pkt + 16, 4);
		n = ::sendto(raw4_, pkt, static_cast<size_t>(len), MSG_DONTWAIT, reinterpret_cast<sockaddr *>(&a), sizeof a);
	} else if (pkt && len >= 40 && (pkt[0] >> 4) == 6) {
		sockaddr_in6 a{};
		a.sin6_family = AF_INET6;
		std::memcpy(&a.sin6_addr, pkt + 24, 16);
		n = ::sendto(raw6_, pkt, static_cast<size_t>(len), MSG_DONTWAIT, reinterpret_cast<sockaddr *>(&a), sizeof a);
	}
	if (n == len)
		duplicated_.fetch_add(1, std::memory_order_relaxed);
	else
		injectErrors_.fetch_add(1, std::memory_order_relaxed);
}

void DelayLine::releaseDue(int64_t now)
{
	// Kernel packet ids grow by one per queued packet, and each FIFO holds its packets in id order. One batch
	// verdict accepts every queued packet with an id up to X, so it is used up to the lowest id still waiting in
	// either FIFO; the due packets above that (the other direction's are not due yet) get single verdicts.
	auto before = [](uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; };
	size_t dueOut = 0, dueIn = 0;
	while (dueOut < out_.size() && out_[dueOut].release <= now)
		dueOut++;
	while (dueIn < in_.size() && in_[dueIn].release <= now)
		dueIn++;
	if (dueOut + dueIn == 0)
		return;
	bool haveLimit = false;
	uint32_t limit = 0; // the first id that must stay queued
	if (dueOut < out_.size()) {
		limit = out_[dueOut].id;
		haveLimit = true;
	}
	if (dueIn < in_.size() && (!haveLimit || before(in_[dueIn].id, limit))) {
		limit = in_[dueIn].id;
		haveLimit = true;
	}
	bool haveBatch = false;
	uint32_t batch = 0;
	auto take = [&](std::deque<Held> &q, size_t due) {
		for (size_t i = 0; i < due; i++) {
			const uint32_t id = q.front().id;
			q.pop_front();
			if (!haveLimit || before(id, limit)) {
				if (!haveBatch || before(batch, id))
					batch = id;
				haveBatch = true;
			} else if (!nfq_.verdict(id, NF_ACCEPT)) {
				verdictErrors_.fetch_add(1, std::memory_order_relaxed);
			}
		}
	};
	take(out_, dueOut);
	take(in_, dueIn);
	if (haveBatch && !nfq_.verdictBatch(batch, NF_ACCEPT))
		verdictErrors_.fetch_add(1, std::memory_order_relaxed);
	released_.fetch_add(dueOut + dueIn, std::memory_order_relaxed);
}

void DelayLine::acceptAll() { releaseDue(INT64_MAX); }

void DelayLine::loop()
{
	// The default 50 us timer slack would be added to every wake-up.
	(void)::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	alignas(8) char buf[65536];
	while (true) {
		int64_t next = INT64_MAX;
		if (!out_.empty())
			next = out_.front().release;
		if (!in_.empty())
			next = std::min(next, in_.front().release);
		timespec ts{}, *tsp = nullptr;
		if (next != INT64_MAX) {
			const int64_t wait = std::max<int64_t>(0, next - clk::monoNs());
			ts.tv_sec = wait / clk::kSec;
			ts.tv_nsec = wait % clk::kSec;
			tsp = &ts;
		}
		pollfd p[2] = {{fd_, POLLIN, 0}, {stopFd_, POLLIN, 0}};
		int r = ::ppoll(p, 2, tsp, nullptr);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0 && (p[1].revents & POLLIN))
			break;
		if (r > 0 && (p[0].revents & POLLIN)) {
			// What is waiting, a bounded batch at a time so that due releases are not held up behind a burst;
			// each datagram is one packet's notification. The arrival time is taken per packet after it was
			// read, so it is never earlier than the real one (a packet is never released early).
			for (int i = 0; i < 256; i++) {
				ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
				if (n <= 0)
					break;
				now_ = clk::monoNs();
				nfq_.handle(buf, static_cast<size_t>(n));
			}
		}
		releaseDue(clk::monoNs());
	}
	// Stopping: the rules are gone, so nothing new is queued; what is held or still in the socket goes now.
	acceptAll();
	drain(20);
}

void DelayLine::drain(int quietMs)
{
	alignas(8) char buf[65536];
	// Packets queued just before the rules went may still be on their way to the socket; the kernel drops whatever
	// is queued when the queue is unbound, so they are read and accepted until the socket stays quiet.
	while (true) {
		pollfd p{fd_, POLLIN, 0};
		if (::poll(&p, 1, quietMs) <= 0)
			break;
		ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
		if (n <= 0)
			continue;
		now_ = 0; // release at once
		nfq_.handle(buf, static_cast<size_t>(n));
		acceptAll();
	}
}

void DelayLine::stop()
{
	if (nfq_.fd() < 0)
		return;
	if (thread_.joinable()) {
		uint64_t one = 1;
		[[maybe_unused]] auto w = ::write(stopFd_, &one, sizeof one);
		thread_.join();
	}
	running_ = false;
	nfq_.close();
	fd_ = -1;
	if (stopFd_ >= 0)
		::close(stopFd_);
	stopFd_ = -1;
	for (int *fd : {&raw4_, &raw6_})
		if (*fd >= 0) {
			::close(*fd);
			*fd = -1;
		}
	out_.clear();
	in_.clear();
}

std::string DelayLine::kernelQueueLine() const
{
	// Per network namespace: /proc/net is the reading process's namespace, the agent's.
	std::ifstream f("/proc/net/netfilter/nfnetlink_queue");
	std::string line;
	while (std::getline(f, line)) {
		std::istringstream l(line);
		unsigned q = 0;
		if (l >> q && q == queue_ && running_)
			return line;
	}
	return "";
}

DelayLineStats DelayLine::stats() const
{
	DelayLineStats s;
	s.received = received_.load();
	s.released = released_.load();
	s.held = s.received - s.released;
	s.maxHeld = maxHeld_.load();
	s.verdictErrors = verdictErrors_.load();
	s.immediate = immediate_.load();
	s.duplicated = duplicated_.load();
	s.injectErrors = injectErrors_.load();
	return s;
}

} // namespace xdc::agent
