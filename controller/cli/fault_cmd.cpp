// SPDX-License-Identifier: Apache-2.0
// `xdc fault apply|list|revert` and `xdc halt`.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/clock.h"
#include "common/fault/spec.h"
#include "controller/control/answers.h"
#include "controller/cli/cli.h"

namespace xdc::cli {

namespace {

int faultApply(const Args &a)
{
	std::string text, origin = "<command line>";
	if (a.has("-f")) {
		origin = a.get("-f");
		std::ifstream f(origin, std::ios::binary);
		if (!f) {
			fprintf(stderr, "xdc fault apply: cannot read '%s'\n", origin.c_str());
			return kUsage;
		}
		std::stringstream ss;
		ss << f.rdbuf();
		text = ss.str();
	} else if (a.positional.size() == 2) {
		text = a.positional[1];
	} else {
		fprintf(stderr, "xdc fault apply: give one SPEC (inline YAML) or -f FILE\n");
		return kUsage;
	}
	// The spec is read here, where its file is (errors name file:line:column), and travels typed; the controller
	// checks it again against the fleet. A refused spec reads as the controller's refusal always did.
	auto spec = fault::parseSpecText(text, origin);
	if (!spec) {
		if (a.has("--json"))
			printf("%s\n", control::errorJson("invalid", spec.error().message).dump(2).c_str());
		else
			fprintf(stderr, "xdc fault apply: %s\n", spec.error().message.c_str());
		return kUsage;
	}
	const control::FaultApplyRequest req{.spec = std::move(*spec), .origin = origin, .dryRun = a.has("--dry-run"),
					     .sync = !a.has("--no-sync")};
	auto socket = controlPathFor(a);
	if (!socket) {
		fprintf(stderr, "xdc: %s\n", socket.error().message.c_str());
		return kUsage;
	}
	auto r = control::request(*socket, req, 60000);
	if (!r) {
		fprintf(stderr, "xdc: %s\n", r.error().message.c_str());
		return kUnreachable;
	}
	if (a.has("--json"))
		printf("%s\n", r->dump(2).c_str());
	// A refusal that is not fault.apply's own (a bad request, an unsupported version) has no agents to list.
	auto ans = control::parseAnswer<control::FaultApplyAnswer>(*r);
	if (!ans) {
		fprintf(stderr, "xdc: %s\n", ans.error().message.c_str());
		return kFailed;
	}
	if (!ans->ok) {
		if (!a.has("--json")) {
			fprintf(stderr, "xdc fault apply: %s\n", ans->error.message.c_str());
			// Why each agent refused or failed (the summary above only names them).
			for (const auto &[agent, e] : ans->agents)
				if (!e.ok)
					fprintf(stderr, "  %s: %s\n", agent.c_str(), e.error.c_str());
		}
		return ans->error.code == "invalid" ? kUsage : kFailed;
	}
	if (a.has("--json"))
		return kOk;
	const bool dry = ans->dryRun;
	printf("%s %s %s\n", dry ? "dry run of" : "fault", ans->id.c_str(), ans->kind.c_str());
	for (const auto &[agent, e] : ans->agents) {
		if (dry) {
			printf("--- %s: %s\n", agent.c_str(), e.mechanism.c_str());
			for (const auto &p : e.plan)
				printf("%s\n", p.c_str());
		} else {
			printf("  %-12s in effect at %s ± %.3f ms (verified %.3f ms later): %s\n", agent.c_str(),
			       clockTimeMs(e.appliedNs).c_str(), static_cast<double>(e.boundNs) / 1e6,
			       static_cast<double>(e.verifiedNs - e.appliedNs) / 1e6, e.mechanism.c_str());
		}
	}
	if (ans->spreadNs)
		printf("spread of effective times across agents: %.3f ms\n", static_cast<double>(*ans->spreadNs) / 1e6);
	return kOk;
}

int faultList(const Args &a)
{
	int rc = 0;
	auto r = callController(a, control::FaultListRequest{}, rc);
	if (!r)
		return rc;
	const bool ended = a.has("--ended");
	if (a.has("--json")) {
		printf("%s\n", (*r)[ended ? "ended" : "faults"].dump(2).c_str());
		return kOk;
	}
	auto list = control::parseAnswer<control::FaultListAnswer>(*r);
	if (!list) {
		fprintf(stderr, "xdc: %s\n", list.error().message.c_str());
		return kFailed;
	}
	if (ended) {
		if (list->ended.empty())
			printf("no fault has ended since the controller started (or its agents do not report ends)\n");
		for (const auto &e : list->ended)
			printf("%-10s %-20s on %-12s ended %s (%s), learned %.3f ms later\n", e.id.c_str(), e.kind.c_str(),
			       e.agent.c_str(), clockTimeMs(e.revertedNs).c_str(), e.why.c_str(),
			       static_cast<double>(e.learnedNs - e.revertedNs) / 1e6);
		return kOk;
	}
	if (list->faults.empty())
		printf("no faults in place\n");
	for (const auto &f : list->faults)
		printf("%-10s %-20s %6.1fs left  on %s\n", f.id.c_str(), f.kind.c_str(),
		       static_cast<double>(f.remainingMs) / 1000.0, fmt::format("{}", fmt::join(f.agents, ", ")).c_str());
	return kOk;
}

int printRevert(const Args &a, const json &r, const char *what)
{
	auto ans = control::parseAnswer<control::FaultRevertAnswer>(r);
	if (!ans) {
		fprintf(stderr, "xdc: %s\n", ans.error().message.c_str());
		return kFailed;
	}
	if (a.has("--json")) {
		printf("%s\n", r.dump(2).c_str());
	} else {
		for (const auto &[agent, e] : ans->agents) {
			if (!e.ok) {
				printf("  %-12s FAILED: %s\n", agent.c_str(), e.error.c_str());
				continue;
			}
			printf("  %-12s reverted and verified: %s%s\n", agent.c_str(),
			       e.reverted.empty() ? "(nothing)" : fmt::format("{}", fmt::join(e.reverted, ", ")).c_str(),
			       e.unverified.empty() ? ""
						    : fmt::format("; NOT VERIFIED: {}", fmt::join(e.unverified, "; ")).c_str());
		}
		printf("%s: %s\n", what, ans->allVerified ? "all reverts verified" : "SOME REVERTS NOT VERIFIED");
	}
	return ans->allVerified ? kOk : kFailed;
}

} // namespace

int cmdFault(const std::vector<std::string> &argv)
{
	auto specs = controlFlags();
	specs.push_back({"-f", true, "read the spec from FILE (apply)"});
	specs.push_back({"--dry-run", false, "print per host the exact rules without applying them (apply)"});
	specs.push_back({"--no-sync", false, "each agent applies as its command arrives, not at one shared instant (apply)"});
	specs.push_back({"--ended", false, "the latest ends the agents reported, not the faults in place (list)"});
	auto a = parseArgs(argv, specs);
	if (!a) {
		fprintf(stderr, "xdc fault: %s\n", a.error().message.c_str());
		return kUsage;
	}
	const std::string sub = a->positional.empty() ? "" : a->positional[0];
	if (a->has("--help") || sub.empty()) {
		printf("Usage: xdc fault apply SPEC | -f FILE [--dry-run] [--no-sync] [--json]\n"
		       "       xdc fault list [--ended] [--json]\n"
		       "       xdc fault revert ID [--json]\n\n"
		       "SPEC is inline YAML flow, e.g.\n"
		       "  xdc fault apply '{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s}'\n"
		       "The spec format is in docs/FAULTS.md. apply prints the fault id and, per agent, the verified time it\n"
		       "took effect on the controller's timeline. Every fault ends by itself after its duration, when the\n"
		       "controller's lease lapses, or with `xdc fault revert ID` / `xdc halt`. The agents tell the\n"
		       "controller of every end at once; `fault list --ended` shows the latest 1000 ends, each with when\n"
		       "the revert took effect on its host and when the controller learned of it.\n"
		       "A fault on several agents starts at one instant a margin (>= 150 ms) ahead, so the hosts change\n"
		       "together; --no-sync skips the margin (each applies on arrival; spread_ns shows the difference).\n"
		       "Exit codes: 0 ok, 1 a fault could not be applied or a revert not verified, 2 refused spec,\n"
		       "3 controller unreachable.\n");
		return a->has("--help") ? kOk : kUsage;
	}
	if (sub == "apply")
		return faultApply(*a);
	if (sub == "list")
		return faultList(*a);
	if (sub == "revert") {
		if (a->positional.size() != 2) {
			fprintf(stderr, "xdc fault revert: give one fault ID (xdc fault list)\n");
			return kUsage;
		}
		int rc = 0;
		auto r = callController(*a, control::FaultRevertRequest{a->positional[1]}, rc, 60000);
		return r ? printRevert(*a, *r, "revert") : rc;
	}
	fprintf(stderr, "xdc fault: unknown subcommand '%s' (apply, list, revert)\n", sub.c_str());
	return kUsage;
}

int cmdHalt(const std::vector<std::string> &argv)
{
	auto specs = controlFlags();
	auto a = parseArgs(argv, specs);
	if (!a) {
		fprintf(stderr, "xdc halt: %s\n", a.error().message.c_str());
		return kUsage;
	}
	if (a->has("--help")) {
		printf("Usage: xdc halt [--json]\n\nReverts every fault on every live agent and prints, per agent, what "
		       "was reverted and\nverified. Exit 1 if any revert could not be verified.\n");
		return kOk;
	}
	int rc = 0;
	auto r = callController(*a, control::HaltRequest{}, rc, 60000);
	return r ? printRevert(*a, *r, "halt") : rc;
}

} // namespace xdc::cli
