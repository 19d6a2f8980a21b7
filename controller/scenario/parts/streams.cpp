// SPDX-License-Identifier: Apache-2.0
// The run's Streams part (see streams.h).
#include "controller/scenario/parts/streams.h"

#include <set>
#include <thread>

#include "common/duration.h"
#include "controller/scenario/parts/data.h"
#include "controller/scenario/parts/faults.h"
#include "controller/scenario/parts/recording.h"
#include "controller/scenario/streams_host.h"
#include "controller/streams/client.h"
#include "controller/streams/poll.h"

namespace xdc::scenario {

StreamsPart::~StreamsPart() = default;

bool StreamsPart::prepare()
{
	const Scenario &s = c_.s;
	const RunOptions &opt = c_.opt;
	if (opt.streamsConfig.empty()) {
		c_.setVerdict(kHarness, "harness", "streams: no streams config to follow (streams.config, a lab with "
						   "--streams, $XDC_STREAMS_CONFIG or /etc/xdc/streams.yaml)");
		return false;
	}
	if (s.streams.reset) {
		if (!opt.resetStreams) {
			c_.setVerdict(kHarness, "harness", s.streams.where + ": streams.reset: the starting state can only be "
									     "restored in a lab (xdc lab streams reset); run with --lab");
			return false;
		}
		c_.say("streams: back to the starting state (xdc lab streams reset)");
		if (auto rr = opt.resetStreams(); !rr) {
			c_.setVerdict(kHarness, "harness", "streams.reset: " + rr.error().message);
			return false;
		}
	}
	follower_ = std::make_unique<StreamsFollower>();
	auto r = follower_->start(opt.streamsConfig, ns(s.streams.interval));
	if (!r) {
		c_.setVerdict(kHarness, "harness", "streams: " + r.error().message);
		return false;
	}
	std::set<std::string> dcs;
	for (const auto &ep : follower_->endpoints())
		dcs.insert(ep.dc);
	for (const auto &a : s.streamsActions)
		if (!dcs.count(a.dc) && !(a.kind == "route" && (a.dc == "both" || a.dc == "active"))) {
			c_.setVerdict(kHarness, "harness", fmt::format("{}: {}.dc: the streams config {} has no instance for DC "
								       "'{}' (it has: {})", a.where, a.path, opt.streamsConfig,
								       a.dc, fmt::join(dcs, ", ")));
			return false;
		}
	c_.report.streams = StreamsSection{.config = opt.streamsConfig, .intervalMs = ns(s.streams.interval) / kMs,
					  .dcs = std::vector<std::string>(dcs.begin(), dcs.end())};
	c_.say(fmt::format("following Streams: {} every {} ({})", fmt::join(dcs, ", "), formatDuration(s.streams.interval),
			   opt.streamsConfig));
	return true;
}

bool StreamsPart::phaseEnd(const std::string &phase)
{
	if (phase == "baseline")
		return steady();
	if (phase == "observe")
		noteActive();
	return true;
}

// Before inject: every DC's REST API answers and the toolkit view has exactly one active DC.
bool StreamsPart::steady()
{
	if (!follower_ || !c_.s.streams.requireActive)
		return true;
	std::vector<std::string> unreachable;
	for (const auto &ep : follower_->endpoints()) {
		const auto snap = follower_->latest(ep.dc);
		if (!snap.reachable)
			unreachable.push_back(fmt::format("{} ({})", ep.dc, snap.error));
	}
	const std::string active = follower_->activeDc();
	const bool split = follower_->splitBrain();
	std::string why;
	if (!unreachable.empty())
		why = fmt::format("streams: REST API unreachable: {}", fmt::join(unreachable, "; "));
	else if (active.empty())
		why = "streams: no DC is active in the toolkit view";
	else if (split)
		why = "streams: more than one DC is active (split brain) before the faults";
	c_.report.steadyState.push_back(
		{.when = "before inject", .status = why.empty() ? "passed" : "failed",
		 .streams = json{{"active", active}, {"split_brain", split}, {"unreachable", unreachable}}});
	if (!why.empty())
		c_.setVerdict(kFailed, "failed", "steady state before inject: " + why);
	return why.empty();
}

void StreamsPart::noteActive()
{
	if (!follower_)
		return;
	activeAtObserveEnd_ = follower_->activeDc();
	if (c_.report.streams)
		c_.report.streams->activeAfterObserve = activeAtObserveEnd_;
}

std::string StreamsPart::unmeasurable(bool detection, bool takeover) const
{
	if (!follower_)
		return "Streams was not followed";
	const std::string looked = "looked for the cross-DC toolkit's operators by their local names "
				   "(RemoteDataCenterHeartbeatWatchdog, CrossDataCenterReceiverForHB, ...) in every DC; "
				   "`xdc streams status` lists what each DC shows";
	if (detection && !follower_->canTellDetection())
		return "detection cannot be measured: no DC shows the toolkit's RemoteDataCenterHeartbeatWatchdog (" +
		       looked + ")";
	if (takeover && !follower_->canTellTakeover())
		return "takeover cannot be measured: no DC shows both the toolkit's operators and an output operator "
		       "(toolkit.sink_operator) (" + looked + ")";
	return "";
}

std::optional<streams::ToolkitEvent> StreamsPart::firstEvent(const std::string &kind, int64_t fromNs) const
{
	if (!follower_)
		return std::nullopt;
	for (const auto &e : follower_->events())
		if (e.kind == kind && e.tNs >= fromNs)
			return e;
	return std::nullopt;
}

// streams.orderly_shutdown: the site's hook on the DC's Streams host through its agent, with the followed job's id
// for a hook whose argv has `{job}`. Appends {host, ok, argv, exit_code, output, started_ns, ended_ns} to detail;
// returns the error ("" when the hook ran and exited 0).
std::string StreamsPart::runOrderlyShutdown(const StreamsAction &a, const streams::Endpoint &ep, ReportFault &e,
					    json &detail)
{
	if (ep.host.empty())
		return fmt::format("the streams config has no `host:` (the Streams host whose agent runs the "
				   "orderly-shutdown hook) for DC {}", a.dc);
	e.hosts = std::vector<std::string>{ep.host};
	control::StreamsOrderlyShutdownRequest req{ep.host, ""};
	const auto snap = follower_->latest(a.dc);
	if (snap.job && !snap.job->id.empty() && snap.job->id.size() <= 18 &&
	    snap.job->id.find_first_not_of("0123456789") == std::string::npos)
		req.job = snap.job->id;
	json raw = json::object();
	auto r = c_.call(req, 60000, &raw);
	// The answer also when the hook exited non-zero (its argv, exit code and output are the detail's).
	auto run = control::parseAnswer<control::StreamsRunAnswer>(raw);
	const std::string error = !r ? r.error().message : !run ? run.error().message : "";
	json d = {{"host", ep.host}, {"ok", error.empty()}};
	if (run && run->ran) {
		d["argv"] = run->argv;
		d["exit_code"] = run->exitCode;
		d["output"] = run->output;
		d["started_ns"] = run->startedNs;
		d["ended_ns"] = run->endedNs;
	}
	if (!error.empty())
		d["error"] = error;
	detail.push_back(d);
	return error;
}

// streams.stop_pe / restart_pe: streamtool on the DC's Streams host through its agent, every named PE (or every PE
// of the followed job) at once. Returns the first error ("" when every PE's verb succeeded).
std::string StreamsPart::runPeVerb(const StreamsAction &a, const streams::Endpoint &ep, ReportFault &e, json &detail)
{
	std::vector<std::string> pes = a.pes;
	if (pes.empty())
		for (const auto &p : follower_->latest(a.dc).pes)
			pes.push_back(p.id);
	if (ep.host.empty())
		return fmt::format("the streams config has no `host:` (the Streams host whose agent runs streamtool) for DC {}",
				   a.dc);
	if (pes.empty())
		return fmt::format("the last poll of {} saw no PEs of the followed job", a.dc);
	e.hosts = std::vector<std::string>{ep.host};
	std::vector<Result<control::StreamsRunAnswer>> res(pes.size(), Error{});
	std::vector<std::thread> threads;
	const std::string verb = a.kind == "stop_pe" ? "stop" : "restart";
	for (size_t i = 0; i < pes.size(); i++)
		threads.emplace_back([&, i] {
			auto r = c_.call(control::StreamsPeRequest{ep.host, verb, pes[i]}, 60000);
			res[i] = r ? control::parseAnswer<control::StreamsRunAnswer>(*r)
				   : Result<control::StreamsRunAnswer>(r.error());
		});
	for (auto &t : threads)
		t.join();
	std::string error;
	for (size_t i = 0; i < pes.size(); i++) {
		if (!res[i]) {
			detail.push_back({{"pe", pes[i]}, {"ok", false}, {"error", res[i].error().message}});
			if (error.empty())
				error = fmt::format("PE {}: {}", pes[i], res[i].error().message);
			continue;
		}
		detail.push_back({{"pe", pes[i]}, {"ok", true}, {"argv", res[i]->argv}, {"started_ns", res[i]->startedNs},
				  {"ended_ns", res[i]->endedNs}});
	}
	return error;
}

// streams.cancel_job / submit_job through the DC's REST API. Returns the error ("" when done).
std::string StreamsPart::runJobVerb(const StreamsAction &a, const streams::Endpoint &ep, json &detail)
{
	streams::Client c(ep);
	if (a.kind == "cancel_job") {
		auto jobs = c.jobs();
		const streams::Job *j = jobs ? streams::pickJob(*jobs, ep) : nullptr;
		if (!jobs)
			return jobs.error().message;
		if (!j)
			return fmt::format("{} has no job '{}' to cancel", a.dc, ep.jobName);
		if (auto r = c.cancelJob(j->id); !r)
			return r.error().message;
		detail.push_back({{"job", j->id}, {"name", j->name}});
		return "";
	}
	json overlay = json::object();
	const std::string name = a.jobName.empty() ? ep.jobName : a.jobName;
	if (!name.empty())
		overlay["jobConfigOverlays"] = json::array({{{"jobConfig", {{"jobName", name}}}}});
	auto bundle = c.uploadBundle(a.bundle);
	if (!bundle)
		return bundle.error().message;
	auto job = c.submitJob(*bundle, overlay);
	if (!job)
		return job.error().message;
	detail.push_back({{"bundle", *bundle}, {"job", job->id}, {"name", job->name}});
	return "";
}

ReportFault StreamsPart::runAction(const StreamsAction &a, const std::string &id, int64_t offset, int64_t at)
{
	if (a.kind == "route") {
		if (c_.data)
			return c_.data->route(a, id, offset, at);
		ReportFault e = routeEntry(a, id, offset, at);
		e.status = "failed";
		e.error = "the scenario sends no data (no data: block)";
		return e;
	}
	ReportFault e{.id = id, .kind = "streams." + a.kind, .path = a.path, .dc = a.dc, .offsetMs = offset / kMs,
		      .durationMs = 0, .plannedNs = at, .hosts = std::vector<std::string>{}};
	const streams::Endpoint *ep = nullptr;
	for (const auto &x : follower_->endpoints())
		if (x.dc == a.dc)
			ep = &x;
	std::string error;
	json detail = json::array();
	const int64_t t0 = clk::wallNs();
	if (a.kind == "stop_pe" || a.kind == "restart_pe")
		error = runPeVerb(a, *ep, e, detail);
	else if (a.kind == "orderly_shutdown")
		error = runOrderlyShutdown(a, *ep, e, detail);
	else
		error = runJobVerb(a, *ep, detail);
	const int64_t t1 = clk::wallNs();
	e.detail = detail;
	if (!error.empty()) {
		e.status = "failed";
		e.error = error;
		return e;
	}
	// Applied = when the operation was issued; verified = when the last of it was acknowledged. Its window is that
	// instant: the operation is one-shot, never reverted.
	e.status = "applied";
	e.appliedNs = e.windowStartNs = t0;
	e.verifiedNs = e.windowEndNs = t1;
	e.windowBoundNs = 0;
	return e;
}

void StreamsPart::teardown()
{
	if (follower_)
		follower_->stop();
}

void StreamsPart::report()
{
	if (!follower_)
		return;
	json ev = json::array();
	for (const auto &e : follower_->events())
		ev.push_back(streams::toJson(e));
	if (!c_.report.streams) // prepare stopped before the section was written: keep what the view saw
		c_.report.streams.emplace();
	StreamsSection &st = *c_.report.streams;
	st.events = ev;
	st.states = follower_->states();
	st.rounds = follower_->rounds();
	st.signals = follower_->signals();
	if (c_.s.streams.hostSignals)
		st.host = hostSignalReport(c_.recording->entries(), follower_->endpoints(),
								follower_->events(), c_.faults->window().first);
}

} // namespace xdc::scenario
