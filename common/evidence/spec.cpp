// SPDX-License-Identifier: Apache-2.0
// Sampler spec parsing (stub: implemented by the Evidence samplers work).
#include "common/evidence/spec.h"

namespace xdc::evidence {

std::string_view samplerKindName(SamplerKind k)
{
	switch (k) {
	case SamplerKind::Host: return "host";
	case SamplerKind::Process: return "process";
	case SamplerKind::ProbeTcp: return "probe.tcp";
	case SamplerKind::ProbeHttp: return "probe.http";
	case SamplerKind::Command: return "command";
	}
	return "?";
}

Result<SamplerKind> samplerKindFromName(std::string_view name)
{
	for (auto k : {SamplerKind::Host, SamplerKind::Process, SamplerKind::ProbeTcp, SamplerKind::ProbeHttp,
		       SamplerKind::Command})
		if (samplerKindName(k) == name)
			return k;
	return makeError(Errc::Invalid, "unknown sampler kind '{}'", name);
}

Result<SamplerSpec> parseSamplerSpec(const YAML::Node &, const std::string &origin, const std::string &)
{
	return makeError(Errc::Unsupported, "{}: sampler specs are not implemented yet", origin);
}

Result<SamplerSpec> parseSamplerText(const std::string &, const std::string &origin)
{
	return makeError(Errc::Unsupported, "{}: sampler specs are not implemented yet", origin);
}

std::string defaultName(const SamplerSpec &s) { return std::string(samplerKindName(s.kind)); }
std::string toYaml(const SamplerSpec &) { return "{}"; }
Result<HostPort> splitHostPort(const std::string &t) { return makeError(Errc::Unsupported, "'{}': not yet", t); }

} // namespace xdc::evidence
