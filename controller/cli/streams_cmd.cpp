// SPDX-License-Identifier: Apache-2.0
// `xdc streams status|watch`: each DC's instance, job and PEs as the REST API reports them, and the cross-DC
// toolkit's state and events as xdc infers them (docs/STREAMS.md).
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <unistd.h>

#include "common/clock.h"
#include "common/duration.h"
#include "controller/cli/cli.h"
#include "controller/lab/lab_state.h"
#include "controller/streams/config.h"
#include "controller/streams/poll.h"

namespace xdc::cli {

// --config FILE, else the lab's streams.yaml (--lab N / $XDC_LAB), else $XDC_STREAMS_CONFIG, else /etc/xdc.
Result<std::string> streamsConfigPath(const Args &a)
{
	if (a.has("--config"))
		return a.get("--config");
	std::string lab = a.get("--lab");
	if (lab.empty() && getenv("XDC_LAB"))
		lab = getenv("XDC_LAB");
	if (!lab.empty())
		return lab::stateDir(lab) + "/streams.yaml";
	if (const char *e = getenv("XDC_STREAMS_CONFIG"); e && *e)
		return std::string(e);
	const std::string etc = "/etc/xdc/streams.yaml";
	if (::access(etc.c_str(), F_OK) == 0)
		return etc;
	// The default lab's controller is the one a command without --lab talks to (controlPathFor): its streams.yaml.
	const std::string defaultLab = lab::stateDir("xdc") + "/streams.yaml";
	if (::access(labControlPath("xdc").c_str(), F_OK) == 0 && ::access(defaultLab.c_str(), F_OK) == 0)
		return defaultLab;
	auto only = chosenLab(a);
	if (!only)
		return only.error();
	return only->empty() ? etc : lab::stateDir(*only) + "/streams.yaml";
}

namespace {

Result<std::vector<std::unique_ptr<streams::Client>>> openClients(const Args &a)
{
	auto path = streamsConfigPath(a);
	if (!path)
		return path.error();
	auto eps = streams::loadStreamsConfig(*path);
	if (!eps)
		return eps.error();
	std::vector<std::unique_ptr<streams::Client>> clients;
	for (auto &ep : *eps)
		if (!a.has("--dc") || ep.dc == a.get("--dc"))
			clients.push_back(std::make_unique<streams::Client>(ep));
	if (clients.empty())
		return makeError(Errc::NotFound, "{}: no instance{}", *path,
				 a.has("--dc") ? " for DC '" + a.get("--dc") + "'" : "");
	return clients;
}

json portJson(const streams::PortSignal &p)
{
	if (!p.present)
		return nullptr;
	return {{"value", p.value}, {"retrieved_ns", p.retrievedNs}};
}

// Which of the signals a real deployment exposes were found, which are missing, and what can be concluded with
// what was found (docs/STREAMS.md "What xdc reads on a real deployment").
json signalsJson(const streams::DcSnapshot &s)
{
	const auto &t = s.toolkit;
	auto has = [&](const char *local) { return std::find(t.found.begin(), t.found.end(), local) != t.found.end(); };
	json can = json::object();
	can["detection"] = has("RemoteDataCenterHeartbeatWatchdog");
	can["heartbeat_flow"] = has("CrossDataCenterReceiverForHB");
	can["takeover"] = !s.sinkOperator.empty();
	can["state_handover"] = has("RemoteDataCenterWatchdog");
	return {{"prefix", t.prefix},
		{"found", t.found},
		{"missing", t.missing},
		{"other_prefixes", t.otherPrefixes},
		{"channels", t.channels},
		{"sink_operator", s.sinkOperator},
		{"can_tell", can}};
}

json snapshotJson(const streams::DcSnapshot &s, const streams::ToolkitView &view)
{
	json j = {{"dc", s.dc}, {"reachable", s.reachable}, {"t_ns", s.tNs}, {"state", streams::dcStateName(view.state(s.dc))}};
	if (!s.reachable) {
		j["error"] = s.error;
		return j;
	}
	j["instance"] = {{"status", s.instanceStatus}, {"health", s.instanceHealth}};
	j["job"] = s.job ? streams::toJson(*s.job) : json(nullptr);
	j["pes"] = json::array();
	for (const auto &p : s.pes)
		j["pes"].push_back(streams::toJson(p));
	if (!s.metricsRead || !s.job)
		return j;
	j["signals"] = signalsJson(s);
	const auto &t = s.toolkit;
	j["toolkit"] = {{"remote", streams::remoteStateName(streams::remoteState(s))},
			{"heartbeat_flow", view.heartbeats(s.dc)},
			{"transitions", portJson(t.transitions)},
			{"heartbeats_received", portJson(t.heartbeatsReceived)},
			{"heartbeats_sent", portJson(t.heartbeatsSent)},
			{"messages_received", portJson(t.messagesReceived)},
			{"state_handed_over", portJson(t.stateHandedOver)}};
	j["sink"] = portJson(s.sink);
	return j;
}

void printSnapshot(const streams::DcSnapshot &s, const streams::ToolkitView &view)
{
	if (!s.reachable) {
		printf("%-6s UNREACHABLE: %s\n", s.dc.c_str(), s.error.c_str());
		return;
	}
	printf("%-6s instance %s, %s   toolkit view: %s\n", s.dc.c_str(), s.instanceStatus.c_str(),
	       s.instanceHealth.empty() ? "health not reported" : s.instanceHealth.c_str(),
	       streams::dcStateName(view.state(s.dc)));
	if (!s.job) {
		printf("       no job matching the streams config's job_name / application (a passive DC runs none until its "
		       "failover submits it)\n");
		return;
	}
	printf("       job %s %s (application %s): %s, %s\n", s.job->id.c_str(), s.job->name.c_str(),
	       s.job->applicationName.c_str(), s.job->status.c_str(), s.job->health.c_str());
	for (const auto &p : s.pes)
		printf("         pe %-4s %-10s reason %-12s launches %-3lld host %-10s pid %lld\n", p.id.c_str(),
		       p.status.c_str(), p.statusReason.empty() ? "-" : p.statusReason.c_str(),
		       static_cast<long long>(p.launchCount), p.host.empty() ? "-" : p.host.c_str(),
		       static_cast<long long>(p.processId));
	if (!s.metricsRead)
		return;
	const auto &t = s.toolkit;
	if (t.prefix.empty() && t.found.empty()) {
		printf("       toolkit: none of its operators found (looked for %s)\n",
		       fmt::format("{}", fmt::join(t.missing, ", ")).c_str());
		printf("                detection and heartbeats cannot be told for this DC\n");
	} else {
		printf("       toolkit %s: remote %s, heartbeats %s; %lld transitions, %lld heartbeats received, %lld sent, "
		       "%lld messages on %d channel(s), %lld state hand-overs\n",
		       t.prefix.empty() ? "(no prefix)" : t.prefix.c_str(), streams::remoteStateName(streams::remoteState(s)),
		       view.heartbeats(s.dc).c_str(),
		       static_cast<long long>(t.transitions.value), static_cast<long long>(t.heartbeatsReceived.value),
		       static_cast<long long>(t.heartbeatsSent.value), static_cast<long long>(t.messagesReceived.value),
		       t.channels, static_cast<long long>(t.stateHandedOver.value));
		if (!t.missing.empty())
			printf("                missing: %s\n", fmt::format("{}", fmt::join(t.missing, ", ")).c_str());
		if (!t.otherPrefixes.empty())
			printf("                also found: %s (set toolkit.prefix to follow another)\n",
			       fmt::format("{}", fmt::join(t.otherPrefixes, ", ")).c_str());
	}
	if (s.sinkOperator.empty())
		printf("       output: no sink operator found (set toolkit.sink_operator): takeover cannot be told\n");
	else
		printf("       output: %s, %lld tuples\n", s.sinkOperator.c_str(), static_cast<long long>(s.sink.value));
	const int64_t at = std::max(s.toolkit.transitions.retrievedNs, s.sink.retrievedNs);
	if (at > 0)
		printf("       metrics retrieved %.0f ms before this poll\n", static_cast<double>(s.tNs - at) / 1e6);
}

int streamsStatus(const Args &a)
{
	auto clients = openClients(a);
	if (!clients) {
		fprintf(stderr, "xdc streams status: %s\n", clients.error().message.c_str());
		return kUsage;
	}
	streams::PollOptions opts;
	opts.metrics = !a.has("--no-metrics");
	const int64_t t0 = clk::monoNs();
	auto round = streams::pollRound(*clients, opts);
	const double ms = static_cast<double>(clk::monoNs() - t0) / 1e6;
	// Whether a DC's output flows shows only between two metric collections: poll until each DC's output has been
	// seen in two (at most --settle, default 3s), taking one quiet collection as standby.
	streams::ToolkitView view(1);
	(void)view.update(round);
	int64_t settleNs = 3 * clk::kSec;
	if (a.has("--settle")) {
		auto d = parseDuration(a.get("--settle"));
		if (!d) {
			fprintf(stderr, "xdc streams status: --settle: %s\n", d.error().message.c_str());
			return kUsage;
		}
		settleNs = d->count();
	}
	while (opts.metrics && !view.settled() && clk::monoNs() - t0 < settleNs) {
		const timespec pause{0, 100 * 1000000};
		::nanosleep(&pause, nullptr);
		round = streams::pollRound(*clients, opts); // whole objects: the output shows every field
		(void)view.update(round);
	}
	bool allReachable = true;
	for (const auto &s : round)
		allReachable = allReachable && s.reachable;
	if (a.has("--json")) {
		json j = {{"dcs", json::array()}, {"active", view.activeDc()}, {"split_brain", view.splitBrain()},
			  {"poll_ms", ms}};
		for (const auto &s : round)
			j["dcs"].push_back(snapshotJson(s, view));
		printf("%s\n", j.dump(2).c_str());
	} else {
		for (const auto &s : round)
			printSnapshot(s, view);
		const std::string act = view.activeDc();
		printf("active DC (toolkit view): %s%s   [polled in %.0f ms]\n", act.empty() ? "none" : act.c_str(),
		       view.splitBrain() ? "  SPLIT BRAIN: more than one DC active" : "", ms);
	}
	return allReachable ? kOk : kUnreachable;
}

int streamsWatch(const Args &a)
{
	auto clients = openClients(a);
	if (!clients) {
		fprintf(stderr, "xdc streams watch: %s\n", clients.error().message.c_str());
		return kUsage;
	}
	int64_t intervalNs = 200 * clk::kMs, durationNs = 0;
	if (a.has("--interval")) {
		auto d = parseDuration(a.get("--interval"));
		if (!d || d->count() < 10 * clk::kMs) {
			fprintf(stderr, "xdc streams watch: --interval '%s': expected a duration of at least 10ms\n",
				a.get("--interval").c_str());
			return kUsage;
		}
		intervalNs = d->count();
	}
	if (a.has("--duration")) {
		auto d = parseDuration(a.get("--duration"));
		if (!d) {
			fprintf(stderr, "xdc streams watch: --duration: %s\n", d.error().message.c_str());
			return kUsage;
		}
		durationNs = d->count();
	}
	const std::atomic<int> &stopSignals = catchStopSignals();
	const bool js = a.has("--json"), states = a.has("--states");
	streams::PollOptions opts;
	opts.parallel = !a.has("--sequential");
	streams::ToolkitView view;
	std::map<std::string, streams::DcState> shown;
	const int64_t start = clk::monoNs();
	int64_t next = start;
	uint64_t rounds = 0;
	std::vector<streams::PollCache> caches(clients->size());
	std::optional<streams::Poller> poller;
	if (opts.parallel)
		poller.emplace(*clients, opts);
	while (stopSignals.load() == 0 && (durationNs == 0 || clk::monoNs() - start < durationNs)) {
		auto round = poller ? poller->round() : streams::pollRound(*clients, opts, &caches);
		auto events = view.update(round);
		++rounds;
		if (rounds == 1 && js) {
			json r = {{"ready", true}, {"interval_ms", intervalNs / clk::kMs}, {"dcs", json::object()}};
			for (const auto &s : round)
				r["dcs"][s.dc] = streams::dcStateName(view.state(s.dc));
			printf("%s\n", r.dump().c_str());
		}
		for (const auto &s : round) {
			const auto st = view.state(s.dc);
			if (states && (rounds == 1 || shown[s.dc] != st)) {
				if (js)
					printf("%s\n", json({{"state", streams::dcStateName(st)}, {"dc", s.dc}, {"t_ns", s.tNs},
							     {"error", s.error}}).dump().c_str());
				else
					printf("%s  %-6s %s%s\n", clockTimeMs(s.tNs).c_str(), s.dc.c_str(),
					       streams::dcStateName(st), s.reachable ? "" : (" (" + s.error + ")").c_str());
			}
			shown[s.dc] = st;
		}
		for (const auto &e : events) {
			if (js)
				printf("%s\n", json({{"event", streams::toJson(e)}}).dump().c_str());
			else
				printf("%s\n", toolkitEventLine(e).c_str());
		}
		fflush(stdout);
		// Absolute schedule: a slow round does not push every later one back.
		next += intervalNs;
		const int64_t now = clk::monoNs();
		if (next < now)
			next = now;
		// One sleep to the absolute instant (CLOCK_MONOTONIC, like clk::monoNs) instead of 50 ms slices: one
		// wakeup per round. Ctrl-C interrupts it (EINTR; clock_nanosleep is never restarted after a handler).
		const timespec until{static_cast<time_t>(next / 1000000000), static_cast<long>(next % 1000000000)};
		while (stopSignals.load() == 0 && ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, nullptr) == EINTR) {
		}
	}
	if (js)
		printf("%s\n", json({{"end", true}, {"rounds", rounds}, {"events", view.events().size()}}).dump().c_str());
	else
		fprintf(stderr, "%llu rounds, %zu events\n", static_cast<unsigned long long>(rounds), view.events().size());
	return kOk;
}

// The Streams host whose agent runs a Streams command: --host, or the `host:` the streams config gives --dc. Prints
// why not and returns "" when there is none.
std::string streamsHost(const Args &a, const std::string &cmd)
{
	std::string host = a.get("--host");
	if (host.empty() && a.has("--dc")) {
		auto path = streamsConfigPath(a);
		auto eps = path ? streams::loadStreamsConfig(*path) : Result<std::vector<streams::Endpoint>>(path.error());
		if (!eps) {
			fprintf(stderr, "xdc streams %s: %s\n", cmd.c_str(), eps.error().message.c_str());
			return "";
		}
		for (const auto &ep : *eps)
			if (ep.dc == a.get("--dc"))
				host = ep.host;
	}
	if (host.empty())
		fprintf(stderr, "xdc streams %s: give --host H (the Streams host whose agent runs it), or --dc DC with a "
			"`host:` for it in the streams config\n", cmd.c_str());
	return host;
}

// Prints the reply of a program the agent ran (streams.pe, streams.orderly_shutdown); the exit code.
int printStreamsRun(const Args &a, const std::string &cmd, const std::string &host, const std::optional<json> &r,
		    int rc)
{
	if (!r)
		return rc;
	auto run = control::parseAnswer<control::StreamsRunAnswer>(*r);
	if (!run) {
		fprintf(stderr, "xdc streams %s: %s\n", cmd.c_str(), run.error().message.c_str());
		return kFailed;
	}
	if (a.has("--json"))
		printf("%s\n", r->dump(2).c_str());
	if (!run->ok) {
		if (!a.has("--json"))
			fprintf(stderr, "xdc streams %s: %s\n", cmd.c_str(), run->error.message.c_str());
		return kFailed;
	}
	if (!a.has("--json"))
		printf("%s: %s at %s (took %.0f ms)\n%s", host.c_str(), fmt::format("{}", fmt::join(run->argv, " ")).c_str(),
		       clockTimeMs(run->startedNs).c_str(), static_cast<double>(run->endedNs - run->startedNs) / 1e6,
		       run->output.c_str());
	return kOk;
}

// streams.pe through the controller and the agent of the Streams host: PE ids come from `status`.
int streamsPe(const Args &a, const std::string &verb)
{
	const std::string cmd = verb + "-pe";
	if (a.positional.size() != 2) {
		fprintf(stderr, "xdc streams %s: give one PE id (xdc streams status)\n", cmd.c_str());
		return kUsage;
	}
	const std::string host = streamsHost(a, cmd);
	if (host.empty())
		return kUsage;
	int rc = 0;
	auto r = callController(a, control::StreamsPeRequest{host, verb, a.positional[1]}, rc, 60000);
	return printStreamsRun(a, cmd, host, r, rc);
}

constexpr const char *kOrderlyShutdownHelp =
	"Usage: xdc streams orderly-shutdown (--host H | --dc DC) [--job ID] [--lab N | --config FILE] [--json]\n\n"
	"Runs the site's orderly-shutdown hook on the Streams host through its agent: the argv the agent's own\n"
	"config gives as streams.orderly_shutdown (no shell), which makes the application send OrderlyShutdown into\n"
	"the cross-DC toolkit's SpecialMessage port. --dc DC picks the `host:` the streams config gives that DC.\n"
	"--job ID (digits) takes the place of a `{job}` element of the hook's argv (refused by the agent when the\n"
	"hook has one and no --job is given). Prints what ran, when (controller clock), and its output.\n\n"
	"  --host H       the Streams host whose agent runs the hook\n"
	"  --dc DC        the DC whose Streams host (the streams config's `host:`) runs it\n"
	"  --job ID       the job id for a `{job}` argument of the hook\n"
	"  --lab N        the controller and streams config of lab N\n"
	"  --config FILE  streams config (for --dc); default: the lab's, $XDC_STREAMS_CONFIG, /etc/xdc/streams.yaml\n"
	"  --control PATH the controller's socket\n"
	"  --json         the controller's reply as JSON\n\n"
	"Exit codes: 0 the hook exited 0; 1 it exited non-zero or could not run, or the agent refused (no\n"
	"streams.orderly_shutdown in its config; an agent older than this command answers unknown_command);\n"
	"2 bad usage or config; 3 the controller could not be reached.\n";

// streams.orderly_shutdown through the controller and the agent of the Streams host.
int streamsOrderlyShutdown(const Args &a)
{
	const std::string cmd = "orderly-shutdown";
	if (a.positional.size() != 1) {
		fprintf(stderr, "xdc streams %s: takes no positional arguments (see --help)\n", cmd.c_str());
		return kUsage;
	}
	const std::string job = a.get("--job");
	if (a.has("--job") && (job.empty() || job.size() > 18 || job.find_first_not_of("0123456789") != std::string::npos)) {
		fprintf(stderr, "xdc streams %s: --job '%s': expected a job id (digits)\n", cmd.c_str(), job.c_str());
		return kUsage;
	}
	const std::string host = streamsHost(a, cmd);
	if (host.empty())
		return kUsage;
	int rc = 0;
	auto r = callController(a, control::StreamsOrderlyShutdownRequest{host, job}, rc, 60000);
	return printStreamsRun(a, cmd, host, r, rc);
}

// Opens the one client --dc names.
Result<std::unique_ptr<streams::Client>> oneClient(const Args &a)
{
	if (!a.has("--dc"))
		return makeError(Errc::Invalid, "give --dc DC");
	auto clients = openClients(a);
	if (!clients)
		return clients.error();
	return std::move(clients->front());
}

int streamsCancel(const Args &a)
{
	auto c = oneClient(a);
	if (!c) {
		fprintf(stderr, "xdc streams cancel-job: %s\n", c.error().message.c_str());
		return kUsage;
	}
	std::string id = a.positional.size() > 1 ? a.positional[1] : "";
	if (id.empty()) {
		auto jobs = (*c)->jobs();
		if (!jobs) {
			fprintf(stderr, "xdc streams cancel-job: %s\n", jobs.error().message.c_str());
			return kUnreachable;
		}
		const streams::Job *j = streams::pickJob(*jobs, (*c)->endpoint());
		if (!j) {
			fprintf(stderr, "xdc streams cancel-job: %s has no job '%s' to cancel\n", a.get("--dc").c_str(),
				(*c)->endpoint().jobName.c_str());
			return kFailed;
		}
		id = j->id;
	}
	const int64_t t0 = clk::wallNs();
	auto r = (*c)->cancelJob(id);
	const int64_t t1 = clk::wallNs();
	if (!r) {
		fprintf(stderr, "xdc streams cancel-job: %s\n", r.error().message.c_str());
		return r.error().code == Errc::NotFound ? kFailed : kUnreachable;
	}
	if (a.has("--json"))
		printf("%s\n", json({{"ok", true}, {"dc", a.get("--dc")}, {"job", id}, {"started_ns", t0},
				     {"ended_ns", t1}}).dump(2).c_str());
	else
		printf("%s: job %s canceled at %s\n", a.get("--dc").c_str(), id.c_str(), clockTimeMs(t1).c_str());
	return kOk;
}

int streamsSubmit(const Args &a)
{
	auto c = oneClient(a);
	if (!c) {
		fprintf(stderr, "xdc streams submit-job: %s\n", c.error().message.c_str());
		return kUsage;
	}
	if (!a.has("--bundle")) {
		fprintf(stderr, "xdc streams submit-job: give --bundle FILE.sab\n");
		return kUsage;
	}
	json overlay = json::object();
	if (a.has("--overlay")) {
		try {
			overlay = json::parse(a.get("--overlay"));
		} catch (const std::exception &e) {
			fprintf(stderr, "xdc streams submit-job: --overlay: not JSON: %s\n", e.what());
			return kUsage;
		}
	}
	const std::string name = a.get("--job-name", (*c)->endpoint().jobName);
	if (!name.empty() && !overlay.contains("jobConfigOverlays"))
		overlay["jobConfigOverlays"] = json::array({{{"jobConfig", {{"jobName", name}}}}});
	auto bundle = (*c)->uploadBundle(a.get("--bundle"));
	if (!bundle) {
		fprintf(stderr, "xdc streams submit-job: %s\n", bundle.error().message.c_str());
		return bundle.error().code == Errc::NotFound || bundle.error().code == Errc::Invalid ? kUsage : kFailed;
	}
	auto job = (*c)->submitJob(*bundle, overlay);
	if (!job) {
		fprintf(stderr, "xdc streams submit-job: %s\n", job.error().message.c_str());
		return kFailed;
	}
	if (a.has("--json"))
		printf("%s\n", json({{"ok", true}, {"dc", a.get("--dc")}, {"bundle", *bundle},
				     {"job", streams::toJson(*job)}}).dump(2).c_str());
	else
		printf("%s: submitted job %s (%s) from bundle %s\n", a.get("--dc").c_str(), job->id.c_str(),
		       job->name.c_str(), bundle->c_str());
	return kOk;
}

} // namespace

std::string toolkitEventLine(const streams::ToolkitEvent &e)
{
	const std::string when = e.sinceNs > 0 ? fmt::format("between {} and {}", clockTimeMs(e.sinceNs), clockTimeMs(e.tNs))
						: "already so at the first look";
	return fmt::format("{}  {:<6} {:<18} {} ({}; from the {})", clockTimeMs(e.tNs), e.dc, e.kind, e.detail, when,
			   e.source);
}

int cmdStreams(const std::vector<std::string> &argv)
{
	std::vector<FlagSpec> specs = controlFlags();
	std::vector<FlagSpec> own = {
		{"--config", true, "streams config (YAML; docs/STREAMS.md); default: the lab's, $XDC_STREAMS_CONFIG, "
				   "/etc/xdc/streams.yaml"},
		{"--lab", true, "use lab NAME's streams.yaml (xdc lab up --streams)"},
		{"--dc", true, "only this DC"},
		{"--no-metrics", false, "status: skip operator metrics (faster; no toolkit view)"},
		{"--settle", true, "status: how long to poll for a second metric collection, which tells whether output "
				   "flows (default 3s; 0 = one poll)"},
		{"--interval", true, "watch: time between poll rounds (default 200ms)"},
		{"--duration", true, "watch: stop after this long (default: until Ctrl-C)"},
		{"--states", false, "watch: also print each DC's state when it changes"},
		{"--sequential", false, "watch: poll the DCs one after the other (less CPU; a round takes longer)"},
		{"--host", true, "stop-pe/restart-pe/orderly-shutdown: the Streams host whose agent runs it"},
		{"--job", true, "orderly-shutdown: the job id for a `{job}` argument of the site's hook"},
		{"--bundle", true, "submit-job: the application bundle (.sab) to upload"},
		{"--job-name", true, "submit-job: job name (default: the config's job_name)"},
		{"--overlay", true, "submit-job: job configuration overlay (JSON)"}};
	for (auto &f : own) {
		auto it = std::find_if(specs.begin(), specs.end(), [&](const FlagSpec &x) { return x.name == f.name; });
		if (it == specs.end())
			specs.push_back(f);
		else
			*it = f;
	}
	auto a = parseArgs(argv, specs);
	if (!a) {
		fprintf(stderr, "xdc streams: %s\n", a.error().message.c_str());
		return kUsage;
	}
	const std::string sub = a->positional.empty() ? "" : a->positional[0];
	if (a->has("--help") && sub == "orderly-shutdown") {
		fputs(kOrderlyShutdownHelp, stdout);
		return kOk;
	}
	if (a->has("--help") || sub.empty()) {
		printf("Usage: xdc streams status [--lab N | --config FILE] [--dc DC] [--no-metrics] [--settle D] [--json]\n"
		       "       xdc streams watch  [--lab N | --config FILE] [--interval 200ms] [--duration D] [--states] "
		       "[--json]\n"
		       "       xdc streams stop-pe|restart-pe PE (--host H | --dc DC) [--json]\n"
		       "       xdc streams orderly-shutdown (--host H | --dc DC) [--job ID] [--json]\n"
		       "       xdc streams cancel-job [JOB] --dc DC [--json]\n"
		       "       xdc streams submit-job --dc DC --bundle FILE.sab [--job-name N] [--overlay JSON] [--json]\n\n"
		       "status: per DC, the instance's status and health, the followed job (name, application, health,\n"
		       "status), each of its PEs (status, reason, launch count, host, pid), which of the cross-DC toolkit's\n"
		       "operators were found (by local name, under any composite instance) and which are missing, their\n"
		       "port counters (remote status, heartbeats, state hand-overs), the application's output, and which\n"
		       "DC the toolkit view says is active. All DCs are polled at once; a missing signal lowers what can\n"
		       "be told, never fails the command.\n"
		       "watch: polls every interval and prints the toolkit view's events as they happen: remote_down\n"
		       "(detection), remote_up, state_handed_over, takeover_complete, fail_back, split_brain,\n"
		       "split_brain_end, job_submitted, job_healthy, dc_down, dc_recovered, pe_relaunch. Each event is\n"
		       "bounded by the metric collections (lastTimeRetrieved) or polls that saw it and the one before.\n"
		       "stop-pe/restart-pe run `streamtool stoppe|restartpe PE` on the Streams host through its agent (the\n"
		       "REST API has no PE verbs); cancel-job and submit-job use the REST API (cancel-job without JOB\n"
		       "cancels the job the config follows).\n"
		       "orderly-shutdown runs the site's hook (the agent config's streams.orderly_shutdown) on the Streams\n"
		       "host through its agent, which makes the application start the toolkit's orderly shutdown\n"
		       "(xdc streams orderly-shutdown --help).\n\n");
		for (const auto &f : specs)
			printf("  %-14s %s\n", (f.name + (f.takesValue ? " X" : "")).c_str(), f.help.c_str());
		printf("\nExit codes: 0 ok; 1 the operation failed (stop-pe/restart-pe/orderly-shutdown: the program exited\n"
		       "non-zero or the agent refused; cancel-job/submit-job: the REST API said no); 2 bad usage or config;\n"
		       "3 a DC's REST API (status, watch) or the controller (PE verbs, orderly-shutdown) could not be reached.\n");
		return a->has("--help") ? kOk : kUsage;
	}
	if (sub == "status")
		return streamsStatus(*a);
	if (sub == "watch")
		return streamsWatch(*a);
	if (sub == "stop-pe" || sub == "restart-pe")
		return streamsPe(*a, sub.substr(0, sub.find('-')));
	if (sub == "orderly-shutdown")
		return streamsOrderlyShutdown(*a);
	if (sub == "cancel-job")
		return streamsCancel(*a);
	if (sub == "submit-job")
		return streamsSubmit(*a);
	fprintf(stderr, "xdc streams: unknown subcommand '%s' (status, watch, stop-pe, restart-pe, orderly-shutdown, "
		"cancel-job, submit-job)\n", sub.c_str());
	return kUsage;
}

} // namespace xdc::cli
