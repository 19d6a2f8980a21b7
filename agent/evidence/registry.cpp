// SPDX-License-Identifier: Apache-2.0
// makeSampler(): the one place that maps a sampler kind to its implementation.
#include "agent/evidence/sampler.h"

namespace xdc::agent {

Result<std::unique_ptr<Sampler>> makeSampler(const evidence::SamplerSpec &spec, const SamplerEnv &env)
{
	using evidence::SamplerKind;
	switch (spec.kind) {
	case SamplerKind::Host: return samplers::makeHost(spec, env);
	case SamplerKind::Process: return samplers::makeProcess(spec, env);
	case SamplerKind::ProbeTcp: return samplers::makeTcpProbe(spec, env);
	case SamplerKind::ProbeHttp: return samplers::makeHttpProbe(spec, env);
	case SamplerKind::Command: return samplers::makeCommand(spec, env);
	case SamplerKind::Log: return samplers::makeLog(spec, env);
	case SamplerKind::File: return samplers::makeFile(spec, env);
	}
	return makeError(Errc::Invalid, "unknown sampler kind");
}

} // namespace xdc::agent
