// SPDX-License-Identifier: Apache-2.0
// Recordings on the agent: sampler threads, sequence numbers, memory buffer, disk spool and go-back-N delivery.
#include "agent/evidence/recorder.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <mutex>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/sys/file.h"

namespace xdc::agent {

using namespace xdc::proto;

namespace {

// The agent's recent log lines (info and above), so a recording can carry those of its window. One per process.
class LogTap : public spdlog::sinks::base_sink<std::mutex> {
public:
	struct Line {
		int64_t wallNs;
		std::string json;
	};
	std::vector<std::string> since(int64_t fromWall, int64_t toWall)
	{
		std::lock_guard lock(mutex_);
		std::vector<std::string> out;
		for (const auto &l : lines_)
			if (l.wallNs >= fromWall && l.wallNs <= toWall)
				out.push_back(l.json);
		return out;
	}
	static LogTap &instance()
	{
		static std::shared_ptr<LogTap> tap = [] {
			auto t = std::make_shared<LogTap>();
			t->set_level(spdlog::level::info);
			log::addSink(t);
			return t;
		}();
		return *tap;
	}

protected:
	void sink_it_(const spdlog::details::log_msg &msg) override
	{
		if (msg.level < spdlog::level::info)
			return;
		const int64_t ns = clk::wallNs();
		nlohmann::json j = {{"wall_ns", ns},
				    {"level", std::string(spdlog::level::to_string_view(msg.level).data(),
							  spdlog::level::to_string_view(msg.level).size())},
				    {"logger", std::string(msg.logger_name.data(), msg.logger_name.size())},
				    {"msg", std::string(msg.payload.data(), msg.payload.size())}};
		lines_.push_back({ns, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
		if (lines_.size() > kMax)
			lines_.pop_front();
	}
	void flush_() override {}

private:
	static constexpr size_t kMax = 4000;
	std::deque<Line> lines_;
};

bool validRecordingId(const std::string &id)
{
	if (id.empty() || id.size() > 64)
		return false;
	for (char c : id)
		if (!(isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'))
			return false;
	return id != "." && id != "..";
}

void removeTree(const std::string &dir)
{
	if (DIR *d = ::opendir(dir.c_str())) {
		while (dirent *e = ::readdir(d)) {
			const std::string n = e->d_name;
			if (n != "." && n != "..")
				::unlink((dir + "/" + n).c_str());
		}
		::closedir(d);
	}
	::rmdir(dir.c_str());
}

Result<void> writeFile(const std::string &path, const std::string &bytes)
{
	int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return makeError(Errc::Io, "spool {}: {}", path, strerror(errno));
	size_t off = 0;
	while (off < bytes.size()) {
		ssize_t n = ::write(fd, bytes.data() + off, bytes.size() - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			const int err = errno;
			::close(fd);
			return makeError(Errc::Io, "spool {}: {}", path, strerror(err));
		}
		off += static_cast<size_t>(n);
	}
	::close(fd);
	return success();
}

} // namespace

Recorder::Recorder(RecorderOptions o) : opt_(std::move(o)) { (void)LogTap::instance(); }

Recorder::~Recorder()
{
	for (auto &[id, r] : recs_)
		stopWorkers(*r);
}

std::vector<std::string> Recorder::recover()
{
	std::vector<std::string> out;
	if (DIR *d = ::opendir(opt_.dir.c_str())) {
		std::vector<std::string> dirs;
		while (dirent *e = ::readdir(d)) {
			const std::string n = e->d_name;
			if (n != "." && n != "..")
				dirs.push_back(n);
		}
		::closedir(d);
		for (const auto &n : dirs) {
			removeTree(opt_.dir + "/" + n);
			out.push_back(fmt::format("evidence spool of recording '{}'", n));
		}
	}
	return out;
}

Result<EvidenceStartReply> Recorder::start(const EvidenceStartArgs &a)
{
	if (!validRecordingId(a.recording))
		return makeError(Errc::Invalid, "recording: '{}' is not a valid id ([A-Za-z0-9._-], 1..64)", a.recording);
	if (recs_.count(a.recording))
		return makeError(Errc::Exists, "recording '{}' is already running on this agent", a.recording);
	if (recs_.size() >= opt_.maxRecordings)
		return makeError(Errc::Refused, "this agent already runs {} recordings (the limit)", recs_.size());
	if (a.specs.empty())
		return makeError(Errc::Invalid, "recording '{}': no sampler specs", a.recording);
	if (a.maxDurationMs <= 0 || a.maxDurationMs > opt_.maxDurationMs)
		return makeError(Errc::Invalid, "max duration {} ms is outside 1..{} ms", a.maxDurationMs,
				 opt_.maxDurationMs);
	auto r = std::make_unique<Rec>();
	r->id = a.recording;
	r->memCap = a.memorySamples ? std::clamp<uint64_t>(a.memorySamples, 10, 10'000'000) : opt_.memorySamples;
	std::set<std::string> names;
	for (size_t i = 0; i < a.specs.size(); i++) {
		// The agent parses and validates the spec again: it trusts the controller's channel, not its parser.
		auto spec = evidence::parseSamplerText(a.specs[i], fmt::format("specs[{}]", i));
		if (!spec)
			return spec.error();
		if (!names.insert(spec->name).second)
			return makeError(Errc::Invalid, "specs[{}]: name '{}' is used twice", i, spec->name);
		auto s = makeSampler(*spec, opt_.env);
		if (!s)
			return makeError(s.error().code, "specs[{}] ({}): {}", i, spec->name, s.error().message);
		auto w = std::make_unique<Worker>();
		w->sampler = std::move(*s);
		r->workers.push_back(std::move(w));
	}
	r->dir = opt_.dir + "/" + r->id;
	::mkdir(opt_.dir.c_str(), 0700);
	removeTree(r->dir);
	if (::mkdir(r->dir.c_str(), 0700) != 0)
		return makeError(Errc::Io, "spool directory {}: {}", r->dir, strerror(errno));
	r->startWall = clk::wallNs();
	r->startMono = clk::monoNs();
	r->deadlineMono = r->startMono + a.maxDurationMs * clk::kMs;
	EvidenceStartReply rep;
	rep.recording = r->id;
	rep.startedNs = r->startWall;
	// Every sampler's first slot is the same instant, a moment from now, so their samples line up.
	const int64_t t0 = r->startMono + 2 * clk::kMs;
	Rec &ref = *r;
	for (auto &w : r->workers) {
		rep.samplers.push_back(w->sampler->spec().name);
		Worker &wr = *w;
		w->thread = std::thread([this, &ref, &wr, t0] { runWorker(ref, wr, t0); });
	}
	log::get("evidence")->info("recording '{}' started: {} (memory {} samples, up to {} s)", r->id,
				   fmt::join(rep.samplers, ", "), r->memCap, a.maxDurationMs / 1000);
	recs_[r->id] = std::move(r);
	return rep;
}

void Recorder::runWorker(Rec &r, Worker &w, int64_t t0)
{
	const int64_t interval = w.sampler->spec().interval.count();
	std::vector<Sample> local;
	int64_t slot = 0;
	for (;;) {
		const int64_t due = t0 + slot * interval;
		if (due >= r.deadlineMono)
			break;
		{
			std::unique_lock lock(r.mu);
			// steady_clock is CLOCK_MONOTONIC, the clock of `due`.
			const auto when = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(due));
			r.cv.wait_until(lock, when, [&] { return r.stopFlag.load(); });
			if (r.stopFlag.load())
				break;
		}
		local.clear();
		w.sampler->sample(local);
		push(r, local);
		w.taken.fetch_add(1, std::memory_order_relaxed);
		slot++;
		// An observation that overran whole slots skips them (counted): the schedule never drifts.
		const int64_t now = clk::monoNs();
		if (now > t0 + (slot + 1) * interval) {
			const int64_t behind = (now - t0) / interval - slot;
			if (behind > 0) {
				w.missed.fetch_add(static_cast<uint64_t>(behind), std::memory_order_relaxed);
				slot += behind;
			}
		}
	}
}

void Recorder::push(Rec &r, std::vector<Sample> &batch)
{
	std::lock_guard lock(r.mu);
	for (auto &s : batch) {
		s.seq = r.nextSeq++;
		// Hard cap, far above what the loop thread lets build up between spills: a stuck loop loses samples (with a
		// reported gap) rather than the host's memory.
		if (r.mem.size() >= 4 * r.memCap + 1000) {
			r.dropped++;
			if (r.lost.size() >= 2 && r.lost.back() + 1 == s.seq) {
				r.lost.back() = s.seq;
			} else {
				r.lost.push_back(s.seq);
				r.lost.push_back(s.seq);
			}
			continue;
		}
		if (r.mem.empty())
			r.memFirst = s.seq;
		r.mem.push_back(std::move(s));
	}
}

void Recorder::event(Sample s)
{
	std::vector<Sample> one(1);
	for (auto &[id, r] : recs_)
		if (!r->stopped) {
			one[0] = s;
			push(*r, one);
		}
}

void Recorder::stopWorkers(Rec &r)
{
	{
		std::lock_guard lock(r.mu);
		r.stopFlag.store(true);
	}
	r.cv.notify_all();
	for (auto &w : r.workers)
		if (w->thread.joinable())
			w->thread.join();
}

Result<EvidenceStopReply> Recorder::stop(const std::string &recording)
{
	auto it = recs_.find(recording);
	if (it == recs_.end())
		return makeError(Errc::NotFound, "no recording '{}' on this agent", recording);
	Rec &r = *it->second;
	if (!r.stopped) {
		stopWorkers(r);
		r.stopped = true;
		r.stoppedMono = clk::monoNs();
		auto &s = r.summary;
		s.recording = r.id;
		s.startedNs = r.startWall;
		s.stoppedNs = clk::wallNs();
		for (auto &w : r.workers) {
			s.counts[w->sampler->spec().name] = w->taken.load();
			s.missed[w->sampler->spec().name] = w->missed.load();
		}
		s.log = LogTap::instance().since(r.startWall, s.stoppedNs);
		log::get("evidence")->info("recording '{}' stopped", r.id);
	}
	{
		std::lock_guard lock(r.mu);
		r.summary.lastSeq = r.nextSeq - 1;
		r.summary.dropped = r.dropped;
	}
	r.summary.spilled = r.spilled;
	return r.summary;
}

Result<EvidenceStopReply> Recorder::stopRequested(const std::string &recording)
{
	auto r = stop(recording);
	if (r)
		recs_.at(recording)->summaryTaken = true;
	return r;
}

void Recorder::onAck(const EvidenceAck &a)
{
	auto it = recs_.find(a.recording);
	if (it == recs_.end())
		return;
	Rec &r = *it->second;
	uint64_t last;
	{
		std::lock_guard lock(r.mu);
		last = r.nextSeq - 1;
	}
	if (a.ackSeq <= r.acked || a.ackSeq > last)
		return;
	r.acked = a.ackSeq;
	r.sent = std::max(r.sent, r.acked);
	r.lastAckMono = clk::monoNs();
	// Free what is acked: spool segments first (oldest), then memory.
	while (!r.spool.empty() && r.spool.front().last <= r.acked) {
		::unlink(r.spool.front().path.c_str());
		spoolBytes_ -= r.spool.front().bytes;
		r.spool.pop_front();
	}
	if (!r.cache.empty() && r.cacheFirst + r.cache.size() - 1 <= r.acked)
		r.cache.clear();
	std::lock_guard lock(r.mu);
	while (!r.mem.empty() && r.mem.front().seq <= r.acked) {
		r.mem.pop_front();
		r.memFirst++;
	}
}

void Recorder::onConnected()
{
	const int64_t now = clk::monoNs();
	for (auto &[id, r] : recs_) {
		r->sent = r->acked;
		r->lastAckMono = now;
	}
}

void Recorder::spill(Rec &r)
{
	// Moves the oldest samples beyond the memory cap to the spool, in segments of a quarter of the cap (at least
	// 100) so a long outage makes few files.
	for (;;) {
		std::vector<Sample> chunk;
		{
			std::lock_guard lock(r.mu);
			if (r.mem.size() <= r.memCap)
				return;
			const size_t n = std::min<size_t>(r.mem.size() - r.memCap + r.memCap / 4 + 1, r.mem.size());
			chunk.reserve(n);
			for (size_t i = 0; i < n; i++) {
				chunk.push_back(std::move(r.mem.front()));
				r.mem.pop_front();
			}
			r.memFirst = r.mem.empty() ? r.nextSeq : r.mem.front().seq;
		}
		Segment seg;
		seg.first = chunk.front().seq;
		seg.last = chunk.back().seq;
		seg.path = fmt::format("{}/{:012}.spool", r.dir, seg.first);
		msgpack::sbuffer buf;
		msgpack::pack(buf, chunk);
		seg.bytes = buf.size();
		while (spoolBytes_ + seg.bytes > opt_.spoolMaxBytes && spoolBytes_ > 0)
			dropOldestSegment();
		Result<void> w = seg.bytes <= opt_.spoolMaxBytes ? writeFile(seg.path, std::string(buf.data(), buf.size()))
								 : makeError(Errc::Refused, "segment larger than the spool");
		if (!w) {
			log::get("evidence")->error("recording '{}': samples {}..{} lost: {}", r.id, seg.first, seg.last,
						    w.error().message);
			std::lock_guard lock(r.mu);
			r.lost.push_back(seg.first);
			r.lost.push_back(seg.last);
			r.dropped += seg.last - seg.first + 1;
			continue;
		}
		if (r.spilled == 0)
			log::get("evidence")->warn("recording '{}': controller not keeping up or out of reach; spilling to {}",
						   r.id, r.dir);
		r.spilled += chunk.size();
		spoolBytes_ += seg.bytes;
		r.spool.push_back(std::move(seg));
	}
}

void Recorder::dropOldestSegment()
{
	// The globally oldest segment is the front of some recording's spool; take the one with the oldest file.
	Rec *victim = nullptr;
	for (auto &[id, r] : recs_)
		if (!r->spool.empty() && (!victim || r->spool.front().path < victim->spool.front().path))
			victim = r.get();
	if (!victim) {
		spoolBytes_ = 0;
		return;
	}
	Segment seg = victim->spool.front();
	victim->spool.pop_front();
	::unlink(seg.path.c_str());
	spoolBytes_ -= seg.bytes;
	{
		std::lock_guard lock(victim->mu);
		victim->lost.push_back(seg.first);
		victim->lost.push_back(seg.last);
		victim->dropped += seg.last - seg.first + 1;
	}
	victim->cache.clear();
	log::get("evidence")->error("recording '{}': spool full ({} bytes): samples {}..{} lost", victim->id,
				    opt_.spoolMaxBytes, seg.first, seg.last);
}

bool Recorder::fetch(Rec &r, uint64_t seq, Sample &out)
{
	for (const auto &seg : r.spool) {
		if (seq < seg.first || seq > seg.last)
			continue;
		if (r.cache.empty() || r.cacheFirst != seg.first) {
			r.cache.clear();
			auto bytes = sys::readFile(seg.path);
			if (!bytes)
				return false;
			try {
				auto h = msgpack::unpack(bytes->data(), bytes->size());
				h.get().convert(r.cache);
			} catch (const std::exception &e) {
				log::get("evidence")->error("spool {}: {}", seg.path, e.what());
				r.cache.clear();
				return false;
			}
			r.cacheFirst = seg.first;
		}
		const uint64_t i = seq - r.cacheFirst;
		if (i >= r.cache.size())
			return false;
		out = r.cache[i];
		return true;
	}
	std::lock_guard lock(r.mu);
	if (r.mem.empty() || seq < r.memFirst || seq - r.memFirst >= r.mem.size())
		return false;
	out = r.mem[seq - r.memFirst];
	return true;
}

bool Recorder::nextBatch(int64_t nowMono, EvidenceBatch &out)
{
	if (recs_.empty())
		return false;
	// Round robin over recordings, starting after the one served last.
	auto start = recs_.upper_bound(rr_);
	for (size_t k = 0; k < recs_.size(); k++, ++start) {
		if (start == recs_.end())
			start = recs_.begin();
		Rec &r = *start->second;
		uint64_t last;
		std::vector<uint64_t> lost;
		{
			std::lock_guard lock(r.mu);
			last = r.nextSeq - 1;
			lost = r.lost;
		}
		if (r.sent >= last || r.sent - r.acked >= opt_.window)
			continue;
		const uint64_t pending = last - r.sent;
		if (pending < opt_.batchSamples && nowMono - r.lastSendMono < opt_.flushNs && !r.stopped)
			continue;
		out.recording = r.id;
		out.samples.clear();
		out.lost.clear();
		for (size_t i = 0; i + 1 < lost.size(); i += 2)
			if (lost[i + 1] > r.acked) {
				out.lost.push_back(lost[i]);
				out.lost.push_back(lost[i + 1]);
			}
		uint64_t seq = r.sent + 1;
		for (; seq <= last && out.samples.size() < opt_.batchSamples && seq - r.acked <= opt_.window; seq++) {
			Sample s;
			if (fetch(r, seq, s))
				out.samples.push_back(std::move(s));
			// else: lost (listed in out.lost) or dropped at the hard cap (a gap the controller reports)
		}
		if (r.sent == r.acked)
			r.lastAckMono = nowMono; // the ack timer runs from the first unacked send
		r.sent = seq - 1;
		r.lastSendMono = nowMono;
		rr_ = r.id;
		return true;
	}
	return false;
}

void Recorder::forget(Rec &r)
{
	for (const auto &seg : r.spool)
		spoolBytes_ -= seg.bytes;
	removeTree(r.dir);
}

void Recorder::service(int64_t nowMono)
{
	for (auto it = recs_.begin(); it != recs_.end();) {
		Rec &r = *it->second;
		if (!r.stopped && nowMono >= r.deadlineMono) {
			log::get("evidence")->info("recording '{}' reached its maximum duration on this agent", r.id);
			(void)stop(r.id);
			r.stoppedMono = nowMono;
		}
		spill(r);
		if (r.sent > r.acked && nowMono - r.lastAckMono > opt_.ackTimeoutNs) {
			r.sent = r.acked; // go back N: resend everything not acked
			r.lastAckMono = nowMono;
		}
		uint64_t last;
		{
			std::lock_guard lock(r.mu);
			last = r.nextSeq - 1;
		}
		// Forgotten once everything is acked and the controller has had its summary (or has not asked for an hour:
		// a controller that died with the recording).
		if (r.stopped && r.acked >= last && (r.summaryTaken || nowMono - r.stoppedMono > 3600 * clk::kSec)) {
			forget(r);
			it = recs_.erase(it);
			continue;
		}
		++it;
	}
}

int64_t Recorder::nextWake(int64_t nowMono) const
{
	if (recs_.empty())
		return INT64_MAX;
	return nowMono + opt_.flushNs;
}

uint64_t Recorder::memoryHeld() const
{
	uint64_t n = 0;
	for (auto &[id, r] : recs_) {
		std::lock_guard lock(r->mu);
		n += r->mem.size();
	}
	return n;
}

} // namespace xdc::agent
