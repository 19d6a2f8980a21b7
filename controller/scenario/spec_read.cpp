// SPDX-License-Identifier: Apache-2.0
#include "controller/scenario/spec_read.h"

#include <fmt/format.h>

#include "controller/scenario/spec.h"

namespace xdc::scenario {

void readRatio(MapReader &r, const YAML::Node &parent, const char *key, std::optional<double> &out)
{
	if (!r.ok() || !parent.IsMap() || !parent[key])
		return;
	std::string text;
	r.str(key, text);
	if (!r.ok())
		return;
	const YAML::Node n = parent[key];
	double v = -1;
	try {
		size_t used = 0;
		if (!text.empty() && text.back() == '%') {
			v = std::stod(text.substr(0, text.size() - 1), &used) / 100.0;
			if (used != text.size() - 1)
				v = -1;
		} else {
			v = std::stod(text, &used);
			if (used != text.size())
				v = -1;
		}
	} catch (...) {
		v = -1;
	}
	if (!(v >= 0 && v <= 1))
		return r.fail(n, r.keyPath(key), fmt::format("'{}' is not a ratio (expected a percentage like 95% or a "
							     "fraction from 0 to 1)", text));
	out = v;
}

void readDurationOpt(MapReader &r, const char *key, std::optional<Nanos> &out)
{
	std::chrono::milliseconds ms{-1};
	r.duration(key, ms);
	if (ms.count() >= 0)
		out = ms;
}

ProbeRef readProbeRef(MapReader &r, const YAML::Node &n)
{
	ProbeRef p;
	p.where = r.where(n);
	r.str("probe", p.probe);
	r.str("host", p.host);
	if (r.ok() && p.probe.empty())
		r.fail(n, r.keyPath("probe"), "required: the name of a probe under evidence.probes");
	return p;
}

Result<void> checkProbeRef(const ProbeRef &ref, const Scenario &s, const std::string &path)
{
	if (s.probe(ref.probe))
		return success();
	std::vector<std::string> names;
	for (const auto &p : s.probes)
		names.push_back(p.name);
	const std::string hint = didYouMean(ref.probe, names);
	return makeError(Errc::Invalid, "{}: {}.probe: no probe named '{}' under evidence.probes{}", ref.where, path,
			 ref.probe,
			 hint.empty() ? fmt::format(" (probes: {})", names.empty() ? "none"
							: fmt::format("{}", fmt::join(names, ", ")))
				      : fmt::format("; did you mean '{}'?", hint));
}

} // namespace xdc::scenario
