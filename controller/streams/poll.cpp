// SPDX-License-Identifier: Apache-2.0
// Polling one DC's instance (and all DCs in parallel) into snapshots.
#include "controller/streams/poll.h"

#include <algorithm>
#include <map>
#include <set>
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

namespace {

// The composite's operators xdc looks for, by local name.
const char *const kToolkitLocals[] = {"HeartbeatSignalGenerator",	  "HeartbeatMessagePreparer",
				      "CrossDataCenterSender1",		  "CrossDataCenterReceiverForHB",
				      "RemoteDataCenterHeartbeatWatchdog", "RemoteDataCenterWatchdog",
				      "CrossDataCenterReceiver[k]"};

// The local name of a toolkit operator and the prefix before it ("App.Cdc.HeartbeatSignalGenerator" ->
// {"HeartbeatSignalGenerator", "App.Cdc"}); the channel operators give "CrossDataCenterReceiver[k]".
bool splitToolkitName(const std::string &name, std::string &local, std::string &prefix)
{
	const auto dot = name.rfind('.');
	std::string last = dot == std::string::npos ? name : name.substr(dot + 1);
	prefix = dot == std::string::npos ? "" : name.substr(0, dot);
	if (last.rfind("CrossDataCenterReceiver[", 0) == 0 && last.back() == ']')
		last = "CrossDataCenterReceiver[k]";
	for (const char *l : kToolkitLocals)
		if (last == l) {
			local = last;
			return true;
		}
	return false;
}

} // namespace

FoundOperators findOperators(const std::vector<Operator> &ops, const Endpoint &ep)
{
	FoundOperators f;
	std::map<std::string, int> prefixes; // prefix -> toolkit operators under it
	for (const auto &op : ops) {
		std::string local, prefix;
		if (splitToolkitName(op.name, local, prefix))
			prefixes[prefix]++;
	}
	if (!ep.toolkitPrefix.empty()) {
		f.names.prefix = ep.toolkitPrefix;
	} else if (!prefixes.empty()) {
		// The composite instance with the most of the toolkit's operators; ties go to the first name.
		int best = -1;
		for (const auto &[p, n] : prefixes)
			if (n > best) {
				best = n;
				f.names.prefix = p;
			}
	}
	for (const auto &[p, _] : prefixes)
		if (p != f.names.prefix)
			f.names.otherPrefixes.push_back(p);
	std::set<std::string> found;
	for (const auto &op : ops) {
		std::string local, prefix;
		if (!splitToolkitName(op.name, local, prefix) || prefix != f.names.prefix || prefixes.empty())
			continue;
		found.insert(local);
		if (local == "RemoteDataCenterHeartbeatWatchdog") {
			f.watchdog = op.id;
			const auto slash = op.peUrl.rfind('/');
			f.names.watchdogPe = slash == std::string::npos ? "" : op.peUrl.substr(slash + 1);
		} else if (local == "CrossDataCenterReceiverForHB")
			f.hbReceiver = op.id;
		else if (local == "HeartbeatMessagePreparer")
			f.preparer = op.id;
		else if (local == "RemoteDataCenterWatchdog")
			f.store = op.id;
		else if (local == "CrossDataCenterReceiver[k]")
			f.receivers.push_back(op.id);
	}
	f.names.channels = static_cast<int>(f.receivers.size());
	for (const char *l : kToolkitLocals)
		(found.count(l) ? f.names.found : f.names.missing).push_back(l);
	// The application's output.
	const Operator *sink = nullptr;
	const std::string want = ep.sinkOperator.empty() ? "Sink" : ep.sinkOperator;
	for (const auto &op : ops)
		if (op.name == want)
			sink = &op;
	if (!sink && ep.sinkOperator.empty()) {
		int fileSinks = 0;
		for (const auto &op : ops)
			if (op.operatorKind.size() >= 10 && op.operatorKind.compare(op.operatorKind.size() - 10, 10, "::FileSink") == 0) {
				sink = &op;
				fileSinks++;
			}
		if (fileSinks != 1)
			sink = nullptr;
	}
	if (sink) {
		f.sink = sink->id;
		f.sinkName = sink->name;
	}
	return f;
}

namespace {

// The instance's status and health: asked every cache->instanceEvery rounds (every round without a cache), else the
// last answer.
Result<void> readInstance(Client &client, DcSnapshot &s, PollCache *cache)
{
	const bool instanceDue = !cache || cache->instanceStatus.empty() ||
				 cache->rounds % static_cast<uint64_t>(std::max(1, cache->instanceEvery)) == 0;
	if (cache)
		++cache->rounds;
	if (!instanceDue) {
		s.instanceStatus = cache->instanceStatus;
		s.instanceHealth = cache->instanceHealth;
		return success();
	}
	auto inst = client.instance();
	XDC_TRY(inst);
	s.instanceStatus = inst->status;
	s.instanceHealth = inst->health;
	if (cache) {
		cache->instanceStatus = inst->status;
		cache->instanceHealth = inst->health;
	}
	return success();
}

// The PEs of the job: with repeated polling (cached) only the fields the view and the events use.
Result<void> readPes(Client &client, const Job &job, DcSnapshot &s, bool cached)
{
	if (!cached) {
		auto pes = client.jobPes(job.id);
		XDC_TRY(pes);
		s.pes = std::move(*pes);
		return success();
	}
	// Repeated polling reads only the PE fields the view and the events use (state, relaunches with their
	// pid): parsing the whole PE objects was most of a 10 Hz watch's CPU, and the `host` and `job` URLs
	// were still two thirds of what was left of each PE. `status` (one round, no cache) reads them all.
	Query q;
	q.fields = {"id", "status", "statusReason", "launchCount", "processId"};
	auto raw = client.list("jobs/" + job.id + "/pes", "pes", q);
	XDC_TRY(raw);
	for (const auto &j : *raw) {
		auto pe = parsePe(j);
		XDC_TRY(pe);
		s.pes.push_back(std::move(*pe));
	}
	return success();
}

// The job's toolkit and sink operators, listed again when the job changed or a metric read failed.
Result<void> knowOperators(Client &client, const Job &job, PollCache &c)
{
	if (c.operatorsKnown && c.jobId == job.id)
		return success();
	auto ops = client.jobOperators(job.id);
	XDC_TRY(ops);
	c.jobId = job.id;
	c.ops = findOperators(*ops, client.endpoint());
	c.operatorsKnown = true;
	c.haveMetrics = false;
	c.collectedNs = c.periodNs = 0;
	return success();
}

// Adds one operator port's tuple count (processed for an input, submitted for an output) to `into`; nothing for an
// operator the job does not have.
Result<void> readPort(Client &client, PollCache &c, const Query &mq, const std::string &id, bool input,
		      PortSignal &into)
{
	if (id.empty())
		return success();
	auto ms = client.portMetrics(id, input, 0, mq);
	if (!ms) {
		c.operatorsKnown = false; // the job may have changed under the same id: list them again
		return ms.error();
	}
	const char *want = input ? "nTuplesProcessed" : "nTuplesSubmitted";
	for (const auto &m : *ms)
		if (m.name == want) {
			into.present = true;
			into.value += m.value;
			into.retrievedNs = std::max(into.retrievedNs, m.lastTimeRetrieved * 1000000);
		}
	return success();
}

// Learns when Streams collects metrics (from the oldest retrieval time of this read) and keeps the values, so that
// rounds before the next collection need not ask.
void rememberCollection(PollCache &c, const DcSnapshot &s)
{
	int64_t oldest = 0;
	for (const PortSignal *p : {&s.toolkit.transitions, &s.toolkit.heartbeatsReceived, &s.toolkit.heartbeatsSent,
				    &s.toolkit.stateHandedOver, &s.toolkit.messagesReceived, &s.sink})
		if (p->present && p->retrievedNs > 0)
			oldest = oldest == 0 ? p->retrievedNs : std::min(oldest, p->retrievedNs);
	if (oldest > c.collectedNs && c.collectedNs > 0)
		c.periodNs = c.periodNs == 0 ? oldest - c.collectedNs : std::min(c.periodNs, oldest - c.collectedNs);
	if (oldest > 0)
		c.collectedNs = oldest;
	c.lastToolkit = s.toolkit;
	c.lastSink = s.sink;
	c.haveMetrics = oldest > 0;
}

// The toolkit's signals and the sink's tuple count, from the operators' port metrics (or the cached values while no
// collection can have happened since the last read).
Result<void> readToolkitMetrics(Client &client, const Job &job, DcSnapshot &s, PollCache *cache)
{
	s.metricsRead = true;
	PollCache local;
	PollCache &c = cache ? *cache : local;
	XDC_TRY(knowOperators(client, job, c));
	s.toolkit = c.ops.names;
	s.sinkOperator = c.ops.sinkName;
	const int64_t now = clk::wallNs();
	if (cache && c.haveMetrics && c.periodNs > 0 && now < c.collectedNs + c.periodNs - c.periodNs / 10) {
		// No collection can have happened since the last read: the same values, the same retrieval times.
		s.toolkit = c.lastToolkit;
		s.sink = c.lastSink;
		return success();
	}
	// Only the metric fields read below.
	Query mq;
	if (cache)
		mq.fields = {"name", "value", "lastTimeRetrieved"};
	// Every port is read before the first error is reported.
	for (auto r : {readPort(client, c, mq, c.ops.watchdog, false, s.toolkit.transitions),
		       readPort(client, c, mq, c.ops.hbReceiver, false, s.toolkit.heartbeatsReceived),
		       readPort(client, c, mq, c.ops.preparer, false, s.toolkit.heartbeatsSent),
		       readPort(client, c, mq, c.ops.store, false, s.toolkit.stateHandedOver),
		       readPort(client, c, mq, c.ops.sink, true, s.sink)})
		XDC_TRY(r);
	for (const auto &id : c.ops.receivers)
		XDC_TRY(readPort(client, c, mq, id, false, s.toolkit.messagesReceived));
	if (cache)
		rememberCollection(c, s);
	return success();
}

// One round of one DC, everything but the failure handling: the instance, the job, its PEs and its metrics.
Result<void> pollDcInto(Client &client, const PollOptions &opts, PollCache *cache, DcSnapshot &s)
{
	XDC_TRY(readInstance(client, s, cache));
	// Repeated polling asks only for the job fields pickJob and the view use: the rest (URLs, bundle, submit
	// parameters) was bytes to lex and allocate for every round.
	Query jobQuery;
	if (cache)
		jobQuery.fields = {"id", "name", "applicationName", "status", "health", "submitTime"};
	auto jobs = client.jobs(jobQuery);
	XDC_TRY(jobs);
	s.reachable = true;
	const Job *job = pickJob(*jobs, client.endpoint());
	if (!job)
		return success();
	s.job = *job;
	XDC_TRY(readPes(client, *job, s, cache != nullptr));
	if (opts.metrics)
		XDC_TRY(readToolkitMetrics(client, *job, s, cache));
	return success();
}

} // namespace

DcSnapshot pollDc(Client &client, const PollOptions &opts, PollCache *cache)
{
	DcSnapshot s;
	s.dc = client.endpoint().dc;
	if (auto r = pollDcInto(client, opts, cache, s); !r) {
		s.reachable = false;
		s.error = r.error().message;
		if (cache)
			*cache = PollCache{};
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
