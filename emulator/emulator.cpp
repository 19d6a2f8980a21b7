// SPDX-License-Identifier: Apache-2.0
// The emulated instance: the job and its PE processes (fork/exec of streams-pec, reaped and relaunched), which
// operators each PE hosts, the toolkit's composite started and stopped with its PE, and the metric collection.
#include "emulator/emulator.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <random>
#include <sstream>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

namespace xdc::emu {

using nlohmann::json;

int64_t monoNs()
{
	return clk::monoNs();
}

int64_t epochMs()
{
	return TruthLog::realtimeNs() / 1000000;
}

namespace {


std::shared_ptr<spdlog::logger> lg()
{
	static auto l = log::get("emu");
	return l;
}

std::string describeStatus(int status)
{
	if (WIFSIGNALED(status))
		return fmt::format("signal {}", WTERMSIG(status));
	return fmt::format("exit {}", WEXITSTATUS(status));
}

ProcFigures procFigures(pid_t pid)
{
	ProcFigures f;
	if (pid <= 0)
		return f;
	std::ifstream stat(fmt::format("/proc/{}/stat", pid));
	std::string line;
	if (std::getline(stat, line)) {
		const auto rp = line.rfind(')');
		if (rp != std::string::npos && rp + 2 < line.size()) {
			std::istringstream is(line.substr(rp + 2));
			std::string field;
			std::vector<std::string> fields;
			while (is >> field)
				fields.push_back(field);
			// After the comm: state is field 3, utime 14 and stime 15 (1-based), so indexes 11 and 12 here.
			if (fields.size() > 12) {
				const long tck = ::sysconf(_SC_CLK_TCK);
				const int64_t ticks = std::atoll(fields[11].c_str()) + std::atoll(fields[12].c_str());
				f.cpuMs = tck > 0 ? ticks * 1000 / tck : 0;
			}
		}
	}
	std::ifstream status(fmt::format("/proc/{}/status", pid));
	while (std::getline(status, line)) {
		if (line.rfind("VmRSS:", 0) == 0)
			f.rssKb = std::atoll(line.c_str() + 6);
		else if (line.rfind("VmSize:", 0) == 0)
			f.vmKb = std::atoll(line.c_str() + 7);
	}
	return f;
}

} // namespace

std::string JobState::health() const
{
	size_t running = 0;
	for (const auto &p : pes)
		running += p.status == "running";
	if (running == pes.size())
		return "healthy";
	if (running == 0)
		return "unhealthy";
	return running * 2 >= pes.size() ? "partiallyHealthy" : "partiallyUnhealthy";
}

bool JobState::healthy() const
{
	return health() == "healthy";
}

Emulator::Emulator(Options opts) : opts_(std::move(opts))
{
	appActive_ = opts_.active;
}

Emulator::~Emulator()
{
	shutdown();
	if (sinkFile_)
		std::fclose(sinkFile_);
}

Result<void> Emulator::start()
{
	XDC_TRY(truth_.open(opts_.truthLog, opts_.dc));
	if (!opts_.sinkFile.empty()) {
		sinkFile_ = std::fopen(opts_.sinkFile.c_str(), "ae");
		if (!sinkFile_)
			return makeError(Errc::Io, "--sink-file '{}': {}", opts_.sinkFile, std::strerror(errno));
	}
	startMs_ = epochMs();
	lastAccrueNs_ = monoNs();
	truth_.write("start", {{"instance", opts_.instance}, {"rest", opts_.rest.str()},
			       {"hb_listen", opts_.hbListen.str()}, {"peer", opts_.peer.port ? opts_.peer.str() : ""},
			       {"role", opts_.active ? "active" : "standby"}, {"init_delay_ms", opts_.initDelayMs},
			       {"hb_interval_ms", opts_.hbIntervalMs}, {"hb_misses", opts_.hbMisses},
			       {"snapshot_interval_ms", opts_.snapshotIntervalMs}, {"channels", opts_.channels},
			       {"app_delay_ms", opts_.appDelayMs}, {"pe_restart_delay_ms", opts_.peRestartDelayMs},
			       {"metrics_interval_ms", opts_.metricsIntervalMs}, {"toolkit", !opts_.noToolkit},
			       {"toolkit_prefix", opts_.toolkitPrefix}, {"pes", opts_.pes}, {"job_name", opts_.jobName},
			       {"application", opts_.application}, {"source_rate", opts_.sourceRate},
			       {"trace_level", traceLevelName(opts_.traceLevel)}, {"user", opts_.user},
			       {"data_http", opts_.dataHttp.port ? opts_.dataHttp.str() : ""},
			       {"data_tcp", opts_.dataTcp.port ? opts_.dataTcp.str() : ""}, {"data_dir", opts_.dataDir},
			       {"token_ttl_s", opts_.tokenTtlS}, {"pec", opts_.pec}, {"no_job", opts_.noJob},
			       {"pid", ::getpid()}});
	if (!opts_.noJob) {
		const std::string bundle = addBundle(0);
		auto j = submitJob(bundle, json{{"jobConfigOverlays", {{{"jobConfig", {{"jobName", opts_.jobName}}}}}}});
		if (!j)
			return j.error().context("Failed to submit the initial job");
	}
	supervisor_ = std::thread([this] { supervisorLoop(); });
	reaper_ = std::thread([this] { reaperLoop(); });
	return success();
}

void Emulator::shutdown()
{
	{
		std::lock_guard lk(mu_);
		if (stopping_)
			return;
		stopping_ = true;
		stopLaunches_ = true;
	}
	superCv_.notify_all();
	// The supervisor is the thread that forked the PEs, so it stays alive until they are gone: PR_SET_PDEATHSIG
	// fires when the forking thread exits, not the process.
	{
		std::lock_guard lk(mu_);
		for (const auto &c : children_)
			::kill(c.first, SIGTERM);
	}
	{
		std::unique_lock lk(mu_);
		reapCv_.notify_all();
		superCv_.wait_for(lk, std::chrono::seconds(2), [this] { return children_.empty(); });
		for (const auto &c : children_)
			::kill(c.first, SIGKILL);
		superCv_.wait_for(lk, std::chrono::seconds(2), [this] { return children_.empty(); });
	}
	reapCv_.notify_all();
	if (reaper_.joinable())
		reaper_.join();
	superCv_.notify_all();
	if (supervisor_.joinable())
		supervisor_.join();
	std::unique_ptr<Toolkit> last;
	std::unique_ptr<LineReceiver> lastLine, lastTcp;
	std::unique_ptr<BlobReceiver> lastJson;
	{
		std::lock_guard lk(mu_);
		if (toolkit_)
			toolkit_->requestStop();
		last = std::move(toolkit_);
		lastLine = std::move(special_);
		lastTcp = std::move(tcpRx_);
		lastJson = std::move(jsonRx_);
	}
	if (last)
		last->join();
	for (auto *l : {lastLine.get(), lastTcp.get()})
		if (l)
			l->close();
	if (lastJson)
		lastJson->close();
	std::lock_guard lk(mu_);
	accrueLocked(monoNs());
	truth_.write("stop", {{"tuples_produced", submitted_}, {"tuples_delivered", delivered_}, {"seq", seq_},
			      {"data_ingested", dataIngested_}, {"data_accepted", dataAccepted_},
			      {"data_filtered", dataFiltered_}, {"data_delivered", dataDelivered_},
			      {"data_dropped", dataDropped_}, {"data_replayed", dataReplayed_},
			      {"data_malformed", dataMalformed_}});
	lg()->info("stopped: {} tuples produced, {} delivered", submitted_, delivered_);
}

Snapshot Emulator::snapshot()
{
	std::lock_guard lk(mu_);
	accrueLocked(monoNs());
	Snapshot s;
	s.job = job_;
	s.metrics = collected_;
	s.appActive = appActive_;
	s.startMs = startMs_;
	return s;
}

std::string Emulator::addBundle(size_t bytes)
{
	std::lock_guard lk(mu_);
	std::string id = fmt::format("bundle-{}", nextBundle_++);
	bundles_.insert(id);
	lg()->info("application bundle {} uploaded ({} bytes)", id, bytes);
	return id;
}

JobState Emulator::makeJobLocked(const std::string &bundleId, const std::string &name, TraceLevel level)
{
	JobState j;
	j.id = nextJobId_++;
	j.name = name.empty() ? fmt::format("{}_{}", opts_.application, j.id) : name;
	j.application = opts_.application;
	j.bundleId = bundleId;
	j.submitMs = epochMs();
	j.traceLevel = level;
	for (int i = 0; i < opts_.pes; ++i) {
		PeState p;
		p.id = nextPeId_++;
		p.index = i;
		j.pes.push_back(p);
	}
	// The composite is fused into the last PE (all of it in one PE, so its operators start and die together);
	// the application's operators are spread over the others round-robin, each PE hosting at least one.
	const bool toolkit = !opts_.noToolkit;
	j.appPeCount = toolkit && opts_.pes > 1 ? opts_.pes - 1 : opts_.pes;
	if (toolkit)
		j.toolkitPeId = j.pes.back().id;
	struct AppDef {
		std::string name, kind;
		int in, out;
		AppOp op;
	};
	std::vector<AppDef> app{{"Source", "spl.utility::Beacon", 0, 1, AppOp::Source}};
	for (int s = 0; s < j.appPeCount - 5; ++s)
		app.push_back({fmt::format("Stage_{}", s), "spl.relational::Functor", 1, 1, AppOp::Stage});
	app.push_back({"Process", "spl.utility::Custom", 4, 2, AppOp::Process});
	app.push_back({"Sink", "spl.adapter::FileSink", 1, 0, AppOp::Sink});
	app.push_back({"SpecialMessageSignalReceiver", "spl.adapter::TCPSource", 0, 1, AppOp::SpecialReceiver});
	app.push_back({"SpecialMessageSender", "spl.utility::Custom", 1, 1, AppOp::SpecialSender});
	// The ingest operators the application is built with (the options that configure them).
	if (opts_.dataHttp.port)
		app.push_back({"JsonInject", "com.ibm.streamsx.inet.rest::HTTPJSONInjection", 0, 1, AppOp::JsonInject});
	if (opts_.dataTcp.port)
		app.push_back({"TcpIngest", "spl.adapter::TCPSource", 0, 1, AppOp::TcpIngest});
	if (!opts_.dataDir.empty()) {
		app.push_back({"DirScan", "spl.adapter::DirectoryScan", 0, 1, AppOp::DirScan});
		app.push_back({"FileIngest", "spl.adapter::FileSource", 1, 1, AppOp::FileIngest});
	}
	if (opts_.tupleView.port)
		app.push_back({"OutView", "com.ibm.streamsx.inet.rest::HTTPTupleView", 1, 0, AppOp::TupleView});
	int index = 0;
	for (size_t i = 0; i < app.size(); ++i) {
		OperatorState o;
		o.id = nextOpId_++;
		o.index = index++;
		o.name = app[i].name;
		o.kind = app[i].kind;
		o.inputs = app[i].in;
		o.outputs = app[i].out;
		o.app = app[i].op;
		o.peId = j.pes[i % size_t(j.appPeCount)].id;
		j.ops.push_back(o);
	}
	if (toolkit) {
		const auto tops = toolkitOperators(opts_.channels);
		for (size_t i = 0; i < tops.size(); ++i) {
			OperatorState o;
			o.id = nextOpId_++;
			o.index = index++;
			o.name = opts_.toolkitPrefix + "." + tops[i].name;
			o.kind = tops[i].kind;
			o.inputs = tops[i].inputs;
			o.outputs = tops[i].outputs;
			o.toolkitIndex = int(i);
			o.peId = j.toolkitPeId;
			j.ops.push_back(o);
		}
	}
	return j;
}

Result<JobState> Emulator::submitJob(const std::string &bundleId, const json &overlay)
{
	std::lock_guard lk(mu_);
	if (!bundles_.count(bundleId))
		return makeError(Errc::NotFound, "application bundle '{}' was not found", bundleId);
	if (job_)
		return makeError(Errc::Exists, "job {} is already running; the emulator runs one job at a time", job_->id);
	std::string name;
	TraceLevel level = opts_.traceLevel;
	if (overlay.is_object() && overlay.contains("jobConfigOverlays") && overlay["jobConfigOverlays"].is_array() &&
	    !overlay["jobConfigOverlays"].empty()) {
		const json &first = overlay["jobConfigOverlays"][0];
		if (first.is_object() && first.contains("jobConfig") && first["jobConfig"].is_object()) {
			const json &jc = first["jobConfig"];
			if (jc.contains("jobName") && jc["jobName"].is_string())
				name = jc["jobName"].get<std::string>();
			if (jc.contains("tracing") && jc["tracing"].is_string()) {
				auto l = parseTraceLevel(jc["tracing"].get<std::string>());
				if (!l)
					return l.error().context("jobConfig.tracing");
				level = *l;
			}
		}
	}
	job_ = makeJobLocked(bundleId, name, level);
	if (overlay.is_object() && overlay.contains("jobConfigOverlays"))
		job_->submitParameters = overlay["jobConfigOverlays"];
	resetAppLocked();
	truth_.write("job_submitted", {{"job", std::to_string(job_->id)}, {"name", job_->name},
				       {"pes", job_->pes.size()}, {"toolkit_pe", std::to_string(job_->toolkitPeId)},
				       {"trace_level", traceLevelName(level)}});
	lg()->info("job {} '{}' submitted with {} PEs", job_->id, job_->name, job_->pes.size());
	// Launches happen on the supervisor thread, the one long-lived thread that forks (see shutdown()).
	const int64_t now = monoNs();
	for (auto &p : job_->pes) {
		p.status = "starting";
		p.relaunchAtNs = now;
	}
	collectLocked();
	superCv_.notify_all();
	return *job_;
}

Result<void> Emulator::cancelJob(int jobId)
{
	std::lock_guard lk(mu_);
	if (!job_ || job_->id != jobId)
		return makeError(Errc::NotFound, "job {} was not found", jobId);
	accrueLocked(monoNs());
	for (auto &p : job_->pes) {
		if (p.pid > 0) {
			children_[p.pid] = 0;
			::kill(p.pid, SIGTERM);
			peEndedLocked(p);
		}
	}
	truth_.write("job_canceled", {{"job", std::to_string(jobId)}, {"name", job_->name}});
	lg()->info("job {} canceled", jobId);
	job_.reset();
	takeoverAtNs_ = 0;
	deliverLocked(monoNs()); // the in-flight tuples die with the job
	collectLocked();
	return success();
}

PeState *Emulator::findPeLocked(int peId)
{
	if (!job_)
		return nullptr;
	for (auto &p : job_->pes)
		if (p.id == peId)
			return &p;
	return nullptr;
}

Result<PeState> Emulator::stopPe(int peId)
{
	std::lock_guard lk(mu_);
	PeState *p = findPeLocked(peId);
	if (!p)
		return makeError(Errc::NotFound, "PE {} was not found", peId);
	accrueLocked(monoNs());
	p->relaunchAtNs = 0;
	p->restartRequested = false;
	p->reason = "user request";
	if (p->pid > 0) {
		p->stopRequested = true;
		p->status = "stopping";
		::kill(p->pid, SIGTERM);
	} else {
		p->status = "stopped";
	}
	lg()->info("PE {} stop requested", peId);
	return *p;
}

Result<PeState> Emulator::restartPe(int peId)
{
	std::lock_guard lk(mu_);
	PeState *p = findPeLocked(peId);
	if (!p)
		return makeError(Errc::NotFound, "PE {} was not found", peId);
	accrueLocked(monoNs());
	p->reason = "user request";
	p->stopRequested = false;
	if (p->pid > 0) {
		p->restartRequested = true;
		p->status = "restarting";
		::kill(p->pid, SIGTERM);
	} else {
		p->status = "restarting";
		p->relaunchAtNs = monoNs();
		superCv_.notify_all();
	}
	lg()->info("PE {} restart requested", peId);
	return *p;
}

void Emulator::launchLocked(PeState &pe, int jobId)
{
	const std::vector<std::string> args{"streams-pec", "--pe-id", std::to_string(pe.id), "--job-id",
					    std::to_string(jobId), "--dc", opts_.dc};
	std::vector<char *> argv;
	for (const auto &a : args)
		argv.push_back(const_cast<char *>(a.c_str()));
	argv.push_back(nullptr);
	const pid_t parent = ::getpid();
	// A close-on-exec pipe tells us whether exec worked: EOF on success, the errno otherwise.
	int fds[2];
	if (::pipe2(fds, O_CLOEXEC) != 0) {
		lg()->error("PE {}: pipe: {}", pe.id, std::strerror(errno));
		return;
	}
	const pid_t pid = ::fork();
	if (pid == 0) {
		// Only async-signal-safe calls until exec.
		::prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (::getppid() != parent)
			::_exit(127);
		sigset_t none;
		sigemptyset(&none);
		::sigprocmask(SIG_SETMASK, &none, nullptr);
		::signal(SIGPIPE, SIG_DFL);
		::execv(opts_.pec.c_str(), argv.data());
		int err = errno;
		(void)!::write(fds[1], &err, sizeof err);
		::_exit(127);
	}
	::close(fds[1]);
	if (pid < 0) {
		::close(fds[0]);
		lg()->error("PE {}: fork: {}", pe.id, std::strerror(errno));
		pe.status = "stopped";
		pe.reason = "failure";
		return;
	}
	int err = 0;
	ssize_t n;
	do
		n = ::read(fds[0], &err, sizeof err);
	while (n < 0 && errno == EINTR);
	::close(fds[0]);
	children_[pid] = pe.id;
	reapCv_.notify_all();
	pe.launchCount++;
	pe.relaunchAtNs = 0;
	if (n > 0) {
		lg()->error("PE {}: cannot exec {}: {}", pe.id, opts_.pec, std::strerror(err));
		pe.pid = pid; // reaped shortly; marked failed below so it is not relaunched in a loop
		pe.status = "stopped";
		pe.reason = "failure";
		pe.stopRequested = true;
		return;
	}
	pe.pid = pid;
	pe.status = "running";
	pe.stopRequested = false;
	pe.restartRequested = false;
	truth_.write("pe_launch", {{"pe", std::to_string(pe.id)}, {"pid", pid}, {"launchCount", pe.launchCount}});
	lg()->info("PE {} launched: pid {}, launch {}", pe.id, pid, pe.launchCount);
	peStartedLocked(pe);
}

// A PE came up: its trace file opens, its operators' port counters start again from 0, and the operators that
// own ports or threads (the toolkit's composite, the SpecialMessage TCPSource) start.
void Emulator::peStartedLocked(const PeState &pe)
{
	if (!job_)
		return;
	auto tw = std::make_unique<TraceWriter>();
	if (!opts_.traceDir.empty())
		if (auto r = tw->open(fmt::format("{}/jobs/{}/pe{}.trc", opts_.traceDir, job_->id, pe.id), job_->traceLevel,
				      fmt::format("J[{}],P[{}]", job_->id, pe.id), pe.pid);
		    !r)
			lg()->error("{}", r.error().message);
	traces_[pe.id] = std::move(tw);
	for (const auto &op : job_->ops) {
		if (op.peId != pe.id)
			continue;
		if (op.toolkitIndex < 0)
			launchBase_[op.id] = appOpCountsLocked(op);
		if (op.toolkitIndex < 0)
			startIngestLocked(op);
		if (op.app == AppOp::SpecialReceiver && op.toolkitIndex < 0 && opts_.specialListen.port) {
			special_ = std::make_unique<LineReceiver>();
			if (auto r = special_->listen(opts_.specialListen, [this](const std::string &line) {
				    std::lock_guard lk(mu_);
				    onSpecialLineLocked(line);
			    });
			    !r) {
				lg()->error("{}", r.error().message);
				special_.reset();
			}
		}
	}
	if (pe.id == job_->toolkitPeId) {
		toolkit_ = std::make_unique<Toolkit>(mu_, toolkitConfigLocked(), appOutputsLocked(), truth_,
						     *traces_[pe.id]);
		toolkit_->start();
	}
}

// A PE is gone (crash, stop, cancel): what it hosted stops with it.
void Emulator::peEndedLocked(const PeState &pe)
{
	if (toolkit_ && job_ && pe.id == job_->toolkitPeId) {
		toolkit_->requestStop();
		retired_.push_back(std::move(toolkit_));
	}
	if (job_)
		for (const auto &op : job_->ops) {
			if (op.peId != pe.id || op.toolkitIndex >= 0)
				continue;
			if (special_ && op.app == AppOp::SpecialReceiver)
				retiredLines_.push_back(std::move(special_));
			stopIngestLocked(op);
		}
	// The trace writer stays alive until the retired toolkit is joined (its threads may still write a line).
	superCv_.notify_all();
}

ToolkitConfig Emulator::toolkitConfigLocked() const
{
	ToolkitConfig c;
	c.dc = opts_.dc;
	c.mode = 1;
	c.listen = opts_.hbListen;
	c.peer = opts_.peer;
	c.initDelayMs = opts_.initDelayMs;
	c.intervalMs = opts_.hbIntervalMs;
	c.allowed = opts_.hbMisses;
	c.snapshotIntervalMs = opts_.snapshotIntervalMs;
	c.channels = opts_.channels;
	c.connectTimeoutMs = opts_.httpConnectTimeoutMs;
	c.readTimeoutMs = opts_.httpReadTimeoutMs;
	c.snapshotDir = opts_.snapshotDir;
	c.retainSnapshots = opts_.retainSnapshots;
	c.sendSnapshotsToOrigin = opts_.sendSnapshotsToOrigin;
	c.prefix = opts_.toolkitPrefix;
	return c;
}

void Emulator::onExitLocked(pid_t pid, int status)
{
	auto it = children_.find(pid);
	const int peId = it == children_.end() ? 0 : it->second;
	if (it != children_.end())
		children_.erase(it);
	json ev{{"pe", std::to_string(peId)}, {"pid", pid}};
	if (WIFSIGNALED(status))
		ev["signal"] = WTERMSIG(status);
	else
		ev["status"] = WEXITSTATUS(status);
	truth_.write("pe_exit", ev);
	PeState *p = peId ? findPeLocked(peId) : nullptr;
	if (!p || p->pid != pid) {
		lg()->info("PE process {} exited ({})", pid, describeStatus(status));
		return;
	}
	accrueLocked(monoNs());
	p->pid = 0;
	peEndedLocked(*p);
	if (p->stopRequested) {
		p->stopRequested = false;
		if (p->status != "stopped" || p->reason != "failure") {
			p->status = "stopped";
			p->reason = "user request";
		}
		lg()->info("PE {} stopped ({})", p->id, describeStatus(status));
	} else if (stopLaunches_) {
		p->status = "stopped";
		p->reason = "user request";
		lg()->info("PE {} ended with the emulator ({})", p->id, describeStatus(status));
	} else if (p->restartRequested) {
		p->restartRequested = false;
		p->status = "restarting";
		p->relaunchAtNs = monoNs();
		lg()->info("PE {} exited for a restart ({})", p->id, describeStatus(status));
	} else {
		p->status = "restarting";
		p->reason = "crashed";
		p->relaunchAtNs = monoNs() + int64_t(opts_.peRestartDelayMs) * clk::kMs;
		lg()->warn("PE {} crashed ({}); relaunch in {} ms", p->id, describeStatus(status), opts_.peRestartDelayMs);
	}
	superCv_.notify_all();
}

// One metric collection, as the instance makes it: every port count and PE figure, stamped with one time.
void Emulator::collectLocked()
{
	accrueLocked(monoNs());
	CollectedMetrics c;
	c.atMs = epochMs();
	if (job_) {
		const auto tk = toolkit_ ? toolkit_->counts() : std::vector<OpCounts>{};
		for (const auto &op : job_->ops) {
			OpCounts oc;
			if (op.toolkitIndex >= 0) {
				if (size_t(op.toolkitIndex) < tk.size())
					oc = tk[size_t(op.toolkitIndex)];
				else
					oc = {std::vector<int64_t>(size_t(op.inputs), 0), std::vector<int64_t>(size_t(op.outputs), 0)};
			} else {
				oc = appOpCountsLocked(op);
				const auto b = launchBase_.find(op.id);
				for (size_t i = 0; b != launchBase_.end() && i < oc.in.size() && i < b->second.in.size(); ++i)
					oc.in[i] -= b->second.in[i];
				for (size_t i = 0; b != launchBase_.end() && i < oc.out.size() && i < b->second.out.size(); ++i)
					oc.out[i] -= b->second.out[i];
			}
			c.ops[op.id] = std::move(oc);
		}
		for (const auto &p : job_->pes)
			c.pes[p.id] = procFigures(p.pid);
	}
	collected_ = std::move(c);
	nextCollectNs_ = monoNs() + int64_t(opts_.metricsIntervalMs) * clk::kMs;
}

void Emulator::supervisorLoop()
{
	std::unique_lock lk(mu_);
	while (true) {
		if (stopping_ && children_.empty())
			break;
		// The composites and ports of PEs that ended are joined outside the lock (their threads take it), and before
		// any launch: a relaunched PE's composite must find its ports closed (and its trace file not yet replaced)
		// as a new process finds the old one's, even with no restart delay.
		if (!retired_.empty() || !retiredLines_.empty() || !retiredBlobs_.empty()) {
			auto tks = std::move(retired_);
			auto lines = std::move(retiredLines_);
			auto blobs = std::move(retiredBlobs_);
			retired_.clear();
			retiredLines_.clear();
			retiredBlobs_.clear();
			lk.unlock();
			for (auto &t : tks)
				t->join();
			for (auto &l : lines)
				l->close();
			for (auto &b : blobs)
				b->close();
			tks.clear(); // their destructors take the lock
			lines.clear();
			blobs.clear();
			lk.lock();
			continue;
		}
		const int64_t now = monoNs();
		accrueLocked(now);
		deliverLocked(now);
		if (!stopLaunches_ && job_) {
			for (auto &p : job_->pes)
				if (p.relaunchAtNs && p.relaunchAtNs <= now && p.pid == 0)
					launchLocked(p, job_->id);
			if (takeoverAtNs_ && takeoverAtNs_ <= now)
				takeoverLocked();
		}
		if (!opts_.dataDir.empty() && now >= nextScanNs_) {
			nextScanNs_ = now + int64_t(opts_.scanIntervalMs) * clk::kMs;
			scanDirLocked();
		}
		if (now >= nextCollectNs_)
			collectLocked();
		// Trace files of PEs that no longer run are closed once nothing can write to them.
		for (auto it = traces_.begin(); it != traces_.end();) {
			const PeState *p = findPeLocked(it->first);
			it = (!p || p->pid == 0) ? traces_.erase(it) : std::next(it);
		}
		// A 5 ms tick bounds the error of relaunch and takeover delays; launches also wake it.
		superCv_.wait_for(lk, std::chrono::milliseconds(5));
	}
}

void Emulator::reaperLoop()
{
	while (true) {
		int status = 0;
		const pid_t pid = ::waitpid(-1, &status, 0);
		std::unique_lock lk(mu_);
		if (pid > 0) {
			onExitLocked(pid, status);
			superCv_.notify_all();
			continue;
		}
		if (errno == EINTR)
			continue;
		// No children: wait until one is launched, or shutdown has nothing left to reap.
		if (stopping_ && children_.empty())
			break;
		reapCv_.wait_for(lk, std::chrono::milliseconds(200));
	}
}

std::string Emulator::issueToken()
{
	static thread_local std::mt19937_64 rng{std::random_device{}()};
	const std::string token = fmt::format("{:016x}{:016x}", rng(), rng());
	std::lock_guard lk(mu_);
	const int64_t now = monoNs();
	for (auto it = tokens_.begin(); it != tokens_.end();)
		it = it->second < now ? tokens_.erase(it) : std::next(it);
	tokens_[token] = now + int64_t(opts_.tokenTtlS) * 1000 * clk::kMs;
	return token;
}

bool Emulator::tokenValid(const std::string &token)
{
	std::lock_guard lk(mu_);
	auto it = tokens_.find(token);
	return it != tokens_.end() && it->second > monoNs();
}

} // namespace xdc::emu
