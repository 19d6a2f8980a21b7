// SPDX-License-Identifier: Apache-2.0
// What this host's kernel and tools let the agent do, probed once at start-up and reported at registration.
#pragma once

#include <map>
#include <string>

namespace xdc::agent {

// Probes in a throwaway network namespace (a forked child that unshares its netns), so that trying a qdisc or a
// rule never touches the host's own interfaces. Keys: root, netns, nft, iptables, ip6tables, nfqueue, tc,
// qdisc.htb, qdisc.tbf, qdisc.netem, ifb, ipv6. Values: "yes", or "no: <reason>".
std::map<std::string, std::string> probeCapabilities();

} // namespace xdc::agent
