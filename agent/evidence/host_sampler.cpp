// SPDX-License-Identifier: Apache-2.0
// The host sampler: CPU, memory, load, per-interface network counters and filesystem usage of this host.
//
// It runs every second on every host of a recording, so it is kept cheap (the goal is <= 0.05% of one CPU at 1 Hz):
// each file is read with one open/read/close into a buffer reused across samples, parsed in place, with no iostreams,
// no regex and no allocation beyond the sample itself. Files are read under env.proc.procRoot (and env.netDevPath),
// so tests can point it at a fake tree.
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>

#include "agent/evidence/sampler.h"
#include "common/clock.h"

namespace xdc::agent::samplers {

namespace {

// /proc/stat's first line is all we need; meminfo and loadavg are small. /proc/net/dev grows with the interfaces.
constexpr size_t kSmallFile = 8192;
constexpr size_t kMaxNetDev = 1 << 20;

// Reads a whole file (up to limit bytes) into buf, reusing its capacity. False with errno set on failure.
bool readInto(const std::string &path, std::string &buf, size_t limit)
{
	const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	buf.resize(std::min(limit, std::max<size_t>(4096, buf.capacity())));
	size_t len = 0;
	for (;;) {
		if (len == buf.size()) {
			if (buf.size() >= limit)
				break;
			buf.resize(std::min(limit, buf.size() * 2));
		}
		const ssize_t got = ::read(fd, buf.data() + len, buf.size() - len);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			const int err = errno;
			::close(fd);
			errno = err;
			return false;
		}
		if (got == 0)
			break;
		len += static_cast<size_t>(got);
	}
	::close(fd);
	buf.resize(len);
	return true;
}

std::string_view nextLine(std::string_view &text)
{
	const auto nl = text.find('\n');
	std::string_view line = text.substr(0, nl);
	text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
	return line;
}

// The next whitespace-separated word of s (advancing s), "" at the end.
std::string_view nextWord(std::string_view &s)
{
	size_t i = 0;
	while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
		i++;
	size_t j = i;
	while (j < s.size() && s[j] != ' ' && s[j] != '\t')
		j++;
	std::string_view w = s.substr(i, j - i);
	s = s.substr(j);
	return w;
}

template <typename T> bool toNumber(std::string_view s, T &v)
{
	auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
	return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

class HostSampler final : public Sampler {
public:
	HostSampler(const evidence::SamplerSpec &spec, const SamplerEnv &env)
	    : spec_(spec), statPath_(env.proc.procRoot + "/stat"), meminfoPath_(env.proc.procRoot + "/meminfo"),
	      loadavgPath_(env.proc.procRoot + "/loadavg"), netDevPath_(env.netDevPath)
	{
		buf_.reserve(kSmallFile);
		for (const auto &d : spec_.disks)
			diskKeys_.push_back({"disk." + d + ".total_bytes", "disk." + d + ".free_bytes",
					     "disk." + d + ".used_percent"});
	}

	const evidence::SamplerSpec &spec() const override { return spec_; }

	void sample(std::vector<proto::Sample> &out) override
	{
		proto::Sample s;
		s.kind = "host";
		s.source = spec_.name;
		s.wallNs = clk::wallNs();
		s.monoNs = clk::monoNs();
		std::string errors;
		auto note = [&](const std::string &what) {
			if (!errors.empty())
				errors += "; ";
			errors += what;
		};
		if (!cpu(s))
			note(fmt::format("{}: {}", statPath_, why_));
		if (!memory(s))
			note(fmt::format("{}: {}", meminfoPath_, why_));
		if (!load(s))
			note(fmt::format("{}: {}", loadavgPath_, why_));
		if (!net(s))
			note(fmt::format("{}: {}", netDevPath_, why_));
		for (size_t i = 0; i < spec_.disks.size(); i++) {
			struct statvfs v;
			if (::statvfs(spec_.disks[i].c_str(), &v) != 0) {
				note(fmt::format("statvfs {}: {}", spec_.disks[i], strerror(errno)));
				continue;
			}
			// As df counts: used = blocks - bfree; free is what unprivileged writers can still use (bavail),
			// and the percentage is of what users can reach (used + bavail), so a full disk reads 100%.
			const double frsize = static_cast<double>(v.f_frsize);
			const double used = static_cast<double>(v.f_blocks - v.f_bfree);
			const double avail = static_cast<double>(v.f_bavail);
			s.values[diskKeys_[i][0]] = static_cast<double>(v.f_blocks) * frsize;
			s.values[diskKeys_[i][1]] = avail * frsize;
			s.values[diskKeys_[i][2]] = used + avail > 0 ? 100.0 * used / (used + avail) : 0.0;
		}
		if (!errors.empty())
			s.tags["error"] = errors;
		out.push_back(std::move(s));
	}

private:
	// First line: "cpu  user nice system idle iowait irq softirq steal guest guest_nice" (clock ticks). guest time is
	// already counted in user, so the busy share uses the first eight fields; idle includes iowait.
	bool cpu(proto::Sample &s)
	{
		if (!read(statPath_, kSmallFile))
			return false;
		std::string_view text(buf_);
		std::string_view line = nextLine(text);
		if (nextWord(line) != "cpu")
			return false;
		uint64_t f[8] = {};
		for (int i = 0; i < 8; i++) {
			std::string_view w = nextWord(line);
			if (w.empty() && i >= 4)
				break; // very old kernels have fewer fields
			if (!toNumber(w, f[i]))
				return false;
		}
		uint64_t total = 0;
		for (uint64_t v : f)
			total += v;
		const uint64_t idle = f[3] + f[4];
		if (havePrevCpu_ && total > prevTotal_) {
			const double dt = static_cast<double>(total - prevTotal_);
			const double di = static_cast<double>(idle >= prevIdle_ ? idle - prevIdle_ : 0);
			s.values["cpu_percent"] = std::max(0.0, 100.0 * (dt - di) / dt);
		}
		prevTotal_ = total;
		prevIdle_ = idle;
		havePrevCpu_ = true;
		return true;
	}

	// "MemTotal:       16314304 kB" ... "MemAvailable:   ..." (kB).
	bool memory(proto::Sample &s)
	{
		if (!read(meminfoPath_, kSmallFile))
			return false;
		std::string_view text(buf_);
		uint64_t total = 0, avail = 0;
		bool haveTotal = false, haveAvail = false;
		while (!text.empty() && !(haveTotal && haveAvail)) {
			std::string_view line = nextLine(text);
			std::string_view key = nextWord(line);
			uint64_t *into = key == "MemTotal:" ? &total : key == "MemAvailable:" ? &avail : nullptr;
			if (!into)
				continue;
			if (!toNumber(nextWord(line), *into))
				return false;
			(into == &total ? haveTotal : haveAvail) = true;
		}
		if (!haveTotal || !haveAvail || total == 0)
			return false;
		s.values["mem_total_bytes"] = static_cast<double>(total) * 1024.0;
		s.values["mem_available_bytes"] = static_cast<double>(avail) * 1024.0;
		s.values["mem_used_percent"] =
			100.0 * static_cast<double>(total - std::min(avail, total)) / static_cast<double>(total);
		return true;
	}

	// "0.52 0.58 0.59 1/467 12345"
	bool load(proto::Sample &s)
	{
		if (!read(loadavgPath_, kSmallFile))
			return false;
		std::string_view line(buf_);
		line = nextLine(line);
		double l[3];
		for (double &v : l)
			if (!toNumber(nextWord(line), v))
				return false;
		s.values["load1"] = l[0];
		s.values["load5"] = l[1];
		s.values["load15"] = l[2];
		return true;
	}

	// Two header lines, then "  eth0: rx_bytes rx_packets errs drop fifo frame compressed multicast tx_bytes
	// tx_packets errs drop ..." per interface.
	bool net(proto::Sample &s)
	{
		if (!read(netDevPath_, kMaxNetDev))
			return false;
		std::string_view text(buf_);
		nextLine(text);
		nextLine(text);
		static constexpr struct {
			int field;
			const char *name;
		} kFields[] = {{0, "rx_bytes"}, {1, "rx_packets"}, {3, "rx_drops"},
			       {8, "tx_bytes"}, {9, "tx_packets"}, {11, "tx_drops"}};
		while (!text.empty()) {
			std::string_view line = nextLine(text);
			const auto colon = line.find(':');
			if (colon == std::string_view::npos)
				continue;
			std::string_view iface = line.substr(0, colon);
			while (!iface.empty() && iface.front() == ' ')
				iface.remove_prefix(1);
			line.remove_prefix(colon + 1);
			uint64_t f[12];
			bool ok = true;
			for (uint64_t &v : f)
				ok = ok && toNumber(nextWord(line), v);
			if (!ok || iface.empty())
				return false;
			std::string key = "net.";
			key.append(iface);
			key += '.';
			const size_t base = key.size();
			for (const auto &fi : kFields) {
				key.resize(base);
				key += fi.name;
				s.values[key] = static_cast<double>(f[fi.field]);
			}
		}
		return true;
	}

	// Reads path into buf_; on failure why_ says why (parsers set it to "unexpected format" by default).
	bool read(const std::string &path, size_t limit)
	{
		why_ = "unexpected format";
		if (readInto(path, buf_, limit))
			return true;
		why_ = strerror(errno);
		return false;
	}

	evidence::SamplerSpec spec_;
	const char *why_ = "";
	std::string statPath_, meminfoPath_, loadavgPath_, netDevPath_;
	std::vector<std::array<std::string, 3>> diskKeys_;
	std::string buf_;
	bool havePrevCpu_ = false;
	uint64_t prevTotal_ = 0, prevIdle_ = 0;
};

} // namespace

Result<std::unique_ptr<Sampler>> makeHost(const evidence::SamplerSpec &spec, const SamplerEnv &env)
{
	if (spec.kind != evidence::SamplerKind::Host)
		return makeError(Errc::Invalid, "makeHost: a {} spec", evidence::samplerKindName(spec.kind));
	return std::unique_ptr<Sampler>(std::make_unique<HostSampler>(spec, env));
}

} // namespace xdc::agent::samplers
