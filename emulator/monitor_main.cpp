// SPDX-License-Identifier: Apache-2.0
// xdc-crossdc-monitor: the passive DC's standalone monitoring program of the toolkit's active/passive mode, modelled
// on the toolkit's CrossDataCenterFailoverPassiveSample: the same composite in passive mode (it receives and answers
// heartbeats and stores the active DC's snapshots, but never hands them over), a timer that logs the remote's status,
// and, when the remote is declared down, the configured shell script run the way the toolkit's launch_app() runs it
// (popen: /bin/sh -c SCRIPT; its output logged at trace level). The script is expected to stop this program and
// submit the real application (`streamtool submitjob`). Its trace goes to stdout, as a standalone program's does.
#include <condition_variable>
#include <csignal>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <cstdio>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include "common/log.h"
#include "emulator/options.h"
#include "emulator/toolkit.h"
#include "emulator/trace.h"
#include "emulator/truth_log.h"

using namespace xdc;
using namespace xdc::emu;

namespace {

struct MonitorOptions {
	ToolkitConfig tk;
	std::string script;
	int timerTickMs = 60000;
	TraceLevel level = TraceLevel::Error;
	std::string truthLog;
};

const char *kUsage = R"(usage: xdc-crossdc-monitor --dc NAME --listen HOST:PORT --peer HOST:PORT --script PATH [options]
The passive DC's monitor of the cross-DC toolkit's active/passive mode (docs/EMULATOR.md): receives the active DC's
heartbeats and answers them; when the active DC is declared down it runs PATH (/bin/sh -c PATH), which is expected
to stop this monitor and submit the application.

  --dc NAME                  localDataCenterName (dc2)
  --listen HOST:PORT         crossDCHttpPort: heartbeats here, channel k on PORT+1+k
  --peer HOST:PORT           the active DC's machine and crossDCHttpPort
  --script PATH              the failover shell script
  --init-delay-ms N          crossDCInitDelay (1000)
  --hb-interval-ms N         heartbeatExchangeInterval (1000)
  --hb-misses N              consecutiveHeartbeatMissesAllowed (3)
  --snapshot-interval-ms N   dataSnapshotExchangeInterval (5000)
  --channels N               numberOfHttpSenderReceiverPairs (1)
  --http-connect-timeout-ms N, --http-read-timeout-ms N   (25000, 100000)
  --snapshot-dir DIR         dataSnapshotStorageDirectory (none)
  --timer-tick-ms N          how often the remote's status is logged (60000)
  --trace-level LEVEL        off, error, warn, info, debug, trace (error)
  --toolkit-prefix NAME      the composite instance's name (CrossDCFailover)
  --truth-log FILE           ground-truth JSON lines
)";

Result<MonitorOptions> parse(int argc, char **argv)
{
	MonitorOptions o;
	o.tk.dc = "dc2";
	o.tk.mode = 0;
	o.tk.initDelayMs = 1000;
	o.tk.intervalMs = 1000;
	o.tk.allowed = 3;
	o.tk.snapshotIntervalMs = 5000;
	for (int i = 1; i < argc; ++i) {
		const std::string opt = argv[i];
		if (opt == "--help" || opt == "-h") {
			std::fputs(kUsage, stdout);
			std::exit(0);
		}
		if (i + 1 >= argc)
			return makeError(Errc::Invalid, "{} needs a value", opt);
		const std::string v = argv[++i];
		auto num = [&](int64_t lo, int64_t hi) -> Result<int64_t> {
			try {
				size_t used = 0;
				const long long n = std::stoll(v, &used);
				if (used == v.size() && n >= lo && n <= hi)
					return int64_t(n);
			} catch (...) {
			}
			return makeError(Errc::Invalid, "{}: '{}' is not an integer in [{}, {}]", opt, v, lo, hi);
		};
		auto hp = [&](HostPort &dst) -> Result<void> {
			auto r = parseHostPort(v);
			if (!r)
				return r.error().context(opt);
			dst = *r;
			return success();
		};
		Result<void> r;
		Result<int64_t> n = int64_t(0);
		if (opt == "--dc")
			o.tk.dc = v;
		else if (opt == "--listen")
			r = hp(o.tk.listen);
		else if (opt == "--peer")
			r = hp(o.tk.peer);
		else if (opt == "--script")
			o.script = v;
		else if (opt == "--snapshot-dir")
			o.tk.snapshotDir = v;
		else if (opt == "--truth-log")
			o.truthLog = v;
		else if (opt == "--toolkit-prefix")
			o.tk.prefix = v;
		else if (opt == "--trace-level") {
			auto l = parseTraceLevel(v);
			if (!l)
				return l.error().context(opt);
			o.level = *l;
		} else if (opt == "--init-delay-ms" && (n = num(0, 3600000)))
			o.tk.initDelayMs = *n;
		else if (opt == "--hb-interval-ms" && (n = num(10, 3600000)))
			o.tk.intervalMs = *n;
		else if (opt == "--hb-misses" && (n = num(1, 255)))
			o.tk.allowed = int(*n);
		else if (opt == "--snapshot-interval-ms" && (n = num(1000, 86400000)))
			o.tk.snapshotIntervalMs = *n;
		else if (opt == "--channels" && (n = num(1, 16)))
			o.tk.channels = int(*n);
		else if (opt == "--http-connect-timeout-ms" && (n = num(1, 600000)))
			o.tk.connectTimeoutMs = *n;
		else if (opt == "--http-read-timeout-ms" && (n = num(1, 600000)))
			o.tk.readTimeoutMs = *n;
		else if (opt == "--timer-tick-ms" && (n = num(10, 3600000)))
			o.timerTickMs = int(*n);
		else if (!n)
			return n.error();
		else
			return makeError(Errc::Invalid, "unknown option '{}'", opt);
		if (!r)
			return r.error();
	}
	if (o.tk.listen.port == 0 || o.tk.peer.port == 0 || o.script.empty())
		return makeError(Errc::Invalid, "--listen, --peer and --script are required");
	return o;
}

// launch_app(): /bin/sh -c SCRIPT with its stdout read line by line (each logged at trace level), then its exit.
void launchApp(const std::string &script, TraceWriter &tw, TruthLog &truth)
{
	int out[2];
	if (::pipe2(out, O_CLOEXEC) != 0) {
		tw.write(TraceLevel::Info, "launch_app", "APP_LAUNCHER", "Failure while launching " + script);
		return;
	}
	const pid_t pid = ::fork();
	if (pid == 0) {
		::dup2(out[1], 1);
		sigset_t none;
		sigemptyset(&none);
		::sigprocmask(SIG_SETMASK, &none, nullptr);
		::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char *>(nullptr));
		::_exit(127);
	}
	::close(out[1]);
	if (pid < 0) {
		::close(out[0]);
		tw.write(TraceLevel::Info, "launch_app", "APP_LAUNCHER", "Failure while launching " + script);
		return;
	}
	truth.write("failover_script_started", {{"script", script}, {"pid", pid}});
	tw.write(TraceLevel::Debug, "launch_app", "APP_LAUNCHER", "Successfully launched " + script);
	FILE *f = ::fdopen(out[0], "r");
	char line[4096];
	while (f && std::fgets(line, sizeof line, f)) {
		std::string l(line);
		while (!l.empty() && (l.back() == '\n' || l.back() == '\r'))
			l.pop_back();
		tw.write(TraceLevel::Trace, "launch_app", "APP_LAUNCHER", "Result from launched application: " + l);
	}
	if (f)
		std::fclose(f);
	int status = 0;
	::waitpid(pid, &status, 0);
	truth.write("failover_script_ended",
		    {{"pid", pid}, {"status", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)}});
}

} // namespace

int main(int argc, char **argv)
{
	auto parsed = parse(argc, argv);
	if (!parsed) {
		std::fprintf(stderr, "xdc-crossdc-monitor: %s\n(see --help)\n", parsed.error().message.c_str());
		return 2;
	}
	const MonitorOptions opts = *parsed;
	if (auto r = log::init({}); !r) {
		std::fprintf(stderr, "xdc-crossdc-monitor: %s\n", r.error().message.c_str());
		return 1;
	}
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
	std::signal(SIGPIPE, SIG_IGN);
	std::setvbuf(stdout, nullptr, _IOLBF, 0);

	TruthLog truth;
	if (auto r = truth.open(opts.truthLog, opts.tk.dc); !r) {
		std::fprintf(stderr, "xdc-crossdc-monitor: %s\n", r.error().message.c_str());
		return 1;
	}
	truth.write("monitor_start", {{"pid", ::getpid()}, {"listen", opts.tk.listen.str()}, {"peer", opts.tk.peer.str()},
				      {"script", opts.script}, {"interval_ms", opts.tk.intervalMs}, {"allowed", opts.tk.allowed}});
	TraceWriter tw;
	tw.toStdout(opts.level, "standalone");
	std::mutex mu;
	std::string remote = "First contact not yet made.";
	std::vector<std::thread> launches;
	bool stopping = false;
	ToolkitOutputs out;
	out.remoteStatus = [&](bool active) {
		remote = active ? "Up and running." : "Down and not running.";
		tw.write(TraceLevel::Error, "SomeApplicationLogic", "Application_Logic",
			 fmt::format("Received a notification about the remote data center {}.",
				     active ? "coming up and running normally" : "going down due to failure or planned maintenance"));
		if (!active && !stopping)
			launches.emplace_back([&] { launchApp(opts.script, tw, truth); });
	};
	out.dataSnapshotSignal = [&](const HbMessage &m) {
		tw.write(TraceLevel::Error, "SomeApplicationLogic", "Application_Logic",
			 fmt::format("Received a Data Snapshot Signal: {{heartbeatMsgType={},heartbeatCnt={}}}", m.type, m.cnt));
	};
	out.processDataFromRemote = [&](const HbMessage &m) {
		tw.write(TraceLevel::Error, "SomeApplicationLogic", "Application_Logic",
			 fmt::format("Received a tuple to Process Data From RemoteDC: {{heartbeatMsgType={},dataCenterOrigin={}}}",
				     m.type, m.origin));
	};
	auto tk = std::make_unique<Toolkit>(mu, opts.tk, out, truth, tw);
	{
		std::lock_guard lk(mu);
		tk->start();
	}
	std::condition_variable cv;
	std::thread timer([&] {
		std::unique_lock lk(mu);
		while (!cv.wait_for(lk, std::chrono::milliseconds(opts.timerTickMs), [&] { return stopping; }))
			tw.write(TraceLevel::Error, "SomeApplicationLogic", "Application_Logic",
				 fmt::format("Local Data Center={}, Local DC Operation Mode=Passive, Remote DC Status={}",
					     opts.tk.dc, remote));
	});
	int sig = 0;
	sigwait(&sigs, &sig);
	{
		std::lock_guard lk(mu);
		stopping = true;
		tk->requestStop();
	}
	cv.notify_all();
	timer.join();
	tk->join();
	truth.write("monitor_stop", {{"signal", sig}});
	// A running failover script is not waited for: it is what stopped us.
	for (auto &t : launches)
		t.detach();
	std::fflush(stdout);
	::_exit(0);
}
