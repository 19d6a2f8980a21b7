// SPDX-License-Identifier: Apache-2.0
// network.delay with iptables NFQUEUE rules and the agent's delay line.
#include "agent/faults/network_delay.h"

#include <fstream>
#include <set>
#include <sstream>

#include "agent/faults/network_partition.h"
#include "agent/faults/undo.h"
#include "common/log.h"
#include "common/sys/process.h"

namespace xdc::agent {

namespace {

uint32_t fnv1a(const std::string &s)
{
	uint32_t h = 2166136261u;
	for (unsigned char c : s)
		h = (h ^ c) * 16777619u;
	return h;
}

// Queue numbers bound in this namespace right now (by anyone).
std::set<unsigned> boundQueues()
{
	std::set<unsigned> out;
	std::ifstream f("/proc/net/netfilter/nfnetlink_queue");
	std::string line;
	while (std::getline(f, line)) {
		std::istringstream l(line);
		unsigned q = 0;
		if (l >> q)
			out.insert(q);
	}
	return out;
}

std::string fmtMs(int64_t ns) { return fmt::format("{}ms", static_cast<double>(ns) / 1e6); }

constexpr uint16_t kMinQueue = 1000, kMaxQueue = 64999;

} // namespace

std::string faultChain(const std::string &id)
{
	std::string tag;
	for (char c : id)
		tag += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
	// iptables chain names are at most 28 characters; "XDC_" + tag + "_O" leaves 22 for the tag.
	if (tag.size() > 22)
		tag = fmt::format("{}_{:08x}", tag.substr(0, 13), fnv1a(id));
	return "XDC_" + tag;
}

uint16_t faultQueue(const std::string &id)
{
	return static_cast<uint16_t>(kMinQueue + fnv1a(id) % (kMaxQueue - kMinQueue + 1));
}

NetworkDelay::NetworkDelay(std::string id, DelayParams p)
	: id_(std::move(id)), chain_(faultChain(id_)), p_(std::move(p)), queue_(faultQueue(id_))
{
}

NetworkDelay::~NetworkDelay()
{
	// Normally reverted already; if not (agent shutting down without a revert), the thread must still end.
	if (line_)
		line_->stop();
}

Result<void> NetworkDelay::validate(const DelayParams &p)
{
	if (p.peers.empty())
		return makeError(Errc::Invalid, "peers: no peer addresses (the peer selector matched no host)");
	for (const auto &c : p.peers)
		if (!validCidr(c))
			return makeError(Errc::Invalid, "peers: '{}' is not an IPv4/IPv6 address or CIDR", c);
	if (p.direction != "both" && p.direction != "in" && p.direction != "out")
		return makeError(Errc::Invalid, "direction: '{}' (expected both, in or out)", p.direction);
	if (p.delayNs < 0 || (p.delayNs == 0 && p.duplicatePercent == 0))
		return makeError(Errc::Invalid, "delay: must be greater than 0");
	if (p.jitterNs < 0 || p.jitterNs > p.delayNs)
		return makeError(Errc::Invalid, "jitter: must be between 0 and delay");
	if (p.correlationPercent < 0 || p.correlationPercent > 100)
		return makeError(Errc::Invalid, "correlation: {} (expected 0..100)", p.correlationPercent);
	if (p.reorderPercent < 0 || p.reorderPercent > 100)
		return makeError(Errc::Invalid, "percent: {} (expected 0..100)", p.reorderPercent);
	if (p.reorderCorrelationPercent < 0 || p.reorderCorrelationPercent > 100)
		return makeError(Errc::Invalid, "correlation: {} (expected 0..100)", p.reorderCorrelationPercent);
	if (p.duplicatePercent < 0 || p.duplicatePercent > 100)
		return makeError(Errc::Invalid, "percent: {} (expected 0..100)", p.duplicatePercent);
	if (p.duplicateCorrelationPercent < 0 || p.duplicateCorrelationPercent > 100)
		return makeError(Errc::Invalid, "correlation: {} (expected 0..100)", p.duplicateCorrelationPercent);
	if (p.protocol != "all" && p.protocol != "tcp" && p.protocol != "udp" && p.protocol != "icmp")
		return makeError(Errc::Invalid, "protocol: '{}' (expected all, tcp, udp or icmp)", p.protocol);
	if (!p.ports.empty() && p.protocol != "tcp" && p.protocol != "udp")
		return makeError(Errc::Invalid, "ports: need protocol tcp or udp");
	if (p.ttlMs <= 0)
		return makeError(Errc::Invalid, "duration: must be positive");
	return success();
}

std::string NetworkDelay::mechanism() const
{
	std::string m = fmt::format("NFQUEUE userspace delay line (queue {}; {}) via iptables mangle chains {}_*: "
				    "delay {}, jitter {}, correlation {}%",
				    queue_, p_.haveNetem ? "kernel has sch_netem but the delay line is used regardless"
							 : "kernel lacks sch_netem",
				    chain_, fmtMs(p_.delayNs), fmtMs(p_.jitterNs), p_.correlationPercent);
	return m;
}

std::vector<std::string> NetworkDelay::chains() const
{
	std::vector<std::string> c;
	if (p_.direction != "in")
		c.push_back(chain_ + "_O");
	if (p_.direction != "out")
		c.push_back(chain_ + "_I");
	return c;
}

std::string NetworkDelay::restoreInput(bool v6, uint16_t q) const
{
	std::vector<std::string> peers;
	for (const auto &c : p_.peers)
		if (isV6(c) == v6)
			peers.push_back(c);
	// What a packet must be besides going to / coming from a peer.
	std::vector<std::string> selects;
	if (p_.protocol == "all") {
		selects.push_back("");
	} else if (p_.ports.empty()) {
		selects.push_back(" -p " + (p_.protocol == "icmp" ? std::string(v6 ? "ipv6-icmp" : "icmp") : p_.protocol));
	} else {
		// multiport takes at most 15 ports per rule; --ports matches the source or the destination port.
		for (size_t i = 0; i < p_.ports.size(); i += 15) {
			std::vector<int> chunk(p_.ports.begin() + static_cast<long>(i),
					       p_.ports.begin() + static_cast<long>(std::min(i + 15, p_.ports.size())));
			selects.push_back(fmt::format(" -p {} -m multiport --ports {}", p_.protocol, fmt::join(chunk, ",")));
		}
	}
	const std::string target = fmt::format(" -j NFQUEUE --queue-num {} --queue-bypass", q);
	const bool exempt = !p_.exemptAddr.empty() && isV6(p_.exemptAddr) == v6;
	std::ostringstream o;
	o << "*mangle\n";
	for (const auto &chain : chains()) {
		const bool out = chain.back() == 'O';
		const char *iface = out ? "-o" : "-i";
		const char *peerKw = out ? "-d" : "-s";
		o << ":" << chain << " - [0:0]\n";
		o << fmt::format("-A {} {} lo -j RETURN\n", chain, iface);
		// The line's own duplicates are not queued again.
		if (p_.duplicatePercent > 0)
			o << fmt::format("-A {} -m mark --mark {:#x} -j RETURN\n", chain, kInjectMark);
		if (!p_.mgmtIface.empty() && p_.mgmtIface != "lo")
			o << fmt::format("-A {} {} {} -j RETURN\n", chain, iface, p_.mgmtIface);
		if (exempt)
			o << fmt::format("-A {} {} {} -p tcp {} {} -j RETURN\n", chain, peerKw, p_.exemptAddr,
					 out ? "--dport" : "--sport", p_.exemptPort);
		for (const auto &peer : peers)
			for (const auto &sel : selects)
				o << fmt::format("-A {} {} {}{}{}\n", chain, peerKw, peer, sel, target);
		// Hooked last, so no packet ever sees a half-filled chain; first in the hook, before anyone else's rules.
		o << fmt::format("-I {} 1 -j {}\n", out ? "OUTPUT" : "INPUT", chain);
	}
	o << "COMMIT\n";
	return o.str();
}

std::vector<std::string> NetworkDelay::plan() const
{
	std::vector<std::string> p = {fmt::format("bind NFQUEUE {} ({}, maxlen 10000, fail-open) and start the "
						  "delay-line thread",
						  queue_,
						  p_.duplicatePercent > 0
							  ? fmt::format("copy packet; duplicates through raw sockets "
									"marked {:#x}", kInjectMark)
							  : std::string("copy meta"))};
	for (bool v6 : {false, true}) {
		const std::string in = restoreInput(v6, queue_);
		if (in.find("NFQUEUE") != std::string::npos)
			p.push_back(fmt::format("{}-restore --noflush <<EOF\n{}EOF", v6 ? "ip6tables" : "iptables", in));
	}
	return p;
}

Result<void> NetworkDelay::prepare()
{
	// Derived from the id, moved on past queues somebody else holds (start() moves on again if it loses a race).
	const auto used = boundQueues();
	for (int i = 0; i < 1000 && used.count(queue_); i++)
		queue_ = static_cast<uint16_t>(queue_ >= kMaxQueue ? kMinQueue : queue_ + 1);
	return success();
}

Undo NetworkDelay::undo() const
{
	Undo u = Undo::array();
	// Both chains always: a leftover of the same id with another direction goes too.
	for (const auto &[suffix, hook] : {std::pair{"_O", "OUTPUT"}, std::pair{"_I", "INPUT"}})
		u.push_back({{"op", "ipt_chain"}, {"table", "mangle"}, {"chain", chain_ + suffix}, {"hooks", {hook}},
			     {"v6", true}});
	return u;
}

DelayParams delayParams(const FaultRequest &req, const FaultEnv &env)
{
	DelayParams p;
	p.peers = req.peers;
	p.direction = req.spec.direction == fault::Direction::In    ? "in"
		      : req.spec.direction == fault::Direction::Out ? "out"
								    : "both";
	p.delayNs = req.spec.delay.count();
	p.jitterNs = req.spec.jitter.count();
	p.correlationPercent = req.spec.correlationPercent;
	p.protocol = req.spec.protocol;
	p.ports = req.spec.ports;
	p.ttlMs = req.ttlMs;
	p.exemptAddr = env.exemptAddr;
	p.exemptPort = env.exemptPort;
	p.mgmtIface = env.mgmtIface;
	p.haveNetem = env.haveNetem;
	return p;
}

Result<std::string> NetworkDelay::apply()
{
	XDC_TRY(validate(p_));
	// Chains of this name can only be a leftover of this same fault id.
	(void)runUndo(undo());
	DelayLineOptions lo;
	lo.firstQueue = queue_;
	lo.minQueue = kMinQueue;
	lo.maxQueue = kMaxQueue;
	lo.delayNs = p_.delayNs;
	lo.jitterNs = p_.jitterNs;
	lo.correlationPercent = p_.correlationPercent;
	lo.reorderPercent = p_.reorderPercent;
	lo.reorderCorrelationPercent = p_.reorderCorrelationPercent;
	lo.duplicatePercent = p_.duplicatePercent;
	lo.duplicateCorrelationPercent = p_.duplicateCorrelationPercent;
	lo.injectMark = kInjectMark;
	line_ = std::make_unique<DelayLine>(lo);
	if (auto r = line_->start(); !r) {
		line_.reset();
		return r.error().context("cannot start the NFQUEUE delay line");
	}
	queue_ = line_->queue();
	auto fail = [this](Error e) {
		(void)runUndo(undo());
		line_->stop();
		line_.reset();
		return e;
	};
	// The queue is served before any rule sends packets to it.
	std::string back;
	for (bool v6 : {false, true}) {
		const std::string input = restoreInput(v6, queue_);
		if (input.find("NFQUEUE") == std::string::npos)
			continue; // no peer of this family
		const std::string tool = v6 ? "ip6tables" : "iptables";
		auto r = sys::runChecked({tool + "-restore", "-w", "--noflush"}, {.input = input});
		if (!r)
			return fail(r.error().context(fmt::format("{}-restore refused the delay rules", tool)));
		// Read back: every chain holds an NFQUEUE rule to our queue per peer (and port chunk) and is hooked.
		size_t peers = 0;
		for (const auto &c : p_.peers)
			peers += isV6(c) == v6;
		const std::string rule = fmt::format("-j NFQUEUE --queue-num {} --queue-bypass", queue_);
		for (const auto &chain : chains()) {
			auto s = sys::runChecked({tool, "-w", "-t", "mangle", "-S", chain});
			if (!s)
				return fail(s.error().context(fmt::format("cannot read chain {} back", chain)));
			size_t n = 0;
			for (size_t pos = s->out.find(rule); pos != std::string::npos; pos = s->out.find(rule, pos + 1))
				n++;
			if (n < peers)
				return fail(makeError(Errc::Io, "read-back of {} -t mangle {} shows {} NFQUEUE rules for {} peers",
						      tool, chain, n, peers));
			const std::string hook = chain.back() == 'O' ? "OUTPUT" : "INPUT";
			auto h = sys::runChecked({tool, "-w", "-t", "mangle", "-S", hook});
			if (!h || h->out.find("-j " + chain) == std::string::npos)
				return fail(makeError(Errc::Io, "read-back: {} -t mangle {} does not jump to {}", tool, hook, chain));
			back += fmt::format("{} -t mangle -S {}:\n{}", tool, chain, s->out);
		}
	}
	// And the thread holds the queue: the kernel lists it bound in this namespace.
	const std::string q = line_->kernelQueueLine();
	if (!line_->running() || q.empty())
		return fail(makeError(Errc::Io, "read-back: NFQUEUE {} is not bound by the delay line", queue_));
	back += fmt::format("/proc/net/netfilter/nfnetlink_queue: {}\n", q);
	return back;
}

Result<void> NetworkDelay::revert()
{
	// Rules first, so no new packet is queued; then the line lets everything it holds go and stops.
	auto r = runUndo(undo(), &revertEffectiveNs);
	if (line_) {
		line_->stop();
		// What the line did, for the agent's log: a fault's effect is otherwise only seen by the traffic.
		const auto st = line_->stats();
		log::get("faults")->info("{}: queue {} received {} released {} (at once {}) duplicated {} (refused {}), "
					 "verdict errors {}, most held {}",
					 id_, queue_, st.received, st.released, st.immediate, st.duplicated, st.injectErrors,
					 st.verdictErrors, st.maxHeld);
		line_.reset();
	}
	return r;
}

} // namespace xdc::agent
