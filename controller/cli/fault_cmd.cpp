// SPDX-License-Identifier: Apache-2.0
// `xdc fault apply|list|revert` and `xdc halt`.
#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/clock.h"
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
	int rc = 0;
	json req = {{"cmd", "fault.apply"}, {"spec", text}, {"origin", origin}, {"dry_run", a.has("--dry-run")},
		    {"sync", !a.has("--no-sync")}};
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
	if (!r->value("ok", false)) {
		if (!a.has("--json")) {
			fprintf(stderr, "xdc fault apply: %s\n", (*r)["error"].value("message", "failed").c_str());
			// Why each agent refused or failed (the summary above only names them).
			if (r->contains("agents") && (*r)["agents"].is_object())
				for (const auto &[agent, e] : (*r)["agents"].items())
					if (e.is_object() && e.contains("error"))
						fprintf(stderr, "  %s: %s\n", agent.c_str(), e.value("error", "").c_str());
		}
		rc = (*r)["error"].value("code", "") == "invalid" ? kUsage : kFailed;
		return rc;
	}
	if (a.has("--json"))
		return kOk;
	const bool dry = (*r).value("dry_run", false);
	printf("%s %s %s\n", dry ? "dry run of" : "fault", (*r)["id"].get<std::string>().c_str(),
	       (*r)["kind"].get<std::string>().c_str());
	for (const auto &[agent, e] : (*r)["agents"].items()) {
		if (dry) {
			printf("--- %s: %s\n", agent.c_str(), e.value("mechanism", "").c_str());
			for (const auto &p : e.value("plan", json::array()))
				printf("%s\n", p.get<std::string>().c_str());
		} else {
			printf("  %-12s in effect at %s ± %.3f ms (verified %.3f ms later): %s\n", agent.c_str(),
			       clockTimeMs(e["applied_ns"].get<int64_t>()).c_str(), e.value("bound_ns", 0) / 1e6,
			       (e["verified_ns"].get<int64_t>() - e["applied_ns"].get<int64_t>()) / 1e6,
			       e.value("mechanism", "").c_str());
		}
	}
	if (r->contains("spread_ns"))
		printf("spread of effective times across agents: %.3f ms\n", (*r)["spread_ns"].get<int64_t>() / 1e6);
	return kOk;
}

int faultList(const Args &a)
{
	int rc = 0;
	auto r = callController(a, {{"cmd", "fault.list"}}, rc);
	if (!r)
		return rc;
	if (a.has("--json")) {
		printf("%s\n", (*r)["faults"].dump(2).c_str());
		return kOk;
	}
	if ((*r)["faults"].empty())
		printf("no faults in place\n");
	for (const auto &f : (*r)["faults"])
		printf("%-10s %-20s %6.1fs left  on %s\n", f["id"].get<std::string>().c_str(),
		       f["kind"].get<std::string>().c_str(), f["remaining_ms"].get<int64_t>() / 1000.0,
		       fmt::format("{}", fmt::join(f["agents"].get<std::vector<std::string>>(), ", ")).c_str());
	return kOk;
}

int printRevert(const Args &a, const json &r, const char *what)
{
	if (a.has("--json")) {
		printf("%s\n", r.dump(2).c_str());
	} else {
		for (const auto &[agent, e] : r["agents"].items()) {
			if (!e.value("ok", false)) {
				printf("  %-12s FAILED: %s\n", agent.c_str(), e.value("error", "").c_str());
				continue;
			}
			auto rev = e.value("reverted", std::vector<std::string>{});
			auto unv = e.value("unverified", std::vector<std::string>{});
			printf("  %-12s reverted and verified: %s%s\n", agent.c_str(),
			       rev.empty() ? "(nothing)" : fmt::format("{}", fmt::join(rev, ", ")).c_str(),
			       unv.empty() ? "" : fmt::format("; NOT VERIFIED: {}", fmt::join(unv, "; ")).c_str());
		}
		printf("%s: %s\n", what, r.value("all_verified", false) ? "all reverts verified" : "SOME REVERTS NOT VERIFIED");
	}
	return r.value("all_verified", false) ? kOk : kFailed;
}

} // namespace

int cmdFault(const std::vector<std::string> &argv)
{
	auto specs = controlFlags();
	specs.push_back({"-f", true, "read the spec from FILE (apply)"});
	specs.push_back({"--dry-run", false, "print per host the exact rules without applying them (apply)"});
	specs.push_back({"--no-sync", false, "each agent applies as its command arrives, not at one shared instant (apply)"});
	auto a = parseArgs(argv, specs);
	if (!a) {
		fprintf(stderr, "xdc fault: %s\n", a.error().message.c_str());
		return kUsage;
	}
	const std::string sub = a->positional.empty() ? "" : a->positional[0];
	if (a->has("--help") || sub.empty()) {
		printf("Usage: xdc fault apply SPEC | -f FILE [--dry-run] [--no-sync] [--json]\n"
		       "       xdc fault list [--json]\n"
		       "       xdc fault revert ID [--json]\n\n"
		       "SPEC is inline YAML flow, e.g.\n"
		       "  xdc fault apply '{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 10s}'\n"
		       "The spec format is in docs/FAULTS.md. apply prints the fault id and, per agent, the verified time it\n"
		       "took effect on the controller's timeline. Every fault ends by itself after its duration, when the\n"
		       "controller's lease lapses, or with `xdc fault revert ID` / `xdc halt`.\n"
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
		auto r = callController(*a, {{"cmd", "fault.revert"}, {"id", a->positional[1]}}, rc, 60000);
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
	auto r = callController(*a, {{"cmd", "halt"}}, rc, 60000);
	return r ? printRevert(*a, *r, "halt") : rc;
}

} // namespace xdc::cli
