// SPDX-License-Identifier: Apache-2.0
// A recording's live view (see recording.h): each probe's recent attempts and each host or process sampler's recent
// values, as the batches arrive, and the status the scenario runner's checks read.
#include "controller/evidence/recording.h"

namespace xdc::controller::evidence {

using namespace xdc::proto;

void Recording::track(Host &h, const Sample &s)
{
	if (s.kind == "probe.tcp" || s.kind == "probe.http") {
		auto &p = h.probes[s.source];
		const auto okIt = s.values.find("ok");
		const bool ok = okIt != s.values.end() && okIt->second > 0.5;
		p.attempts++;
		p.ok += ok;
		// Resent (older) samples count, but the streak and the window follow the newest attempt.
		if (s.wallNs >= p.lastNs) {
			if (p.attempts == 1 || ok != p.lastOk)
				p.streakStartNs = s.wallNs;
			p.lastOk = ok;
			p.lastNs = s.wallNs;
			p.recent.emplace_back(s.wallNs, ok);
			while (!p.recent.empty() && p.recent.front().first < s.wallNs - kRecentNs)
				p.recent.pop_front();
		}
	}
	if (s.kind == "host" || s.kind == "process") {
		auto &q = h.metrics[s.source];
		if (q.empty() || s.wallNs >= q.back().first) {
			q.emplace_back(s.wallNs, s.values);
			while (!q.empty() && q.front().first < s.wallNs - kRecentNs)
				q.pop_front();
		}
	}
}

json Recording::status(int64_t nowCtlNs, int64_t windowNs) const
{
	json hosts = json::object();
	uint64_t total = 0;
	for (const auto &[a, h] : hosts_) {
		hosts[h.info.host] = {{"agent", a}, {"received", h.received}, {"contiguous_seq", h.contiguous},
				      {"duplicates", h.duplicates}, {"stopped", h.stopAnswered}};
		if (windowNs > 0) {
			json probes = json::object();
			for (const auto &[src, p] : h.probes) {
				uint64_t wn = 0, wok = 0;
				for (auto it = p.recent.rbegin(); it != p.recent.rend() && it->first >= p.lastNs - windowNs; ++it) {
					wn++;
					wok += it->second;
				}
				probes[src] = {{"attempts", p.attempts}, {"ok", p.ok}, {"last_ok", p.lastOk},
					       {"streak_ms", (p.lastNs - p.streakStartNs) / 1000000}, {"window_attempts", wn},
					       {"window_ok", wok}, {"last_agent_ns", p.lastNs},
					       // on the controller's clock
					       {"last_ns", h.clock.map(p.lastNs).tNs},
					       {"streak_start_ns", h.clock.map(p.streakStartNs).tNs}};
			}
			hosts[h.info.host]["probes"] = probes;
			json metrics = json::object();
			for (const auto &[src, q] : h.metrics) {
				if (q.empty())
					continue;
				struct Acc {
					uint64_t n = 0;
					double sum = 0, lo = 0, hi = 0, last = 0;
				};
				std::map<std::string, Acc> acc;
				for (auto it = q.rbegin(); it != q.rend() && it->first >= q.back().first - windowNs; ++it)
					for (const auto &[k, v] : it->second) {
						Acc &x = acc[k];
						if (x.n == 0) {
							x.lo = x.hi = x.last = v; // newest first
						}
						x.n++;
						x.sum += v;
						x.lo = std::min(x.lo, v);
						x.hi = std::max(x.hi, v);
					}
				json m = json::object();
				for (const auto &[k, x] : acc)
					m[k] = {{"n", x.n}, {"last", x.last}, {"mean", x.sum / static_cast<double>(x.n)}, {"min", x.lo},
						{"max", x.hi}};
				metrics[src] = m;
			}
			hosts[h.info.host]["metrics"] = metrics;
		}
		if (h.stopAnswered && h.stopError.empty())
			hosts[h.info.host]["last_seq"] = h.stop.lastSeq;
		total += h.received;
	}
	return {{"recording", id_}, {"dir", dir_}, {"elapsed_ms", (nowCtlNs - startCtlNs_) / 1000000},
		{"samples", total}, {"hosts", hosts}};
}

} // namespace xdc::controller::evidence
