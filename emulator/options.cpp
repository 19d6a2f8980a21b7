// SPDX-License-Identifier: Apache-2.0
// Parsing and validation of the emulator's options; a bad value is an error naming the option, never a default.
#include "emulator/options.h"

#include <charconv>
#include <climits>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace xdc::emu {

std::string HostPort::str() const
{
	return fmt::format("{}:{}", host, port);
}

Result<HostPort> parseHostPort(const std::string &s)
{
	const auto colon = s.rfind(':');
	if (colon == std::string::npos || colon == 0 || colon + 1 == s.size())
		return makeError(Errc::Invalid, "'{}' is not HOST:PORT", s);
	int port = 0;
	const char *b = s.data() + colon + 1, *e = s.data() + s.size();
	auto [p, ec] = std::from_chars(b, e, port);
	if (ec != std::errc() || p != e || port < 1 || port > 65535)
		return makeError(Errc::Invalid, "'{}' has no valid port (1-65535)", s);
	return HostPort{s.substr(0, colon), static_cast<uint16_t>(port)};
}

namespace {

Result<int> parseInt(const std::string &opt, const std::string &v, int lo, int hi)
{
	int n = 0;
	auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
	if (ec != std::errc() || p != v.data() + v.size() || n < lo || n > hi)
		return makeError(Errc::Invalid, "{}: '{}' is not an integer in [{}, {}]", opt, v, lo, hi);
	return n;
}

// The default PE binary lives next to the emulator, as the build and the install both put it there.
std::string defaultPec()
{
	std::error_code ec;
	auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
	if (ec)
		return "streams-pec";
	return (self.parent_path() / "streams-pec").string();
}

} // namespace

std::string usage()
{
	return R"(usage: xdc-streams-emu [options]
A stand-in for one Teracloud Streams instance of one datacenter: the REST Management API, a job whose PEs are
real `streams-pec` processes, and in it the cross-DC failover toolkit's composite operator by operator
(docs/EMULATOR.md). Every option has a default.

Instance and job
  --dc NAME                  datacenter name: the toolkit's localDataCenterName (dc1)
  --instance ID              instance id (<dc>-instance)
  --rest HOST:PORT           REST API listen address (0.0.0.0:8440)
  --host NAME                host name the PEs report, as the `resource` they run on (gethostname())
  --pes N                    number of PEs in the job, 1-1000 (3); the toolkit's composite runs in the last
  --pe-restart-delay-ms N    wait before a crashed PE is relaunched (500)
  --job-name NAME            job name of the job submitted at start (CrossDcApp)
  --application NAME         application name (CrossDcApp)
  --no-job                   start with no job submitted
  --metrics-interval-ms N    how often metrics are collected; REST serves the last collection with its
                             lastTimeRetrieved (1000)
  --trace-dir DIR            PE trace files, DIR/jobs/<job>/pe<pe>.trc (none)
  --trace-level LEVEL        the jobs' trace level: off, error, warn, info, debug, trace (error); a submission's
                             jobConfig.tracing overrides it
The toolkit (its configuration keys)
  --hb-listen HOST:PORT      crossDCHttpPort: heartbeats here, parallel channel k on PORT+1+k (0.0.0.0:25091)
  --peer HOST:PORT           the remote DC's machine and crossDCHttpPort; without it nothing is sent
  --init-delay-ms N          crossDCInitDelay (1000)
  --hb-interval-ms N         heartbeatExchangeInterval (1000)
  --hb-misses N              consecutiveHeartbeatMissesAllowed, 1-255 (3)
  --snapshot-interval-ms N   dataSnapshotExchangeInterval, at least 1000; counted in whole seconds (5000)
  --channels N               numberOfHttpSenderReceiverPairs, 1-16 (1)
  --http-connect-timeout-ms N  httpConnectionTimeout (25000)
  --http-read-timeout-ms N   httpReadTimeout (100000)
  --snapshot-dir DIR         dataSnapshotStorageDirectory (none: received snapshots are not stored)
  --retain-snapshots         retainOlderDataSnapshotsAtStartup
  --send-snapshots-to-origin sendDataSnapshotsToOriginDCAtStartup
  --toolkit-prefix NAME      the application's name for its composite instance: operators are NAME.<operator>
                             (CrossDCFailover)
  --no-toolkit               the job has no cross-DC toolkit at all
The application
  --role active|standby      whether the application processes the input from the start (active) or only after
                             taking over the remote DC's replicated data (standby) (active)
  --app-delay-ms N           how long the application takes to act on the remote's replicated data (0)
  --special-listen HOST:PORT the application's SpecialMessage port (a TCPSource: "OrderlyShutdown" per line; off)
  --source-rate N            tuples/s the built-in source produces while the job is healthy and active (50)
  --process-delay-ms N       injected tuples reach the sink this long after they are accepted (100)
  --data-http HOST:PORT      the application's HTTPJSONInjection: POST one JSON tuple to
                             /data/JsonInject/ports/output/0/inject (or /JsonInject/...); answers 204 (off)
  --data-tcp HOST:PORT       the application's TCPSource: one JSON tuple per line, no answer (off)
  --data-dir DIR             the application's DirectoryScan + FileSource: files of tuple lines dropped into DIR
                             (names not starting with '.'), read in name order and deleted (off)
  --scan-interval-ms N       how often DirectoryScan looks into --data-dir (100)
  --sink-file FILE           the application's FileSink: every delivered tuple line is appended here
  --tuple-view HOST:PORT     the application's HTTPTupleView on its output: GET
                             /data/OutView/ports/input/0/tuples (or /OutView/...) answers the window as a JSON array
                             (off)
  --tuple-view-size N        that window: sliding, the last N tuples, triggered by each tuple (10000)
Access and output
  --user NAME                HTTP Basic user (streamsadmin)
  --password-file FILE       file holding the password (first line); default password "passw0rd"
  --token-ttl-s N            access token lifetime in seconds (300)
  --truth-log FILE           append ground-truth JSON lines here
  --pec PATH                 the streams-pec binary (streams-pec next to this executable)
  --help                     this text
)";
}

Result<ParseOutcome> parseOptions(const std::vector<std::string> &args)
{
	ParseOutcome out;
	Options &o = out.opts;
	bool instanceSet = false;
	for (size_t i = 0; i < args.size(); ++i) {
		std::string opt = args[i];
		std::string val;
		bool hasInline = false;
		if (auto eq = opt.find('='); opt.rfind("--", 0) == 0 && eq != std::string::npos) {
			val = opt.substr(eq + 1);
			opt = opt.substr(0, eq);
			hasInline = true;
		}
		if (opt == "--help" || opt == "-h") {
			out.help = true;
			return out;
		}
		if (opt == "--no-job" || opt == "--no-toolkit" || opt == "--retain-snapshots" ||
		    opt == "--send-snapshots-to-origin") {
			(opt == "--no-job"	       ? o.noJob
			 : opt == "--no-toolkit"       ? o.noToolkit
			 : opt == "--retain-snapshots" ? o.retainSnapshots
						       : o.sendSnapshotsToOrigin) = true;
			continue;
		}
		if (!hasInline) {
			if (i + 1 >= args.size())
				return makeError(Errc::Invalid, "{} needs a value", opt);
			val = args[++i];
		}
		auto hp = [&](HostPort &dst) -> Result<void> {
			auto r = parseHostPort(val);
			if (!r)
				return r.error().context(opt);
			dst = *r;
			return success();
		};
		auto num = [&](int &dst, int lo, int hi) -> Result<void> {
			auto r = parseInt(opt, val, lo, hi);
			if (!r)
				return r.error();
			dst = *r;
			return success();
		};
		auto word = [&](std::string &dst) -> Result<void> {
			if (val.empty())
				return makeError(Errc::Invalid, "{} must not be empty", opt);
			dst = val;
			return success();
		};
		Result<void> r;
		if (opt == "--dc")
			r = word(o.dc);
		else if (opt == "--instance") {
			r = word(o.instance);
			instanceSet = true;
		} else if (opt == "--rest")
			r = hp(o.rest);
		else if (opt == "--hb-listen")
			r = hp(o.hbListen);
		else if (opt == "--data-tcp")
			r = hp(o.dataTcp);
		else if (opt == "--data-http")
			r = hp(o.dataHttp);
		else if (opt == "--data-dir")
			r = word(o.dataDir);
		else if (opt == "--scan-interval-ms")
			r = num(o.scanIntervalMs, 10, 3600000);
		else if (opt == "--tuple-view")
			r = hp(o.tupleView);
		else if (opt == "--tuple-view-size")
			r = num(o.tupleViewSize, 1, 1000000);
		else if (opt == "--peer")
			r = hp(o.peer);
		else if (opt == "--role") {
			if (val != "active" && val != "standby")
				r = makeError(Errc::Invalid, "--role: '{}' is neither active nor standby", val);
			o.active = val == "active";
		} else if (opt == "--hb-interval-ms")
			r = num(o.hbIntervalMs, 10, 3600000);
		else if (opt == "--hb-misses")
			r = num(o.hbMisses, 1, 255);
		else if (opt == "--snapshot-interval-ms")
			r = num(o.snapshotIntervalMs, 1000, 86400000);
		else if (opt == "--init-delay-ms")
			r = num(o.initDelayMs, 0, 3600000);
		else if (opt == "--channels")
			r = num(o.channels, 1, 16);
		else if (opt == "--http-connect-timeout-ms")
			r = num(o.httpConnectTimeoutMs, 1, 600000);
		else if (opt == "--http-read-timeout-ms")
			r = num(o.httpReadTimeoutMs, 1, 600000);
		else if (opt == "--app-delay-ms" || opt == "--takeover-delay-ms")
			r = num(o.appDelayMs, 0, 3600000);
		else if (opt == "--metrics-interval-ms")
			r = num(o.metricsIntervalMs, 10, 3600000);
		else if (opt == "--snapshot-dir")
			r = word(o.snapshotDir);
		else if (opt == "--trace-dir")
			r = word(o.traceDir);
		else if (opt == "--trace-level") {
			auto l = parseTraceLevel(val);
			if (!l)
				r = l.error().context(opt);
			else
				o.traceLevel = *l;
		} else if (opt == "--toolkit-prefix")
			r = word(o.toolkitPrefix);
		else if (opt == "--special-listen")
			r = hp(o.specialListen);
		else if (opt == "--pe-restart-delay-ms")
			r = num(o.peRestartDelayMs, 0, 3600000);
		else if (opt == "--pes")
			r = num(o.pes, 1, 1000);
		else if (opt == "--job-name")
			r = word(o.jobName);
		else if (opt == "--host")
			r = word(o.host);
		else if (opt == "--application")
			r = word(o.application);
		else if (opt == "--source-rate") {
			int rate = 0;
			r = num(rate, 0, 1000000);
			o.sourceRate = rate;
		} else if (opt == "--process-delay-ms")
			r = num(o.processDelayMs, 0, 600000);
		else if (opt == "--user")
			r = word(o.user);
		else if (opt == "--password-file") {
			std::ifstream f(val);
			std::string line;
			if (!f || !std::getline(f, line))
				r = makeError(Errc::Invalid, "--password-file: cannot read '{}'", val);
			else if (line.empty())
				r = makeError(Errc::Invalid, "--password-file: '{}' starts with an empty line", val);
			else
				o.password = line;
		} else if (opt == "--token-ttl-s")
			r = num(o.tokenTtlS, 1, 86400 * 365);
		else if (opt == "--sink-file")
			r = word(o.sinkFile);
		else if (opt == "--truth-log")
			r = word(o.truthLog);
		else if (opt == "--pec")
			r = word(o.pec);
		else
			r = makeError(Errc::Invalid, "unknown option '{}'", opt);
		if (!r)
			return r.error();
	}
	if (!instanceSet)
		o.instance = o.dc + "-instance";
	if (int(o.hbListen.port) + o.channels > 65535)
		return makeError(Errc::Invalid, "--hb-listen: port {} leaves no room for {} channel port(s) after it",
				 o.hbListen.port, o.channels);
	if (o.pec.empty())
		o.pec = defaultPec();
	if (::access(o.pec.c_str(), X_OK) != 0)
		return makeError(Errc::Invalid, "--pec: '{}' is not an executable file", o.pec);
	return out;
}

} // namespace xdc::emu
