// SPDX-License-Identifier: Apache-2.0
// A recording's live view (see recording.h): each probe's recent attempts and each host or process sampler's recent
// values, as the batches arrive, and the status the scenario runner's checks read.
#include "controller/evidence/recording.h"

#include <algorithm>

namespace xdc::controller::evidence {

using namespace xdc::proto;

namespace {

// Inserts by wallNs, after any equal one: the newest goes at the end at once, a resent older one in its place.
template <typename T> void insertByTime(std::deque<T> &q, T v, int64_t keepNs)
{
	if (q.empty() || v.wallNs >= q.back().wallNs) {
		q.push_back(std::move(v));
	} else {
		auto at = std::upper_bound(q.begin(), q.end(), v.wallNs,
					   [](int64_t t, const T &x) { return t < x.wallNs; });
		q.insert(at, std::move(v));
	}
	while (!q.empty() && q.front().wallNs < q.back().wallNs - keepNs)
		q.pop_front();
}

// The newest entry delivered with everything before it (seq <= contiguous), as a reverse iterator; rend() if none.
// A source's observations are taken one after another, so its sequence numbers rise with its times: the entries
// beyond `contiguous` are a tail.
template <typename Q> auto newestDelivered(const Q &q, uint64_t contiguous)
{
	auto it = q.rbegin();
	while (it != q.rend() && it->seq > contiguous)
		++it;
	return it;
}

// The part of q (ascending wallNs) that can hold samples of [fromCtl, toCtl) on the controller's clock: agent times
// within a second of the latest clock offset. Only these are mapped one by one.
std::pair<int64_t, int64_t> agentRange(const ClockMap &clock, int64_t fromCtl, int64_t toCtl)
{
	const int64_t off = clock.points().empty() ? 0 : clock.points().back().offsetNs;
	constexpr int64_t kMargin = 1000000000;
	return {fromCtl + off - kMargin, toCtl + off + kMargin};
}

// The agent answered the stop and everything up to its last seq has arrived: nothing more can come. (A template
// because Recording::Host is private.)
template <typename Host> bool delivered(const Host &h)
{
	return h.stopAnswered && h.stopError.empty() && h.contiguous >= h.stop.lastSeq;
}

// Whether a delivered sample mapped to m began at or after endNs even at the far edge of its clock bound: then
// every sample of its source that began before endNs has a lower seq.
bool beganAfter(const ClockMap::Mapped &m, int64_t endNs) { return m.tNs - std::max<int64_t>(m.boundNs, 0) >= endNs; }

} // namespace

void Recording::track(Host &h, const Sample &s)
{
	if (s.kind == "probe.tcp" || s.kind == "probe.http") {
		auto &p = h.probes[s.source];
		const auto okIt = s.values.find("ok");
		const bool ok = okIt != s.values.end() && okIt->second > 0.5;
		p.attempts++;
		p.ok += ok;
		if (s.wallNs >= p.newestNs) {
			if (p.attempts == 1 || ok != p.newestOk)
				p.streakStartNs = s.wallNs;
			p.newestOk = ok;
			p.newestNs = s.wallNs;
		}
		insertByTime(p.recent, Host::Attempt{s.wallNs, s.seq, ok}, kRecentNs);
	}
	if (s.kind == "host" || s.kind == "process")
		insertByTime(h.metrics[s.source], Host::Values{s.wallNs, s.seq, s.values}, kRecentNs);
}

json Recording::probeStatus(const Host &h, const Host::ProbeLive &p, int64_t windowNs, int64_t endNs) const
{
	json j = {{"attempts", p.attempts}, {"ok", p.ok}};
	const bool drained = delivered(h);
	const auto last = newestDelivered(p.recent, h.contiguous);
	if (last == p.recent.rend()) {
		j.update({{"last_ok", false}, {"streak_ms", 0}, {"window_attempts", 0}, {"window_ok", 0}});
		if (endNs > 0)
			j.update({{"window_complete", drained}, {"delivered_through_ns", nullptr}});
		return j;
	}
	// The streak: back from the newest delivered attempt while the outcome stays the same. When it reaches the
	// oldest attempt kept, it began where the agent's newest run began, if that is the same run.
	auto it = last;
	int64_t streakStart = last->wallNs;
	for (; it != p.recent.rend() && it->ok == last->ok; ++it)
		streakStart = it->wallNs;
	if (it == p.recent.rend() && p.newestOk == last->ok)
		streakStart = std::min(streakStart, p.streakStartNs);
	const auto lastMapped = h.clock.map(last->wallNs);
	j.update({{"last_ok", last->ok}, {"streak_ms", (last->wallNs - streakStart) / 1000000},
		  {"last_agent_ns", last->wallNs},
		  // on the controller's clock
		  {"last_ns", lastMapped.tNs}, {"streak_start_ns", h.clock.map(streakStart).tNs}});
	uint64_t wn = 0, wok = 0;
	if (endNs == 0) {
		for (auto w = last; w != p.recent.rend() && w->wallNs >= last->wallNs - windowNs; ++w) {
			wn++;
			wok += w->ok;
		}
	} else {
		const auto [lo, hi] = agentRange(h.clock, endNs - windowNs, endNs);
		for (auto w = p.recent.rbegin(); w != p.recent.rend() && w->wallNs >= lo; ++w) {
			if (w->wallNs > hi)
				continue;
			const int64_t t = h.clock.map(w->wallNs).tNs;
			if (t >= endNs - windowNs && t < endNs) {
				wn++;
				wok += w->ok;
			}
		}
		const bool complete = drained || beganAfter(lastMapped, endNs);
		j.update({{"window_complete", complete}, {"delivered_through_ns", lastMapped.tNs}});
	}
	j.update({{"window_attempts", wn}, {"window_ok", wok}});
	return j;
}

json Recording::metricStatus(const Host &h, const std::deque<Host::Values> &q, int64_t windowNs, int64_t endNs,
			     json &window) const
{
	struct Acc {
		uint64_t n = 0;
		double sum = 0, lo = 0, hi = 0, last = 0;
	};
	std::map<std::string, Acc> acc;
	auto add = [&acc](const Host::Values &v) {
		for (const auto &[k, x] : v.values) {
			Acc &a = acc[k];
			if (a.n == 0)
				a.lo = a.hi = a.last = x; // newest first
			a.n++;
			a.sum += x;
			a.lo = std::min(a.lo, x);
			a.hi = std::max(a.hi, x);
		}
	};
	const bool drained = delivered(h);
	const auto last = newestDelivered(q, h.contiguous);
	if (endNs == 0) {
		for (auto it = last; it != q.rend() && it->wallNs >= last->wallNs - windowNs; ++it)
			add(*it);
	} else {
		const auto [lo, hi] = agentRange(h.clock, endNs - windowNs, endNs);
		for (auto it = q.rbegin(); it != q.rend() && it->wallNs >= lo; ++it) {
			if (it->wallNs > hi)
				continue;
			const int64_t t = h.clock.map(it->wallNs).tNs;
			if (t >= endNs - windowNs && t < endNs)
				add(*it);
		}
		bool complete = drained;
		json through = nullptr;
		if (last != q.rend()) {
			const auto m = h.clock.map(last->wallNs);
			complete = complete || beganAfter(m, endNs);
			through = m.tNs;
		}
		window = {{"complete", complete}, {"delivered_through_ns", through}};
	}
	json m = json::object();
	for (const auto &[k, a] : acc)
		m[k] = {{"n", a.n}, {"last", a.last}, {"mean", a.sum / static_cast<double>(a.n)}, {"min", a.lo},
			{"max", a.hi}};
	return m;
}

json Recording::status(int64_t nowCtlNs, int64_t windowNs, int64_t endNs) const
{
	json hosts = json::object();
	uint64_t total = 0;
	for (const auto &[a, h] : hosts_) {
		json &hj = hosts[h.info.host];
		hj = {{"agent", a}, {"received", h.received}, {"contiguous_seq", h.contiguous},
		      {"duplicates", h.duplicates}, {"stopped", h.stopAnswered}};
		if (windowNs > 0) {
			json probes = json::object();
			for (const auto &[src, p] : h.probes)
				probes[src] = probeStatus(h, p, windowNs, endNs);
			hj["probes"] = probes;
			json metrics = json::object(), windows = json::object();
			for (const auto &[src, q] : h.metrics) {
				if (q.empty())
					continue;
				json w;
				metrics[src] = metricStatus(h, q, windowNs, endNs, w);
				if (!w.is_null())
					windows[src] = w;
			}
			hj["metrics"] = metrics;
			if (endNs > 0)
				hj["metric_windows"] = windows;
		}
		if (h.stopAnswered && h.stopError.empty())
			hj["last_seq"] = h.stop.lastSeq;
		total += h.received;
	}
	return {{"recording", id_}, {"dir", dir_}, {"elapsed_ms", (nowCtlNs - startCtlNs_) / 1000000},
		{"samples", total}, {"hosts", hosts}};
}

} // namespace xdc::controller::evidence
