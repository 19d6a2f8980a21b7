// SPDX-License-Identifier: Apache-2.0
#include "controller/data/validator.h"

#include <algorithm>
#include <bit>
#include <climits>

#include "common/data/tuple.h"

namespace xdc::data {

namespace {

constexpr int kSubBits = 6; // 64 sub-buckets per power of two
constexpr size_t kBuckets = (64 - kSubBits + 1) << kSubBits;

inline size_t bucketOf(uint64_t v)
{
	if (v < (1u << kSubBits))
		return static_cast<size_t>(v);
	const int msb = 63 - std::countl_zero(v);
	const int shift = msb - kSubBits;
	return (static_cast<size_t>(shift + 1) << kSubBits) + static_cast<size_t>((v >> shift) & ((1u << kSubBits) - 1));
}

// The upper edge of a bucket: a percentile is reported as at most this (never under-reported).
inline uint64_t bucketTop(size_t b)
{
	if (b < (1u << kSubBits))
		return b;
	const size_t shift = (b >> kSubBits) - 1;
	const uint64_t sub = (b & ((1u << kSubBits) - 1)) | (1u << kSubBits);
	return ((sub + 1) << shift) - 1;
}

} // namespace

Validator::Validator(ValidatorOptions opts) : opts_(opts), hist_(kBuckets, 0) {}

void Validator::record(int64_t latencyNs)
{
	latencyN_++;
	latencyMax_ = std::max(latencyMax_, latencyNs);
	latencyMin_ = std::min(latencyMin_, latencyNs);
	if (latencyNs < 0) {
		// The generator's clock is ahead of the reader's: counted as 0 in the histogram and reported.
		negativeLatency_++;
		latencyNs = 0;
	}
	hist_[bucketOf(static_cast<uint64_t>(latencyNs))]++;
}

void Validator::add(std::string_view line, int64_t arrivalNs)
{
	if (line.empty() || line.find_first_not_of(" \t\r") == std::string_view::npos)
		return;
	lines_++;
	if (firstArrival_ == 0)
		firstArrival_ = arrivalNs;
	else if (arrivalNs - lastArrival_ >= opts_.gapNs)
		gaps_.push_back({lastArrival_, arrivalNs});
	lastArrival_ = std::max(lastArrival_, arrivalNs);
	ParsedTuple t;
	if (!parseTupleLine(line, t) || t.seq == 0 || t.seq > opts_.maxSeq || t.key >= opts_.maxKeys) {
		malformed_++;
		return;
	}
	if (opts_.checkPayload && t.hasPayload && !payloadMatches(opts_.seed, t.key, t.seq, t.payload)) {
		corrupt_++;
		return;
	}
	if (t.key >= keys_.size())
		keys_.resize(t.key + 1);
	KeyState &k = keys_[t.key];
	const uint64_t bit = t.seq - 1;
	const size_t word = static_cast<size_t>(bit >> 6);
	if (word >= k.seen.size())
		k.seen.resize(std::max<size_t>(word + 1, k.seen.size() * 2), 0);
	const uint64_t mask = 1ull << (bit & 63);
	k.delivered++;
	if (!(k.seen[word] & mask)) {
		k.seen[word] |= mask;
		k.distinct++;
		if (t.seq < k.maxSeq)
			k.outOfOrder++;
	}
	k.maxSeq = std::max(k.maxSeq, t.seq);
	record(arrivalNs - t.eventNs);
}

void Validator::addLines(std::string_view buf, int64_t arrivalNs)
{
	size_t start = 0;
	while (start < buf.size()) {
		const size_t nl = buf.find('\n', start);
		const size_t end = nl == std::string_view::npos ? buf.size() : nl;
		add(buf.substr(start, end - start), arrivalNs);
		start = end + 1;
	}
}

ValidationReport Validator::finish(const std::map<uint32_t, uint64_t> &sentPerKey,
				   const std::map<uint32_t, std::vector<int64_t>> *sendNs) const
{
	ValidationReport r;
	r.lines = lines_;
	r.malformed = malformed_;
	r.corrupt = corrupt_;
	r.gaps = gaps_;
	r.firstArrivalNs = firstArrival_;
	r.lastArrivalNs = lastArrival_;
	int64_t lostFirstNs = INT64_MAX, lostLastNs = INT64_MIN;
	auto figures = [&](uint32_t key, uint64_t sent) {
		KeyFigures f;
		f.sent = sent;
		if (key < keys_.size()) {
			const KeyState &k = keys_[key];
			f.delivered = k.delivered;
			f.distinct = k.distinct;
			f.duplicated = k.delivered - k.distinct;
			f.outOfOrder = k.outOfOrder;
			// Seqs above `sent` that were seen.
			for (uint64_t s = sent + 1; s <= k.maxSeq; s++)
				if (k.seen[(s - 1) >> 6] & (1ull << ((s - 1) & 63)))
					f.unexpected++;
		}
		// Lost: bits 1..sent not set, a word at a time.
		const std::vector<uint64_t> empty;
		const std::vector<uint64_t> &seen = key < keys_.size() ? keys_[key].seen : empty;
		const std::vector<int64_t> *times = nullptr;
		if (sendNs) {
			auto it = sendNs->find(key);
			if (it != sendNs->end())
				times = &it->second;
		}
		for (uint64_t w = 0; w * 64 < sent; w++) {
			uint64_t missing = ~(w < seen.size() ? seen[w] : 0);
			const uint64_t bits = std::min<uint64_t>(64, sent - w * 64);
			if (bits < 64)
				missing &= (1ull << bits) - 1;
			if (!missing)
				continue;
			f.lost += static_cast<uint64_t>(std::popcount(missing));
			const uint64_t lo = w * 64 + static_cast<uint64_t>(std::countr_zero(missing)) + 1;
			const uint64_t hi = w * 64 + 64 - static_cast<uint64_t>(std::countl_zero(missing));
			if (!f.firstLost)
				f.firstLost = lo;
			f.lastLost = hi;
			if (times && hi <= times->size()) {
				lostFirstNs = std::min(lostFirstNs, (*times)[lo - 1]);
				lostLastNs = std::max(lostLastNs, (*times)[hi - 1]);
			}
		}
		return f;
	};
	std::vector<uint32_t> keys;
	for (const auto &[k, n] : sentPerKey)
		keys.push_back(k);
	for (uint32_t k = 0; k < keys_.size(); k++)
		if (keys_[k].delivered && !sentPerKey.count(k))
			keys.push_back(k);
	for (uint32_t k : keys) {
		auto it = sentPerKey.find(k);
		KeyFigures f = figures(k, it == sentPerKey.end() ? 0 : it->second);
		r.total.sent += f.sent;
		r.total.delivered += f.delivered;
		r.total.distinct += f.distinct;
		r.total.lost += f.lost;
		r.total.duplicated += f.duplicated;
		r.total.outOfOrder += f.outOfOrder;
		r.total.unexpected += f.unexpected;
		r.perKey[k] = f;
	}
	if (lostLastNs >= lostFirstNs)
		r.lostEventSpanNs = lostLastNs - lostFirstNs;
	r.latencySamples = latencyN_;
	if (latencyN_) {
		r.latencyMax = latencyMax_;
		r.latencyMin = latencyMin_;
		auto pct = [&](double q) {
			const uint64_t target = static_cast<uint64_t>(q * static_cast<double>(latencyN_ - 1)) + 1;
			uint64_t acc = 0;
			for (size_t b = 0; b < hist_.size(); b++) {
				acc += hist_[b];
				if (acc >= target)
					return std::min<int64_t>(static_cast<int64_t>(bucketTop(b)), latencyMax_);
			}
			return latencyMax_;
		};
		r.latencyP50 = pct(0.50);
		r.latencyP90 = pct(0.90);
		r.latencyP99 = pct(0.99);
	}
	return r;
}

nlohmann::json toJson(const ValidationReport &r)
{
	auto fig = [](const KeyFigures &f) {
		nlohmann::json j = {{"sent", f.sent}, {"delivered", f.delivered}, {"distinct", f.distinct}, {"lost", f.lost},
				    {"duplicated", f.duplicated}, {"out_of_order", f.outOfOrder}, {"unexpected", f.unexpected}};
		if (f.firstLost)
			j["lost_seqs"] = {f.firstLost, f.lastLost};
		return j;
	};
	nlohmann::json j = {{"lines", r.lines}, {"malformed", r.malformed}, {"corrupt", r.corrupt}, {"total", fig(r.total)},
			    {"per_key", nlohmann::json::object()}, {"gaps", nlohmann::json::array()},
			    {"first_arrival_ns", r.firstArrivalNs}, {"last_arrival_ns", r.lastArrivalNs},
			    {"lost_event_span_ns", r.lostEventSpanNs}};
	for (const auto &[k, f] : r.perKey)
		j["per_key"]["k" + std::to_string(k)] = fig(f);
	for (const auto &g : r.gaps)
		j["gaps"].push_back({{"start_ns", g.startNs}, {"end_ns", g.endNs}, {"ms", (g.endNs - g.startNs) / 1e6}});
	if (r.latencySamples)
		j["latency_ms"] = {{"samples", r.latencySamples}, {"min", r.latencyMin / 1e6}, {"p50", r.latencyP50 / 1e6},
				   {"p90", r.latencyP90 / 1e6}, {"p99", r.latencyP99 / 1e6}, {"max", r.latencyMax / 1e6}};
	return j;
}

} // namespace xdc::data
