// SPDX-License-Identifier: Apache-2.0
// Capability probing in a private network namespace.
#include "agent/capabilities.h"

#include <cerrno>
#include <cstring>
#include <sched.h>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

#include "common/sys/nft.h"
#include "common/sys/process.h"

namespace xdc::agent {

namespace {

std::string tryRun(const std::vector<std::string> &argv)
{
	auto r = sys::run(argv, {.timeout = std::chrono::milliseconds(5000)});
	if (!r)
		return "no: " + r.error().message;
	if (!r->ok()) {
		std::string e = r->err.empty() ? r->out : r->err;
		auto nl = e.find('\n');
		if (nl != std::string::npos)
			e.resize(nl);
		return "no: " + (e.empty() ? "exit " + std::to_string(r->exitCode) : e);
	}
	return "yes";
}

// Runs in the child, inside its own fresh network namespace: nothing it does is visible outside.
std::string probeInChild()
{
	std::ostringstream out;
	auto put = [&](const char *k, const std::string &v) { out << k << '=' << v << '\n'; };
	(void)sys::run({"ip", "link", "set", "lo", "up"});
	put("tc", tryRun({"tc", "qdisc", "show"}));
	// The agent drives nftables through libnftables (loaded on first use), not the nft binary.
	const auto nftProbe = sys::nft("add table inet xdc_probe");
	put("nft", nftProbe ? "yes" : "no: " + nftProbe.error().message);
	put("iptables", tryRun({"iptables", "-w", "-t", "filter", "-S"}));
	put("ip6tables", tryRun({"ip6tables", "-w", "-t", "filter", "-S"}));
	put("nfqueue", tryRun({"iptables", "-w", "-A", "OUTPUT", "-p", "udp", "--dport", "9", "-j", "NFQUEUE",
			       "--queue-num", "1", "--queue-bypass"}));
	std::string htb = tryRun({"tc", "qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb"});
	put("qdisc.htb", htb);
	(void)sys::run({"tc", "qdisc", "del", "dev", "lo", "root"});
	put("qdisc.tbf", tryRun({"tc", "qdisc", "add", "dev", "lo", "root", "tbf", "rate", "1mbit", "burst", "32kbit",
				 "latency", "50ms"}));
	(void)sys::run({"tc", "qdisc", "del", "dev", "lo", "root"});
	std::string netem = tryRun({"tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"});
	if (netem != "yes")
		netem = "no: kernel lacks sch_netem (" + netem.substr(netem.find(':') + 2) + ")";
	put("qdisc.netem", netem);
	put("ifb", tryRun({"ip", "link", "add", "xdcprobe0", "type", "ifb"}));
	return out.str();
}

} // namespace

std::map<std::string, std::string> probeCapabilities()
{
	std::map<std::string, std::string> caps;
	const bool root = ::geteuid() == 0;
	caps["root"] = root ? "yes" : "no: not running as root";
	caps["ipv6"] = ::access("/proc/net/if_inet6", R_OK) == 0 ? "yes" : "no: IPv6 disabled";

	int pipefd[2];
	if (::pipe(pipefd) != 0) {
		caps["netns"] = std::string("no: pipe: ") + strerror(errno);
		return caps;
	}
	pid_t pid = ::fork();
	if (pid == 0) {
		::close(pipefd[0]);
		std::string text;
		if (::unshare(CLONE_NEWNET) != 0)
			text = std::string("netns=no: unshare: ") + strerror(errno) + "\n";
		else
			text = "netns=yes\n" + probeInChild();
		size_t off = 0;
		while (off < text.size()) {
			ssize_t w = ::write(pipefd[1], text.data() + off, text.size() - off);
			if (w <= 0)
				break;
			off += static_cast<size_t>(w);
		}
		::_exit(0);
	}
	::close(pipefd[1]);
	std::string text;
	char buf[4096];
	ssize_t n;
	while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0)
		text.append(buf, static_cast<size_t>(n));
	::close(pipefd[0]);
	if (pid > 0)
		::waitpid(pid, nullptr, 0);
	std::istringstream in(text);
	std::string line;
	while (std::getline(in, line)) {
		auto eq = line.find('=');
		if (eq != std::string::npos)
			caps[line.substr(0, eq)] = line.substr(eq + 1);
	}
	for (const char *k : {"netns", "tc", "nft", "iptables", "ip6tables", "nfqueue", "qdisc.htb", "qdisc.tbf",
			      "qdisc.netem", "ifb"})
		if (!caps.count(k))
			caps[k] = "no: not probed (no private network namespace)";
	return caps;
}

} // namespace xdc::agent
