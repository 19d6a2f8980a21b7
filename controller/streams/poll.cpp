// SPDX-License-Identifier: Apache-2.0
// Polling one DC's instance (and all DCs in parallel) into snapshots.
#include "controller/streams/poll.h"

#include <algorithm>
#include <thread>

#include "common/clock.h"

namespace xdc::streams {

const Job *pickJob(const std::vector<Job> &jobs, const Endpoint &ep)
{
	if (!ep.jobName.empty())
		for (const auto &j : jobs)
			if (j.name == ep.jobName)
				return &j;
	if (!ep.application.empty())
		for (const auto &j : jobs)
			if (j.applicationName == ep.application)
				return &j;
	if (jobs.size() == 1 && ep.jobName.empty() && ep.application.empty())
		return &jobs[0];
	return nullptr;
}

DcSnapshot pollDc(Client &client, const PollOptions &opts, PollCache *cache)
{
	DcSnapshot s;
	s.dc = client.endpoint().dc;
	auto fail = [&](const Error &e) {
		s.reachable = false;
		s.error = e.message;
		s.tNs = clk::wallNs();
		if (cache)
			*cache = PollCache{};
		return s;
	};
	const bool instanceDue = !cache || cache->instanceStatus.empty() ||
				 cache->rounds % static_cast<uint64_t>(std::max(1, cache->instanceEvery)) == 0;
	if (cache)
		++cache->rounds;
	if (instanceDue) {
		auto inst = client.instance();
		if (!inst)
			return fail(inst.error());
		s.instanceStatus = inst->status;
		s.instanceHealth = inst->health;
		if (cache) {
			cache->instanceStatus = inst->status;
			cache->instanceHealth = inst->health;
		}
	} else {
		s.instanceStatus = cache->instanceStatus;
		s.instanceHealth = cache->instanceHealth;
	}
	// Repeated polling asks only for the job fields pickJob and the view use: the rest (URLs, bundle, submit
	// parameters) was bytes to lex and allocate for every round.
	Query jobQuery;
	if (cache)
		jobQuery.fields = {"id", "name", "applicationName", "status", "health"};
	auto jobs = client.jobs(jobQuery);
	if (!jobs)
		return fail(jobs.error());
	s.reachable = true;
	const Job *job = pickJob(*jobs, client.endpoint());
	if (job) {
		s.job = *job;
		if (cache) {
			// Repeated polling reads only the PE fields the view and the events use (state, relaunches with their
			// pid): parsing the whole PE objects was most of a 10 Hz watch's CPU, and the `host` and `job` URLs
			// were still two thirds of what was left of each PE. `status` (one round, no cache) reads them all.
			Query q;
			q.fields = {"id", "status", "statusReason", "launchCount", "processId"};
			auto raw = client.list("jobs/" + job->id + "/pes", "pes", q);
			if (!raw)
				return fail(raw.error());
			for (const auto &j : *raw) {
				auto pe = parsePe(j);
				if (!pe)
					return fail(pe.error());
				s.pes.push_back(std::move(*pe));
			}
		} else {
			auto pes = client.jobPes(job->id);
			if (!pes)
				return fail(pes.error());
			s.pes = std::move(*pes);
		}
		if (opts.metrics) {
			PollCache local;
			PollCache &c = cache ? *cache : local;
			if (!c.operatorsKnown || c.jobId != job->id) {
				auto ops = client.jobOperators(job->id);
				if (!ops)
					return fail(ops.error());
				c.jobId = job->id;
				c.toolkitOp.clear();
				c.sinkOp.clear();
				for (const auto &op : *ops) {
					if (op.name == opts.toolkitOperator)
						c.toolkitOp = op.id;
					if (op.name == opts.sinkOperator)
						c.sinkOp = op.id;
				}
				c.operatorsKnown = true;
			}
			// Only the metric fields read below: lastTimeRetrieved and metricKind were a third of each answer.
			Query mq;
			if (cache)
				mq.fields = {"name", "value", "metricType"};
			for (const std::string &id : {c.toolkitOp, c.sinkOp}) {
				if (id.empty())
					continue;
				auto ms = client.operatorMetrics(id, mq);
				if (!ms) {
					c.operatorsKnown = false; // the job may have changed under the same id: list them again
					return fail(ms.error());
				}
				for (const auto &m : *ms) {
					if (id == c.toolkitOp && m.metricType == "custom")
						s.toolkit[m.name] = m.value;
					if (id == c.sinkOp && m.name == "nTuplesProcessed")
						s.sinkTuples = m.value;
				}
			}
		}
	}
	s.tNs = clk::wallNs();
	return s;
}

std::vector<DcSnapshot> pollRound(std::vector<std::unique_ptr<Client>> &clients, const PollOptions &opts,
				  std::vector<PollCache> *caches)
{
	std::vector<DcSnapshot> out(clients.size());
	if (!opts.parallel) {
		for (size_t i = 0; i < clients.size(); ++i)
			out[i] = pollDc(*clients[i], opts, caches ? &(*caches)[i] : nullptr);
		return out;
	}
	std::vector<std::thread> threads;
	threads.reserve(clients.size());
	for (size_t i = 0; i < clients.size(); ++i)
		threads.emplace_back([&, i] { out[i] = pollDc(*clients[i], opts, caches ? &(*caches)[i] : nullptr); });
	for (auto &t : threads)
		t.join();
	return out;
}

Poller::Poller(std::vector<std::unique_ptr<Client>> &clients, PollOptions opts)
	: clients_(clients), opts_(std::move(opts)), caches_(clients.size()), out_(clients.size())
{
	for (size_t i = 0; i < clients_.size(); ++i)
		threads_.emplace_back([this, i] { work(i); });
}

Poller::~Poller()
{
	{
		std::lock_guard<std::mutex> l(m_);
		stop_ = true;
	}
	start_.notify_all();
	for (auto &t : threads_)
		t.join();
}

void Poller::work(size_t i)
{
	uint64_t seen = 0;
	while (true) {
		{
			std::unique_lock<std::mutex> l(m_);
			start_.wait(l, [&] { return stop_ || generation_ != seen; });
			if (stop_)
				return;
			seen = generation_;
		}
		DcSnapshot s = pollDc(*clients_[i], opts_, &caches_[i]);
		std::lock_guard<std::mutex> l(m_);
		out_[i] = std::move(s);
		if (--pending_ == 0)
			done_.notify_one();
	}
}

std::vector<DcSnapshot> Poller::round()
{
	std::unique_lock<std::mutex> l(m_);
	pending_ = clients_.size();
	++generation_;
	start_.notify_all();
	done_.wait(l, [&] { return pending_ == 0; });
	return out_;
}

} // namespace xdc::streams
