// SPDX-License-Identifier: Apache-2.0
// The agent's generator runs (agent/data/generate.h).
#include "agent/data/generate.h"

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>

#include "common/clock.h"
#include "common/log.h"

namespace xdc::agent {

namespace {

bool numericHost(const std::string &h)
{
	in_addr a4{};
	in6_addr a6{};
	return ::inet_pton(AF_INET, h.c_str(), &a4) == 1 || ::inet_pton(AF_INET6, h.c_str(), &a6) == 1;
}

bool validId(const std::string &id)
{
	return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
		return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
	});
}

} // namespace

Result<void> validateGenerateArgs(const proto::DataGenerateStartArgs &a)
{
	if (!validId(a.runId))
		return makeError(Errc::Invalid, "data.generate.start: runId '{}': expected 1 to 128 of [a-zA-Z0-9._-]",
				 a.runId);
	if (!(a.rate > 0 && a.rate <= 1e6))
		return makeError(Errc::Invalid, "data.generate.start: rate {}: expected above 0 and at most 1000000/s",
				 a.rate);
	if (a.rampFrom >= 0 && (!(a.rampFrom > 0 && a.rampFrom <= 1e6) || a.rampNs <= 0))
		return makeError(Errc::Invalid, "data.generate.start: ramp: from {} over {} ns: expected a rate and a "
				 "positive duration", a.rampFrom, a.rampNs);
	if (a.burstEveryNs != 0 || a.burstForNs != 0) {
		if (a.burstEveryNs <= 0 || a.burstForNs <= 0 || a.burstForNs >= a.burstEveryNs ||
		    !(a.burstFactor > 0 && a.burstFactor <= 1000))
			return makeError(Errc::Invalid, "data.generate.start: bursts: expected 0 < for < every and a factor "
					 "above 0, at most 1000");
	}
	if (a.keys < 1 || a.keys > 100000)
		return makeError(Errc::Invalid, "data.generate.start: keys {}: expected 1..100000", a.keys);
	if (a.payload > 65536)
		return makeError(Errc::Invalid, "data.generate.start: payload {}: expected at most 65536", a.payload);
	if (a.maxDurationMs <= 0 || a.maxDurationMs > 24 * 3600 * 1000)
		return makeError(Errc::Invalid, "data.generate.start: maxDurationMs {}: expected 1 ms .. 24 h",
				 a.maxDurationMs);
	if (a.sources.empty() || a.sources.size() > 16)
		return makeError(Errc::Invalid, "data.generate.start: {} sources: expected 1..16", a.sources.size());
	for (const auto &s : a.sources) {
		if (s.name.empty() || s.name.size() > 64)
			return makeError(Errc::Invalid, "data.generate.start: a source needs a name (1..64 characters)");
		if (s.kind == "http_json") {
			if (s.url.rfind("http://", 0) != 0 && s.url.rfind("https://", 0) != 0)
				return makeError(Errc::Invalid, "data.generate.start: source '{}': url '{}': only http:// "
						 "and https://", s.name, s.url);
			if (s.url.size() > 2048 || s.url.find_first_of(" \r\n\t") != std::string::npos)
				return makeError(Errc::Invalid, "data.generate.start: source '{}': a malformed url", s.name);
		} else if (s.kind == "tcp") {
			if (!numericHost(s.host))
				return makeError(Errc::Invalid, "data.generate.start: source '{}': host '{}': expected a "
						 "numeric address", s.name, s.host);
			if (s.port < 1 || s.port > 65535)
				return makeError(Errc::Invalid, "data.generate.start: source '{}': port {}: expected "
						 "1..65535", s.name, s.port);
		} else {
			return makeError(Errc::Invalid, "data.generate.start: source '{}': kind '{}': expected http_json or tcp",
					 s.name, s.kind);
		}
	}
	return success();
}

proto::DataGenerateStopReply generatorReply(const data::TupleGenerator &g)
{
	proto::DataGenerateStopReply r;
	const auto st = g.stats();
	r.generated = st.generated;
	r.accepted = st.accepted;
	r.refusedBatches = st.refusedBatches;
	r.failedBatches = st.failedBatches;
	r.uncertain = st.uncertain;
	r.backlog = st.backlog;
	r.switches = st.switches;
	r.fellBehind = st.fellBehind;
	r.perSource = st.perSource;
	r.unwritten = st.unwritten;
	for (const auto &c : st.sourceChanges) {
		r.changeNs.push_back(c.first);
		r.changeSource.push_back(c.second);
	}
	r.lastError = st.lastError;
	r.sentPerKey = g.sentPerKey();
	uint64_t total = 0;
	for (const auto &kv : r.sentPerKey)
		total += kv.second;
	if (total > proto::kMaxGenTimes) {
		r.timesOmitted = true;
		return r;
	}
	for (auto &[key, times] : g.sendTimes()) {
		std::vector<int64_t> d;
		d.reserve(times.size());
		int64_t prev = 0;
		for (int64_t t : times) {
			d.push_back(t - prev);
			prev = t;
		}
		r.sendTimes[key] = std::move(d);
	}
	return r;
}

Result<proto::DataGenerateStartReply> DataGenerators::start(const proto::DataGenerateStartArgs &a)
{
	XDC_TRY(validateGenerateArgs(a));
	std::unique_lock lk(m_);
	if (runs_.count(a.runId))
		return makeError(Errc::Exists, "data.generate.start: run '{}' is already generating here", a.runId);
	size_t live = 0;
	for (const auto &kv : runs_)
		live += !kv.second->expired;
	if (live >= kMaxRuns)
		return makeError(Errc::Refused, "data.generate.start: {} generators run here already", live);
	data::GeneratorOptions o;
	o.seed = a.seed;
	o.rate = a.rate;
	o.profile.rate = a.rate;
	o.profile.rampFrom = a.rampFrom;
	o.profile.rampNs = a.rampNs;
	o.profile.burstEveryNs = a.burstEveryNs;
	o.profile.burstForNs = a.burstForNs;
	o.profile.burstFactor = a.burstFactor;
	o.keys = a.keys;
	o.payload = static_cast<size_t>(a.payload);
	std::vector<std::unique_ptr<data::DataSource>> sources;
	for (const auto &s : a.sources) {
		if (s.kind == "tcp") {
			sources.push_back(data::makeTcpLineSource(s.name, s.host, s.port, 2000));
		} else {
			data::HttpEndpointOptions h;
			h.name = s.name;
			h.url = s.url;
			h.user = s.user;
			h.password = s.password;
			h.caFile = s.caFile;
			h.insecure = s.insecure;
			sources.push_back(data::makeHttpJsonSource(h));
		}
	}
	auto run = std::make_unique<Run>();
	run->gen = std::make_unique<data::Generator>(o, std::move(sources));
	run->startedNs = clk::wallNs();
	XDC_TRY(run->gen->start());
	Run *r = run.get();
	const int64_t deadline = clk::monoNs() + a.maxDurationMs * clk::kMs;
	const std::string id = a.runId;
	run->watchdog = std::thread([this, r, deadline, id] {
		std::unique_lock wl(m_);
		while (!r->stopping && clk::monoNs() < deadline)
			cv_.wait_for(wl, std::chrono::nanoseconds(std::max<int64_t>(deadline - clk::monoNs(), 0)));
		if (r->stopping)
			return;
		r->expired = true;
		wl.unlock();
		r->gen->stop();
		wl.lock();
		r->stoppedNs = clk::wallNs();
		log::get("agent")->warn("data generator of run '{}' stopped by itself: its max duration passed", id);
	});
	runs_[a.runId] = std::move(run);
	log::get("agent")->info("data generator of run '{}': {:g} tuples/s over {} keys into {} sources", a.runId, a.rate,
				a.keys, a.sources.size());
	return proto::DataGenerateStartReply{a.runId, r->startedNs};
}

Result<proto::DataGenerateStopReply> DataGenerators::stop(const std::string &runId)
{
	std::unique_ptr<Run> run;
	{
		std::lock_guard lk(m_);
		auto it = runs_.find(runId);
		if (it == runs_.end())
			return makeError(Errc::NotFound, "data.generate.stop: no generator of run '{}' here", runId);
		run = std::move(it->second);
		runs_.erase(it);
		run->stopping = true;
	}
	cv_.notify_all();
	if (run->watchdog.joinable())
		run->watchdog.join();
	if (!run->expired) {
		run->gen->stop();
		run->stoppedNs = clk::wallNs();
	}
	auto rep = generatorReply(*run->gen);
	rep.runId = runId;
	rep.expired = run->expired;
	rep.startedNs = run->startedNs;
	rep.stoppedNs = run->stoppedNs;
	return rep;
}

DataGenerators::~DataGenerators()
{
	std::vector<std::string> ids;
	{
		std::lock_guard lk(m_);
		for (const auto &kv : runs_)
			ids.push_back(kv.first);
	}
	for (const auto &id : ids)
		(void)stop(id);
}

} // namespace xdc::agent
