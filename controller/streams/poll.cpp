// SPDX-License-Identifier: Apache-2.0
// Polling one DC's instance (and all DCs in parallel) into snapshots.
#include "controller/streams/poll.h"

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

DcSnapshot pollDc(Client &client, const PollOptions &opts)
{
	DcSnapshot s;
	s.dc = client.endpoint().dc;
	auto fail = [&](const Error &e) {
		s.reachable = false;
		s.error = e.message;
		s.tNs = clk::wallNs();
		return s;
	};
	auto inst = client.instance();
	if (!inst)
		return fail(inst.error());
	s.instanceStatus = inst->status;
	s.instanceHealth = inst->health;
	auto jobs = client.jobs();
	if (!jobs)
		return fail(jobs.error());
	s.reachable = true;
	const Job *job = pickJob(*jobs, client.endpoint());
	if (job) {
		s.job = *job;
		auto pes = client.jobPes(job->id);
		if (!pes)
			return fail(pes.error());
		s.pes = std::move(*pes);
		if (opts.metrics) {
			auto ops = client.jobOperators(job->id);
			if (!ops)
				return fail(ops.error());
			for (const auto &op : *ops) {
				const bool toolkit = op.name == opts.toolkitOperator;
				const bool sink = op.name == opts.sinkOperator;
				if (!toolkit && !sink)
					continue;
				auto ms = client.operatorMetrics(op.id);
				if (!ms)
					return fail(ms.error());
				for (const auto &m : *ms) {
					if (toolkit && m.metricType == "custom")
						s.toolkit[m.name] = m.value;
					if (sink && m.name == "nTuplesProcessed")
						s.sinkTuples = m.value;
				}
			}
		}
	}
	s.tNs = clk::wallNs();
	return s;
}

std::vector<DcSnapshot> pollRound(std::vector<std::unique_ptr<Client>> &clients, const PollOptions &opts)
{
	std::vector<DcSnapshot> out(clients.size());
	std::vector<std::thread> threads;
	threads.reserve(clients.size());
	for (size_t i = 0; i < clients.size(); ++i)
		threads.emplace_back([&, i] { out[i] = pollDc(*clients[i], opts); });
	for (auto &t : threads)
		t.join();
	return out;
}

} // namespace xdc::streams
