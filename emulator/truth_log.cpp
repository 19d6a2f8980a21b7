// SPDX-License-Identifier: Apache-2.0
// The ground-truth log's writer.
#include "emulator/truth_log.h"

#include <cerrno>
#include <cstring>
#include <ctime>

namespace xdc::emu {

TruthLog::~TruthLog()
{
	if (f_)
		std::fclose(f_);
}

int64_t TruthLog::realtimeNs()
{
	// The real wall clock, never xdc's test skew: the truth must not share a bias with what it checks.
	timespec ts{};
	::clock_gettime(CLOCK_REALTIME, &ts);
	return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Result<void> TruthLog::open(const std::string &path, const std::string &dc)
{
	dc_ = dc;
	if (path.empty())
		return success();
	f_ = std::fopen(path.c_str(), "ae");
	if (!f_)
		return makeError(Errc::Io, "cannot open truth log '{}': {}", path, std::strerror(errno));
	return success();
}

void TruthLog::write(const std::string &event, const nlohmann::json &fields)
{
	if (!f_)
		return;
	// The time is read under the lock, so t_ns never goes backwards down the file.
	std::lock_guard lk(mu_);
	nlohmann::json j = {{"t_ns", realtimeNs()}, {"dc", dc_}, {"event", event}};
	for (auto it = fields.begin(); it != fields.end(); ++it)
		j[it.key()] = it.value();
	const std::string line = j.dump() + "\n";
	std::fwrite(line.data(), 1, line.size(), f_);
	std::fflush(f_);
}

} // namespace xdc::emu
