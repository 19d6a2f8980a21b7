// SPDX-License-Identifier: Apache-2.0
// The residue check (see residue.h).
#include "controller/scenario/parts/residue.h"

#include <unistd.h>

namespace xdc::scenario {

namespace {

// On every agent: our kernel objects, fill files and stopped processes. With none of its faults running anything
// found is residue; beside other runs' faults, what carries this run's fault ids (`ours`) is.
void agentResidue(const control::ResidueAnswer &rs, const std::string &ours, std::vector<std::string> &left)
{
	for (const auto &[agent, e] : rs.agents) {
		if (!e.ok) {
			left.push_back(fmt::format("{}: residue check failed: {}", agent, json(e.error).dump()));
			continue;
		}
		const bool othersRunning = !e.running.empty();
		for (const auto &obj : e.objects)
			if (!othersRunning || obj.find(ours) != std::string::npos)
				left.push_back(fmt::format("{} has {}", agent, obj));
	}
}

} // namespace

void ResiduePart::report()
{
	if (c_.hosts.empty())
		return;
	const std::string prefix = c_.opt.runId + ".";
	std::string ours = c_.opt.runId;
	for (auto &ch : ours)
		if (ch == '-' || ch == '.')
			ch = '_';
	std::vector<std::string> left;
	// An agent tells the controller of each end of a fault as it happens (FaultEvent); an older agent's record
	// lasts until its grace period. Give them a few seconds to catch up.
	const int64_t deadline = clk::monoNs() + 5 * clk::kSec;
	for (;;) {
		left.clear();
		auto fl = c_.call(control::FaultListRequest{});
		auto flist = fl ? control::parseAnswer<control::FaultListAnswer>(*fl) : fl.error();
		if (flist)
			for (const auto &f : flist->faults)
				if (f.id.rfind(prefix, 0) == 0)
					left.push_back(fmt::format("controller lists {}", f.id));
		auto ag = c_.call(control::AgentsRequest{});
		auto agents = ag ? control::parseAnswer<control::AgentsAnswer>(*ag) : ag.error();
		if (agents)
			for (const auto &a : agents->agents)
				for (const auto &id : a.runningFaults)
					if (id.rfind(prefix, 0) == 0)
						left.push_back(fmt::format("{} runs {}", a.host, id));
		auto rr = c_.call(control::ResidueRequest{}, 30000);
		auto rs = rr ? control::parseAnswer<control::ResidueAnswer>(*rr) : rr.error();
		if (rs)
			agentResidue(*rs, ours, left);
		if (!flist || !agents || !rs)
			left.push_back("controller unreachable for the residue check");
		if (left.empty() || clk::monoNs() >= deadline)
			break;
		::usleep(200000);
	}
	c_.report.residue = Residue{.clean = left.empty(), .found = left};
	if (!left.empty())
		c_.setVerdict(kHarness, "harness", fmt::format("residue after teardown: {}", fmt::join(left, "; ")));
	else
		c_.say("residue check: clean");
}

} // namespace xdc::scenario
