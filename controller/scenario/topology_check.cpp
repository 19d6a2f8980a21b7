// SPDX-License-Identifier: Apache-2.0
// Scenarios against a fleet: which hosts a selector picks, and whether the hosts a scenario needs exist (spec.h).
#include "controller/scenario/spec.h"

#include <set>

#include "common/duration.h"
#include "controller/scenario/assertions/assertion.h"

namespace xdc::scenario {

std::vector<std::string> selectHosts(const fault::Selector &s, const std::vector<Host> &hosts)
{
	std::vector<std::string> out;
	if (s.empty())
		return out;
	for (const auto &h : hosts) {
		if (!s.dc.empty() && s.dc != h.dc)
			continue;
		if (!s.host.empty() && s.host != h.name)
			continue;
		if (!s.hosts.empty() && std::find(s.hosts.begin(), s.hosts.end(), h.name) == s.hosts.end())
			continue;
		bool labels = true;
		for (const auto &[k, v] : s.labels) {
			auto it = h.labels.find(k);
			labels &= it != h.labels.end() && it->second == v;
		}
		if (labels)
			out.push_back(h.name);
	}
	return out;
}

Result<void> checkTopology(const Scenario &s, const std::vector<Host> &hosts, bool live)
{
	std::vector<std::string> names;
	std::set<std::string> dcs;
	for (const auto &h : hosts) {
		names.push_back(h.name);
		dcs.insert(h.dc);
	}
	auto need = [&](const fault::Selector &sel, const std::string &where, const std::string &path) -> Result<void> {
		if (sel.empty() || !selectHosts(sel, hosts).empty())
			return success();
		std::string what = "the selector", hint;
		if (!sel.host.empty()) {
			what = fmt::format("host '{}'", sel.host);
			if (!didYouMean(sel.host, names).empty())
				hint = fmt::format("; did you mean '{}'?", didYouMean(sel.host, names));
		} else if (!sel.dc.empty()) {
			what = fmt::format("dc '{}'", sel.dc);
			hint = fmt::format(" (datacenters: {})", fmt::join(dcs, ", "));
		}
		return makeError(Errc::Invalid, "{}: {}: {} matches no host of the topology ({} hosts){}", where, path, what,
				 hosts.size(), hint);
	};
	for (const auto *list : {&s.probes, &s.samplers})
		for (size_t i = 0; i < list->size(); i++) {
			const auto &sp = (*list)[i];
			const std::string path = fmt::format("evidence.{}[{}]", list == &s.probes ? "probes" : "samplers", i);
			XDC_TRY(need(sp.on, s.origin, path + ".on"));
			if (sp.kind == evidence::SamplerKind::ProbeTcp) {
				auto hp = evidence::splitHostPort(sp.target);
				const bool literal = hp && (hp->host.find_first_not_of("0123456789.") == std::string::npos ||
							    hp->host.find(':') != std::string::npos);
				if (hp && !literal && std::find(names.begin(), names.end(), hp->host) == names.end())
					return makeError(Errc::Invalid, "{}: {}.target: '{}' is neither an address nor a host of "
							 "the topology{}", s.origin, path, hp->host,
							 didYouMean(hp->host, names).empty()
								 ? std::string()
								 : fmt::format("; did you mean '{}'?", didYouMean(hp->host, names)));
			}
		}
	auto checkHost = [&](const ProbeRef &r, const std::string &path) -> Result<void> {
		if (r.host.empty())
			return success();
		const auto *p = s.probe(r.probe);
		if (p) {
			auto on = selectHosts(p->on, hosts);
			if (std::find(on.begin(), on.end(), r.host) == on.end())
				return makeError(Errc::Invalid, "{}: {}.host: probe '{}' does not run on '{}' (it runs on: {})",
						 r.where, path, r.probe, r.host, fmt::join(on, ", "));
		}
		return success();
	};
	for (size_t i = 0; i < s.assertions.size(); i++)
		for (const auto *ref : s.assertions[i].check->probeRefs())
			XDC_TRY(checkHost(*ref, fmt::format("assertions[{}]", i)));
	for (size_t i = 0; i < s.stopConditions.size(); i++)
		if (!s.stopConditions[i].metric)
			XDC_TRY(checkHost(s.stopConditions[i].ref, fmt::format("stop_conditions[{}]", i)));
	for (const auto &a : s.streamsActions)
		if (!hosts.empty() && !dcs.count(a.dc))
			return makeError(Errc::Invalid, "{}: {}.dc: '{}' is not a DC of the topology (datacenters: {})", a.where,
					 a.path, a.dc, fmt::join(dcs, ", "));
	// Faults: targets and peers exist; per host and kind, no two windows overlap.
	std::map<std::pair<std::string, fault::Kind>, std::vector<size_t>> perHost;
	for (size_t i = 0; i < s.faults.size(); i++) {
		const auto &f = s.faults[i];
		XDC_TRY(need(f.spec.targets, f.where, f.path + ".targets"));
		XDC_TRY(need(f.spec.peers.selector, f.where, f.path + ".peers"));
		auto targets = selectHosts(f.spec.targets, hosts);
		if (f.spec.kind == fault::Kind::NetworkPartition && f.spec.direction == fault::Direction::Both)
			for (const auto &p : selectHosts(f.spec.peers.selector, hosts))
				if (std::find(targets.begin(), targets.end(), p) == targets.end())
					targets.push_back(p);
		for (const auto &t : targets) {
			auto &prev = perHost[{t, f.spec.kind}];
			for (size_t j : prev) {
				const auto &o = s.faults[j].spec;
				if (f.spec.start < o.start + o.duration && o.start < f.spec.start + f.spec.duration)
					return makeError(Errc::Invalid, "{}: {}: overlaps {} on host '{}' ({} from {} to {}); "
							 "faults of one kind do not stack on a host", f.where, f.path,
							 s.faults[j].path, t, fault::kindName(o.kind), formatDuration(o.start),
							 formatDuration(o.start + o.duration));
			}
			prev.push_back(i);
			if (live && fault::needsNetem(f.spec.kind)) {
				for (const auto &h : hosts)
					if (h.name == t) {
						auto it = h.capabilities.find("qdisc.netem");
						if (it == h.capabilities.end() || it->second != "yes")
							return makeError(Errc::Invalid, "{}: {}.kind: {} needs tc netem and the kernel "
									 "of host '{}' lacks sch_netem", f.where, f.path,
									 fault::kindName(f.spec.kind), t);
					}
			}
		}
	}
	return success();
}

} // namespace xdc::scenario
