// SPDX-License-Identifier: Apache-2.0
// The run's Streams part: follows every DC's instance through its REST API and the cross-DC toolkit's view
// (streams_follow.h) from before the baseline to teardown, checks before inject that exactly one DC is active, runs
// the scenario's streams.* operations, and reports the view's events, states and the Streams hosts' signals.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/scenario/parts/run_part.h"
#include "controller/scenario/streams_follow.h"

namespace xdc::scenario {

class StreamsPart : public RunPart {
public:
	using RunPart::RunPart;
	~StreamsPart() override;
	const char *name() const override { return "streams"; }

	// Resets the lab's Streams when the scenario asks (streams.reset), starts following, and checks that every DC a
	// streams.* operation names is in the streams config.
	bool prepare() override;
	// baseline: every DC's REST API answers and the toolkit view has exactly one active DC (streams.require_active);
	// observe: notes the DC active as observe ends.
	bool phaseEnd(const std::string &phase) override;
	void teardown() override;
	// `streams`: events, states, rounds, signals and, with host_signals, what the Streams hosts showed.
	void report() override;

	// The view; null when following could not even begin.
	StreamsFollower *view() const { return follower_.get(); }
	// One streams.* (or data.route) operation; its report entry (status applied or failed).
	ReportFault runAction(const StreamsAction &a, const std::string &id, int64_t offset, int64_t at);
	// Notes the DC the toolkit view says is active as observe ends (streams assertion `active`).
	void noteActive();
	std::string activeAtObserveEnd() const { return activeAtObserveEnd_; }
	// Why a Streams condition or assertion cannot be measured on this deployment ("" when it can).
	std::string unmeasurable(bool detection, bool takeover) const;
	// The toolkit view's first event of `kind` at or after fromNs.
	std::optional<streams::ToolkitEvent> firstEvent(const std::string &kind, int64_t fromNs) const;

private:
	bool steady();
	std::string runOrderlyShutdown(const StreamsAction &a, const streams::Endpoint &ep, ReportFault &e, json &detail);
	std::string runPeVerb(const StreamsAction &a, const streams::Endpoint &ep, ReportFault &e, json &detail);
	std::string runJobVerb(const StreamsAction &a, const streams::Endpoint &ep, json &detail);

	std::unique_ptr<StreamsFollower> follower_;
	std::string activeAtObserveEnd_;
};

} // namespace xdc::scenario
