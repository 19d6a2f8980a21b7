// SPDX-License-Identifier: Apache-2.0
// The agent-read sink file (controller/data/agent_sink.h).
#include "controller/data/agent_sink.h"

#include <fmt/format.h>

namespace xdc::data {

using nlohmann::json;

std::string AgentFileSink::how() const { return fmt::format("agent {}: sink file '{}' (data.tail)", o_.host, o_.sink); }

Result<json> AgentFileSink::tail(bool fromEnd)
{
	const control::DataTailRequest req{o_.host, o_.sink, offset_, inode_, o_.maxBytes, fromEnd};
	auto r = o_.call(req, o_.timeoutMs);
	if (!r)
		return r.error().context(fmt::format("data.tail on {}", o_.host));
	if (!r->value("ok", false)) {
		const json err = r->value("error", json::object());
		return makeError(Errc::Refused, "data.tail on {}: {}", o_.host, err.value("message", r->dump()));
	}
	const uint64_t next = r->value("next_offset", uint64_t{0});
	if (r->value("restarted", false))
		restarts_++;
	offset_ = next;
	inode_ = r->value("inode", uint64_t{0});
	return r;
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
		const auto &d = (*r)["data"];
		if (d.is_string())
			out += d.get_ref<const std::string &>();
		if (r->value("next_offset", uint64_t{0}) >= r->value("size", uint64_t{0}))
			break;
	}
	return out;
}

std::unique_ptr<DataSink> makeAgentSink(AgentSinkOptions o) { return std::make_unique<AgentFileSink>(std::move(o)); }

} // namespace xdc::data
