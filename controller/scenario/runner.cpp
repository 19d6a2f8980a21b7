// SPDX-License-Identifier: Apache-2.0
// The scenario runner (see runner.h for the contract).
#include "controller/scenario/runner.h"

#include <algorithm>
#include <set>
#include <thread>
#include <unistd.h>

#include "common/clock.h"
#include "common/duration.h"
#include "controller/evidence/recording.h"
#include "controller/data/agent_generator.h"
#include "controller/data/agent_sink.h"
#include "controller/data/ingest.h"
#include "controller/data/flow.h"
#include "controller/scenario/assertions/assertion.h"
#include "controller/scenario/metrics_follow.h"
#include "controller/scenario/streams_follow.h"
#include "controller/scenario/streams_host.h"
#include "controller/streams/poll.h"

namespace xdc::scenario {

namespace {

constexpr int64_t kMs = clk::kMs;
constexpr int64_t kLeadNs = 500 * kMs;   // faults are sent this far ahead of their agreed instant
constexpr int64_t kTickNs = 100 * kMs;    // how often waits look at interrupts, probes and stop conditions

int64_t ns(Nanos d) { return d.count(); }

std::string secs(int64_t ns) { return fmt::format("{:.1f}s", static_cast<double>(ns) / 1e9); }

class Run : public RunTimeline {
public:
	Run(const Scenario &s, const RunOptions &opt) : s_(s), opt_(opt) {}

	// ---- RunTimeline (assertions/assertion.h) ----
	const Scenario &scenario() const override { return s_; }
	const std::vector<json> &entries() const override { return bundle_.entries; }
	const json &outages() const override { return report_["outages"]; }
	json &report() override { return report_; }
	bool followsStreams() const override { return streams_ != nullptr; }
	std::string activeAtObserveEnd() const override { return activeAtObserveEnd_; }
	std::map<std::string, std::vector<streams::OutputPoint>> outputSeries() const override
	{
		return streams_ ? streams_->outputSeries() : std::map<std::string, std::vector<streams::OutputPoint>>{};
	}
	const data::ValidationReport *dataReport() const override { return generator_ ? &dataReport_ : nullptr; }

	json run()
	{
		t0_ = clk::wallNs();
		report_ = {{"schema", "xdc.report/3"},
			   {"run_id", opt_.runId},
			   {"scenario", {{"name", s_.name}, {"description", s_.description}, {"file", s_.origin}}},
			   {"user", opt_.user},
			   {"seed", opt_.seed},
			   {"repetition", opt_.repetition},
			   {"inputs", opt_.inputs},
			   {"variables", s_.variables},
			   {"random", s_.drawn},
			   {"started_ns", t0_},
			   {"phases", json::array()},
			   {"faults", json::array()},
			   {"assertions", json::array()},
			   {"steady_state", json::array()},
			   {"outages", json::array()},
			   {"hosts", json::array()}};
		body();
		teardown();
		report_["ended_ns"] = clk::wallNs();
		report_["verdict"] = verdict_;
		report_["exit_code"] = exit_;
		report_["reason"] = reason_;
		report_["aborted"] = exit_ == kAborted;
		return report_;
	}

private:
	enum class Wait { Done, Aborted, Stopped, Lost };

	// The first failure decides the verdict; later ones are noted in the log only.
	void setVerdict(int code, const std::string &verdict, const std::string &reason)
	{
		if (exit_ != kPassed)
			return;
		exit_ = code;
		verdict_ = verdict;
		reason_ = reason;
		say(fmt::format("{}: {}", verdict, reason));
	}

	void say(const std::string &line)
	{
		if (opt_.progress)
			opt_.progress(fmt::format("[{:>6}] {}", secs(clk::wallNs() - t0_), line));
	}

	// One control request; a reply that is not ok becomes its error. raw, when given, receives the reply as it came
	// (a refusal can still carry details, e.g. the exit code of a program that failed).
	Result<json> call(const json &req, int timeoutMs = 15000, json *raw = nullptr)
	{
		auto r = opt_.call(req, timeoutMs);
		if (r && raw)
			*raw = *r;
		if (!r) {
			// The control socket did not answer: the controller is gone (or hung). Nothing the run does from here
			// can be verified; its agents revert every fault when their lease or TTL runs out.
			if (!controllerLost_)
				controllerError_ = r.error().message;
			controllerLost_ = true;
			return r.error();
		}
		if (!r->value("ok", false)) {
			const json err = r->value("error", json::object());
			return makeError(err.value("code", "") == "invalid" ? Errc::Invalid : Errc::Refused, "{}",
					 err.is_object() ? err.value("message", "unknown error") : err.dump());
		}
		return r;
	}

	bool interrupted() const { return opt_.interrupted && opt_.interrupted->load() != 0; }

	json &beginPhase(const std::string &name)
	{
		report_["phases"].push_back({{"name", name}, {"start_ns", clk::wallNs()}, {"status", "running"}});
		say(fmt::format("phase {}", name));
		phase_ = name;
		return report_["phases"].back();
	}

	void endPhase(const std::string &status, const std::string &message = "")
	{
		auto &p = report_["phases"].back();
		p["end_ns"] = clk::wallNs();
		p["status"] = status;
		if (!message.empty())
			p["message"] = message;
	}

	void skipPhase(const std::string &name, const std::string &why)
	{
		report_["phases"].push_back({{"name", name}, {"status", "skipped"}, {"message", why}});
	}

	// ---- the fleet ----

	bool loadFleet()
	{
		auto r = call({{"cmd", "agents"}});
		if (!r) {
			setVerdict(kHarness, "harness", "controller: " + r.error().message);
			return false;
		}
		for (const auto &a : (*r)["agents"]) {
			const Host h = hostOfAgent(a);
			if (a.value("state", "") == "live")
				hosts_.push_back(h);
			else
				lost_.insert(h.name);
			report_["hosts"].push_back({{"host", h.name}, {"dc", h.dc}, {"agent", a.value("id", "")},
						    {"state", a.value("state", "")}, {"clock", a.value("clock", json::object())}});
		}
		auto ok = checkTopology(s_, hosts_, true);
		if (!ok) {
			// A host the scenario needs is missing or lost: the fleet, not the file, is at fault.
			std::string msg = ok.error().message;
			if (!lost_.empty())
				msg += fmt::format(" (agents not live: {})", fmt::join(lost_, ", "));
			setVerdict(kHarness, "harness", msg);
			return false;
		}
		for (const auto &h : hosts_)
			dcOf_[h.name] = h.dc;
		return true;
	}

	std::vector<std::string> probeHosts(const ProbeRef &r) const override
	{
		if (!r.host.empty())
			return {r.host};
		const auto *p = s_.probe(r.probe);
		return p ? selectHosts(p->on, hosts_) : std::vector<std::string>{};
	}

	// ---- Streams ----

	bool startStreams()
	{
		if (opt_.streamsConfig.empty()) {
			setVerdict(kHarness, "harness", "streams: no streams config to follow (streams.config, a lab with "
							"--streams, $XDC_STREAMS_CONFIG or /etc/xdc/streams.yaml)");
			return false;
		}
		if (s_.streams.reset) {
			if (!opt_.resetStreams) {
				setVerdict(kHarness, "harness", s_.streams.where + ": streams.reset: the starting state can only be "
									      "restored in a lab (xdc lab streams reset); run with --lab");
				return false;
			}
			say("streams: back to the starting state (xdc lab streams reset)");
			if (auto rr = opt_.resetStreams(); !rr) {
				setVerdict(kHarness, "harness", "streams.reset: " + rr.error().message);
				return false;
			}
		}
		streams_ = std::make_unique<StreamsFollower>();
		auto r = streams_->start(opt_.streamsConfig, ns(s_.streams.interval));
		if (!r) {
			setVerdict(kHarness, "harness", "streams: " + r.error().message);
			return false;
		}
		std::set<std::string> dcs;
		for (const auto &ep : streams_->endpoints())
			dcs.insert(ep.dc);
		for (const auto &a : s_.streamsActions)
			if (!dcs.count(a.dc) && !(a.kind == "route" && (a.dc == "both" || a.dc == "active"))) {
				setVerdict(kHarness, "harness", fmt::format("{}: {}.dc: the streams config {} has no instance for DC "
									    "'{}' (it has: {})", a.where, a.path,
									    opt_.streamsConfig, a.dc, fmt::join(dcs, ", ")));
				return false;
			}
		report_["streams"] = {{"config", opt_.streamsConfig}, {"interval_ms", ns(s_.streams.interval) / kMs},
				      {"dcs", std::vector<std::string>(dcs.begin(), dcs.end())}};
		say(fmt::format("following Streams: {} every {} ({})", fmt::join(dcs, ", "),
				formatDuration(s_.streams.interval), opt_.streamsConfig));
		return true;
	}

	// The data flow: the generator into the DCs' ingest (the route's DCs), the reader over every DC's sink (the
	// FileSink read through the agent of its Streams host). Runs from before baseline to teardown.
	bool startData()
	{
		auto ingest = data::makeIngest(streams_->endpoints(), s_.data.source, opt_.call);
		if (!ingest) {
			setVerdict(kHarness, "harness", fmt::format("{}: data.source {}: {} ({})", s_.data.where, s_.data.source,
								    ingest.error().message, opt_.streamsConfig));
			return false;
		}
		std::vector<std::unique_ptr<data::DataSink>> sinks;
		std::set<std::string> dcs;
		for (const auto &ep : streams_->endpoints()) {
			dcs.insert(ep.dc);
			if (s_.data.sinkVia == "tuple_view") {
				if (ep.egress.tupleView.empty()) {
					setVerdict(kHarness, "harness", fmt::format("{}: data.sink: via tuple_view needs DC '{}''s "
										    "egress.tuple_view in the streams config {}",
										    s_.data.where, ep.dc, opt_.streamsConfig));
					return false;
				}
				sinks.push_back(data::makeTupleViewSink({.name = ep.dc, .url = ep.egress.tupleView, .user = ep.user,
									 .password = ep.password, .caFile = ep.caFile,
									 .insecure = ep.insecure, .timeoutMs = 2000}));
				continue;
			}
			if (ep.host.empty()) {
				setVerdict(kHarness, "harness", fmt::format("{}: data.sink: via agent needs the host of DC '{}' in the "
									    "streams config {} (its `host:`)",
									    s_.data.where, ep.dc, opt_.streamsConfig));
				return false;
			}
			sinks.push_back(data::makeAgentSink({.name = ep.dc, .host = ep.host, .sink = s_.data.sinkFile,
							     .maxBytes = 1u << 20, .timeoutMs = 5000, .call = opt_.call}));
		}
		if (s_.data.route != "both" && s_.data.route != "active" && !dcs.count(s_.data.route)) {
			setVerdict(kHarness, "harness", fmt::format("{}: data.route: '{}' is not a DC of the streams config {}",
								    s_.data.where, s_.data.route, opt_.streamsConfig));
			return false;
		}
		std::vector<std::unique_ptr<data::DataSource>> sources = std::move(ingest->sources);
		const std::vector<proto::DataGenSource> remoteSources = route(ingest->remote, s_.data.route);
		data::GeneratorOptions g;
		g.seed = opt_.seed;
		g.rate = s_.data.rate;
		g.profile.rate = s_.data.rate;
		g.profile.rampFrom = s_.data.rampFrom;
		g.profile.rampNs = ns(s_.data.rampOver);
		g.profile.burstEveryNs = ns(s_.data.burstEvery);
		g.profile.burstForNs = ns(s_.data.burstFor);
		g.profile.burstFactor = s_.data.burstFactor;
		g.keys = s_.data.keys;
		g.payload = s_.data.payload;
		data::ValidatorOptions v;
		v.seed = opt_.seed;
		v.gapNs = ns(s_.data.gap);
		reader_ = std::make_unique<data::SinkReader>(v, std::move(sinks), ns(s_.data.poll));
		std::string generatedOn = "the controller's host (client side)";
		if (s_.data.generateOn == "controller") {
			auto gen = std::make_unique<data::Generator>(g, std::move(sources));
			localGen_ = gen.get();
			generator_ = std::move(gen);
			if (s_.data.route == "active") {
				// The front door knows where to send once the view has seen an active DC: wait for the first
				// rounds (bounded), so the run's first tuples do not sit in the backlog for a poll round.
				const int64_t deadline = clk::monoNs() + std::max<int64_t>(5 * ns(s_.streams.interval), 3000 * kMs);
				while (streams_->activeDc().empty() && clk::monoNs() < deadline)
					std::this_thread::sleep_for(std::chrono::milliseconds(20));
				if (streams_->activeDc().empty())
					say("data: no DC is active yet; the tuples wait in the generator until one is");
			}
			routeTo(s_.data.route);
			streams_->setOnRound([this] { followRoute(); });
		} else {
			// The agent stops by itself when the run cannot be running any more (as recordings do).
			generator_ = std::make_unique<data::AgentGenerator>(data::AgentGeneratorOptions{
				.host = s_.data.generateOn, .runId = opt_.runId, .gen = g, .sources = remoteSources,
				.maxDurationMs = ns(s_.plannedDuration()) / kMs + 600000, .call = opt_.call});
			generatedOn = fmt::format("{} (through its agent)", s_.data.generateOn);
		}
		reader_->start();
		if (auto r = generator_->start(); !r) {
			reader_->stop();
			generator_.reset();
			setVerdict(kHarness, "harness", fmt::format("{}: data.generate_on: {}", s_.data.where, r.error().message));
			return false;
		}
		report_["data"] = {{"rate", s_.data.rate}, {"keys", s_.data.keys}, {"payload", s_.data.payload},
				   {"ramp_from", s_.data.rampFrom >= 0 ? json(s_.data.rampFrom) : json(nullptr)},
				   {"ramp_over_ms", ns(s_.data.rampOver) / kMs}, {"burst_every_ms", ns(s_.data.burstEvery) / kMs},
				   {"burst_for_ms", ns(s_.data.burstFor) / kMs}, {"burst_factor", s_.data.burstFactor},
				   {"generated_on", generatedOn}, {"seed", opt_.seed}, {"source", s_.data.source},
				   {"ingest", ingest->how}, {"route", s_.data.route}, {"sink_via", s_.data.sinkVia}};
		say(fmt::format("data: {:g} tuples/s over {} keys, {} into {}; reading every DC's sink every {}", s_.data.rate,
				s_.data.keys, s_.data.source, s_.data.route == "both" ? "every DC" : s_.data.route,
				formatDuration(s_.data.poll)));
		return true;
	}

	// The remote generator's sources for a fixed route (every DC, or one).
	static std::vector<proto::DataGenSource> route(const std::vector<proto::DataGenSource> &all, const std::string &to)
	{
		if (to == "both" || to == "active")
			return all;
		std::vector<proto::DataGenSource> out;
		for (const auto &s : all)
			if (s.name == to)
				out.push_back(s);
		return out;
	}

	// Where the local generator writes from now on: every DC, one DC, or the DC the toolkit view says is active
	// (followed by followRoute() on every poll round while `active` holds).
	void routeTo(const std::string &to)
	{
		if (!localGen_)
			return;
		{
			std::lock_guard lk(routeMu_);
			routeMode_ = to;
		}
		if (to == "both") {
			std::vector<std::string> all;
			for (const auto &ep : streams_->endpoints())
				all.push_back(ep.dc);
			localGen_->setRoute(all);
		} else if (to == "active") {
			followRoute();
		} else {
			localGen_->setRoute({to});
		}
	}

	void followRoute()
	{
		{
			std::lock_guard lk(routeMu_);
			if (!localGen_ || routeMode_ != "active" || !streams_)
				return;
		}
		const std::string active = streams_->activeDc();
		// No DC active (yet): the tuples wait (in the generator's backlog) until one is.
		localGen_->setRoute(active.empty() ? std::vector<std::string>{} : std::vector<std::string>{active});
	}

	// Stops the generator, waits for the sinks to go quiet, and validates what came out.
	void finishData()
	{
		if (!generator_)
			return;
		generator_->stop();
		reader_->drain(std::max<int64_t>(ns(s_.data.gap), 500 * kMs) + ns(s_.data.poll), ns(s_.data.drain));
		reader_->stop();
		const auto sent = generator_->sentPerKey();
		const auto times = generator_->sendTimes();
		dataReport_ = reader_->finish(sent, &times);
		const auto gs = generator_->stats();
		json &d = report_["data"];
		d["generator"] = data::toJson(gs);
		if (const auto *ag = dynamic_cast<const data::AgentGenerator *>(generator_.get())) {
			// Event and send times are the agent's wall clock, moved by this offset (± bound) to the controller's.
			d["generator"]["clock_offset_ns"] = ag->clockOffsetNs();
			d["generator"]["clock_bound_ns"] = ag->clockBoundNs();
			d["generator"]["send_times_omitted"] = ag->timesOmitted();
		}
		d["validation"] = data::toJson(dataReport_);
		json sinks = json::array();
		for (const auto &a : reader_->arrivals()) {
			json polls = json::array();
			for (const auto &[t, n] : a.polls)
				polls.push_back({t, n});
			sinks.push_back({{"dc", a.sink}, {"read", a.how}, {"restarts", a.restarts}, {"missed", a.missed},
					 {"lines", a.lines}, {"error", a.lastError}, {"arrivals", polls}});
		}
		d["sinks"] = sinks;
		arrivals_ = reader_->arrivals();
		say(fmt::format("data: {} sent, {} delivered, {} lost, {} duplicated, {} out of order, {} corrupt; latency p99 "
				"{:.1f} ms", dataReport_.total.sent, dataReport_.total.delivered, dataReport_.total.lost,
				dataReport_.total.duplicated, dataReport_.total.outOfOrder, dataReport_.corrupt,
				dataReport_.latencyP99 / 1e6));
		if (gs.uncertain && exit_ == kPassed)
			setVerdict(kHarness, "harness", fmt::format("data: {} tuples were sent with an unknown outcome (a source "
								    "timed out); the counts cannot be trusted", gs.uncertain));
		for (const auto &a : reader_->arrivals())
			if (a.missed && exit_ == kPassed)
				setVerdict(kHarness, "harness", fmt::format("data: {}'s output ({}) may have shown tuples that were "
									    "never read ({} time(s): the view moved past what was "
									    "read, was emptied, or could not be read at the end); "
									    "the counts cannot be settled (a larger window, a shorter "
									    "data.poll, or the FileSink through the agent)",
									    a.sink, a.how, a.missed));
		if (gs.fellBehind && exit_ == kPassed)
			setVerdict(kHarness, "harness", "data: the generator's backlog hit its cap: no DC accepted data for too "
							"long");
	}

	// RTO: from the faults' start to the first output of the DC that delivered last (the survivor) after the output
	// stopped. If the survivor is the DC that was delivering before the faults, it is the end of the first output gap
	// after their start (0 when the output never stopped). Known to within one sink poll.
	std::optional<int64_t> dataRto(int64_t faultStart) const override
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
		for (const auto &g : dataReport_.gaps)
			if (g.endNs >= faultStart)
				return g.endNs - faultStart;
		return 0;
	}

	// Before inject: every DC's REST API answers and the toolkit view has exactly one active DC.
	bool streamsSteady()
	{
		if (!streams_ || !s_.streams.requireActive)
			return true;
		std::vector<std::string> unreachable;
		for (const auto &ep : streams_->endpoints()) {
			const auto snap = streams_->latest(ep.dc);
			if (!snap.reachable)
				unreachable.push_back(fmt::format("{} ({})", ep.dc, snap.error));
		}
		const std::string active = streams_->activeDc();
		const bool split = streams_->splitBrain();
		std::string why;
		if (!unreachable.empty())
			why = fmt::format("streams: REST API unreachable: {}", fmt::join(unreachable, "; "));
		else if (active.empty())
			why = "streams: no DC is active in the toolkit view";
		else if (split)
			why = "streams: more than one DC is active (split brain) before the faults";
		report_["steady_state"].push_back({{"when", "before inject"}, {"streams", {{"active", active},
									{"split_brain", split}, {"unreachable", unreachable}}},
						  {"status", why.empty() ? "passed" : "failed"}});
		if (!why.empty())
			setVerdict(kFailed, "failed", "steady state before inject: " + why);
		return why.empty();
	}

	// Why a Streams condition or assertion cannot be measured on this deployment ("" when it can): detection needs
	// the toolkit's watchdog in some DC; takeover, fail-back and split brain need the toolkit and an output operator.
	std::string streamsUnmeasurable(bool detection, bool takeover) const override
	{
		if (!streams_)
			return "Streams was not followed";
		const std::string looked = "looked for the cross-DC toolkit's operators by their local names "
					   "(RemoteDataCenterHeartbeatWatchdog, CrossDataCenterReceiverForHB, ...) in every DC; "
					   "`xdc streams status` lists what each DC shows";
		if (detection && !streams_->canTellDetection())
			return "detection cannot be measured: no DC shows the toolkit's RemoteDataCenterHeartbeatWatchdog (" +
			       looked + ")";
		if (takeover && !streams_->canTellTakeover())
			return "takeover cannot be measured: no DC shows both the toolkit's operators and an output operator "
			       "(toolkit.sink_operator) (" + looked + ")";
		return "";
	}

	// The toolkit view's first event of `kind` at or after `fromNs`.
	std::optional<streams::ToolkitEvent> firstEvent(const std::string &kind, int64_t fromNs) const override
	{
		if (!streams_)
			return std::nullopt;
		for (const auto &e : streams_->events())
			if (e.kind == kind && e.tNs >= fromNs)
				return e;
		return std::nullopt;
	}

	// streams.orderly_shutdown: the site's hook on the DC's Streams host through its agent, with the followed job's id
	// for a hook whose argv has `{job}`. Appends {host, ok, argv, exit_code, output, started_ns, ended_ns} to detail;
	// returns the error ("" when the hook ran and exited 0).
	std::string runOrderlyShutdown(const StreamsAction &a, const streams::Endpoint &ep, json &e, json &detail)
	{
		if (ep.host.empty())
			return fmt::format("the streams config has no `host:` (the Streams host whose agent runs the "
					   "orderly-shutdown hook) for DC {}", a.dc);
		e["hosts"] = {ep.host};
		json req = {{"cmd", "streams.orderly_shutdown"}, {"host", ep.host}};
		const auto snap = streams_->latest(a.dc);
		if (snap.job && !snap.job->id.empty() && snap.job->id.size() <= 18 &&
		    snap.job->id.find_first_not_of("0123456789") == std::string::npos)
			req["job"] = snap.job->id;
		json raw = json::object();
		auto r = call(req, 60000, &raw);
		json d = {{"host", ep.host}, {"ok", r.ok()}};
		for (const char *k : {"argv", "exit_code", "output", "started_ns", "ended_ns"})
			if (raw.contains(k))
				d[k] = raw[k];
		if (!r)
			d["error"] = r.error().message;
		detail.push_back(d);
		return r ? std::string() : r.error().message;
	}

	// One streams.* operation; the report entry (status applied or failed).
	json runAction(const StreamsAction &a, const std::string &id, int64_t offset, int64_t at)
	{
		if (a.kind == "route") {
			// Where the test tuples go from now on: the generator's route (a generator on an agent keeps its own).
			const int64_t t = clk::wallNs();
			json e = {{"id", id}, {"kind", "data.route"}, {"to", a.dc}, {"path", a.path}, {"offset_ms", offset / kMs},
				  {"duration_ms", 0}, {"planned_ns", at}, {"hosts", json::array()}, {"detail", json::array()}};
			if (!localGen_) {
				e["status"] = "failed";
				e["error"] = generator_ ? "the generator runs on an agent: its route is fixed at its start"
							: "the scenario sends no data (no data: block)";
				return e;
			}
			routeTo(a.dc);
			e["status"] = "applied";
			for (const char *k : {"applied_ns", "verified_ns", "window_start_ns", "window_end_ns"})
				e[k] = t;
			e["window_bound_ns"] = 0;
			return e;
		}
		json e = {{"id", id}, {"kind", "streams." + a.kind}, {"dc", a.dc}, {"path", a.path}, {"offset_ms", offset / kMs},
			  {"duration_ms", 0}, {"planned_ns", at}, {"hosts", json::array()}};
		const streams::Endpoint *ep = nullptr;
		for (const auto &x : streams_->endpoints())
			if (x.dc == a.dc)
				ep = &x;
		std::string error;
		json detail = json::array();
		const int64_t t0 = clk::wallNs();
		if (a.kind == "stop_pe" || a.kind == "restart_pe") {
			std::vector<std::string> pes = a.pes;
			if (pes.empty())
				for (const auto &p : streams_->latest(a.dc).pes)
					pes.push_back(p.id);
			if (ep->host.empty())
				error = fmt::format("the streams config has no `host:` (the Streams host whose agent runs streamtool) "
						    "for DC {}", a.dc);
			else if (pes.empty())
				error = fmt::format("the last poll of {} saw no PEs of the followed job", a.dc);
			else {
				e["hosts"] = {ep->host};
				std::vector<Result<json>> res(pes.size(), Error{});
				std::vector<std::thread> threads;
				const std::string verb = a.kind == "stop_pe" ? "stop" : "restart";
				for (size_t i = 0; i < pes.size(); i++)
					threads.emplace_back([&, i] {
						res[i] = call({{"cmd", "streams.pe"}, {"host", ep->host}, {"verb", verb}, {"pe", pes[i]}},
							      60000);
					});
				for (auto &t : threads)
					t.join();
				for (size_t i = 0; i < pes.size(); i++) {
					if (!res[i]) {
						detail.push_back({{"pe", pes[i]}, {"ok", false}, {"error", res[i].error().message}});
						if (error.empty())
							error = fmt::format("PE {}: {}", pes[i], res[i].error().message);
						continue;
					}
					detail.push_back({{"pe", pes[i]}, {"ok", true}, {"argv", (*res[i])["argv"]},
							  {"started_ns", (*res[i])["started_ns"]}, {"ended_ns", (*res[i])["ended_ns"]}});
				}
			}
		} else if (a.kind == "orderly_shutdown") {
			error = runOrderlyShutdown(a, *ep, e, detail);
		} else {
			streams::Client c(*ep);
			if (a.kind == "cancel_job") {
				auto jobs = c.jobs();
				const streams::Job *j = jobs ? streams::pickJob(*jobs, *ep) : nullptr;
				if (!jobs)
					error = jobs.error().message;
				else if (!j)
					error = fmt::format("{} has no job '{}' to cancel", a.dc, ep->jobName);
				else if (auto r = c.cancelJob(j->id); !r)
					error = r.error().message;
				else
					detail.push_back({{"job", j->id}, {"name", j->name}});
			} else {
				json overlay = json::object();
				const std::string name = a.jobName.empty() ? ep->jobName : a.jobName;
				if (!name.empty())
					overlay["jobConfigOverlays"] = json::array({{{"jobConfig", {{"jobName", name}}}}});
				auto bundle = c.uploadBundle(a.bundle);
				if (!bundle)
					error = bundle.error().message;
				else if (auto job = c.submitJob(*bundle, overlay); !job)
					error = job.error().message;
				else
					detail.push_back({{"bundle", *bundle}, {"job", job->id}, {"name", job->name}});
			}
		}
		const int64_t t1 = clk::wallNs();
		e["detail"] = detail;
		if (!error.empty()) {
			e["status"] = "failed";
			e["error"] = error;
			return e;
		}
		// Applied = when the operation was issued; verified = when the last of it was acknowledged. Its window is
		// that instant: the operation is one-shot, never reverted.
		e["status"] = "applied";
		e["applied_ns"] = t0;
		e["verified_ns"] = t1;
		e["window_start_ns"] = t0;
		e["window_end_ns"] = t1;
		e["window_bound_ns"] = 0;
		return e;
	}

	// ---- evidence ----

	bool startRecording()
	{
		json specs = json::array();
		for (const auto *list : {&s_.probes, &s_.samplers})
			for (const auto &sp : *list)
				specs.push_back({{"spec", evidence::toYaml(sp)}, {"origin", s_.origin}});
		// What the Streams hosts show, where the streams config names it (streams_host.h).
		if (streams_ && s_.streams.hostSignals) {
			auto hs = hostSignalSamplers(streams_->endpoints());
			if (!hs) {
				setVerdict(kHarness, "harness", "streams host_signals: " + hs.error().message);
				return false;
			}
			for (const auto &text : *hs)
				specs.push_back({{"spec", text}, {"origin", opt_.streamsConfig}});
		}
		if (specs.empty())
			return true;
		// A run that records evidence records every host it touches: a host with only a fault or a Streams
		// operation gets a host sampler, so the bundle has its folder, fault journal, agent log and clock.
		for (const auto &h : touchedHostsWithoutSamplers())
			specs.push_back({{"spec", fmt::format("{{name: xdc-touched, kind: host, on: {{host: {}}}, interval: 1s}}",
							      json(h).dump())},
					 {"origin", "the hosts the run touches"}});
		const int64_t maxMs = ns(s_.plannedDuration()) / kMs + 600000;
		auto r = call({{"cmd", "record.start"}, {"specs", specs}, {"out", opt_.outDir + "/evidence"}, {"for_ms", 0},
			       {"max_ms", maxMs}, {"name", opt_.runId}}, 30000);
		if (!r) {
			setVerdict(kHarness, "harness", "evidence: " + r.error().message);
			return false;
		}
		recording_ = (*r)["recording"];
		report_["evidence_dir"] = "evidence";
		// Every probe must be reporting before anything else happens.
		const int64_t deadline = clk::monoNs() + 15 * clk::kSec;
		while (clk::monoNs() < deadline && !interrupted()) {
			auto st = status(1000);
			bool all = st.has_value();
			for (const auto &p : s_.probes)
				for (const auto &h : selectHosts(p.on, hosts_))
					all = all && (*st)["hosts"][h]["probes"].contains(p.name);
			if (all)
				return true;
			::usleep(50000);
		}
		if (interrupted())
			return false;
		setVerdict(kHarness, "harness", "evidence: not every probe delivered a sample within 15 s of the start");
		return false;
	}

	// The hosts a fault or a Streams operation of the run acts on (a network fault's peers too: their side is cut as
	// well) that no probe, sampler or host signal records.
	std::vector<std::string> touchedHostsWithoutSamplers() const
	{
		std::set<std::string> covered, touched;
		for (const auto *list : {&s_.probes, &s_.samplers})
			for (const auto &sp : *list)
				for (const auto &h : selectHosts(sp.on, hosts_))
					covered.insert(h);
		if (streams_ && s_.streams.hostSignals)
			for (const auto &ep : streams_->endpoints())
				if (!ep.host.empty() && ep.hostSignals.any())
					covered.insert(ep.host);
		for (const auto &f : s_.faults) {
			for (const auto &h : selectHosts(f.spec.targets, hosts_))
				touched.insert(h);
			if (!f.spec.peers.selector.empty())
				for (const auto &h : selectHosts(f.spec.peers.selector, hosts_))
					touched.insert(h);
		}
		if (streams_)
			for (const auto &a : s_.streamsActions)
				if (a.kind == "stop_pe" || a.kind == "restart_pe" || a.kind == "orderly_shutdown")
					for (const auto &ep : streams_->endpoints())
						if (ep.dc == a.dc && !ep.host.empty())
							touched.insert(ep.host);
		std::vector<std::string> out;
		for (const auto &h : touched)
			if (!covered.count(h) && dcOf_.count(h))
				out.push_back(h);
		return out;
	}

	std::optional<json> status(int64_t windowMs)
	{
		if (recording_.empty())
			return std::nullopt;
		auto r = call({{"cmd", "record.status"}, {"recording", recording_}, {"window_ms", windowMs}}, 5000);
		if (!r)
			return std::nullopt;
		return (*r)["status"];
	}

	static json probeOf(const json &st, const std::string &host, const std::string &probe)
	{
		if (!st.contains("hosts") || !st["hosts"].contains(host) || !st["hosts"][host].contains("probes") ||
		    !st["hosts"][host]["probes"].contains(probe))
			return json::object();
		return st["hosts"][host]["probes"][probe];
	}

	// A stop condition that holds now, if any.
	std::optional<std::string> stopCondition(const json &st)
	{
		for (const auto &c : s_.stopConditions)
			for (const auto &h : probeHosts(c.ref)) {
				const json p = probeOf(st, h, c.ref.probe);
				if (!p.empty() && !p.value("last_ok", true) &&
				    p.value("streak_ms", int64_t{0}) * kMs >= ns(c.failingFor))
					return fmt::format("stop condition '{}' held: probe {} on {} failing for {} ms", c.name,
							   c.ref.probe, h, p.value("streak_ms", int64_t{0}));
			}
		return std::nullopt;
	}

	std::string statusLine(const json &st)
	{
		std::map<std::string, int> perDc;
		const int64_t now = clk::wallNs();
		for (const auto &[id, f] : active_)
			if (now < f.endNs)
				for (const auto &h : f.hosts)
					perDc[dcOf_[h]]++;
		std::string faults;
		for (const auto &[dc, n] : perDc)
			faults += fmt::format("{}{}:{}", faults.empty() ? "" : " ", dc, n);
		std::string probes;
		for (const auto &p : s_.probes)
			for (const auto &h : selectHosts(p.on, hosts_)) {
				const json j = probeOf(st, h, p.name);
				if (j.empty())
					continue;
				probes += fmt::format(" {}@{} {}", p.name, h,
						      j.value("last_ok", false) ? "ok" : fmt::format("FAIL {:.1f}s", j.value("streak_ms", 0) / 1000.0));
			}
		return fmt::format("{} {} | faults {} |{}", phase_, secs(now - t0_), faults.empty() ? "none" : faults,
				   probes.empty() ? " no probes" : probes);
	}

	// Waits until untilWall (controller wall clock) or pred() holds, watching interrupts and stop conditions.
	Wait waitUntil(int64_t untilWall, const std::function<bool(const json &)> &pred = nullptr)
	{
		int64_t nextStatus = 0;
		for (;;) {
			if (interrupted())
				return Wait::Aborted;
			if (controllerLost_)
				return Wait::Lost;
			const bool needStatus = !s_.stopConditions.empty() || pred || opt_.status;
			if (needStatus) {
				auto st = status(10000);
				if (st) {
					if (auto why = stopCondition(*st)) {
						stopReason_ = *why;
						return Wait::Stopped;
					}
					if (opt_.status && clk::monoNs() >= nextStatus) {
						opt_.status(statusLine(*st));
						nextStatus = clk::monoNs() + clk::kSec;
					}
				}
				// A condition on Streams alone needs no recording: it sees an empty status.
				if (pred && (st || recording_.empty()) && pred(st ? *st : json::object()))
					return Wait::Done;
			}
			const int64_t now = clk::wallNs();
			if (now >= untilWall)
				return Wait::Done;
			::usleep(static_cast<useconds_t>(std::min(kTickNs, untilWall - now) / 1000));
		}
	}

	// Handles a wait's outcome; false when the run must go straight to recovery/teardown.
	bool waited(Wait w)
	{
		switch (w) {
		case Wait::Done:
			return true;
		case Wait::Aborted:
			endPhase("aborted", "interrupted by the operator");
			setVerdict(kAborted, "aborted", fmt::format("interrupted by the operator during {}", phase_));
			return false;
		case Wait::Stopped:
			endPhase("failed", stopReason_);
			report_["stop_condition"] = {{"reason", stopReason_}, {"at_ns", clk::wallNs()}, {"phase", phase_}};
			setVerdict(kFailed, "failed", stopReason_);
			return false;
		case Wait::Lost:
			endPhase("error", "lost the controller: " + controllerError_);
			setVerdict(kHarness, "broken", "lost the controller during " + phase_ + ": " + controllerError_ +
							       " (the agents revert every fault when their lease runs out)");
			return false;
		}
		return false;
	}

	bool steadyState(const std::string &when)
	{
		if (s_.steadyState.empty())
			return true;
		bool all = true;
		std::string first;
		for (const auto &c : s_.steadyState) {
			auto st = status(ns(c.window) / kMs);
			if (c.isMetric()) {
				std::vector<std::string> hosts{c.ref.host};
				if (c.ref.host.empty())
					for (const auto &sm : s_.samplers)
						if (sm.name == c.sampler)
							hosts = selectHosts(sm.on, hosts_);
				for (const auto &h : hosts) {
					json m = json::object();
					if (st && (*st)["hosts"].contains(h) && (*st)["hosts"][h].contains("metrics") &&
					    (*st)["hosts"][h]["metrics"].contains(c.sampler) &&
					    (*st)["hosts"][h]["metrics"][c.sampler].contains(c.value))
						m = (*st)["hosts"][h]["metrics"][c.sampler][c.value];
					const bool have = m.value("n", 0) > 0;
					const double v = m.value(c.stat, 0.0);
					const bool pass = have && !(c.maxValue && v > *c.maxValue) && !(c.minValue && v < *c.minValue);
					report_["steady_state"].push_back({{"when", when}, {"sampler", c.sampler}, {"value", c.value},
									  {"stat", c.stat}, {"host", h}, {"window_ms", ns(c.window) / kMs},
									  {"samples", m.value("n", 0)}, {"observed", v},
									  {"status", pass ? "passed" : "failed"}});
					if (!pass && all) {
						all = false;
						first = have ? fmt::format("steady state {}: {} {}.{} on {} over the last {} is {:g} "
									   "(bounds: {}{})", when, c.stat, c.sampler, c.value, h,
									   formatDuration(c.window), v,
									   c.minValue ? fmt::format(">= {:g} ", *c.minValue) : "",
									   c.maxValue ? fmt::format("<= {:g}", *c.maxValue) : "")
							     : fmt::format("steady state {}: no '{}' samples of {} on {} in the last {}", when,
									   c.value, c.sampler, h, formatDuration(c.window));
					}
				}
				continue;
			}
			for (const auto &h : probeHosts(c.ref)) {
				const json p = st ? probeOf(*st, h, c.ref.probe) : json::object();
				const uint64_t n = p.value("window_attempts", uint64_t{0}), ok = p.value("window_ok", uint64_t{0});
				const double ratio = n ? static_cast<double>(ok) / static_cast<double>(n) : 0.0;
				const bool pass = n > 0 && ratio + 1e-9 >= c.minSuccess;
				report_["steady_state"].push_back({{"when", when}, {"probe", c.ref.probe}, {"host", h},
								  {"window_ms", ns(c.window) / kMs}, {"attempts", n},
								  {"ratio", ratio}, {"min", c.minSuccess},
								  {"status", pass ? "passed" : "failed"}});
				if (!pass && all) {
					all = false;
					first = fmt::format("steady state {}: probe {} on {}: {:.1f}% of {} attempts in the last {} "
							    "succeeded (need {:.1f}%)", when, c.ref.probe, h, ratio * 100, n,
							    formatDuration(c.window), c.minSuccess * 100);
				}
			}
		}
		if (!all)
			setVerdict(kFailed, "failed", first);
		return all;
	}

	// ---- faults ----

	struct Active {
		std::vector<std::string> hosts;
		int64_t endNs = 0;
	};

	bool inject()
	{
		beginPhase("inject");
		std::map<int64_t, std::vector<size_t>> groups, actionGroups;
		for (size_t i = 0; i < s_.faults.size(); i++)
			groups[ns(s_.faults[i].spec.start)].push_back(i);
		for (size_t i = 0; i < s_.streamsActions.size(); i++) {
			actionGroups[ns(s_.streamsActions[i].start)].push_back(i);
			groups[ns(s_.streamsActions[i].start)]; // an offset with operations only still gets its turn
		}
		const int64_t injectStart = clk::wallNs() + kLeadNs;
		report_["phases"].back()["inject_start_ns"] = injectStart;
		injectStart_ = injectStart;
		for (const auto &[offset, members] : groups) {
			const int64_t at = injectStart + offset;
			if (!waited(waitUntil(at - kLeadNs)))
				return false;
			std::vector<Result<json>> results(members.size(), Error{});
			std::vector<std::thread> threads;
			std::vector<std::string> ids;
			for (size_t k = 0; k < members.size(); k++) {
				fault::FaultSpec spec = s_.faults[members[k]].spec;
				spec.id = fmt::format("{}.{}", opt_.runId, members[k] + 1);
				ids.push_back(spec.id);
				json req = {{"cmd", "fault.apply"}, {"spec", fault::toYaml(spec)},
					    {"origin", s_.faults[members[k]].where}, {"start_at_ns", at}};
				threads.emplace_back([this, req, &results, k] { results[k] = call(req, 30000); });
			}
			for (auto &t : threads)
				t.join();
			for (size_t k = 0; k < members.size(); k++) {
				const auto &f = s_.faults[members[k]];
				json e = {{"id", ids[k]}, {"kind", std::string(fault::kindName(f.spec.kind))}, {"spec", f.text},
					  {"path", f.path}, {"offset_ms", offset / kMs}, {"duration_ms", ns(f.spec.duration) / kMs},
					  {"planned_ns", at}};
				if (!results[k]) {
					e["status"] = "failed";
					e["error"] = results[k].error().message;
					report_["faults"].push_back(e);
					setVerdict(kHarness, "harness", fmt::format("{}: fault {} could not be applied: {}", f.path,
										     ids[k], results[k].error().message));
					continue;
				}
				const json &r = *results[k];
				int64_t lo = INT64_MAX, hi = INT64_MIN, bound = 0;
				Active act;
				for (const auto &[agent, a] : r["agents"].items()) {
					act.hosts.push_back(agent);
					if (a.contains("applied_ns")) {
						lo = std::min<int64_t>(lo, a["applied_ns"]);
						hi = std::max<int64_t>(hi, a["verified_ns"]);
						bound = std::max<int64_t>(bound, a.value("bound_ns", int64_t{0}));
					}
				}
				e["status"] = "applied";
				e["hosts"] = act.hosts;
				e["agents"] = r["agents"];
				if (lo <= hi) {
					e["applied_ns"] = lo;
					e["verified_ns"] = hi;
					e["bound_ns"] = bound;
				}
				if (r.contains("spread_ns"))
					e["spread_ns"] = r["spread_ns"];
				act.endNs = (lo <= hi ? lo : at) + ns(f.spec.duration);
				active_[ids[k]] = act;
				report_["faults"].push_back(e);
				say(fmt::format("fault {} {} in place on {} (verified; spread {:.2f} ms)", ids[k],
						fault::kindName(f.spec.kind), fmt::join(act.hosts, ", "),
						r.value("spread_ns", int64_t{0}) / 1e6));
			}
			// Streams operations of this offset run at its instant, after the faults of the same offset are in
			// place (their apply returned verified); the operations of one offset run at once.
			auto ag = actionGroups.find(offset);
			if (exit_ == kPassed && ag != actionGroups.end()) {
				if (!waited(waitUntil(at)))
					return false;
				std::vector<json> entries(ag->second.size());
				std::vector<std::thread> opThreads;
				const int64_t off = offset; // a structured binding cannot be captured (clang)
				for (size_t k = 0; k < ag->second.size(); k++)
					opThreads.emplace_back([this, &entries, &ag, k, off, at] {
						const size_t i = ag->second[k];
						entries[k] = runAction(s_.streamsActions[i], fmt::format("{}.s{}", opt_.runId, i + 1),
								       off, at);
					});
				for (auto &t : opThreads)
					t.join();
				for (size_t k = 0; k < entries.size(); k++) {
					const auto &a = s_.streamsActions[ag->second[k]];
					report_["faults"].push_back(entries[k]);
					if (entries[k].value("status", "") != "applied")
						setVerdict(kHarness, "harness", fmt::format("{}: streams.{} on {} failed: {}", a.path, a.kind,
											     a.dc, entries[k].value("error", "")));
					else
						say(fmt::format("streams.{} on {} done in {:.0f} ms", a.kind, a.dc,
								(entries[k]["verified_ns"].get<int64_t>() -
								 entries[k]["applied_ns"].get<int64_t>()) / 1e6));
				}
			}
			if (exit_ != kPassed) {
				endPhase(exit_ == kHarness ? "error" : "failed", reason_);
				return false;
			}
		}
		endPhase("passed");
		return true;
	}

	// Reverts every fault of this run that may still be in place; false if a revert could not be verified.
	bool revertAll(const std::string &why)
	{
		bool ok = true;
		for (auto it = active_.begin(); it != active_.end();) {
			auto r = call({{"cmd", "fault.revert"}, {"id", it->first}}, 30000);
			if (!r) {
				// The controller forgets a fault once its TTL has passed (the agents reverted it on their own).
				const bool expired = r.error().code == Errc::Invalid && clk::wallNs() >= it->second.endNs - 50 * kMs;
				if (!expired) {
					ok = false;
					setVerdict(kHarness, "harness", fmt::format("revert of {} failed: {}", it->first,
										     r.error().message));
				}
			} else if (!r->value("all_verified", false)) {
				ok = false;
				setVerdict(kHarness, "harness", fmt::format("revert of {} not verified on every host: {}",
									     it->first, (*r)["agents"].dump()));
			} else {
				say(fmt::format("fault {} reverted ({})", it->first, why));
				// The agents' verified revert times: the window's end when no recording gives their records.
				int64_t last = 0;
				for (const auto &[agent, a] : (*r)["agents"].items())
					last = std::max<int64_t>(last, a.value("verified_ns", int64_t{0}));
				for (auto &f : report_["faults"])
					if (f.value("id", "") == it->first && last > 0)
						f["revert_verified_ns"] = last;
			}
			it = active_.erase(it);
		}
		return ok;
	}

	// ---- the run ----

	void body()
	{
		if (!loadFleet())
			return;
		if (s_.usesStreams() && !startStreams())
			return;
		if (s_.data.present && !startData())
			return;
		if (s_.metrics.present && !startMetrics())
			return;
		if (s_.setup.present) {
			beginPhase("setup");
			if (!waited(waitUntil(clk::wallNs() + ns(s_.setup.duration))))
				return;
			endPhase("passed");
		}
		if (!startRecording())
			return;
		beginPhase("baseline");
		if (!waited(waitUntil(clk::wallNs() + ns(s_.baseline.duration))))
			return;
		if (!steadyState("before inject") || !streamsSteady()) {
			endPhase("failed", reason_);
			skipPhase("inject", "the steady state did not hold before injection");
			return;
		}
		endPhase("passed");
		if (!inject())
			return recover(false);
		beginPhase("observe");
		if (!s_.observe.untilStreams.empty()) {
			std::string event;
			for (const auto &[cond, ev] : kStreamsConditions)
				if (cond == s_.observe.untilStreams)
					event = ev;
			const bool detection = event == "remote_down" || event == "remote_up" || event == "state_handed_over";
			const bool takeover = event == "takeover_complete" || event == "fail_back" || event == "split_brain";
			if (const std::string why = streamsUnmeasurable(detection, takeover); !why.empty()) {
				endPhase("error", why);
				setVerdict(kHarness, "harness", "observe.until.streams " + s_.observe.untilStreams + ": " + why);
				return recover(false);
			}
			const int64_t from = injectStart_;
			const int64_t deadline = clk::wallNs() + ns(s_.observe.timeout);
			const Wait w = waitUntil(deadline, [this, event, from](const json &) {
				return firstEvent(event, from).has_value();
			});
			if (!waited(w))
				return recover(false);
			if (!firstEvent(event, from)) {
				const std::string why = fmt::format("observe: the Streams toolkit view saw no {} within {}",
								    s_.observe.untilStreams, formatDuration(s_.observe.timeout));
				endPhase("failed", why);
				setVerdict(kFailed, "failed", why);
				noteActive();
				return recover(false);
			}
			say(fmt::format("streams: {} seen", s_.observe.untilStreams));
		} else if (s_.observe.untilMetric) {
			if (!observeMetric())
				return recover(false);
		} else if (s_.observe.until) {
			const ProbeRef ref = *s_.observe.until;
			const int64_t okFor = ns(s_.observe.okFor);
			// Only attempts made during observe count: a success streak that began before it (the probe never
			// failed, or its failures have not arrived yet) is counted from observe's start.
			const int64_t observeStart = clk::wallNs();
			auto holds = [this, ref, okFor, observeStart](const json &st) {
				for (const auto &h : probeHosts(ref)) {
					const json p = probeOf(st, h, ref.probe);
					// The success streak on the controller's clock, counted from observe's start at the earliest.
					const int64_t streak = p.value("last_ns", int64_t{0}) -
							       std::max(p.value("streak_start_ns", int64_t{0}), observeStart);
					if (p.empty() || !p.value("last_ok", false) || streak < okFor)
						return false;
				}
				return true;
			};
			const int64_t deadline = clk::wallNs() + ns(s_.observe.timeout);
			const Wait w = waitUntil(deadline, holds);
			if (!waited(w))
				return recover(false);
			if (clk::wallNs() >= deadline) {
				const std::string why = fmt::format("observe: probe {} did not succeed for {} within {}", ref.probe,
								    formatDuration(s_.observe.okFor),
								    formatDuration(s_.observe.timeout));
				endPhase("failed", why);
				setVerdict(kFailed, "failed", why);
				return recover(false);
			}
		} else if (!waited(waitUntil(clk::wallNs() + ns(s_.observe.duration)))) {
			return recover(false);
		}
		endPhase("passed");
		noteActive();
		recover(true);
	}

	// ---- metric sources ----

	bool startMetrics()
	{
		metrics_ = std::make_unique<MetricsFollower>();
		std::vector<streams::Endpoint> eps;
		if (streams_)
			eps = streams_->endpoints();
		StreamsFollower *view = streams_.get();
		auto r = metrics_->start(s_.metrics, eps, [view] { return view ? view->activeDc() : std::string(); });
		if (!r) {
			setVerdict(kHarness, "harness", "metrics: " + r.error().message);
			return false;
		}
		report_["metrics"] = {{"interval_ms", ns(s_.metrics.interval) / kMs}, {"sources", metrics_->sources()}};
		std::vector<std::string> names;
		for (const auto &src : s_.metrics.sources)
			names.push_back(src.name);
		say(fmt::format("sampling metrics every {}: {}", formatDuration(s_.metrics.interval), fmt::join(names, ", ")));
		return true;
	}

	// observe.until a metric condition: the first sample taken after the faults began at which it holds.
	bool observeMetric()
	{
		const MetricPredicate p = *s_.observe.untilMetric;
		const int64_t from = injectStart_;
		const int64_t deadline = clk::wallNs() + ns(s_.observe.timeout);
		const Wait w = waitUntil(deadline, [this, p, from](const json &) {
			return metrics_->firstHolding(p, from).has_value();
		});
		if (!waited(w))
			return false;
		const auto hit = metrics_->firstHolding(p, from);
		std::string cond = p.op.empty() ? p.source : fmt::format("{} {} {:g}", p.source, p.op, p.value);
		if (p.heldFor.count() > 0)
			cond += " for " + formatDuration(p.heldFor);
		if (!hit) {
			const auto last = metrics_->latest(p.source);
			const std::string why = fmt::format("observe: the metric condition {} did not hold within {}{}", cond,
							    formatDuration(s_.observe.timeout),
							    last && !last->ok ? " (last sample failed: " + last->error + ")" : "");
			report_["metrics"]["until"] = {{"condition", cond}, {"held", false}};
			endPhase("failed", why);
			setVerdict(kFailed, "failed", why);
			noteActive();
			return false;
		}
		report_["metrics"]["until"] = {{"condition", cond}, {"held", true}, {"t_ns", hit->tNs},
					       {"bound_ns", hit->boundNs}, {"after_inject_ms", (hit->tNs - from) / 1e6}};
		say(fmt::format("metrics: {} holds ({:.1f} s after inject)", cond, (hit->tNs - from) / 1e9));
		return true;
	}

	// The samples into the report and onto the evidence bundle's timeline.
	void finishMetrics()
	{
		if (!metrics_)
			return;
		const auto all = metrics_->samples();
		json samples = json::array();
		std::map<std::string, std::pair<int64_t, int64_t>> counts; // source -> (samples, failed)
		for (const auto &x : all) {
			samples.push_back(metrics::toJson(x));
			counts[x.source].first++;
			counts[x.source].second += x.ok ? 0 : 1;
		}
		json &m = report_["metrics"];
		for (auto &src : m["sources"]) {
			const auto c = counts[src.value("name", "")];
			src["samples"] = c.first;
			src["failed"] = c.second;
		}
		m["samples"] = samples;
		if (recording_.empty())
			return;
		auto r = addToTimeline(opt_.outDir + "/evidence", all);
		if (!r) {
			say("metrics: " + r.error().message);
			m["timeline_error"] = r.error().message;
		}
	}

	std::string checkMetricSource(const MetricAssertion &a, json &observed) override
	{
		if (!metrics_)
			return "the metric sources were not sampled";
		int64_t from = 0, to = INT64_MAX;
		if (a.during == "faults" || a.during == "after") {
			const auto [start, end] = faultsWindow();
			if (start == INT64_MAX)
				return "no fault took effect, so there is no faults window";
			if (a.during == "faults") {
				from = start;
				to = end;
			} else {
				from = end;
			}
		} else if (a.during != "run") {
			std::tie(from, to) = phaseWindow(a.during);
			if (from == 0 && to == 0)
				return fmt::format("the {} phase did not run", a.during);
		}
		// A range query reads Prometheus's own history of the window now: the run's start and this instant
		// bound the open ends.
		if (a.rangeStep.count() > 0 && from == 0 && !report_["phases"].empty())
			from = report_["phases"][0].value("start_ns", int64_t{0});
		from += ns(a.settle);
		if (a.rangeStep.count() > 0) {
			to = std::min(to, clk::wallNs());
			auto samples = promRangeSamples(*s_.metrics.source(a.pred.source), from, to, ns(a.rangeStep));
			if (!samples)
				return samples.error().message;
			observed["range_step_ms"] = ns(a.rangeStep) / 1e6;
			return evaluateMetricAssertion(a, *samples, from, to + 1, observed);
		}
		return evaluateMetricAssertion(a, metrics_->samples(a.pred.source), from, to, observed);
	}

	// The DC the toolkit view says is active as observe ends (streams assertion `active`).
	void noteActive()
	{
		if (!streams_)
			return;
		activeAtObserveEnd_ = streams_->activeDc();
		report_["streams"]["active_after_observe"] = activeAtObserveEnd_;
	}

	void recover(bool normal)
	{
		if (controllerLost_)
			return;
		if (exit_ == kAborted) {
			revertAll("aborted");
			return;
		}
		beginPhase("recover");
		revertAll(normal ? "recover" : "stopped early");
		if (!normal || exit_ != kPassed) {
			endPhase(exit_ == kHarness ? "error" : "skipped", "run ended early: " + reason_);
			return;
		}
		if (!waited(waitUntil(clk::wallNs() + ns(s_.recover.duration))))
			return;
		if (!steadyState("after recovery")) {
			endPhase("failed", reason_);
			return;
		}
		endPhase("passed");
	}

	void stopRecording()
	{
		if (recording_.empty())
			return;
		const int drainMs = exit_ == kAborted ? 10000 : 30000;
		auto r = call({{"cmd", "record.stop"}, {"recording", recording_}, {"drain_ms", drainMs}}, drainMs + 60000);
		if (!r) {
			setVerdict(kHarness, "harness", "evidence: " + r.error().message);
			return;
		}
		const json meta = (*r)["meta"];
		report_["evidence"] = {{"complete", meta.value("complete", false)}, {"gaps", meta.value("gaps", json::array())}};
		report_["outages"] = meta.value("outages", json::array());
		if (!meta.value("complete", false) && exit_ == kPassed)
			setVerdict(kHarness, "harness", "evidence: the bundle has gaps (see evidence/meta.json)");
		auto b = controller::evidence::loadBundle(opt_.outDir + "/evidence");
		if (b)
			bundle_ = std::move(*b);
	}

	void teardown()
	{
		if (controllerLost_) {
			setVerdict(kHarness, "broken", "lost the controller: " + controllerError_);
			report_["residue"] = {{"clean", false}, {"found", {"not checked: the controller is gone"}}};
			return;
		}
		// Whatever is still in place (a harness failure before recover, an abort) is reverted first.
		revertAll("teardown");
		if (!hosts_.empty())
			beginPhase("teardown");
		if (metrics_)
			metrics_->stop();
		stopRecording();
		finishMetrics();
		finishData();
		if (streams_) {
			streams_->stop();
			json ev = json::array();
			for (const auto &e : streams_->events())
				ev.push_back(streams::toJson(e));
			report_["streams"]["events"] = ev;
			report_["streams"]["states"] = streams_->states();
			report_["streams"]["rounds"] = streams_->rounds();
			report_["streams"]["signals"] = streams_->signals();
		}
		faultWindows();
		if (streams_ && s_.streams.hostSignals)
			report_["streams"]["host"] = hostSignalReport(bundle_.entries, streams_->endpoints(), streams_->events(),
								      faultsWindow().first);
		if (exit_ == kPassed || exit_ == kFailed)
			validate();
		if (!hosts_.empty()) {
			residue();
			endPhase(exit_ == kHarness ? "error" : "passed");
		}
	}

	// The fault windows as the agents' records tell them (applied / reverted on the controller's timeline). A
	// mechanism whose rules expire in the kernel (nft set element timeouts) ended at its expiry even when the agent's
	// own revert came a little later: a host's end is the earlier of the two.
	void faultWindows()
	{
		for (auto &f : report_["faults"]) {
			if (f.value("kind", "").rfind("streams.", 0) == 0)
				continue; // one-shot operations: their window was set when they ran
			int64_t applied = INT64_MAX, reverted = 0, bound = 0;
			std::map<std::string, int64_t> expiresOf, revertOf;
			for (const auto &e : bundle_.entries) {
				if (e.value("kind", "") != "fault" || e.value("source", "") != f.value("id", ""))
					continue;
				const json times = e.value("times", json::object()), tags = e.value("tags", json::object());
				const std::string ev = tags.value("event", ""), host = e.value("host", "");
				bound = std::max<int64_t>(bound, e.value("bound_ns", int64_t{0}));
				if (ev == "applied" && times.contains("applied_ns")) {
					applied = std::min<int64_t>(applied, times["applied_ns"]);
					if (times.contains("expires_ns") &&
					    tags.value("mechanism", "").find("expire in the kernel") != std::string::npos)
						expiresOf[host] = times["expires_ns"];
				}
				if (ev == "reverted" && times.contains("reverted_ns"))
					revertOf[host] = times["reverted_ns"];
			}
			for (const auto &[host, t] : revertOf) {
				auto x = expiresOf.find(host);
				reverted = std::max(reverted, x == expiresOf.end() ? t : std::min(t, x->second));
			}
			if (applied != INT64_MAX)
				f["window_start_ns"] = applied;
			else if (f.contains("applied_ns"))
				f["window_start_ns"] = f["applied_ns"];
			// Without the agents' records (no recording: no probe or sampler), the end is the revert the
			// agents verified, or the planned end when the fault expired on its own before the revert.
			if (reverted)
				f["window_end_ns"] = reverted;
			else if (f.contains("window_start_ns")) {
				const int64_t planned =
					f["window_start_ns"].get<int64_t>() + f.value("duration_ms", int64_t{0}) * kMs;
				f["window_end_ns"] = std::min(planned, f.value("revert_verified_ns", planned));
			}
			f["window_bound_ns"] = bound;
		}
	}

	// The faults' span on the controller's clock, from the agents' records (faultWindows()) and the operations'
	// own times: the first verified effect and the last revert; {INT64_MAX, 0} when nothing took effect.
	std::pair<int64_t, int64_t> faultsWindow() const override
	{
		int64_t start = INT64_MAX, end = 0;
		for (const auto &f : report_["faults"])
			if (f.contains("window_start_ns")) {
				start = std::min<int64_t>(start, f["window_start_ns"]);
				end = std::max<int64_t>(end, f["window_end_ns"]);
			}
		return {start, end};
	}

	std::pair<int64_t, int64_t> phaseWindow(const std::string &name) const override
	{
		for (const auto &p : report_["phases"])
			if (p.value("name", "") == name && p.contains("end_ns"))
				return {p["start_ns"], p["end_ns"]};
		return {0, 0};
	}

	void validate()
	{
		for (const auto &a : s_.assertions) {
			json e = {{"name", a.name}, {"where", a.where}, {"kind", a.kind}};
			a.check->describe(e);
			const AssertionOutcome out = a.check->evaluate(*this);
			e["observed"] = out.observed;
			if (!out.unmeasurable.empty()) {
				// Not the system's failure: the deployment does not show what the assertion needs.
				e["status"] = "error";
				e["message"] = out.unmeasurable;
				setVerdict(kHarness, "harness",
					   fmt::format("assertion '{}' cannot be checked: {}", a.name, out.unmeasurable));
				say(fmt::format("assertion {}: ERROR: {}", a.name, out.unmeasurable));
				report_["assertions"].push_back(e);
				continue;
			}
			const std::string &failure = out.failure;
			e["status"] = failure.empty() ? "passed" : "failed";
			if (!failure.empty()) {
				e["message"] = failure;
				setVerdict(kFailed, "failed", fmt::format("assertion '{}' failed: {}", a.name, failure));
			}
			say(fmt::format("assertion {}: {}{}", a.name, failure.empty() ? "passed" : "FAILED: ", failure));
			report_["assertions"].push_back(e);
		}
	}

	// No fault of this run may remain anywhere: not in the controller's list, not in any agent's running set.
	void residue()
	{
		const std::string prefix = opt_.runId + ".";
		std::vector<std::string> left;
		// The agents report their running faults with each heartbeat; give them a few to catch up.
		const int64_t deadline = clk::monoNs() + 5 * clk::kSec;
		for (;;) {
			left.clear();
			auto fl = call({{"cmd", "fault.list"}});
			if (fl)
				for (const auto &f : (*fl)["faults"])
					if (f.value("id", "").rfind(prefix, 0) == 0)
						left.push_back(fmt::format("controller lists {}", f.value("id", "")));
			auto ag = call({{"cmd", "agents"}});
			if (ag)
				for (const auto &a : (*ag)["agents"])
					for (const auto &id : a.value("running_faults", json::array()))
						if (id.is_string() && id.get<std::string>().rfind(prefix, 0) == 0)
							left.push_back(fmt::format("{} runs {}", a.value("host", ""), id.get<std::string>()));
			// On every agent: our kernel objects, fill files and stopped processes. With none of its faults running
			// anything found is residue; beside other runs' faults, what carries this run's fault ids is.
			auto rs = call({{"cmd", "residue"}}, 30000);
			std::string ours = opt_.runId;
			for (auto &c : ours)
				if (c == '-' || c == '.')
					c = '_';
			if (rs)
				for (const auto &[agent, e] : (*rs)["agents"].items()) {
					if (!e.value("ok", false)) {
						left.push_back(fmt::format("{}: residue check failed: {}", agent, e.value("error", json("")).dump()));
						continue;
					}
					const bool othersRunning = !e.value("running", json::array()).empty();
					for (const auto &o : e.value("objects", json::array())) {
						const std::string obj = o.get<std::string>();
						if (!othersRunning || obj.find(ours) != std::string::npos)
							left.push_back(fmt::format("{} has {}", agent, obj));
					}
				}
			if (!fl || !ag || !rs)
				left.push_back("controller unreachable for the residue check");
			if (left.empty() || clk::monoNs() >= deadline)
				break;
			::usleep(200000);
		}
		report_["residue"] = {{"clean", left.empty()}, {"found", left}};
		if (!left.empty())
			setVerdict(kHarness, "harness", fmt::format("residue after teardown: {}", fmt::join(left, "; ")));
		else
			say("residue check: clean");
	}

	const Scenario &s_;
	const RunOptions &opt_;
	json report_;
	int64_t t0_ = 0;
	int exit_ = kPassed;
	std::string verdict_ = "passed", reason_, phase_ = "start", stopReason_;
	bool controllerLost_ = false;
	std::string controllerError_;
	std::vector<Host> hosts_;
	std::set<std::string> lost_;
	std::map<std::string, std::string> dcOf_;
	std::string recording_;
	std::map<std::string, Active> active_;
	controller::evidence::Bundle bundle_;
	std::unique_ptr<StreamsFollower> streams_;
	data::Generator *localGen_ = nullptr; // generator_ when it runs in this process (routes can change)
	std::mutex routeMu_;
	std::string routeMode_; // under routeMu_: the follower's thread reads it
	std::unique_ptr<MetricsFollower> metrics_;
	std::unique_ptr<data::TupleGenerator> generator_;
	std::unique_ptr<data::SinkReader> reader_;
	data::ValidationReport dataReport_;
	std::vector<data::SinkArrivals> arrivals_;
	std::string activeAtObserveEnd_;
	int64_t injectStart_ = 0;
};

} // namespace

Host hostOfAgent(const json &a)
{
	Host h{a.value("host", ""), a.value("dc", ""), {}, {}};
	const json labels = a.value("labels", json::object()), caps = a.value("capabilities", json::object());
	for (const auto &[k, v] : labels.items())
		if (v.is_string())
			h.labels[k] = v;
	for (const auto &[k, v] : caps.items())
		if (v.is_string())
			h.capabilities[k] = v;
	return h;
}

json runScenario(const Scenario &s, const RunOptions &opt)
{
	Run r(s, opt);
	return r.run();
}

json planScenario(const Scenario &s, const RunOptions &opt)
{
	json plan = {{"scenario", s.name}, {"run_id", opt.runId}, {"seed", opt.seed}, {"variables", s.variables},
		     {"random", s.drawn},
		     {"planned_duration_ms", ns(s.plannedDuration()) / kMs}};
	json phases = json::array();
	int64_t t = 0;
	auto add = [&](const char *name, const Phase &p, int64_t length) {
		if (!p.present)
			return;
		phases.push_back({{"name", name}, {"start_ms", t / kMs}, {"duration_ms", length / kMs}});
		t += length;
	};
	add("setup", s.setup, ns(s.setup.duration));
	add("baseline", s.baseline, ns(s.baseline.duration));
	int64_t lastStart = 0;
	for (const auto &f : s.faults)
		lastStart = std::max(lastStart, ns(f.spec.start));
	for (const auto &a : s.streamsActions)
		lastStart = std::max(lastStart, ns(a.start));
	const int64_t injectAt = t;
	add("inject", s.inject, lastStart);
	add("observe", s.observe, ns(s.observe.until || !s.observe.untilStreams.empty() || s.observe.untilMetric
					     ? s.observe.timeout
					     : s.observe.duration));
	add("recover", s.recover, ns(s.recover.duration));
	plan["phases"] = phases;
	json faults = json::array();
	for (size_t i = 0; i < s.faults.size(); i++) {
		const auto &f = s.faults[i];
		fault::FaultSpec spec = f.spec;
		spec.id = fmt::format("{}.{}", opt.runId, i + 1);
		json e = {{"id", spec.id}, {"kind", std::string(fault::kindName(f.spec.kind))}, {"spec", fault::toYaml(spec)},
			  {"at_ms", (injectAt + ns(f.spec.start)) / kMs}, {"until_ms", (injectAt + ns(f.spec.start) + ns(f.spec.duration)) / kMs},
			  {"where", f.where}};
		if (opt.call) {
			auto r = opt.call({{"cmd", "fault.apply"}, {"spec", fault::toYaml(spec)}, {"origin", f.where},
					   {"dry_run", true}}, 15000);
			if (r && r->value("ok", false))
				e["agents"] = (*r)["agents"];
			else if (r)
				e["error"] = (*r)["error"];
			else
				e["error"] = r.error().message;
		}
		faults.push_back(e);
	}
	plan["faults"] = faults;
	json ops = json::array();
	for (size_t i = 0; i < s.streamsActions.size(); i++) {
		const auto &a = s.streamsActions[i];
		json o = {{"id", fmt::format("{}.s{}", opt.runId, i + 1)}, {"kind", "streams." + a.kind}, {"dc", a.dc},
			  {"at_ms", (injectAt + ns(a.start)) / kMs}, {"where", a.where}};
		if (!a.pes.empty())
			o["pes"] = a.pes;
		if (!a.bundle.empty())
			o["bundle"] = a.bundle;
		ops.push_back(o);
	}
	plan["streams_operations"] = ops;
	if (s.usesStreams())
		plan["streams"] = {{"config", opt.streamsConfig}, {"interval_ms", ns(s.streams.interval) / kMs}};
	json ev = json::array();
	for (const auto *list : {&s.probes, &s.samplers})
		for (const auto &sp : *list)
			ev.push_back(evidence::toYaml(sp));
	plan["evidence"] = ev;
	if (s.metrics.present) {
		json srcs = json::array();
		for (const auto &m : s.metrics.sources)
			srcs.push_back({{"name", m.name}, {"kind", m.kind}, {"where", m.where}});
		plan["metrics"] = {{"interval_ms", ns(s.metrics.interval) / kMs}, {"sources", srcs}};
	}
	return plan;
}

} // namespace xdc::scenario
