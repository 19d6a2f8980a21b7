// SPDX-License-Identifier: Apache-2.0
// `xdc lab up --streams`: the Streams emulators of the lab, and the helpers the lab command's files share.
#include <cstdio>
#include <cstdlib>
#include <fstream>
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
		       ms("--takeover-delay", s.takeoverDelayMs), ms("--pe-restart-delay", s.peRestartDelayMs),
		       whole("--streams-pes", s.pes, 1, 500), whole("--hb-misses", s.hbMisses, 1, 1000),
		       whole("--source-rate", s.sourceRate, 0, 100000)})
		if (!r)
			return r.error();
	if (s.hbIntervalMs < 10)
		return makeError(Errc::Invalid, "--hb-interval: expected at least 10ms");
	return s;
}

Result<void> startStreams(lab::LabState &st, const std::string &dir, const StreamsLabSpec &ss, bool js)
{
	if (st.dcs != 2)
		return makeError(Errc::Invalid, "--streams needs exactly 2 DCs (the toolkit pairs two), not {}", st.dcs);
	const std::string emu = findEmulatorBinary();
	const std::string sdir = dir + "/streams";
	::mkdir(sdir.c_str(), 0755);
	const std::string pw = sdir + "/password";
	if (auto w = writeText(pw, "passw0rd-" + st.name + "\n", 0600); !w)
		return w.error();
	std::vector<const lab::HostInfo *> first(3, nullptr);
	for (const auto &h : st.hosts)
		if (h.index && !first[static_cast<size_t>(h.dc)])
			first[static_cast<size_t>(h.dc)] = &h;
	std::string yaml = fmt::format("# Streams instances of lab {} (xdc lab up --streams); REST over the management "
				       "network\nstreams:\n  defaults: {{user: streamsadmin, password_file: {}, "
				       "job_name: CrossDcApp, application: CrossDcApp, timeout: 2s, connect_timeout: 1s, "
				       "retries: 1}}\n  instances:\n", st.name, pw);
	for (int d = 1; d <= 2; ++d) {
		const auto &h = *first[static_cast<size_t>(d)];
		const auto &peer = *first[static_cast<size_t>(3 - d)];
		const std::string dc = fmt::format("dc{}", d);
		std::vector<std::string> argv = {emu, "--dc", dc, "--instance", dc + "-instance", "--host", h.name, "--rest", "0.0.0.0:8440",
						 "--hb-listen", "0.0.0.0:25091", "--data-tcp", "0.0.0.0:8441",
						 "--peer", peer.data4 + ":25091",
						 "--role", d == 1 ? "active" : "standby",
						 "--hb-interval-ms", std::to_string(ss.hbIntervalMs),
						 "--hb-misses", std::to_string(ss.hbMisses),
						 "--snapshot-interval-ms", std::to_string(ss.snapshotIntervalMs),
						 "--takeover-delay-ms", std::to_string(ss.takeoverDelayMs),
						 "--pe-restart-delay-ms", std::to_string(ss.peRestartDelayMs),
						 "--pes", std::to_string(ss.pes), "--source-rate", std::to_string(ss.sourceRate),
						 "--password-file", pw, "--truth-log", fmt::format("{}/{}.truth.jsonl", sdir, dc),
						 "--sink-file", fmt::format("{}/{}.sink.jsonl", sdir, dc)};
		auto pid = sys::spawn(argv, {.netns = h.netns, .stdoutFile = fmt::format("{}/{}.log", sdir, dc)});
		if (!pid)
			return pid.error().context("cannot start the Streams emulator");
		st.processes.push_back({*pid, sys::processStartTime(*pid).value_or(0), "streams", h.name, {}});
		if (auto s = st.save(); !s)
			return s.error();
		yaml += fmt::format("    - {{dc: {}, url: \"http://{}:8440\", instance: {}-instance, host: {}}}\n", dc, h.mgmt4, dc,
				    h.name);
	}
	const std::string cfg = dir + "/streams.yaml";
	if (auto w = writeText(cfg, yaml); !w)
		return w.error();
	progress(js, "Streams emulators started (dc1 active, dc2 standby); waiting for their REST APIs");
	auto eps = streams::loadStreamsConfig(cfg);
	if (!eps)
		return eps.error().context("the lab's own streams.yaml");
	std::vector<std::unique_ptr<streams::Client>> clients;
	for (auto &ep : *eps)
		clients.push_back(std::make_unique<streams::Client>(ep));
	const int64_t deadline = clk::monoNs() + 15 * clk::kSec;
	std::string why;
	while (true) {
		auto round = streams::pollRound(clients, {});
		why.clear();
		// Ready means steady state: both jobs healthy and each DC has heard the other's heartbeat.
		for (const auto &s : round) {
			auto hb = s.toolkit.find("nHeartbeatsReceived");
			const bool heard = hb != s.toolkit.end() && hb->second > 0;
			if (!s.reachable || !s.job || s.job->health != "healthy" || !heard)
				why += fmt::format("{}{}: {}", why.empty() ? "" : "; ", s.dc,
						   !s.reachable ? s.error
						   : !s.job    ? "no job"
						   : !heard    ? "no heartbeat from the other DC yet"
							       : "job " + s.job->health);
		}
		if (why.empty())
			return {};
		for (const auto &p : st.processes)
			if (p.role == "streams" && !sys::processAlive(p.pid, p.startTime))
				return makeError(Errc::Io, "the Streams emulator on {} exited at start; see {}/{}.log", p.name,
						 sdir, p.name.substr(0, p.name.find('-')));
		if (clk::monoNs() > deadline)
			return makeError(Errc::Timeout, "the Streams emulators were not ready within 15 s ({})", why);
		::usleep(50000);
	}
}

} // namespace xdc::cli::labx
