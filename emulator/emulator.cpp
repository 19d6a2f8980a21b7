// SPDX-License-Identifier: Apache-2.0
// The emulated instance: PE processes (fork/exec of streams-pec, reaped and relaunched), the tuple flow, and the
// failover toolkit's heartbeat sender, receiver and takeover.
#include "emulator/emulator.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <random>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/clock.h"
#include "common/log.h"

namespace xdc::emu {

using nlohmann::json;

int64_t monoNs()
{
	return clk::monoNs();
}

namespace {

constexpr int64_t kMsNs = 1000000;

std::shared_ptr<spdlog::logger> lg()
{
	static auto l = log::get("emu");
	return l;
}

int64_t epochMs()
{
	return clk::wallNs() / 1000000;
}

size_t discardBody(char *, size_t size, size_t n, void *)
{
	return size * n;
}

// One heartbeat POST with a hard timeout, so a partitioned peer never holds up the schedule.
Result<long> postJson(const std::string &url, const std::string &body, long timeoutMs)
{
	CURL *c = curl_easy_init();
	if (!c)
		return makeError(Errc::Internal, "curl_easy_init failed");
	curl_slist *hdrs = curl_slist_append(nullptr, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url.c_str());
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, long(body.size()));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeoutMs);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeoutMs);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discardBody);
	const CURLcode rc = curl_easy_perform(c);
	long status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK)
		return makeError(Errc::Io, "{}", curl_easy_strerror(rc));
	return status;
}

std::string describeStatus(int status)
{
	if (WIFSIGNALED(status))
		return fmt::format("signal {}", WTERMSIG(status));
	return fmt::format("exit {}", WEXITSTATUS(status));
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
	fo_.active = opts_.active;
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
			       {"role", opts_.active ? "active" : "standby"}, {"hb_interval_ms", opts_.hbIntervalMs},
			       {"hb_misses", opts_.hbMisses}, {"snapshot_interval_ms", opts_.snapshotIntervalMs},
			       {"takeover_delay_ms", opts_.takeoverDelayMs}, {"pe_restart_delay_ms", opts_.peRestartDelayMs},
			       {"pes", opts_.pes}, {"job_name", opts_.jobName}, {"application", opts_.application},
			       {"source_rate", opts_.sourceRate}, {"user", opts_.user}, {"token_ttl_s", opts_.tokenTtlS},
			       {"pec", opts_.pec}, {"no_job", opts_.noJob}, {"pid", ::getpid()}});
	if (!opts_.noJob) {
		const std::string bundle = addBundle(0);
		auto j = submitJob(bundle, json{{"jobConfigOverlays", {{{"jobConfig", {{"jobName", opts_.jobName}}}}}}});
		if (!j)
			return j.error().context("Failed to submit the initial job");
	}
	supervisor_ = std::thread([this] { supervisorLoop(); });
	reaper_ = std::thread([this] { reaperLoop(); });
	heartbeat_ = std::thread([this] { heartbeatLoop(); });
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
	hbCv_.notify_all();
	if (heartbeat_.joinable())
		heartbeat_.join();
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
	std::lock_guard lk(mu_);
	accrueLocked(monoNs());
	truth_.write("stop", {{"tuples_produced", submitted_}, {"tuples_delivered", delivered_}, {"seq", seq_},
			      {"data_accepted", dataAccepted_}, {"data_delivered", dataDelivered_},
			      {"data_dropped", dataDropped_}, {"data_replayed", dataReplayed_}});
	lg()->info("stopped: {} tuples produced, {} delivered", submitted_, delivered_);
}

Snapshot Emulator::snapshot()
{
	std::lock_guard lk(mu_);
	accrueLocked(monoNs());
	Snapshot s;
	s.job = job_;
	s.failover = fo_;
	s.tuplesSubmitted = submitted_;
	s.tuplesDelivered = delivered_;
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

JobState Emulator::makeJobLocked(const std::string &bundleId, const std::string &name)
{
	JobState j;
	j.id = nextJobId_++;
	j.name = name.empty() ? fmt::format("{}_{}", opts_.application, j.id) : name;
	j.application = opts_.application;
	j.bundleId = bundleId;
	j.submitMs = epochMs();
	for (int i = 0; i < opts_.pes; ++i) {
		PeState p;
		p.id = nextPeId_++;
		p.index = i;
		j.pes.push_back(p);
	}
	// Every PE hosts at least one operator: the source, processing stages, the sink and the failover operator.
	std::vector<std::pair<std::string, std::string>> ops{{"Source", "spl.utility::Beacon"}};
	const int nProcess = std::max(1, opts_.pes - 3);
	for (int i = 0; i < nProcess; ++i)
		ops.emplace_back(nProcess == 1 ? "Process" : fmt::format("Process_{}", i), "spl.relational::Functor");
	ops.emplace_back("Sink", "spl.adapter::FileSink");
	ops.emplace_back("CrossDCFailover", "com.teracloud.streams.crossdcfailover::CrossDataCenterFailover");
	for (size_t i = 0; i < ops.size(); ++i) {
		OperatorState o;
		o.id = nextOpId_++;
		o.index = int(i);
		o.name = ops[i].first;
		o.kind = ops[i].second;
		o.peId = j.pes[i % j.pes.size()].id;
		j.ops.push_back(o);
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
	if (overlay.is_object() && overlay.contains("jobConfigOverlays") && overlay["jobConfigOverlays"].is_array() &&
	    !overlay["jobConfigOverlays"].empty()) {
		const json &first = overlay["jobConfigOverlays"][0];
		if (first.is_object() && first.contains("jobConfig") && first["jobConfig"].is_object() &&
		    first["jobConfig"].contains("jobName") && first["jobConfig"]["jobName"].is_string())
			name = first["jobConfig"]["jobName"].get<std::string>();
	}
	job_ = makeJobLocked(bundleId, name);
	if (overlay.is_object() && overlay.contains("jobConfigOverlays"))
		job_->submitParameters = overlay["jobConfigOverlays"];
	truth_.write("job_submitted", {{"job", std::to_string(job_->id)}, {"name", job_->name},
				       {"pes", job_->pes.size()}});
	lg()->info("job {} '{}' submitted with {} PEs", job_->id, job_->name, job_->pes.size());
	// Launches happen on the supervisor thread, the one long-lived thread that forks (see shutdown()).
	const int64_t now = monoNs();
	for (auto &p : job_->pes) {
		p.status = "starting";
		p.relaunchAtNs = now;
	}
	superCv_.notify_all();
	return *job_;
}

Result<void> Emulator::cancelJob(int jobId)
{
	bool wasActive = false;
	{
		std::lock_guard lk(mu_);
		if (!job_ || job_->id != jobId)
			return makeError(Errc::NotFound, "job {} was not found", jobId);
		accrueLocked(monoNs());
		for (auto &p : job_->pes) {
			if (p.pid > 0) {
				children_[p.pid] = 0;
				::kill(p.pid, SIGTERM);
			}
		}
		truth_.write("job_canceled", {{"job", std::to_string(jobId)}, {"name", job_->name}});
		lg()->info("job {} canceled", jobId);
		job_.reset();
		wasActive = fo_.active;
		// The toolkit's receiver stops with the job: no job, no failover decisions.
		takeoverAtNs_ = 0;
		if (wasActive && opts_.peer.port)
			sendShutdownMsg_ = true;
	}
	hbCv_.notify_all();
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
		p->relaunchAtNs = monoNs() + int64_t(opts_.peRestartDelayMs) * kMsNs;
		lg()->warn("PE {} crashed ({}); relaunch in {} ms", p->id, describeStatus(status), opts_.peRestartDelayMs);
	}
	superCv_.notify_all();
}

void Emulator::accrueLocked(int64_t nowNs)
{
	const int64_t dt = nowNs - lastAccrueNs_;
	if (dt <= 0)
		return;
	lastAccrueNs_ = nowNs;
	// Only the active DC's source produces, and only while every PE runs (a stalled PE backs the flow up).
	if (!fo_.active || !job_ || !job_->healthy())
		return;
	carry_ += opts_.sourceRate * double(dt) / 1e9;
	const auto n = int64_t(carry_);
	carry_ -= double(n);
	submitted_ += n;
	delivered_ += n;
	seq_ += n;
}

void Emulator::deliverLocked(int64_t nowNs)
{
	if (inFlight_.empty())
		return;
	if (!job_ || !job_->healthy()) {
		// A stopped or crashed PE takes the tuples it held with it (no consistent region).
		json ids = json::array();
		for (const auto &t : inFlight_)
			ids.push_back(t.id);
		dataDropped_ += int64_t(inFlight_.size());
		truth_.write("data_dropped", {{"count", inFlight_.size()}, {"ids", ids},
					      {"reason", job_ ? "job " + job_->health() : std::string("no job")}});
		inFlight_.clear();
		return;
	}
	bool wrote = false;
	while (!inFlight_.empty() && inFlight_.front().dueNs <= nowNs) {
		if (sinkFile_) {
			// The same line the sink endpoint serves, as a FileSink would write it.
			std::fwrite(inFlight_.front().line.data(), 1, inFlight_.front().line.size(), sinkFile_);
			std::fputc('\n', sinkFile_);
			wrote = true;
		}
		sinkLog_.push_back(std::move(inFlight_.front().line));
		inFlight_.pop_front();
		dataDelivered_++;
	}
	if (wrote && std::fflush(sinkFile_) != 0)
		lg()->error("--sink-file '{}': {}", opts_.sinkFile, std::strerror(errno));
}

Result<size_t> Emulator::injectTuples(const std::string &body)
{
	std::vector<std::pair<std::string, std::string>> batch;
	size_t start = 0;
	while (start < body.size()) {
		size_t end = body.find('\n', start);
		if (end == std::string::npos)
			end = body.size();
		std::string line = body.substr(start, end - start);
		start = end + 1;
		if (line.find_first_not_of(" \t\r") == std::string::npos)
			continue;
		json j = json::parse(line, nullptr, false);
		if (j.is_discarded() || !j.is_object() || !j.contains("key") || !j["key"].is_string() || !j.contains("seq") ||
		    !j["seq"].is_number_unsigned())
			return makeError(Errc::Invalid, "line {}: not a tuple (a JSON object with a string key and an unsigned "
							"seq)", batch.size() + 1);
		batch.emplace_back(j["key"].get<std::string>() + ":" + std::to_string(j["seq"].get<uint64_t>()),
				   std::move(line));
	}
	std::lock_guard lk(mu_);
	if (!job_)
		return makeError(Errc::Refused, "no job is running");
	if (!job_->healthy())
		return makeError(Errc::Refused, "the job is {}", job_->health());
	if (!fo_.active)
		return makeError(Errc::Refused, "this datacenter is the standby");
	const int64_t due = monoNs() + int64_t(opts_.processDelayMs) * kMsNs;
	for (auto &[id, line] : batch) {
		inFlight_.push_back({due, line, id});
		segment_.emplace_back(id, std::move(line));
	}
	dataAccepted_ += int64_t(batch.size());
	return batch.size();
}

std::string Emulator::sinkTuples(uint64_t since, size_t count, uint64_t &next, uint64_t &total)
{
	std::lock_guard lk(mu_);
	deliverLocked(monoNs());
	total = sinkLog_.size();
	std::string out;
	uint64_t i = since;
	for (; i < sinkLog_.size() && i - since < count; i++) {
		out += sinkLog_[i];
		out += '\n';
	}
	next = std::max(i, since);
	return out;
}

void Emulator::checkMissesLocked(int64_t nowNs)
{
	if (!job_ || !everHeard_ || remoteShutdown_)
		return;
	const int64_t interval = int64_t(opts_.hbIntervalMs) * kMsNs;
	fo_.consecutiveMisses = (nowNs - lastHbNs_) / interval;
	if (fo_.remoteUp && fo_.consecutiveMisses >= opts_.hbMisses) {
		fo_.remoteUp = false;
		const double silentMs = double(nowNs - lastHbNs_) / 1e6;
		truth_.write("remote_down", {{"misses", fo_.consecutiveMisses}, {"silent_ms", silentMs},
					     {"last_heartbeat_t_ns", lastHbRealNs_}, {"active", fo_.active}});
		lg()->warn("remote DC declared down after {} missed heartbeats ({:.0f} ms silent)", fo_.consecutiveMisses,
			   silentMs);
		if (!fo_.active)
			takeoverAtNs_ = nowNs + int64_t(opts_.takeoverDelayMs) * kMsNs;
	}
}

void Emulator::takeoverLocked()
{
	takeoverAtNs_ = 0;
	accrueLocked(monoNs());
	// Resume the application from the last snapshot the old active DC sent: what it did after that is lost.
	int64_t snapSeq = seq_, snapDelivered = 0;
	if (lastSnapshot_.is_object()) {
		snapSeq = lastSnapshot_.value("seq", seq_);
		snapDelivered = lastSnapshot_.value("delivered", int64_t(0));
	}
	seq_ = snapSeq;
	fo_.active = true;
	fo_.takeovers++;
	// At-least-once: the input of the last snapshot is processed again; whatever the old active DC delivered of it
	// is delivered twice.
	if (!replicated_.empty()) {
		const int64_t due = monoNs() + int64_t(opts_.processDelayMs) * kMsNs;
		json ids = json::array();
		for (auto &[id, line] : replicated_) {
			ids.push_back(id);
			inFlight_.push_back({due, line, id});
			segment_.emplace_back(id, line);
		}
		dataReplayed_ += int64_t(replicated_.size());
		dataAccepted_ += int64_t(replicated_.size());
		truth_.write("data_replayed", {{"count", replicated_.size()}, {"ids", ids}});
		replicated_.clear();
	}
	lastAccrueNs_ = monoNs();
	truth_.write("takeover_complete", {{"resume_seq", seq_}, {"snapshot_delivered", snapDelivered},
					   {"takeovers", fo_.takeovers}});
	lg()->warn("takeover complete: this DC is active, resuming at sequence {}", seq_);
}

void Emulator::supervisorLoop()
{
	std::unique_lock lk(mu_);
	while (true) {
		if (stopping_ && children_.empty())
			break;
		const int64_t now = monoNs();
		accrueLocked(now);
		deliverLocked(now);
		if (!stopLaunches_ && job_) {
			for (auto &p : job_->pes)
				if (p.relaunchAtNs && p.relaunchAtNs <= now && p.pid == 0)
					launchLocked(p, job_->id);
			checkMissesLocked(now);
			if (takeoverAtNs_ && takeoverAtNs_ <= now && !fo_.active)
				takeoverLocked();
		}
		// A 5 ms tick bounds the error of miss detection and relaunch delays; launches also wake it.
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

void Emulator::heartbeatLoop()
{
	const std::string url = fmt::format("http://{}/crossdcrx/CrossDataCenterReceiverForHB/ports/output/0/inject",
					    opts_.peer.str());
	const auto interval = std::chrono::milliseconds(opts_.hbIntervalMs);
	const long timeoutMs = std::max<long>(20, opts_.hbIntervalMs * 3 / 4);
	auto next = std::chrono::steady_clock::now() + interval;
	int64_t lastSnapshotNs = monoNs();
	bool wasSending = false;
	std::unique_lock lk(mu_);
	while (!stopping_) {
		hbCv_.wait_until(lk, next, [this] { return stopping_ || sendShutdownMsg_; });
		if (stopping_)
			break;
		json msg{{"heartbeatMsgType", 1}, {"dataCenterOrigin", opts_.dc}, {"dataSnapshot", ""},
			 {"dataSnapshotOrigin", ""}};
		size_t segmentSent = 0;
		bool send = false;
		const bool shutdownMsg = sendShutdownMsg_;
		if (shutdownMsg) {
			sendShutdownMsg_ = false;
			msg["heartbeatMsgType"] = 3;
			send = opts_.peer.port != 0;
		} else {
			// A fixed schedule: a slow send skips slots rather than drifting the ones after it.
			const auto now = std::chrono::steady_clock::now();
			while (next <= now)
				next += interval;
			send = opts_.peer.port != 0 && job_ && job_->healthy();
			if (send && fo_.active &&
			    monoNs() - lastSnapshotNs >= int64_t(opts_.snapshotIntervalMs) * kMsNs) {
				accrueLocked(monoNs());
				lastSnapshotNs = monoNs();
				msg["heartbeatMsgType"] = 2;
				json tuples = json::array();
				for (const auto &[id, line] : segment_)
					tuples.push_back({id, line});
				segmentSent = segment_.size();
				msg["dataSnapshot"] = json{{"seq", seq_}, {"delivered", delivered_}, {"tuples", tuples}}.dump();
				msg["dataSnapshotOrigin"] = opts_.dc;
			}
		}
		if (send != wasSending && !shutdownMsg) {
			if (send)
				lg()->info("heartbeats to {} start", opts_.peer.str());
			else
				lg()->info("heartbeats to {} stop (job not healthy)", opts_.peer.str());
			wasSending = send;
		}
		if (!send)
			continue;
		msg["heartbeatCnt"] = fo_.hbSent + 1;
		const std::string body = msg.dump();
		lk.unlock();
		auto r = postJson(url, body, timeoutMs);
		lk.lock();
		if (r && *r / 100 == 2) {
			fo_.hbSent++;
			if (msg["heartbeatMsgType"] == 2) {
				fo_.snapshotsSent++;
				// The peer holds these now; the next snapshot carries what came after them.
				segment_.erase(segment_.begin(), segment_.begin() + std::ptrdiff_t(std::min(segmentSent, segment_.size())));
			}
			if (shutdownMsg) {
				truth_.write("shutdown_sent", {{"peer", opts_.peer.str()}});
				lg()->info("orderly shutdown heartbeat sent to {}", opts_.peer.str());
			}
		} else {
			lg()->debug("heartbeat to {} failed: {}", opts_.peer.str(),
				    r ? fmt::format("HTTP {}", *r) : r.error().message);
		}
	}
}

Result<void> Emulator::onHeartbeat(const std::string &body)
{
	json j = json::parse(body, nullptr, false);
	if (j.is_discarded() || !j.is_object() || !j.contains("heartbeatMsgType") ||
	    !j["heartbeatMsgType"].is_number_integer())
		return makeError(Errc::Invalid, "not a heartbeat tuple");
	const int type = j["heartbeatMsgType"].get<int>();
	std::lock_guard lk(mu_);
	if (!job_)
		return makeError(Errc::NotFound, "no job is running, so no receiver operator");
	const int64_t now = monoNs();
	switch (type) {
	case 1:
	case 2:
	case 4: {
		fo_.hbReceived++;
		const bool resumed = everHeard_ && (!fo_.remoteUp || remoteShutdown_);
		everHeard_ = true;
		lastHbNs_ = now;
		lastHbRealNs_ = TruthLog::realtimeNs();
		fo_.consecutiveMisses = 0;
		fo_.remoteUp = true;
		remoteShutdown_ = false;
		if (resumed) {
			truth_.write("heartbeat_resumed", {{"active", fo_.active}});
			lg()->info("heartbeats from the remote DC resumed");
		}
		if (type == 2 && j.contains("dataSnapshot") && j["dataSnapshot"].is_string()) {
			fo_.snapshotsReceived++;
			json snap = json::parse(j["dataSnapshot"].get<std::string>(), nullptr, false);
			if (!snap.is_discarded()) {
				replicated_.clear();
				if (snap.contains("tuples") && snap["tuples"].is_array())
					for (const auto &t : snap["tuples"])
						if (t.is_array() && t.size() == 2 && t[0].is_string() && t[1].is_string())
							replicated_.emplace_back(t[0].get<std::string>(), t[1].get<std::string>());
				snap.erase("tuples");
				lastSnapshot_ = snap;
			}
		}
		return success();
	}
	case 3:
		fo_.hbReceived++;
		remoteShutdown_ = true;
		fo_.remoteUp = false;
		takeoverAtNs_ = 0;
		truth_.write("remote_shutdown", {{"origin", j.value("dataCenterOrigin", "")}});
		lg()->info("remote DC shut down in order: no takeover");
		return success();
	default:
		return makeError(Errc::Invalid, "unknown heartbeatMsgType {}", type);
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
	tokens_[token] = now + int64_t(opts_.tokenTtlS) * 1000 * kMsNs;
	return token;
}

bool Emulator::tokenValid(const std::string &token)
{
	std::lock_guard lk(mu_);
	auto it = tokens_.find(token);
	return it != tokens_.end() && it->second > monoNs();
}

} // namespace xdc::emu
