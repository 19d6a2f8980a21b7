// SPDX-License-Identifier: Apache-2.0
// The file drop through an agent (controller/data/agent_drop.h).
#include "controller/data/agent_drop.h"

#include <fmt/format.h>

#include "controller/control/answers.h"

namespace xdc::data {

namespace {

class AgentDropSource final : public DataSource {
public:
	explicit AgentDropSource(AgentDropOptions o) : o_(std::move(o)) {}
	std::string name() const override { return o_.name; }
	std::string how() const override
	{
		return fmt::format("DirectoryScan: files dropped by agent {} into '{}' (data.drop)", o_.host, o_.drop);
	}

	SendResult send(std::string_view lines, size_t n) override
	{
		SendResult out;
		const control::DataDropRequest req{o_.host, o_.drop, std::string(lines), n};
		auto r = o_.call(req, o_.timeoutMs);
		if (!r) {
			// No answer: the file may be in place or not.
			if (r.error().code == Errc::Timeout)
				out.uncertain = n;
			out.error = r.error().context(fmt::format("data.drop on {}", o_.host));
			return out;
		}
		if (!r->value("ok", false)) {
			out.error = makeError(Errc::Refused, "data.drop on {}: {}", o_.host, control::answerError(*r).message);
			return out;
		}
		// Dropped; an answer this console cannot read leaves it unknown whether the file is in place.
		auto dropped = control::parseAnswer<control::DataDropAnswer>(*r);
		if (!dropped) {
			out.uncertain = n;
			out.error = dropped.error().context(fmt::format("data.drop on {}", o_.host));
			return out;
		}
		out.written = n;
		return out;
	}

private:
	AgentDropOptions o_;
};

} // namespace

std::unique_ptr<DataSource> makeAgentDropSource(AgentDropOptions o)
{
	return std::make_unique<AgentDropSource>(std::move(o));
}

} // namespace xdc::data
