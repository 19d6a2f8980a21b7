// SPDX-License-Identifier: Apache-2.0
// Stub until the sampler lands.
#include "agent/evidence/sampler.h"

namespace xdc::agent::samplers {

Result<std::unique_ptr<Sampler>> makeProcess(const evidence::SamplerSpec &spec, const SamplerEnv &)
{
	return makeError(Errc::Unsupported, "sampler kind {} is not implemented yet", evidence::samplerKindName(spec.kind));
}

} // namespace xdc::agent::samplers
