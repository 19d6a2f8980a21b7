// SPDX-License-Identifier: Apache-2.0
// Subcommand table and top-level help.
#include <cstdio>
#include <functional>

#include "common/proto/protocol.h"
#include "common/yaml_reader.h"
#include "controller/cli/cli.h"
#include "xdc_config.h"

namespace xdc::cli {

namespace {

struct Sub {
	const char *name;
	int (*fn)(const std::vector<std::string> &);
	const char *summary;
};

const Sub kSubs[] = {
	{"controller", cmdController, "run the controller daemon (foreground)"},
	{"agents", cmdAgents, "list agents: state, heartbeat age, clock offset, capabilities"},
	{"stats", cmdStats, "controller status and dropped-frame counters"},
	{"ping", cmdPing, "round-trip a command to agents"},
	{"shutdown", cmdShutdown, "stop the controller"},
	{"reload", cmdReload, "re-read the controller's agent allow-list (same as SIGHUP)"},
	{"keys", cmdKeys, "generate CurveZMQ key pairs"},
	{"console", cmdConsole, "interactive console (history, completion, live fleet view)"},
	{"fault", cmdFault, "apply, list and revert faults (docs/FAULTS.md)"},
	{"halt", cmdHalt, "revert every fault on every agent, verified"},
	{"record", cmdRecord, "run probes and samplers, write an evidence bundle (docs/EVIDENCE.md)"},
	{"evidence", cmdEvidence, "print an evidence bundle: counts, gaps, outages, timeline"},
	{"streams", cmdStreams, "Streams instances, jobs, PEs and the cross-DC toolkit view (docs/STREAMS.md)"},
	{"validate", cmdValidate, "check scenario files offline (or --fleet against the live fleet)"},
	{"run", cmdRun, "run a scenario: phases, faults, evidence, assertions, reports (docs/SCENARIOS.md)"},
	{"history", cmdHistory, "list recorded scenario runs (passed, failed, aborted, broken)"},
	{"compare", cmdCompare, "compare two recorded runs figure by figure"},
	{"metrics", cmdMetrics, "query Prometheus (PromQL) and JMX through Jolokia (docs/METRICS.md)"},
	{"lab", cmdLab, "multi-DC lab on this machine: up, status, exec, down"},
};

void usage(FILE *to)
{
	fprintf(to, "Usage: xdc COMMAND [options]   (xdc COMMAND --help for details)\n\n"
		    "xdc tests how Streams applications survive datacenter failures.\n\nCommands:\n");
	for (const auto &s : kSubs)
		fprintf(to, "  %-12s %s\n", s.name, s.summary);
	fprintf(to, "  %-12s %s\n", "version", "print the version");
	fprintf(to, "\nConsole commands find the controller at /run/xdc/control.sock unless given --lab NAME, "
		    "--control PATH,\nor XDC_CONTROL / XDC_LAB in the environment; with none of these and no controller "
		    "there, the only lab up.\n"
		    "Exit codes: 0 ok, 1 failed, 2 bad usage or input, 3 controller unreachable.\n");
}

} // namespace

std::vector<std::string> subcommandNames()
{
	std::vector<std::string> n;
	for (const auto &s : kSubs)
		n.push_back(s.name);
	n.push_back("version");
	return n;
}

int dispatch(const std::vector<std::string> &argvIn)
{
	// Console-wide options may come before the command (`xdc --lab lab1 agents`): they move after it.
	std::vector<std::string> argv, lead;
	size_t i = 0;
	while (i < argvIn.size() && (argvIn[i] == "--lab" || argvIn[i] == "--control") && i + 1 < argvIn.size()) {
		lead.push_back(argvIn[i]);
		lead.push_back(argvIn[i + 1]);
		i += 2;
	}
	argv.assign(argvIn.begin() + static_cast<long>(i), argvIn.end());
	if (!argv.empty())
		argv.insert(argv.begin() + 1, lead.begin(), lead.end());
	if (argv.empty() || argv[0] == "--help" || argv[0] == "-h" || argv[0] == "help") {
		usage(argv.empty() ? stderr : stdout);
		return argv.empty() ? kUsage : kOk;
	}
	if (argv[0] == "version" || argv[0] == "--version") {
		printf("xdc %s (protocol %d..%d)\n", XDC_VERSION, proto::kMinVersion, proto::kVersion);
		return kOk;
	}
	for (const auto &s : kSubs)
		if (argv[0] == s.name)
			return s.fn(std::vector<std::string>(argv.begin() + 1, argv.end()));
	// A typo gets the nearest command and no page of usage; anything else the usage.
	if (const std::string hint = didYouMean(argv[0], subcommandNames()); !hint.empty()) {
		fprintf(stderr, "xdc: unknown command '%s' (did you mean '%s'?); see xdc --help\n", argv[0].c_str(),
			hint.c_str());
		return kUsage;
	}
	fprintf(stderr, "xdc: unknown command '%s'\n\n", argv[0].c_str());
	usage(stderr);
	return kUsage;
}

} // namespace xdc::cli
