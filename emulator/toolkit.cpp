// SPDX-License-Identifier: Apache-2.0
// The composite's operators. Comments name the toolkit operator each piece stands for; the rules are those of the
// toolkit's source (shared/reference/crossdc-toolkit.md).
#include "emulator/toolkit.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/http/client.h"
#include "common/log.h"

namespace xdc::emu {

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char *kHbPath = "/crossdcrx/CrossDataCenterReceiverForHB/ports/output/0/inject";

std::shared_ptr<spdlog::logger> tlg()
{
	static auto l = log::get("toolkit");
	return l;
}

std::string channelPath(int k)
{
	return fmt::format("/crossdcrx/CrossDataCenterReceiver[{}]/ports/output/0/inject", k);
}

// The URL form of a path: brackets percent-encoded (libcurl and the receivers agree on this form).
std::string urlPath(const std::string &p)
{
	std::string out;
	for (char c : p) {
		if (c == '[')
			out += "%5B";
		else if (c == ']')
			out += "%5D";
		else
			out += c;
	}
	return out;
}

std::string readFileBytes(const std::string &path, bool &ok)
{
	std::ifstream f(path, std::ios::binary);
	ok = bool(f);
	if (!ok)
		return {};
	return std::string(std::istreambuf_iterator<char>(f), {});
}

bool writeFileBytes(const std::string &path, const std::string &bytes)
{
	std::ofstream f(path, std::ios::binary | std::ios::trunc);
	f.write(bytes.data(), std::streamsize(bytes.size()));
	f.flush();
	return bool(f);
}

std::string printableBlob(const std::string &b)
{
	std::string out;
	for (size_t i = 0; i < b.size() && out.size() < 200; ++i) {
		const unsigned char c = static_cast<unsigned char>(b[i]);
		out += c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '.';
	}
	if (b.size() > 200)
		out += "...";
	return out;
}

} // namespace

std::vector<OpModel> toolkitOperators(int channels)
{
	const std::string sender = "com.ibm.streamsx.crossdc.failover::HttpBlobSender";
	const std::string inject = "com.ibm.streamsx.inet.rest::HTTPBLOBInjection";
	const std::string custom = "spl.utility::Custom";
	std::vector<OpModel> ops{{"HeartbeatSignalGenerator", "spl.utility::Beacon", 0, 1},
				 {"HeartbeatMessagePreparer", custom, 3, 4},
				 {"CrossDataCenterSender1", sender, 1, 1}};
	for (int k = 0; k < channels; ++k)
		ops.push_back({fmt::format("CrossDataCenterSender2[{}]", k), sender, 1, 1});
	ops.push_back({"HttpPostResponseSink", custom, 1, 0});
	ops.push_back({"CrossDataCenterReceiverForHB", inject, 0, 1});
	ops.push_back({"RemoteDataCenterHeartbeatWatchdog", custom, 3, 1});
	for (int k = 0; k < channels; ++k)
		ops.push_back({fmt::format("CrossDataCenterReceiver[{}]", k), inject, 0, 1});
	ops.push_back({"RemoteDataCenterWatchdog", custom, 3, 1});
	ops.push_back({"SendSnapshotFilesData", custom, 1, 1});
	ops.push_back({"RemoteDCDataMerger", "spl.relational::Functor", 1, 1});
	return ops;
}

Toolkit::Toolkit(std::mutex &mu, ToolkitConfig cfg, ToolkitOutputs out, TruthLog &truth, TraceWriter &trace)
	: mu_(mu), cfg_(std::move(cfg)), out_(std::move(out)), truth_(truth), trace_(trace),
	  ops_(toolkitOperators(cfg_.channels))
{
	for (const auto &o : ops_)
		counts_.push_back({std::vector<int64_t>(size_t(o.inputs), 0), std::vector<int64_t>(size_t(o.outputs), 0)});
	auto idx = [&](const std::string &n) {
		for (size_t i = 0; i < ops_.size(); ++i)
			if (ops_[i].name == n)
				return int(i);
		return -1;
	};
	iBeacon_ = idx("HeartbeatSignalGenerator");
	iPrep_ = idx("HeartbeatMessagePreparer");
	iS1_ = idx("CrossDataCenterSender1");
	iS2_ = idx("CrossDataCenterSender2[0]");
	iResp_ = idx("HttpPostResponseSink");
	iHbRx_ = idx("CrossDataCenterReceiverForHB");
	iHbWd_ = idx("RemoteDataCenterHeartbeatWatchdog");
	iRx_ = idx("CrossDataCenterReceiver[0]");
	iStore_ = idx("RemoteDataCenterWatchdog");
	iFiles_ = idx("SendSnapshotFilesData");
	iMerger_ = idx("RemoteDCDataMerger");
}

Toolkit::~Toolkit()
{
	{
		std::lock_guard lk(mu_);
		requestStop();
	}
	join();
}

void Toolkit::start()
{
	started_ = true;
	startMono_ = clk::monoNs();
	hbRx_ = std::make_unique<BlobReceiver>();
	if (auto r = hbRx_->listen(cfg_.listen, {kHbPath}, [this](const std::string &b, const auto &h) {
		    onHeartbeatPost(b, h);
		    return 204;
	    });
	    !r) {
		tlg()->error("{}", r.error().message);
		truth_.write("toolkit_error", {{"operator", "CrossDataCenterReceiverForHB"}, {"error", r.error().message}});
		hbRx_.reset();
	}
	for (int k = 0; k < cfg_.channels; ++k) {
		auto rx = std::make_unique<BlobReceiver>();
		HostPort at{cfg_.listen.host, static_cast<uint16_t>(cfg_.listen.port + 1 + k)};
		if (auto r = rx->listen(at, {channelPath(k)}, [this, k](const std::string &b, const auto &h) {
			    onChannelPost(k, b, h);
			    return 204;
		    });
		    !r) {
			tlg()->error("{}", r.error().message);
			truth_.write("toolkit_error", {{"operator", fmt::format("CrossDataCenterReceiver[{}]", k)},
						       {"error", r.error().message}});
			rx.reset();
		}
		rx_.push_back(std::move(rx));
	}
	if (cfg_.peer.port) {
		auto s1 = std::make_unique<Sender>();
		s1->op = iS1_;
		s1->port = cfg_.peer.port;
		s1->path = kHbPath;
		senders_.push_back(std::move(s1));
		for (int k = 0; k < cfg_.channels; ++k) {
			auto s = std::make_unique<Sender>();
			s->op = iS2_ + k;
			s->port = static_cast<uint16_t>(cfg_.peer.port + 1 + k);
			s->path = urlPath(channelPath(k));
			senders_.push_back(std::move(s));
		}
		for (auto &s : senders_)
			s->thread = std::thread([this, p = s.get()] { senderLoop(*p); });
	}
	beacon_ = std::thread([this] { beaconLoop(); });
	truth_.write("toolkit_start", {{"mode", cfg_.mode}, {"init_delay_ms", cfg_.initDelayMs},
				       {"interval_ms", cfg_.intervalMs}, {"allowed", cfg_.allowed},
				       {"snapshot_interval_ms", cfg_.snapshotIntervalMs}, {"channels", cfg_.channels},
				       {"listen", cfg_.listen.str()}, {"peer", cfg_.peer.port ? cfg_.peer.str() : ""}});
}

void Toolkit::requestStop()
{
	if (stop_)
		return;
	stop_ = true;
	cv_.notify_all();
	if (started_)
		truth_.write("toolkit_stop", {{"ticks", ticks_}});
}

void Toolkit::join()
{
	if (hbRx_)
		hbRx_->close();
	for (auto &r : rx_)
		if (r)
			r->close();
	if (beacon_.joinable())
		beacon_.join();
	for (auto &s : senders_)
		if (s->thread.joinable())
			s->thread.join();
}

// ---- HeartbeatSignalGenerator (Beacon: initDelay, then one tuple every period) ----

void Toolkit::beaconLoop()
{
	std::unique_lock lk(mu_);
	int64_t next = startMono_ + cfg_.initDelayMs * clk::kMs;
	const int64_t period = cfg_.intervalMs * clk::kMs;
	while (!stop_) {
		cv_.wait_until(lk, std::chrono::steady_clock::time_point(std::chrono::nanoseconds(next)),
			       [this] { return stop_; });
		if (stop_)
			break;
		if (clk::monoNs() < next)
			continue;
		++ticks_;
		counts_[size_t(iBeacon_)].out[0]++;
		// HS goes to the preparer (port 0) and then the heartbeat watchdog (port 1), in that order.
		counts_[size_t(iPrep_)].in[0]++;
		preparerTick();
		counts_[size_t(iHbWd_)].in[1]++;
		watchdogTick();
		truth_.write("beacon_tick", {{"tick", ticks_}, {"misses", missed_}, {"remote_active", wdActive_},
					     {"hb_cnt", hbCnt_}});
		next += period;
		if (next <= clk::monoNs()) // fell behind (a stopped process): carry on from now, as a Beacon does
			next = clk::monoNs() + period;
	}
}

// ---- HeartbeatMessagePreparer ----

void Toolkit::preparerTick()
{
	if (prepShutdown_)
		return;
	if (startedJustNow_) {
		startedJustNow_ = false;
		if (!cfg_.retainSnapshots && !cfg_.sendSnapshotsToOrigin)
			deleteSnapshotFiles("startup");
	}
	if (sensedBefore_ && !prepRemoteActive_) {
		if (!suppressed_) {
			suppressed_ = true;
			truth_.write("heartbeats_suppressed", {{"cause", "remote declared down"}, {"hb_cnt", hbCnt_}});
		}
		return;
	}
	if (suppressed_) {
		suppressed_ = false;
		truth_.write("heartbeats_resumed", {{"hb_cnt", hbCnt_}});
	}
	HbMessage m;
	m.cnt = hbCnt_;
	m.origin = cfg_.dc;
	// The toolkit casts both intervals to whole seconds (uint64) before this test.
	const auto hb = static_cast<uint64_t>(cfg_.intervalMs / 1000);
	const auto ds = static_cast<uint64_t>(cfg_.snapshotIntervalMs / 1000);
	if (prepRemoteActive_ && ds > 0 && (hbCnt_ * hb) % ds == 0 && cfg_.mode == 1) {
		m.type = kHbSnapshot;
		counts_[size_t(iPrep_)].out[2]++;
		truth_.write("snapshot_signal", {{"hb_cnt", hbCnt_}});
		if (out_.dataSnapshotSignal)
			out_.dataSnapshotSignal(m);
		hbCnt_++;
	}
	m.type = kHbHeartbeat;
	m.cnt = hbCnt_;
	counts_[size_t(iPrep_)].out[0]++;
	if (!senders_.empty()) {
		senders_[0]->queue.push_back({serialize(m), m});
		cv_.notify_all();
	}
	hbCnt_++;
}

void Toolkit::preparerOnStatus(bool active)
{
	counts_[size_t(iPrep_)].in[1]++;
	if (prepShutdown_)
		return;
	prepRemoteActive_ = active;
	if (!active || sensedBefore_)
		return;
	sensedBefore_ = true;
	if (!cfg_.sendSnapshotsToOrigin || cfg_.snapshotDir.empty())
		return;
	// First contact: every stored snapshot goes back to the DC it came from (type 4), then the files go.
	std::error_code ec;
	for (const auto &e : fs::directory_iterator(cfg_.snapshotDir, ec)) {
		const std::string name = e.path().filename().string();
		if (name.find(".snapshot") == std::string::npos)
			continue;
		bool ok = false;
		const std::string bytes = readFileBytes(e.path().string(), ok);
		if (!ok) {
			trace(TraceLevel::Error, iPrep_, "Heartbeat-Message-Preparer",
			      fmt::format("_XXXXX_ During application startup, we are unable to read the binary data snapshot "
					  "from this file to be sent to the Remote DC: {}. Error code=1", e.path().string()));
			continue;
		}
		if (bytes.empty())
			continue;
		HbMessage r;
		r.type = kHbReturnSnapshot;
		r.cnt = hbCnt_++;
		r.origin = cfg_.dc;
		r.snapshot = bytes;
		sendNonHeartbeat(r);
		truth_.write("snapshot_returned", {{"file", name}, {"bytes", bytes.size()}});
		trace(TraceLevel::Error, iPrep_, "Heartbeat-Message-Preparer",
		      fmt::format("_XXXXX_ During application startup, we sent {} bytes of the binary data snapshot to the "
				  "remote DC from this file: {}.", bytes.size(), e.path().string()));
	}
	deleteSnapshotFiles("returned to origin");
}

void Toolkit::specialMessage(const std::string &msg)
{
	counts_[size_t(iPrep_)].in[2]++;
	counts_[size_t(iHbWd_)].in[2]++;
	counts_[size_t(iStore_)].in[2]++;
	if (msg == "OrderlyShutdown") {
		prepShutdown_ = wdShutdown_ = storeShutdown_ = true;
		HbMessage m;
		m.type = kHbOrderlyShutdown;
		m.cnt = hbCnt_++;
		m.origin = cfg_.dc;
		sendNonHeartbeat(m);
		truth_.write("orderly_shutdown_sent", {{"hb_cnt", m.cnt}});
		trace(TraceLevel::Error, iPrep_, "Heartbeat-Message-Preparer",
		      fmt::format("_XXXXX_ We sent an orderly shutdown message from the local DC {} to the remote DC.",
				  cfg_.dc));
	} else if (msg == "SendMeDataFromSnapshotFiles") {
		counts_[size_t(iPrep_)].out[3]++;
		counts_[size_t(iFiles_)].in[0]++;
		sendSnapshotFilesData();
	}
}

void Toolkit::serializedSnapshot(const std::string &bytes)
{
	// The application's serialized type-2 message goes to Sender2 as it is.
	const auto m = deserialize(bytes);
	sendBytes(bytes, m ? *m : HbMessage{kHbSnapshot, 0, "", "", ""});
}

void Toolkit::sendNonHeartbeat(const HbMessage &m)
{
	counts_[size_t(iPrep_)].out[1]++;
	sendBytes(serialize(m), m);
}

void Toolkit::sendBytes(const std::string &bytes, const HbMessage &m)
{
	if (senders_.size() < 2)
		return;
	const int k = nextChannel_;
	nextChannel_ = (nextChannel_ + 1) % cfg_.channels;
	senders_[size_t(1 + k)]->queue.push_back({bytes, m});
	cv_.notify_all();
}

// ---- CrossDataCenterSender1 / CrossDataCenterSender2[k] (HttpBlobSender) and HttpPostResponseSink ----

void Toolkit::senderLoop(Sender &s)
{
	const std::string url = fmt::format("http://{}:{}{}", cfg_.peer.host, s.port, s.path);
	// HttpBlobSender: a new connection per blob, the answer's first 4 KiB kept for the trace.
	http::Target target;
	target.connectTimeoutMs = cfg_.connectTimeoutMs;
	target.timeoutMs = cfg_.connectTimeoutMs + cfg_.readTimeoutMs;
	target.reuse = false;
	target.maxBody = 4096;
	target.truncateBody = true;
	http::Client client(std::move(target), "the cross-DC sender");
	std::unique_lock lk(mu_);
	while (true) {
		cv_.wait(lk, [&] { return stop_ || !s.queue.empty(); });
		if (stop_)
			break;
		Outgoing o = std::move(s.queue.front());
		s.queue.pop_front();
		counts_[size_t(s.op)].in[0]++;
		const bool *stopFlag = &stop_;
		lk.unlock();
		http::Request req{"POST", url, o.bytes, "application/octet-stream"};
		req.abort = stopFlag;
		http::Response r = client.perform(req);
		const long status = r.status;
		const std::string &answer = r.body;
		const std::string curlError = r.errorName.empty() ? r.error : r.errorName;
		lk.lock();
		if (stop_)
			break;
		const bool ok = r.ok() && (status == 200 || status == 204);
		json ev = {{"operator", ops_[size_t(s.op)].name}, {"type", o.msg.type}, {"hb_cnt", o.msg.cnt}, {"ok", ok}};
		if (!r.ok()) {
			// An exception in the Java operator: logged, no output tuple.
			ev["error"] = curlError;
			trace(TraceLevel::Error, s.op, "CrossDCSender",
			      fmt::format("Exception while communicating with {}. Error message: {}", url, curlError));
		} else if (!ok) {
			// Any other HTTP answer: one tuple to HttpPostResponseSink.
			ev["status"] = status;
			counts_[size_t(s.op)].out[0]++;
			counts_[size_t(iResp_)].in[0]++;
			trace(TraceLevel::Info, iResp_, "CrossDCSender",
			      fmt::format("_XXXXX_ HTTP POST response={{responseCode={},responseMessage=\"{}\"}}", status, answer));
		}
		truth_.write(o.msg.type == kHbHeartbeat ? "heartbeat_sent" : "message_sent", ev);
	}
	lk.unlock();
}

// ---- CrossDataCenterReceiverForHB and RemoteDataCenterHeartbeatWatchdog ----

void Toolkit::onHeartbeatPost(const std::string &body, const std::map<std::string, std::string> &headers)
{
	std::lock_guard lk(mu_);
	if (stop_)
		return;
	counts_[size_t(iHbRx_)].out[0]++;
	counts_[size_t(iHbWd_)].in[0]++;
	if (wdShutdown_)
		return;
	traceBlob(iHbWd_, "RemoteDC-Heartbeat-Watchdog", body, headers);
	// Any POST on this path counts as a heartbeat: the type is not looked at for the status.
	missed_ = 0;
	lastHbRealNs_ = TruthLog::realtimeNs();
	const auto m = deserialize(body);
	truth_.write("heartbeat_received", {{"type", m ? int(m->type) : -1}, {"hb_cnt", m ? m->cnt : 0},
					    {"origin", m ? m->origin : ""}, {"bytes", body.size()}});
	if (!wdActive_)
		emitStatus(true, sensedBefore_ ? "heartbeat after down" : "first contact");
	if (m && m->type == kHbHeartbeat)
		trace(TraceLevel::Info, iHbWd_, "RemoteDC-Heartbeat-Watchdog",
		      fmt::format("_XXXXX_ Received the heartbeat message {} with no data snapshot from the data center "
				  "named {}.", m->cnt, m->origin));
}

void Toolkit::watchdogTick()
{
	if (wdShutdown_)
		return;
	if (missed_ > cfg_.allowed)
		return;
	missed_++;
	if (missed_ > cfg_.allowed && wdActive_)
		emitStatus(false, "misses");
}

void Toolkit::emitStatus(bool active, const std::string &cause)
{
	wdActive_ = active;
	counts_[size_t(iHbWd_)].out[0]++;
	if (active)
		truth_.write("remote_up", {{"cause", cause}, {"tick", ticks_}});
	else
		truth_.write("remote_down", {{"cause", cause}, {"tick", ticks_}, {"misses", missed_},
					     {"last_heartbeat_t_ns", lastHbRealNs_}});
	tlg()->log(active ? spdlog::level::info : spdlog::level::warn, "{}: remote DC {} ({})", cfg_.dc,
		   active ? "up" : "declared down", cause);
	// RemoteDataCenterStatus goes to the preparer, the snapshot store and the application.
	preparerOnStatus(active);
	storeOnStatus(active);
	if (out_.remoteStatus)
		out_.remoteStatus(active);
}

// ---- CrossDataCenterReceiver[k] and RemoteDataCenterWatchdog (the snapshot store) ----

void Toolkit::onChannelPost(int k, const std::string &body, const std::map<std::string, std::string> &headers)
{
	std::lock_guard lk(mu_);
	if (stop_)
		return;
	counts_[size_t(iRx_ + k)].out[0]++;
	counts_[size_t(iStore_)].in[0]++;
	if (storeShutdown_)
		return;
	traceBlob(iStore_, "RemoteDC-Watchdog", body, headers);
	const auto m = deserialize(body);
	if (!m)
		return;
	truth_.write("message_received", {{"channel", k}, {"type", m->type}, {"hb_cnt", m->cnt}, {"origin", m->origin},
					  {"snapshot_origin", m->snapshotOrigin}, {"bytes", body.size()}});
	const std::string aspect = "RemoteDC-Watchdog";
	if (m->type == kHbOrderlyShutdown) {
		trace(TraceLevel::Info, iStore_, aspect.c_str(),
		      fmt::format("_XXXXX_ Received a remote DC orderly shutdown message with a heartbeat count {} from the "
				  "data center named {}.", m->cnt, m->origin));
		truth_.write("orderly_shutdown_received", {{"origin", m->origin}, {"stored", stored_.size()}});
		for (const auto &[name, _] : stored_) {
			std::error_code ec;
			fs::remove(cfg_.snapshotDir + "/" + name + ".snapshot", ec);
			truth_.write("snapshot_deleted", {{"file", name + ".snapshot"}, {"cause", "orderly shutdown"}});
		}
		stored_.clear();
		return;
	}
	if (m->type == kHbReturnSnapshot) {
		trace(TraceLevel::Info, iStore_, aspect.c_str(),
		      fmt::format("_XXXXX_ During the application startup, received a data snapshot that originally belonged "
				  "to this DC before it went down. Heartbeat count={}, data snapshot size={}. It came from the "
				  "remote data center named {}.", m->cnt, m->snapshot.size(), m->origin));
		if (!m->snapshot.empty())
			if (auto inner = deserialize(m->snapshot)) {
				inner->type = kHbReturnSnapshot;
				truth_.write("returned_snapshot_received", {{"origin", m->origin}, {"bytes", m->snapshot.size()}});
				counts_[size_t(iStore_)].out[0]++;
				toMerger(*inner);
			}
		return;
	}
	if (m->type != kHbSnapshot)
		return;
	const std::string name = m->origin + "-" + m->snapshotOrigin;
	const std::string file = cfg_.snapshotDir + "/" + name + ".snapshot";
	trace(TraceLevel::Info, iStore_, aspect.c_str(),
	      fmt::format("_XXXXX_ Received the heartbeat message {} with a {} length data snapshot from the data center "
			  "named {}. Data snapshot origin={}.", m->cnt, m->snapshot.empty() ? "zero" : "non-zero", m->origin,
			  m->snapshotOrigin));
	if (cfg_.snapshotDir.empty())
		return;
	std::error_code ec;
	if (m->snapshot.empty()) {
		fs::remove(file, ec);
		stored_.erase(name);
		truth_.write("snapshot_deleted", {{"file", name + ".snapshot"}, {"cause", "zero length"}});
		return;
	}
	if (writeFileBytes(file, body)) {
		stored_[name] = true;
		truth_.write("snapshot_written", {{"file", name + ".snapshot"}, {"bytes", body.size()}, {"hb_cnt", m->cnt}});
		trace(TraceLevel::Info, iStore_, aspect.c_str(),
		      "_XXXXX_ Successfully replicated and persisted the data snapshot in this file: " + file);
	} else {
		trace(TraceLevel::Error, iStore_, aspect.c_str(),
		      fmt::format("_XXXXX_ Unable to replicate and persist the data snapshot in this file: {}. Error code=1",
				  file));
		fs::remove(file, ec);
		stored_.erase(name);
	}
}

void Toolkit::storeOnStatus(bool active)
{
	counts_[size_t(iStore_)].in[1]++;
	if (active || cfg_.mode == 0)
		return;
	// The remote failed: each snapshot it stored here goes to the application, then its file goes.
	for (const auto &[name, _] : stored_) {
		const std::string file = cfg_.snapshotDir + "/" + name + ".snapshot";
		bool ok = false;
		const std::string bytes = readFileBytes(file, ok);
		std::error_code ec;
		if (!ok) {
			trace(TraceLevel::Error, iStore_, "RemoteDC-Watchdog",
			      fmt::format("_XXXXX_ Unable to read the binary data snapshot from this file: {}. Error code=1", file));
		} else if (bytes.empty()) {
			trace(TraceLevel::Error, iStore_, "RemoteDC-Watchdog",
			      fmt::format("_XXXXX_ Skipping the zero length binary data snapshot file: {}.", file));
		} else if (auto m = deserialize(bytes)) {
			counts_[size_t(iStore_)].out[0]++;
			truth_.write("snapshot_taken_over", {{"file", name + ".snapshot"}, {"bytes", bytes.size()},
							     {"origin", m->origin}});
			toMerger(*m);
		}
		fs::remove(file, ec);
	}
	stored_.clear();
}

void Toolkit::toMerger(const HbMessage &m)
{
	counts_[size_t(iMerger_)].in[0]++;
	counts_[size_t(iMerger_)].out[0]++;
	if (out_.processDataFromRemote)
		out_.processDataFromRemote(m);
}

// SendSnapshotFilesData: on the application's "SendMeDataFromSnapshotFiles", every stored snapshot file is read,
// handed to the application and removed (the store's map is not updated, as in the toolkit).
void Toolkit::sendSnapshotFilesData()
{
	if (cfg_.snapshotDir.empty())
		return;
	std::error_code ec;
	std::vector<fs::path> files;
	for (const auto &e : fs::directory_iterator(cfg_.snapshotDir, ec))
		if (e.path().filename().string().find(".snapshot") != std::string::npos)
			files.push_back(e.path());
	for (const auto &p : files) {
		bool ok = false;
		const std::string bytes = readFileBytes(p.string(), ok);
		if (!ok)
			trace(TraceLevel::Error, iFiles_, "SendSnapshotFilesData",
			      fmt::format("_XXXXX_ Unable to read the binary data snapshot from this file: {}. Error code=1",
					  p.string()));
		else if (bytes.empty())
			trace(TraceLevel::Error, iFiles_, "SendSnapshotFilesData",
			      fmt::format("_XXXXX_ Skipping the zero length binary data snapshot file: {}.", p.string()));
		else if (auto m = deserialize(bytes)) {
			counts_[size_t(iFiles_)].out[0]++;
			truth_.write("snapshot_taken_over", {{"file", p.filename().string()}, {"bytes", bytes.size()},
							     {"origin", m->origin}, {"cause", "SendMeDataFromSnapshotFiles"}});
			toMerger(*m);
		}
		fs::remove(p, ec);
	}
}

void Toolkit::deleteSnapshotFiles(const std::string &cause)
{
	if (cfg_.snapshotDir.empty())
		return;
	std::error_code ec;
	std::vector<fs::path> files;
	for (const auto &e : fs::directory_iterator(cfg_.snapshotDir, ec))
		if (e.path().filename().string().find(".snapshot") != std::string::npos)
			files.push_back(e.path());
	for (const auto &p : files) {
		fs::remove(p, ec);
		truth_.write("snapshot_deleted", {{"file", p.filename().string()}, {"cause", cause}});
	}
}

void Toolkit::traceBlob(int op, const char *aspect, const std::string &body,
			const std::map<std::string, std::string> &headers)
{
	if (!trace_.enabled(TraceLevel::Info))
		return;
	std::string h = "{";
	for (const auto &[k, v] : headers)
		h += fmt::format("{}{}=\"{}\"", h.size() > 1 ? "," : "", k, v);
	h += "}";
	trace(TraceLevel::Info, op, aspect, "_XXXXX_ HTTP Request Headers=" + h);
	trace(TraceLevel::Info, op, aspect, fmt::format("_XXXXX_ Blob size={}", body.size()));
	trace(TraceLevel::Info, op, aspect, "_XXXXX_ Blob data=" + printableBlob(body));
}

void Toolkit::trace(TraceLevel l, int op, const char *aspect, const std::string &msg)
{
	trace_.write(l, cfg_.prefix + "." + ops_[size_t(op)].name, aspect, msg);
}

} // namespace xdc::emu
