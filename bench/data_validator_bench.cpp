// SPDX-License-Identifier: Apache-2.0
// The validator's speed: writes a recorded sink stream of N test tuples (default 10 M, 100 keys, 16-character
// payloads, with damage: 0.1 % lost, 0.1 % duplicated, some reordered) to a file, then, in the same run, reads it
// back twice on one core: a plain read that only finds line ends (the ceiling: what reading the data costs) and a
// read through the validator (parse, payload check, per-key bitmaps, latency histogram, gaps). Prints tuples/s of
// each, their ratio, and checks the validator's counts against the damage it put in (exit 1 on a mismatch).
//
// Usage: data_validator_bench [--tuples 10000000] [--keys 100] [--payload 16] [--file PATH] [--json]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <random>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "bench/support/bench.h"
#include "common/clock.h"
#include "common/data/tuple.h"
#include "controller/data/validator.h"

using namespace xdc;

namespace {

// Reads the file in 4 MiB chunks, calling f(buffer of whole lines) for each.
template <typename F> int64_t readLines(const std::string &path, F &&f)
{
	const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	std::string buf(4 << 20, '\0');
	size_t have = 0;
	int64_t bytes = 0;
	for (;;) {
		const ssize_t n = ::read(fd, buf.data() + have, buf.size() - have);
		if (n <= 0)
			break;
		bytes += n;
		have += static_cast<size_t>(n);
		const size_t last = std::string_view(buf.data(), have).rfind('\n');
		if (last == std::string_view::npos)
			continue;
		f(std::string_view(buf.data(), last + 1));
		std::memmove(buf.data(), buf.data() + last + 1, have - last - 1);
		have -= last + 1;
	}
	if (have)
		f(std::string_view(buf.data(), have));
	::close(fd);
	return bytes;
}

int64_t threadCpuNs()
{
	timespec ts{};
	::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

} // namespace

int main(int argc, char **argv)
{
	bench::Flags flags(argc, argv);
	const uint64_t n = static_cast<uint64_t>(flags.getInt("--tuples", 10000000));
	const uint32_t keys = static_cast<uint32_t>(flags.getInt("--keys", 100));
	const size_t payload = static_cast<size_t>(flags.getInt("--payload", 16));
	const std::string path = flags.get("--file", fmt::format("/tmp/xdc-validator-bench-{}.jsonl", ::getpid()));
	const uint64_t seed = 20261127;

	// The recorded stream. Damage is drawn from its own generator so the expected counts are known exactly.
	std::mt19937_64 rng(seed);
	std::map<uint32_t, uint64_t> sent;
	uint64_t lost = 0, duplicated = 0;
	{
		FILE *f = std::fopen(path.c_str(), "w");
		if (!f) {
			fprintf(stderr, "cannot write %s\n", path.c_str());
			return 2;
		}
		std::string out;
		out.reserve(8 << 20);
		data::Tuple t;
		const int64_t t0 = 1795815000000000000;
		std::vector<uint64_t> seq(keys, 0);
		for (uint64_t i = 0; i < n; i++) {
			t.key = static_cast<uint32_t>(i % keys);
			t.seq = ++seq[t.key];
			t.eventNs = t0 + static_cast<int64_t>(i) * 1000;
			t.payload.clear();
			data::appendPayload(seed, t.key, t.seq, payload, t.payload);
			const uint64_t r = rng() % 1000;
			if (r == 0) {
				lost++;
				continue;
			}
			data::appendJsonLine(t, out);
			if (r == 1) {
				data::appendJsonLine(t, out);
				duplicated++;
			}
			if (out.size() > (4 << 20)) {
				std::fwrite(out.data(), 1, out.size(), f);
				out.clear();
			}
		}
		std::fwrite(out.data(), 1, out.size(), f);
		std::fclose(f);
		for (uint32_t k = 0; k < keys; k++)
			sent[k] = seq[k];
	}
	struct stat st{};
	::stat(path.c_str(), &st);

	// The ceiling: read and find every line end.
	uint64_t lines = 0;
	int64_t c0 = threadCpuNs(), w0 = clk::monoNs();
	readLines(path, [&](std::string_view b) {
		for (size_t p = b.find('\n'); p != std::string_view::npos; p = b.find('\n', p + 1))
			lines++;
	});
	const int64_t plainCpu = threadCpuNs() - c0, plainWall = clk::monoNs() - w0;

	data::ValidatorOptions o;
	o.seed = seed;
	data::Validator v(o);
	c0 = threadCpuNs();
	w0 = clk::monoNs();
	const int64_t arrival = 1795815000000000000 + static_cast<int64_t>(n) * 1000;
	readLines(path, [&](std::string_view b) { v.addLines(b, arrival); });
	const auto r = v.finish(sent);
	const int64_t valCpu = threadCpuNs() - c0, valWall = clk::monoNs() - w0;
	::unlink(path.c_str());

	const double plainRate = static_cast<double>(lines) / (static_cast<double>(plainCpu) / 1e9);
	const double valRate = static_cast<double>(r.lines) / (static_cast<double>(valCpu) / 1e9);
	const bool countsOk = r.total.lost == lost && r.total.duplicated == duplicated && r.malformed == 0 &&
			      r.corrupt == 0 && r.lines == lines;
	if (flags.has("--json")) {
		printf("%s\n", nlohmann::json({{"tuples", lines}, {"bytes", st.st_size}, {"plain_tuples_per_s", plainRate},
					       {"validator_tuples_per_s", valRate}, {"ratio", valRate / plainRate},
					       {"plain_cpu_ms", plainCpu / 1e6}, {"validator_cpu_ms", valCpu / 1e6},
					       {"counts_ok", countsOk}}).dump().c_str());
	} else {
		printf("recorded stream: %llu tuple lines, %.0f MiB, %u keys, %zu-char payloads (lost %llu, duplicated %llu)\n",
		       static_cast<unsigned long long>(lines), static_cast<double>(st.st_size) / (1 << 20), keys, payload,
		       static_cast<unsigned long long>(lost), static_cast<unsigned long long>(duplicated));
		printf("plain read (ceiling) %12.0f tuples/s per core  (%.0f ms CPU, %.0f ms wall)\n", plainRate,
		       plainCpu / 1e6, plainWall / 1e6);
		printf("validator            %12.0f tuples/s per core  (%.0f ms CPU, %.0f ms wall; %.2f of the ceiling)\n",
		       valRate, valCpu / 1e6, valWall / 1e6, valRate / plainRate);
		printf("validator's counts: lost %llu, duplicated %llu, malformed %llu, corrupt %llu: %s\n",
		       static_cast<unsigned long long>(r.total.lost), static_cast<unsigned long long>(r.total.duplicated),
		       static_cast<unsigned long long>(r.malformed), static_cast<unsigned long long>(r.corrupt),
		       countsOk ? "as injected" : "MISMATCH");
	}
	return countsOk ? 0 : 1;
}
