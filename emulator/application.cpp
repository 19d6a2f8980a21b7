// SPDX-License-Identifier: Apache-2.0
// The emulated application around the toolkit, modelled on the toolkit's own active/active sample: it processes the
// input while it is active, answers each DataSnapshotSignal with a snapshot of its state, logs the remote's status
// changes, and takes over the remote's share when the toolkit hands it the remote's replicated data
// (ProcessDataFromRemoteDC) — after an application delay. It never takes over on the status alone: after an orderly
// shutdown the store holds nothing, so nothing is handed over and nothing is taken over. Its SpecialMessage port
// (a TCPSource, as in the sample) forwards "OrderlyShutdown" and "SendMeDataFromSnapshotFiles" to the toolkit.
#include "emulator/emulator.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/clock.h"
#include "common/log.h"

namespace xdc::emu {

using nlohmann::json;

namespace {

constexpr const char *kAspect = "Application_Logic";

std::shared_ptr<spdlog::logger> alg()
{
	static auto l = log::get("app");
	return l;
}

} // namespace

// The application's state as a new job starts it: its role, no pending takeover, nothing in flight.
void Emulator::resetAppLocked()
{
	appActive_ = opts_.active;
	takeoverAtNs_ = 0;
	segment_.clear();
	carry_ = 0;
	lastAccrueNs_ = monoNs();
	launchBase_.clear();
}

TraceWriter &Emulator::traceForLocked(AppOp op)
{
	if (job_)
		for (const auto &o : job_->ops)
			if (o.toolkitIndex < 0 && o.app == op) {
				auto it = traces_.find(o.peId);
				if (it != traces_.end() && it->second)
					return *it->second;
			}
	return noTrace_;
}

// Port counts of one application operator since the job started (collectLocked subtracts the launch base).
OpCounts Emulator::appOpCountsLocked(const OperatorState &op) const
{
	const int64_t produced = submitted_ + dataIngested_ + dataReplayed_;
	const int64_t delivered = delivered_ + dataDelivered_;
	switch (op.app) {
	case AppOp::Source: return {{}, {submitted_}};
	case AppOp::Stage: return {{produced}, {produced}};
	case AppOp::Process:
		return {{produced, dssReceived_, statusReceived_, remoteDataReceived_}, {delivered, snapshotsSent_}};
	case AppOp::Sink: return {{delivered}, {}};
	case AppOp::SpecialReceiver: return {{}, {specialLines_}};
	case AppOp::SpecialSender: return {{specialLines_}, {specialForwarded_}};
	case AppOp::JsonInject: return {{}, {jsonTuples_}};
	case AppOp::TcpIngest: return {{}, {tcpTuples_}};
	case AppOp::DirScan: return {{}, {filesScanned_}};
	case AppOp::FileIngest: return {{filesScanned_}, {fileTuples_}};
	case AppOp::TupleView: return {{delivered}, {}};
	}
	return {};
}

ToolkitOutputs Emulator::appOutputsLocked()
{
	ToolkitOutputs o;
	o.dataSnapshotSignal = [this](const HbMessage &m) { onSnapshotSignalLocked(m); };
	o.remoteStatus = [this](bool active) { onRemoteStatusLocked(active); };
	o.processDataFromRemote = [this](const HbMessage &m) { onRemoteDataLocked(m); };
	return o;
}

// DataSnapshotSignal: the application serializes its state into the message, names its channel as the snapshot's
// origin and sends it back into the composite (SerializedDataSnapshotMessage). The state is the position of the
// built-in source and the tuples accepted since the previous snapshot.
void Emulator::onSnapshotSignalLocked(const HbMessage &signal)
{
	dssReceived_++;
	accrueLocked(monoNs());
	json tuples = json::array();
	for (const auto &[id, line] : segment_)
		tuples.push_back({id, line});
	HbMessage m = signal;
	m.type = kHbSnapshot;
	m.snapshot = json{{"seq", seq_}, {"delivered", delivered_}, {"active", appActive_}, {"tuples", tuples}}.dump();
	m.snapshotOrigin = "0";
	const size_t n = segment_.size();
	segment_.clear();
	snapshotsSent_++;
	truth_.write("snapshot_sent", {{"hb_cnt", m.cnt}, {"seq", seq_}, {"tuples", n}, {"bytes", m.snapshot.size()}});
	traceForLocked(AppOp::Process).write(TraceLevel::Info, "Process", kAspect,
					     "_XXXXX_ UDP channel 0-->Submitted a data snapshot to be sent to the remote data "
					     "center for replication.");
	if (toolkit_)
		toolkit_->serializedSnapshot(serialize(m));
}

void Emulator::onRemoteStatusLocked(bool active)
{
	statusReceived_++;
	truth_.write("app_remote_status", {{"remote_active", active}});
	traceForLocked(AppOp::Process)
		.write(TraceLevel::Info, "Process", kAspect,
		       fmt::format("_XXXXX_ UDP channel 0-->Received a notification about the remote data center {}.",
				   active ? "coming up and running normally" : "going down due to failure or planned maintenance"));
}

// ProcessDataFromRemoteDC: the remote's replicated state. A standby application takes over the remote's share after
// its delay; an active one already processes the whole input and has nothing to take over.
void Emulator::onRemoteDataLocked(const HbMessage &m)
{
	remoteDataReceived_++;
	if (m.snapshotOrigin != "0")
		return;
	auto &tr = traceForLocked(AppOp::Process);
	if (m.type == kHbReturnSnapshot) {
		tr.write(TraceLevel::Info, "Process", kAspect,
			 fmt::format("_XXXXX_ UDP channel 0-->Completed populating the received data that existed before this "
				     "data center went down:{}. A total of 1 data items were populated here.", m.origin));
		truth_.write("app_returned_state", {{"origin", m.origin}});
		return;
	}
	tr.write(TraceLevel::Info, "Process", kAspect,
		 fmt::format("_XXXXX_ UDP channel 0-->Completed the taking-over of the replicated data from this remote data "
			     "center after it went down:{}. A total of 1 data items were taken over (failed over) for "
			     "processing here.", m.origin));
	truth_.write("app_remote_data", {{"origin", m.origin}, {"active", appActive_}, {"bytes", m.snapshot.size()}});
	if (appActive_ || takeoverAtNs_)
		return;
	takeoverFrom_ = m;
	takeoverAtNs_ = monoNs() + int64_t(opts_.appDelayMs) * clk::kMs;
	if (opts_.appDelayMs == 0)
		takeoverLocked();
}

void Emulator::takeoverLocked()
{
	takeoverAtNs_ = 0;
	if (!job_ || appActive_)
		return;
	accrueLocked(monoNs());
	// Resume from the snapshot the old active DC sent: what it did after that is lost.
	json snap = json::parse(takeoverFrom_.snapshot, nullptr, false);
	const int64_t snapSeq = snap.is_object() ? snap.value("seq", seq_) : seq_;
	const int64_t snapDelivered = snap.is_object() ? snap.value("delivered", int64_t(0)) : 0;
	seq_ = snapSeq;
	appActive_ = true;
	takeovers_++;
	// At-least-once: the input of the last snapshot is processed again; whatever the old active DC delivered of it
	// is delivered twice.
	json ids = json::array();
	if (snap.is_object() && snap.contains("tuples") && snap["tuples"].is_array()) {
		const int64_t due = monoNs() + int64_t(opts_.processDelayMs) * clk::kMs;
		for (const auto &t : snap["tuples"]) {
			if (!t.is_array() || t.size() != 2 || !t[0].is_string() || !t[1].is_string())
				continue;
			ids.push_back(t[0]);
			inFlight_.push_back({due, t[1].get<std::string>(), t[0].get<std::string>()});
			segment_.emplace_back(t[0].get<std::string>(), t[1].get<std::string>());
		}
	}
	if (!ids.empty()) {
		dataReplayed_ += int64_t(ids.size());
		dataAccepted_ += int64_t(ids.size());
		truth_.write("data_replayed", {{"count", ids.size()}, {"ids", ids}});
	}
	lastAccrueNs_ = monoNs();
	truth_.write("takeover_complete", {{"resume_seq", seq_}, {"snapshot_delivered", snapDelivered},
					   {"takeovers", takeovers_}, {"from", takeoverFrom_.origin}});
	alg()->warn("takeover complete: the application is active, resuming at sequence {}", seq_);
}

// SpecialMessageSignalReceiver (TCPSource) -> SpecialMessageSender -> the composite's SpecialMessage port.
void Emulator::onSpecialLineLocked(const std::string &line)
{
	specialLines_++;
	truth_.write("special_message", {{"msg", line}});
	if (line != "OrderlyShutdown" && line != "SendMeDataFromSnapshotFiles")
		return;
	specialForwarded_++;
	traceForLocked(AppOp::SpecialSender)
		.write(TraceLevel::Info, "SpecialMessageSender", "Special_Message_Sender",
		       line == "OrderlyShutdown" ? "Submitted an orderly application shutdown message to the remote data center."
						 : "Submitted a special command to get the data stored in the snapshot files.");
	if (toolkit_)
		toolkit_->specialMessage(line);
}

void Emulator::accrueLocked(int64_t nowNs)
{
	const int64_t dt = nowNs - lastAccrueNs_;
	if (dt <= 0)
		return;
	lastAccrueNs_ = nowNs;
	// Only an active application's source produces, and only while every PE runs (a stalled PE backs the flow up).
	if (!appActive_ || !job_ || !job_->healthy())
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
		if (viewRx_) {
			view_.push_back(inFlight_.front().line);
			if (view_.size() > size_t(opts_.tupleViewSize))
				view_.pop_front();
		}
		inFlight_.pop_front();
		dataDelivered_++;
	}
	if (wrote && std::fflush(sinkFile_) != 0)
		alg()->error("--sink-file '{}': {}", opts_.sinkFile, std::strerror(errno));
}

namespace {

// "k3:17" from a tuple's JSON object, or "" when it is not one (a JSON object with a string key and an unsigned
// seq).
std::string tupleId(std::string_view text)
{
	json j = json::parse(text, nullptr, false);
	if (j.is_discarded() || !j.is_object() || !j.contains("key") || !j["key"].is_string() || !j.contains("seq") ||
	    !j["seq"].is_number_unsigned())
		return "";
	return j["key"].get<std::string>() + ":" + std::to_string(j["seq"].get<uint64_t>());
}

constexpr const char *kJsonContext = "data";

} // namespace

bool Emulator::opRunningLocked(AppOp op) const
{
	if (!job_)
		return false;
	for (const auto &o : job_->ops)
		if (o.toolkitIndex < 0 && o.app == op)
			for (const auto &p : job_->pes)
				if (p.id == o.peId)
					return p.status == "running";
	return false;
}

// The ingest operators' ports open with their PE (an HTTPJSONInjection's and a TCPSource's listening sockets).
void Emulator::startIngestLocked(const OperatorState &op)
{
	if (op.app == AppOp::JsonInject && opts_.dataHttp.port) {
		jsonRx_ = std::make_unique<BlobReceiver>();
		const std::vector<std::string> paths = {fmt::format("/{}/{}/ports/output/0/inject", kJsonContext, op.name),
							fmt::format("/{}/ports/output/0/inject", op.name)};
		if (auto r = jsonRx_->listen(opts_.dataHttp, paths, [this](const std::string &b, const auto &) {
			    return onJsonPost(b);
		    });
		    !r) {
			alg()->error("{}", r.error().message);
			jsonRx_.reset();
		}
	} else if (op.app == AppOp::TupleView && opts_.tupleView.port) {
		// Its window starts empty with its PE.
		view_.clear();
		viewRx_ = std::make_unique<BlobReceiver>();
		const std::vector<std::string> paths = {fmt::format("/{}/{}/ports/input/0/tuples", kJsonContext, op.name),
							fmt::format("/{}/ports/input/0/tuples", op.name)};
		viewRx_->onGet([this] {
			std::lock_guard lk(mu_);
			std::string body = "[";
			for (const auto &t : view_) {
				if (body.size() > 1)
					body += ',';
				body += t;
			}
			return body + "]";
		});
		if (auto r = viewRx_->listen(opts_.tupleView, paths, [](const std::string &, const auto &) { return 405; });
		    !r) {
			alg()->error("{}", r.error().message);
			viewRx_.reset();
		}
	} else if (op.app == AppOp::TcpIngest && opts_.dataTcp.port) {
		tcpRx_ = std::make_unique<LineReceiver>();
		tcpRx_->setDrain([this](const std::string &line) { onTcpDropped(line); });
		if (auto r = tcpRx_->listen(opts_.dataTcp, [this](const std::string &line) { onTcpLine(line); }); !r) {
			alg()->error("{}", r.error().message);
			tcpRx_.reset();
		}
	}
}

void Emulator::stopIngestLocked(const OperatorState &op)
{
	if (op.app == AppOp::JsonInject && jsonRx_)
		retiredBlobs_.push_back(std::move(jsonRx_));
	else if (op.app == AppOp::TupleView && viewRx_) {
		retiredBlobs_.push_back(std::move(viewRx_));
		view_.clear();
	}
	else if (op.app == AppOp::TcpIngest && tcpRx_)
		retiredLines_.push_back(std::move(tcpRx_));
}

// HTTPJSONInjection: one JSON object per POST becomes one tuple; the answer says only that it was taken.
int Emulator::onJsonPost(const std::string &body)
{
	std::string line = body;
	while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' '))
		line.pop_back();
	const std::string id = tupleId(line);
	std::lock_guard lk(mu_);
	if (id.empty()) {
		dataMalformed_++;
		return 400;
	}
	jsonTuples_++;
	ingestLocked("http_json", {{id, std::move(line)}});
	return 204;
}

// TCPSource: one tuple per line; a line that is not a tuple is dropped (as a TCPSource with a parse error would).
void Emulator::onTcpLine(const std::string &line)
{
	if (line.empty())
		return;
	const std::string id = tupleId(line);
	std::lock_guard lk(mu_);
	if (id.empty()) {
		dataMalformed_++;
		return;
	}
	tcpTuples_++;
	ingestLocked("tcp", {{id, line}});
}

// Lines the TCPSource's PE took with it when it went (written by the client, never read by the application).
void Emulator::onTcpDropped(const std::string &line)
{
	const std::string id = tupleId(line);
	std::lock_guard lk(mu_);
	if (id.empty())
		return;
	dataDropped_++;
	truth_.write("data_dropped", {{"count", 1}, {"ids", json::array({id})}, {"via", "tcp"},
				      {"reason", "unread when the TCPSource's PE went"}});
}

// DirectoryScan + FileSource: each file in the directory (not a hidden or temporary one), in name order, read whole
// and deleted, its lines the tuples. Runs while both operators' PEs run.
void Emulator::scanDirLocked()
{
	if (!opRunningLocked(AppOp::DirScan) || !opRunningLocked(AppOp::FileIngest))
		return;
	std::error_code ec;
	std::vector<std::filesystem::path> files;
	for (const auto &e : std::filesystem::directory_iterator(opts_.dataDir, ec))
		if (e.is_regular_file(ec) && e.path().filename().string()[0] != '.')
			files.push_back(e.path());
	std::sort(files.begin(), files.end());
	for (const auto &f : files) {
		std::ifstream in(f);
		if (!in)
			continue;
		std::vector<std::pair<std::string, std::string>> batch;
		std::string line;
		while (std::getline(in, line)) {
			if (line.empty())
				continue;
			const std::string id = tupleId(line);
			if (id.empty())
				dataMalformed_++;
			else
				batch.emplace_back(id, line);
		}
		in.close();
		std::filesystem::remove(f, ec);
		filesScanned_++;
		fileTuples_ += int64_t(batch.size());
		if (!batch.empty())
			ingestLocked("file", std::move(batch));
	}
}

void Emulator::ingestLocked(const char *via, std::vector<std::pair<std::string, std::string>> batch)
{
	accrueLocked(monoNs());
	json ids = json::array();
	for (const auto &b : batch)
		ids.push_back(b.first);
	dataIngested_ += int64_t(batch.size());
	truth_.write("data_ingested", {{"via", via}, {"count", batch.size()}, {"ids", ids}});
	if (!job_ || !job_->healthy()) {
		// A stalled job holds nothing (no consistent region): the tuples go.
		dataDropped_ += int64_t(batch.size());
		truth_.write("data_dropped", {{"count", batch.size()}, {"ids", ids},
					      {"reason", job_ ? "job " + job_->health() : std::string("no job")}});
		return;
	}
	if (!appActive_) {
		// A standby application filters its input out: only the active one processes it.
		dataFiltered_ += int64_t(batch.size());
		truth_.write("data_filtered", {{"count", batch.size()}, {"ids", ids}});
		return;
	}
	const int64_t due = monoNs() + int64_t(opts_.processDelayMs) * clk::kMs;
	for (auto &[id, line] : batch) {
		inFlight_.push_back({due, line, id});
		segment_.emplace_back(id, std::move(line));
	}
	dataAccepted_ += int64_t(batch.size());
}

} // namespace xdc::emu
