// SPDX-License-Identifier: Apache-2.0
// `xdc lab up --streams` and `xdc lab streams reset`: the Streams emulators of the lab (either toolkit mode), the
// passive monitor, the agents' Streams blocks, and the helpers the lab command's files share.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/duration.h"
#include "common/sys/process.h"
#include "controller/cli/lab_internal.h"
#include "controller/streams/config.h"
#include "controller/streams/poll.h"

namespace xdc::cli::labx {

std::string selfDir()
{
	char buf[4096];
	ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n <= 0)
		return ".";
	std::string p(buf, static_cast<size_t>(n));
	return p.substr(0, p.rfind('/'));
}

// xdc-agent next to xdc (installed), or in the build tree's agent/ folder.
std::string findAgentBinary()
{
	if (const char *e = std::getenv("XDC_AGENT_BIN"); e && *e)
		return absolutePath(e);
	const std::string dir = selfDir();
	for (const auto &c : {dir + "/xdc-agent", dir + "/../agent/xdc-agent"})
		if (::access(c.c_str(), X_OK) == 0)
			return c;
	return "xdc-agent";
}

std::string selfExe()
{
	char buf[4096];
	ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
	return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "xdc";
}

// Processes the lab starts run from "/" (spawn starts a new session there): a relative binary path must be made
// absolute first.
std::string absolutePath(const std::string &p)
{
	if (p.empty() || p[0] == '/')
		return p;
	char *r = ::realpath(p.c_str(), nullptr);
	if (!r)
		return p;
	std::string out(r);
	::free(r);
	return out;
}

Result<void> writeText(const std::string &path, const std::string &text, mode_t mode)
{
	std::ofstream f(path, std::ios::trunc);
	if (!f)
		return makeError(Errc::Io, "cannot write '{}'", path);
	f << text;
	f.close();
	::chmod(path.c_str(), mode);
	return success();
}

void progress(bool json, const std::string &msg)
{
	if (!json)
		fprintf(stderr, "lab: %s\n", msg.c_str());
}

std::string findEmulatorBinary()
{
	if (const char *e = std::getenv("XDC_EMU_BIN"); e && *e)
		return absolutePath(e);
	const std::string dir = selfDir();
	for (const auto &c : {dir + "/xdc-streams-emu", dir + "/../emulator/xdc-streams-emu",
			      dir + "/../libexec/xdc/xdc-streams-emu"})
		if (::access(c.c_str(), X_OK) == 0)
			return c;
	return "xdc-streams-emu";
}

Result<StreamsLabSpec> parseStreamsSpec(const Args &a)
{
	StreamsLabSpec s;
	auto ms = [&](const char *flag, int64_t &out) -> Result<void> {
		if (!a.has(flag))
			return {};
		auto d = parseDuration(a.get(flag));
		if (!d)
			return d.error().context(flag);
		out = std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
		return {};
	};
	auto whole = [&](const char *flag, int &out, int lo, int hi) -> Result<void> {
		if (!a.has(flag))
			return {};
		char *end = nullptr;
		const std::string v = a.get(flag);
		long n = std::strtol(v.c_str(), &end, 10);
		if (v.empty() || *end || n < lo || n > hi)
			return makeError(Errc::Invalid, "{} '{}': expected a whole number from {} to {}", flag, v, lo, hi);
		out = static_cast<int>(n);
		return {};
	};
	for (auto r : {ms("--hb-interval", s.hbIntervalMs), ms("--snapshot-interval", s.snapshotIntervalMs),
		       ms("--init-delay", s.initDelayMs), ms("--app-delay", s.appDelayMs),
		       ms("--takeover-delay", s.appDelayMs), ms("--pe-restart-delay", s.peRestartDelayMs),
		       ms("--metrics-interval", s.metricsIntervalMs), whole("--streams-pes", s.pes, 1, 500),
		       whole("--hb-misses", s.hbMisses, 1, 255), whole("--channels", s.channels, 1, 16),
		       whole("--source-rate", s.sourceRate, 0, 100000)})
		if (!r)
			return r.error();
	s.mode = a.get("--streams-mode", s.mode);
	if (s.mode != "active-active" && s.mode != "active-passive")
		return makeError(Errc::Invalid, "--streams-mode '{}': expected active-active or active-passive", s.mode);
	s.traceLevel = a.get("--trace-level", s.traceLevel);
	static const std::set<std::string> kLevels{"off", "error", "warn", "info", "debug", "trace"};
	if (!kLevels.count(s.traceLevel))
		return makeError(Errc::Invalid, "--trace-level '{}': expected off, error, warn, info, debug or trace",
				 s.traceLevel);
	s.noToolkit = a.has("--streams-no-toolkit");
	if (s.hbIntervalMs < 10)
		return makeError(Errc::Invalid, "--hb-interval: expected at least 10ms");
	if (s.snapshotIntervalMs < 1000)
		return makeError(Errc::Invalid, "--snapshot-interval: expected at least 1s (the toolkit counts it in whole "
				 "seconds and divides by it)");
	if (s.metricsIntervalMs < 10)
		return makeError(Errc::Invalid, "--metrics-interval: expected at least 10ms");
	return s;
}

nlohmann::json toJson(const StreamsLabSpec &s)
{
	return {{"mode", s.mode},
		{"pes", s.pes},
		{"init_delay_ms", s.initDelayMs},
		{"hb_interval_ms", s.hbIntervalMs},
		{"hb_misses", s.hbMisses},
		{"snapshot_interval_ms", s.snapshotIntervalMs},
		{"channels", s.channels},
		{"app_delay_ms", s.appDelayMs},
		{"pe_restart_delay_ms", s.peRestartDelayMs},
		{"metrics_interval_ms", s.metricsIntervalMs},
		{"source_rate", s.sourceRate},
		{"trace_level", s.traceLevel},
		{"no_toolkit", s.noToolkit},
		{"toolkit_prefix", s.toolkitPrefix}};
}

namespace {

StreamsLabSpec specFromJson(const nlohmann::json &j)
{
	StreamsLabSpec s;
	s.mode = j.value("mode", s.mode);
	s.pes = j.value("pes", s.pes);
	s.initDelayMs = j.value("init_delay_ms", s.initDelayMs);
	s.hbIntervalMs = j.value("hb_interval_ms", s.hbIntervalMs);
	s.hbMisses = j.value("hb_misses", s.hbMisses);
	s.snapshotIntervalMs = j.value("snapshot_interval_ms", s.snapshotIntervalMs);
	s.channels = j.value("channels", s.channels);
	s.appDelayMs = j.value("app_delay_ms", s.appDelayMs);
	s.peRestartDelayMs = j.value("pe_restart_delay_ms", s.peRestartDelayMs);
	s.metricsIntervalMs = j.value("metrics_interval_ms", s.metricsIntervalMs);
	s.sourceRate = j.value("source_rate", s.sourceRate);
	s.traceLevel = j.value("trace_level", s.traceLevel);
	s.noToolkit = j.value("no_toolkit", s.noToolkit);
	s.toolkitPrefix = j.value("toolkit_prefix", s.toolkitPrefix);
	return s;
}

bool passive(const StreamsLabSpec &ss)
{
	return ss.mode == "active-passive";
}

std::string siblingBinary(const std::string &name)
{
	const std::string emu = findEmulatorBinary();
	return emu.substr(0, emu.rfind('/') + 1) + name;
}

// The first host of each DC, where Streams runs ([1] and [2]).
std::vector<const lab::HostInfo *> streamsHosts(const lab::LabState &st)
{
	std::vector<const lab::HostInfo *> first(3, nullptr);
	for (const auto &h : st.hosts)
		if (h.index && h.dc >= 1 && h.dc <= 2 && !first[static_cast<size_t>(h.dc)])
			first[static_cast<size_t>(h.dc)] = &h;
	return first;
}

// How long the lab waits for the starting state: the init delay, first contact, and the first snapshot stored.
int64_t readyBudgetNs(const StreamsLabSpec &ss)
{
	return (15000 + ss.initDelayMs + 3 * ss.snapshotIntervalMs + 2 * ss.metricsIntervalMs +
		(int64_t(ss.hbMisses) + 2) * ss.hbIntervalMs) *
	       clk::kMs;
}

// The failover script of the passive DC, as the toolkit's crossdc-failover.sh: stop the monitor, submit the
// application, and (unlike the sample) wait until its job is healthy.
std::string failoverScript(const std::string &name, const std::string &sdir)
{
	const std::string tool = siblingBinary("streamtool");
	const std::string st = fmt::format("{} --password-file {}/password", tool, sdir);
	return fmt::format("#!/bin/sh\n"
			   "# The failover script of lab {}'s passive DC (dc2), run by xdc-crossdc-monitor when dc1 is\n"
			   "# declared down: stop the monitor, submit the application, wait until its job is healthy.\n"
			   "# Output to a file, as the toolkit's sample does: the monitor reading it is about to go.\n"
			   "exec >>{}/dc2-failover-result.txt 2>&1\n"
			   "# The monitor holds the toolkit's ports on this host: it must be gone before the job starts.\n"
			   "monitor=$(cat {}/dc2.monitor.pid)\n"
			   "kill \"$monitor\" 2>/dev/null\n"
			   "i=0\n"
			   "while [ $i -lt 50 ]; do\n"
			   "  sleep 0.2\n"
			   "  state=$(awk '/^State:/ {{print $2}}' /proc/\"$monitor\"/status 2>/dev/null)\n"
			   "  if [ -z \"$state\" ] || [ \"$state\" = Z ]; then break; fi\n"
			   "  i=$((i + 1))\n"
			   "done\n"
			   "export STREAMS_EMU_URL=http://127.0.0.1:8440 STREAMS_INSTANCE_ID=dc2-instance "
			   "STREAMS_USERNAME=streamsadmin\n"
			   "{} submitjob {}/CrossDcApp.sab --jobname CrossDcApp || exit 1\n"
			   "i=0\n"
			   "while [ $i -lt 100 ]; do\n"
			   "  {} lsjobs | grep -qw healthy && exit 0\n"
			   "  sleep 0.1\n"
			   "  i=$((i + 1))\n"
			   "done\n"
			   "exit 1\n",
			   name, sdir, sdir, st, sdir, st);
}

Result<void> startMonitor(lab::LabState &st, const std::string &sdir, const StreamsLabSpec &ss)
{
	XDC_TRY(writeText(sdir + "/dc2-failover.sh", failoverScript(st.name, sdir), 0755));
	const auto first = streamsHosts(st);
	const auto &h = *first[2];
	std::vector<std::string> argv = {siblingBinary("xdc-crossdc-monitor"),
					 "--dc", "dc2", "--listen", "0.0.0.0:25091", "--peer", first[1]->data4 + ":25091",
					 "--script", sdir + "/dc2-failover.sh",
					 "--init-delay-ms", std::to_string(ss.initDelayMs),
					 "--hb-interval-ms", std::to_string(ss.hbIntervalMs),
					 "--hb-misses", std::to_string(ss.hbMisses),
					 "--snapshot-interval-ms", std::to_string(ss.snapshotIntervalMs),
					 "--channels", std::to_string(ss.channels),
					 "--http-connect-timeout-ms", std::to_string(std::max<int64_t>(10, ss.hbIntervalMs * 4 / 5)),
					 "--http-read-timeout-ms", std::to_string(ss.hbIntervalMs * 2),
					 "--snapshot-dir", sdir + "/dc2/snapshots",
					 "--timer-tick-ms", std::to_string(ss.hbIntervalMs),
					 "--trace-level", ss.traceLevel, "--toolkit-prefix", ss.toolkitPrefix,
					 "--truth-log", sdir + "/dc2.monitor.truth.jsonl"};
	auto pid = sys::spawn(argv, {.netns = h.netns, .stdoutFile = sdir + "/dc2.monitor.log"});
	if (!pid)
		return pid.error().context("cannot start the passive DC's monitor");
	st.processes.push_back({*pid, sys::processStartTime(*pid).value_or(0), "monitor", h.name, {}});
	XDC_TRY(writeText(sdir + "/dc2.monitor.pid", std::to_string(*pid) + "\n"));
	return st.save();
}

// The toolkits' snapshot files and the files an earlier run dropped that no job read (a DirectoryScan would read
// them as soon as the job is submitted again, mixing that run's tuples into the next one's).
void clearSnapshots(const std::string &sdir)
{
	for (const char *dc : {"dc1", "dc2"})
		for (const char *sub : {"snapshots", "in"}) {
			const std::string d = fmt::format("{}/{}/{}", sdir, dc, sub);
			std::error_code ec;
			for (const auto &e : std::filesystem::directory_iterator(d, ec))
				std::filesystem::remove(e.path(), ec);
		}
}

// The starting state: each job that should run is healthy, each toolkit has heard its remote, and each DC holds
// the other's first snapshot (so a failure from now on has state to take over). In active/passive mode, dc2 runs no
// job and its monitor holds dc1's snapshot.
Result<void> waitStreamsReady(const lab::LabState &st, const std::string &dir, const StreamsLabSpec &ss)
{
	const std::string sdir = dir + "/streams";
	auto eps = streams::loadStreamsConfig(dir + "/streams.yaml");
	if (!eps)
		return eps.error().context("the lab's own streams.yaml");
	std::vector<std::unique_ptr<streams::Client>> clients;
	for (auto &ep : *eps)
		clients.push_back(std::make_unique<streams::Client>(ep));
	const int64_t budget = readyBudgetNs(ss);
	const int64_t deadline = clk::monoNs() + budget;
	std::string why;
	while (true) {
		auto round = streams::pollRound(clients, {});
		why.clear();
		auto add = [&](const std::string &dc, const std::string &w) {
			why += fmt::format("{}{}: {}", why.empty() ? "" : "; ", dc, w);
		};
		for (const auto &s : round) {
			const bool wantsJob = s.dc == "dc1" || !passive(ss);
			if (!s.reachable)
				add(s.dc, s.error);
			else if (!wantsJob && s.job)
				add(s.dc, "the passive DC runs job " + s.job->id);
			else if (wantsJob && !s.job)
				add(s.dc, "no job");
			else if (wantsJob && s.job->health != "healthy")
				add(s.dc, "job " + s.job->health);
			else if (wantsJob && !ss.noToolkit && streams::remoteState(s) != streams::RemoteState::Up)
				add(s.dc, std::string("remote ") + streams::remoteStateName(streams::remoteState(s)) +
						  " (no heartbeat heard yet)");
		}
		if (!ss.noToolkit)
			for (const auto &[dc, other] : {std::pair{"dc1", "dc2"}, std::pair{"dc2", "dc1"}}) {
				if (passive(ss) && std::string(dc) == "dc1")
					continue; // the monitor sends no snapshots
				if (::access(fmt::format("{}/{}/snapshots/{}-0.snapshot", sdir, dc, other).c_str(), F_OK) != 0)
					add(dc, fmt::format("no snapshot of {} stored yet", other));
			}
		if (why.empty())
			return {};
		for (const auto &p : st.processes)
			if ((p.role == "streams" || p.role == "monitor") && !sys::processAlive(p.pid, p.startTime))
				return makeError(Errc::Io, "the Streams {} on {} exited; see {}/{}", p.role, p.name, sdir,
						 p.role == "monitor" ? "dc2.monitor.log" : p.name.substr(0, p.name.find('-')) + ".log");
		if (clk::monoNs() > deadline)
			return makeError(Errc::Timeout, "Streams did not reach its starting state within {} s ({})",
					 budget / clk::kSec, why);
		::usleep(50000);
	}
}

} // namespace

std::string streamsAgentConfig(const std::string &dir, int dc, const StreamsLabSpec &ss)
{
	const std::string sdir = dir + "/streams";
	for (const std::string &d : {sdir, fmt::format("{}/dc{}", sdir, dc), fmt::format("{}/dc{}/trace", sdir, dc),
				    fmt::format("{}/dc{}/snapshots", sdir, dc), fmt::format("{}/dc{}/in", sdir, dc)})
		::mkdir(d.c_str(), 0755);
	std::string text = fmt::format("streams:\n  streamtool: {}\n  instance: dc{}-instance\n  password_file: "
				       "{}/password\n  env:\n    STREAMS_EMU_URL: http://127.0.0.1:8440\n"
				       "    STREAMS_USERNAME: streamsadmin\n"
				       "  orderly_shutdown: [{}, \"127.0.0.1:25090\", OrderlyShutdown]\n",
				       siblingBinary("streamtool"), dc, sdir, siblingBinary("xdc-streams-special-message"));
	// The emulator's sink file, for data.tail (a scenario's data.sink: {via: agent}).
	text += fmt::format("data:\n  sinks:\n    streams-out: {}/dc{}.sink.jsonl\n  drops:\n    streams-in: {}/dc{}/in\n",
			    sdir, dc, sdir, dc);
	// What the host shows of the toolkit (docs/STREAMS.md "Host signals"): PE trace files, the passive monitor's
	// output, the snapshot directory.
	text += fmt::format("evidence:\n  logs:\n    streams-trace: {{path: {}/dc{}/trace, glob: \"*.trc\", recursive: true}}\n",
			    sdir, dc);
	if (dc == 2 && passive(ss))
		text += fmt::format("    streams-monitor: {}/dc2.monitor.log\n", sdir);
	text += fmt::format("  files:\n    streams-snapshots: {}/dc{}/snapshots\n", sdir, dc);
	return text;
}

Result<void> startStreams(lab::LabState &st, const std::string &dir, const StreamsLabSpec &ss, bool js)
{
	if (st.dcs != 2)
		return makeError(Errc::Invalid, "--streams needs exactly 2 DCs (the toolkit pairs two), not {}", st.dcs);
	const std::string emu = findEmulatorBinary();
	const std::string sdir = dir + "/streams";
	::mkdir(sdir.c_str(), 0755);
	const std::string pw = sdir + "/password";
	XDC_TRY(writeText(pw, "passw0rd-" + st.name + "\n", 0600));
	XDC_TRY(writeText(sdir + "/CrossDcApp.sab", "emulated application bundle of CrossDcApp\n"));
	XDC_TRY(writeText(sdir + "/lab-streams.json", toJson(ss).dump(2) + "\n"));
	const auto first = streamsHosts(st);
	std::string yaml = fmt::format("# Streams instances of lab {} (xdc lab up --streams, {}); REST over the management "
				       "network\nstreams:\n  defaults: {{user: streamsadmin, password_file: {}, "
				       "job_name: CrossDcApp, application: CrossDcApp, timeout: 2s, connect_timeout: 1s, "
				       "retries: 1}}\n  instances:\n", st.name, ss.mode, pw);
	for (int d = 1; d <= 2; ++d) {
		const auto &h = *first[static_cast<size_t>(d)];
		const auto &peer = *first[static_cast<size_t>(3 - d)];
		const std::string dc = fmt::format("dc{}", d);
		(void)streamsAgentConfig(dir, d, ss); // the directories
		const bool passiveDc = d == 2 && passive(ss);
		std::vector<std::string> argv = {emu, "--dc", dc, "--instance", dc + "-instance", "--host", h.name,
						 "--rest", "0.0.0.0:8440", "--hb-listen", "0.0.0.0:25091",
						 "--data-http", "0.0.0.0:8442", "--data-tcp", "0.0.0.0:8441",
						 "--data-dir", fmt::format("{}/{}/in", sdir, dc), "--tuple-view", "0.0.0.0:8444",
						 "--tuple-view-size", "2000", "--special-listen", "0.0.0.0:25090",
						 "--peer", peer.data4 + ":25091",
						 // The passive DC's job, once submitted, is the only one processing.
						 "--role", d == 1 || passiveDc ? "active" : "standby",
						 "--init-delay-ms", std::to_string(ss.initDelayMs),
						 "--hb-interval-ms", std::to_string(ss.hbIntervalMs),
						 "--hb-misses", std::to_string(ss.hbMisses),
						 "--snapshot-interval-ms", std::to_string(ss.snapshotIntervalMs),
						 "--channels", std::to_string(ss.channels),
						 "--http-connect-timeout-ms", std::to_string(std::max<int64_t>(10, ss.hbIntervalMs * 4 / 5)),
						 "--http-read-timeout-ms", std::to_string(ss.hbIntervalMs * 2),
						 "--app-delay-ms", std::to_string(ss.appDelayMs),
						 "--pe-restart-delay-ms", std::to_string(ss.peRestartDelayMs),
						 "--metrics-interval-ms", std::to_string(ss.metricsIntervalMs),
						 "--snapshot-dir", fmt::format("{}/{}/snapshots", sdir, dc),
						 "--trace-dir", fmt::format("{}/{}/trace", sdir, dc), "--trace-level", ss.traceLevel,
						 "--toolkit-prefix", ss.toolkitPrefix,
						 "--pes", std::to_string(ss.pes), "--source-rate", std::to_string(ss.sourceRate),
						 "--password-file", pw, "--truth-log", fmt::format("{}/{}.truth.jsonl", sdir, dc),
						 "--sink-file", fmt::format("{}/{}.sink.jsonl", sdir, dc)};
		if (passiveDc)
			argv.push_back("--no-job");
		if (ss.noToolkit)
			argv.push_back("--no-toolkit");
		auto pid = sys::spawn(argv, {.netns = h.netns, .stdoutFile = fmt::format("{}/{}.log", sdir, dc)});
		if (!pid)
			return pid.error().context("cannot start the Streams emulator");
		st.processes.push_back({*pid, sys::processStartTime(*pid).value_or(0), "streams", h.name, {}});
		XDC_TRY(st.save());
		yaml += fmt::format("    - {{dc: {}, url: \"http://{}:8440\", instance: {}-instance, host: {},\n"
				    "       ingest: {{http_json: \"http://{}:8442/data/JsonInject/ports/output/0/inject\", "
				    "tcp: \"{}:8441\", file: streams-in}},\n"
				    "       egress: {{tuple_view: \"http://{}:8444/data/OutView/ports/input/0/tuples\"}},\n"
				    "       host_signals: {{trace: streams-trace, snapshots: streams-snapshots{}}}}}\n",
				    dc, h.mgmt4, dc, h.name, h.mgmt4, h.mgmt4, h.mgmt4,
				    passiveDc ? ", monitor: streams-monitor, failover_script: dc2-failover.sh" : "");
	}
	if (passive(ss))
		XDC_TRY(startMonitor(st, sdir, ss));
	XDC_TRY(writeText(dir + "/streams.yaml", yaml));
	progress(js, passive(ss) ? "Streams emulators started (active/passive: dc1 runs the job, dc2 its monitor); "
				   "waiting for the starting state"
				 : "Streams emulators started (active/active: dc1 active, dc2 standby); waiting for the "
				   "starting state");
	return waitStreamsReady(st, dir, ss);
}

Result<void> resetStreams(lab::LabState &st, const std::string &dir, bool js)
{
	const std::string sdir = dir + "/streams";
	std::ifstream f(sdir + "/lab-streams.json");
	if (!f)
		return makeError(Errc::NotFound, "lab {} has no Streams emulators (xdc lab up --streams)", st.name);
	const auto j = nlohmann::json::parse(f, nullptr, false);
	if (j.is_discarded())
		return makeError(Errc::Invalid, "{}/lab-streams.json does not parse", sdir);
	const StreamsLabSpec ss = specFromJson(j);
	auto eps = streams::loadStreamsConfig(dir + "/streams.yaml");
	if (!eps)
		return eps.error().context("the lab's own streams.yaml");
	// Every job goes: the toolkit's state lives in its PEs, and only a job restart clears a detection.
	for (const auto &ep : *eps) {
		streams::Client c(ep);
		auto jobs = c.jobs();
		if (!jobs)
			return jobs.error().context(ep.dc);
		for (const auto &job : *jobs)
			if (auto r = c.cancelJob(job.id); !r)
				return r.error().context(fmt::format("{}: cancel job {}", ep.dc, job.id));
	}
	if (passive(ss)) {
		for (auto it = st.processes.begin(); it != st.processes.end();) {
			if (it->role != "monitor") {
				++it;
				continue;
			}
			(void)sys::stopProcess(it->pid, it->startTime, std::chrono::milliseconds(3000));
			it = st.processes.erase(it);
		}
		XDC_TRY(st.save());
	}
	clearSnapshots(sdir);
	progress(js, "jobs canceled; submitting them again");
	if (passive(ss))
		XDC_TRY(startMonitor(st, sdir, ss));
	for (const auto &ep : *eps) {
		if (passive(ss) && ep.dc != "dc1")
			continue;
		streams::Client c(ep);
		auto bundle = c.uploadBundle(sdir + "/CrossDcApp.sab");
		if (!bundle)
			return bundle.error().context(ep.dc);
		nlohmann::json overlay = {{"jobConfigOverlays", nlohmann::json::array({{{"jobConfig", {{"jobName", ep.jobName}}}}})}};
		if (auto job = c.submitJob(*bundle, overlay); !job)
			return job.error().context(fmt::format("{}: submit", ep.dc));
	}
	progress(js, "waiting for the starting state");
	return waitStreamsReady(st, dir, ss);
}

} // namespace xdc::cli::labx
