// SPDX-License-Identifier: Apache-2.0
// The agent-read sink file (controller/data/agent_sink.h).
#include "controller/data/agent_sink.h"

#include <fmt/format.h>

namespace xdc::data {

using nlohmann::json;

std::string AgentFileSink::how() const { return fmt::format("agent {}: sink file '{}' (data.tail)", o_.host, o_.sink); }

Result<control::DataTailAnswer> AgentFileSink::tail(bool fromEnd)
{
	const control::DataTailRequest req{o_.host, o_.sink, offset_, inode_, o_.maxBytes, fromEnd};
	auto r = o_.call(req, o_.timeoutMs);
	if (!r)
		return r.error().context(fmt::format("data.tail on {}", o_.host));
	if (!r->value("ok", false))
		return makeError(Errc::Refused, "data.tail on {}: {}", o_.host, control::answerError(*r).message);
	auto t = control::parseAnswer<control::DataTailAnswer>(*r);
	if (!t)
		return t.error().context(fmt::format("data.tail on {}", o_.host));
	if (t->restarted)
		restarts_++;
	offset_ = t->nextOffset;
	inode_ = t->inode;
	return t;
}

Result<std::string> AgentFileSink::poll()
{
	if (!started_) {
		// What the file holds from before this run is skipped: the offset starts after its last complete line.
		auto r = tail(true);
		if (!r)
			return r.error();
		started_ = true;
		return std::string();
	}
	std::string out;
	// Everything complete so far, in a few calls at most (one call carries up to maxBytes).
	for (int i = 0; i < 8; i++) {
		auto r = tail(false);
		if (!r)
			return out.empty() ? Result<std::string>(r.error()) : Result<std::string>(std::move(out));
		out += r->data;
		if (r->nextOffset >= r->size)
			break;
	}
	return out;
}

std::unique_ptr<DataSink> makeAgentSink(AgentSinkOptions o) { return std::make_unique<AgentFileSink>(std::move(o)); }

} // namespace xdc::data
