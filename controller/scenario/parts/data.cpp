// SPDX-License-Identifier: Apache-2.0
// The run's test tuples (see data.h).
#include "controller/scenario/parts/data.h"

#include <thread>

#include "common/duration.h"
#include "controller/data/agent_generator.h"
#include "controller/data/agent_sink.h"
#include "controller/data/ingest.h"
#include "controller/scenario/parts/streams.h"

namespace xdc::scenario {

namespace {

// The remote generator's sources for a fixed route (every DC, or one).
std::vector<proto::DataGenSource> routed(const std::vector<proto::DataGenSource> &all, const std::string &to)
{
	if (to == "both" || to == "active")
		return all;
	std::vector<proto::DataGenSource> out;
	for (const auto &s : all)
		if (s.name == to)
			out.push_back(s);
	return out;
}

} // namespace

DataPart::~DataPart() = default;

// One sink per DC: its HTTPTupleView, or its FileSink read through the agent of its Streams host.
bool DataPart::makeSinks(std::vector<std::unique_ptr<data::DataSink>> &sinks, std::set<std::string> &dcs)
{
	const DataFlow &d = c_.s.data;
	for (const auto &ep : c_.streamsView()->endpoints()) {
		dcs.insert(ep.dc);
		if (d.sinkVia == "tuple_view") {
			if (ep.egress.tupleView.empty()) {
				c_.setVerdict(kHarness, "harness", fmt::format("{}: data.sink: via tuple_view needs DC '{}''s "
									       "egress.tuple_view in the streams config {}",
									       d.where, ep.dc, c_.opt.streamsConfig));
				return false;
			}
			sinks.push_back(data::makeTupleViewSink({.name = ep.dc, .url = ep.egress.tupleView, .user = ep.user,
								 .password = ep.password, .caFile = ep.caFile,
								 .insecure = ep.insecure, .timeoutMs = 2000}));
			continue;
		}
		if (ep.host.empty()) {
			c_.setVerdict(kHarness, "harness", fmt::format("{}: data.sink: via agent needs the host of DC '{}' in the "
								       "streams config {} (its `host:`)",
								       d.where, ep.dc, c_.opt.streamsConfig));
			return false;
		}
		sinks.push_back(data::makeAgentSink({.name = ep.dc, .host = ep.host, .sink = d.sinkFile, .maxBytes = 1u << 20,
						     .timeoutMs = 5000, .call = c_.opt.call}));
	}
	return true;
}

data::GeneratorOptions DataPart::generatorOptions() const
{
	const DataFlow &d = c_.s.data;
	data::GeneratorOptions g;
	g.seed = c_.opt.seed;
	g.rate = d.rate;
	g.profile.rate = d.rate;
	g.profile.rampFrom = d.rampFrom;
	g.profile.rampNs = ns(d.rampOver);
	g.profile.burstEveryNs = ns(d.burstEvery);
	g.profile.burstForNs = ns(d.burstFor);
	g.profile.burstFactor = d.burstFactor;
	g.keys = d.keys;
	g.payload = d.payload;
	return g;
}

// The front door knows where to send once the view has seen an active DC: wait for the first rounds (bounded), so
// the run's first tuples do not sit in the backlog for a poll round.
void DataPart::waitForActive()
{
	StreamsFollower *view = c_.streamsView();
	const int64_t deadline = clk::monoNs() + std::max<int64_t>(5 * ns(c_.s.streams.interval), 3000 * kMs);
	while (view->activeDc().empty() && clk::monoNs() < deadline)
		std::this_thread::sleep_for(std::chrono::milliseconds(20));
	if (view->activeDc().empty())
		c_.say("data: no DC is active yet; the tuples wait in the generator until one is");
}

bool DataPart::prepare()
{
	const DataFlow &d = c_.s.data;
	StreamsFollower *view = c_.streamsView();
	auto ingest = data::makeIngest(view->endpoints(), d.source, c_.opt.call);
	if (!ingest) {
		c_.setVerdict(kHarness, "harness", fmt::format("{}: data.source {}: {} ({})", d.where, d.source,
							       ingest.error().message, c_.opt.streamsConfig));
		return false;
	}
	std::vector<std::unique_ptr<data::DataSink>> sinks;
	std::set<std::string> dcs;
	if (!makeSinks(sinks, dcs))
		return false;
	if (d.route != "both" && d.route != "active" && !dcs.count(d.route)) {
		c_.setVerdict(kHarness, "harness", fmt::format("{}: data.route: '{}' is not a DC of the streams config {}",
							       d.where, d.route, c_.opt.streamsConfig));
		return false;
	}
	std::vector<std::unique_ptr<data::DataSource>> sources = std::move(ingest->sources);
	const data::GeneratorOptions g = generatorOptions();
	data::ValidatorOptions v;
	v.seed = c_.opt.seed;
	v.gapNs = ns(d.gap);
	reader_ = std::make_unique<data::SinkReader>(v, std::move(sinks), ns(d.poll));
	std::string generatedOn = "the controller's host (client side)";
	if (d.generateOn == "controller") {
		auto gen = std::make_unique<data::Generator>(g, std::move(sources));
		localGen_ = gen.get();
		generator_ = std::move(gen);
		if (d.route == "active")
			waitForActive();
		routeTo(d.route);
		view->setOnRound([this] { followRoute(); });
	} else {
		// The agent stops by itself when the run cannot be running any more (as recordings do).
		generator_ = std::make_unique<data::AgentGenerator>(data::AgentGeneratorOptions{
			.host = d.generateOn, .runId = c_.opt.runId, .gen = g, .sources = routed(ingest->remote, d.route),
			.maxDurationMs = ns(c_.s.plannedDuration()) / kMs + 600000, .call = c_.opt.call});
		generatedOn = fmt::format("{} (through its agent)", d.generateOn);
	}
	reader_->start();
	if (auto r = generator_->start(); !r) {
		reader_->stop();
		generator_.reset();
		c_.setVerdict(kHarness, "harness", fmt::format("{}: data.generate_on: {}", d.where, r.error().message));
		return false;
	}
	c_.report.data = DataSection{.rate = d.rate, .burstFactor = d.burstFactor,
				     .rampFrom = d.rampFrom >= 0 ? std::optional<double>(d.rampFrom) : std::nullopt,
				     .keys = d.keys, .payload = d.payload, .rampOverMs = ns(d.rampOver) / kMs,
				     .burstEveryMs = ns(d.burstEvery) / kMs, .burstForMs = ns(d.burstFor) / kMs,
				     .seed = c_.opt.seed, .generatedOn = generatedOn, .source = d.source,
				     .route = d.route, .sinkVia = d.sinkVia, .ingest = ingest->how};
	c_.say(fmt::format("data: {:g} tuples/s over {} keys, {} into {}; reading every DC's sink every {}", d.rate, d.keys,
			   d.source, d.route == "both" ? "every DC" : d.route, formatDuration(d.poll)));
	return true;
}

// Where the local generator writes from now on: every DC, one DC, or the DC the toolkit view says is active
// (followed by followRoute() on every poll round while `active` holds).
void DataPart::routeTo(const std::string &to)
{
	if (!localGen_)
		return;
	{
		std::lock_guard lk(routeMu_);
		routeMode_ = to;
	}
	if (to == "both") {
		std::vector<std::string> all;
		for (const auto &ep : c_.streamsView()->endpoints())
			all.push_back(ep.dc);
		localGen_->setRoute(all);
	} else if (to == "active") {
		followRoute();
	} else {
		localGen_->setRoute({to});
	}
}

void DataPart::followRoute()
{
	StreamsFollower *view = c_.streamsView();
	{
		std::lock_guard lk(routeMu_);
		if (!localGen_ || routeMode_ != "active" || !view)
			return;
	}
	const std::string active = view->activeDc();
	// No DC active (yet): the tuples wait (in the generator's backlog) until one is.
	localGen_->setRoute(active.empty() ? std::vector<std::string>{} : std::vector<std::string>{active});
}

ReportFault DataPart::route(const StreamsAction &a, const std::string &id, int64_t offset, int64_t at)
{
	// Where the test tuples go from now on: the generator's route (a generator on an agent keeps its own).
	const int64_t t = clk::wallNs();
	ReportFault e = routeEntry(a, id, offset, at);
	if (!localGen_) {
		e.status = "failed";
		e.error = generator_ ? "the generator runs on an agent: its route is fixed at its start"
				     : "the scenario sends no data (no data: block)";
		return e;
	}
	routeTo(a.dc);
	e.status = "applied";
	e.appliedNs = e.verifiedNs = e.windowStartNs = e.windowEndNs = t;
	e.windowBoundNs = 0;
	return e;
}

ReportFault routeEntry(const StreamsAction &a, const std::string &id, int64_t offset, int64_t at)
{
	return {.id = id, .kind = "data.route", .path = a.path, .to = a.dc, .offsetMs = offset / kMs, .durationMs = 0,
		.plannedNs = at, .hosts = std::vector<std::string>{}, .detail = json::array()};
}

void DataPart::teardown()
{
	if (!generator_)
		return;
	const DataFlow &d = c_.s.data;
	generator_->stop();
	reader_->drain(std::max<int64_t>(ns(d.gap), 500 * kMs) + ns(d.poll), ns(d.drain));
	reader_->stop();
	const auto sent = generator_->sentPerKey();
	const auto times = generator_->sendTimes();
	report_ = reader_->finish(sent, &times);
	stats_ = generator_->stats();
	arrivals_ = reader_->arrivals();
	c_.say(fmt::format("data: {} sent, {} delivered, {} lost, {} duplicated, {} out of order, {} corrupt; latency p99 "
			   "{:.1f} ms", report_.total.sent, report_.total.delivered, report_.total.lost,
			   report_.total.duplicated, report_.total.outOfOrder, report_.corrupt, report_.latencyP99 / 1e6));
	if (stats_.uncertain && c_.exit == kPassed)
		c_.setVerdict(kHarness, "harness", fmt::format("data: {} tuples were sent with an unknown outcome (a source "
							       "timed out); the counts cannot be trusted", stats_.uncertain));
	for (const auto &a : arrivals_)
		if (a.missed && c_.exit == kPassed)
			c_.setVerdict(kHarness, "harness", fmt::format("data: {}'s output ({}) may have shown tuples that were "
								       "never read ({} time(s): the view moved past what was "
								       "read, was emptied, or could not be read at the end); "
								       "the counts cannot be settled (a larger window, a shorter "
								       "data.poll, or the FileSink through the agent)",
								       a.sink, a.how, a.missed));
	if (stats_.fellBehind && c_.exit == kPassed)
		c_.setVerdict(kHarness, "harness", "data: the generator's backlog hit its cap: no DC accepted data for too "
						   "long");
}

void DataPart::report()
{
	if (!generator_)
		return;
	DataSection &d = *c_.report.data;
	json gen = data::toJson(stats_);
	if (const auto *ag = dynamic_cast<const data::AgentGenerator *>(generator_.get())) {
		// Event and send times are the agent's wall clock, moved by this offset (± bound) to the controller's.
		gen["clock_offset_ns"] = ag->clockOffsetNs();
		gen["clock_bound_ns"] = ag->clockBoundNs();
		gen["send_times_omitted"] = ag->timesOmitted();
	}
	d.generator = gen;
	d.validation = data::toJson(report_);
	json sinks = json::array();
	for (const auto &a : arrivals_) {
		json polls = json::array();
		for (const auto &[t, n] : a.polls)
			polls.push_back({t, n});
		sinks.push_back({{"dc", a.sink}, {"read", a.how}, {"restarts", a.restarts}, {"missed", a.missed},
				 {"lines", a.lines}, {"error", a.lastError}, {"arrivals", polls}});
	}
	d.sinks = sinks;
}

// RTO: from the faults' start to the first output of the DC that delivered last (the survivor) after the output
// stopped. If the survivor is the DC that was delivering before the faults, it is the end of the first output gap
// after their start (0 when the output never stopped). Known to within one sink poll.
std::optional<int64_t> DataPart::rto(int64_t faultStart) const
{
	std::string before, survivor;
	int64_t lastBefore = 0, lastAny = 0;
	for (const auto &a : arrivals_)
		for (const auto &[t, n] : a.polls) {
			if (t < faultStart && t > lastBefore) {
				lastBefore = t;
				before = a.sink;
			}
			if (t > lastAny) {
				lastAny = t;
				survivor = a.sink;
			}
		}
	if (survivor.empty())
		return std::nullopt;
	if (survivor != before) {
		for (const auto &a : arrivals_)
			if (a.sink == survivor)
				for (const auto &[t, n] : a.polls)
					if (t >= faultStart)
						return t - faultStart;
		return std::nullopt;
	}
	for (const auto &g : report_.gaps)
		if (g.endNs >= faultStart)
			return g.endNs - faultStart;
	return 0;
}

} // namespace xdc::scenario
