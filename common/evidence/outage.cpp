// SPDX-License-Identifier: Apache-2.0
// Outage intervals from probe samples (stub).
#include "common/evidence/outage.h"

namespace xdc::evidence {

std::vector<Outage> findOutages(std::vector<ProbePoint>, const OutageOptions &) { return {}; }

} // namespace xdc::evidence
