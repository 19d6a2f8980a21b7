// SPDX-License-Identifier: Apache-2.0
// joinWindow: successive reads of an HTTPTupleView's sliding window joined into the tuples that came out between
// them, and the reads that cannot be joined (tuples may have gone unseen).
#include <doctest/doctest.h>

#include <random>

#include "common/data/endpoints.h"

using namespace xdc::data;

namespace {

std::vector<std::string> ids(std::initializer_list<const char *> l)
{
	return {l.begin(), l.end()};
}

} // namespace

TEST_CASE("joinWindow: the tuples after the longest overlap; a read sharing nothing with a non-empty one is not joined")
{
	// Empty before: all of the new read is new.
	CHECK(joinWindow({}, ids({"a", "b"})).fresh == 2);
	CHECK(joinWindow({}, ids({"a", "b"})).joined);
	CHECK(joinWindow({}, {}).fresh == 0);
	// Unchanged.
	auto w = joinWindow(ids({"a", "b", "c"}), ids({"a", "b", "c"}));
	CHECK(w.fresh == 0);
	CHECK(w.joined);
	// A window still filling up, and one sliding.
	CHECK(joinWindow(ids({"a", "b"}), ids({"a", "b", "c", "d"})).fresh == 2);
	w = joinWindow(ids({"a", "b", "c", "d"}), ids({"c", "d", "e", "f"}));
	CHECK(w.fresh == 2);
	CHECK(w.joined);
	// A duplicate delivery inside the new part is new (it came out again).
	w = joinWindow(ids({"a", "b", "c", "d"}), ids({"c", "d", "c", "d"}));
	CHECK(w.fresh == 2);
	CHECK(w.joined);
	w = joinWindow(ids({"a", "b", "x", "y"}), ids({"x", "y", "x", "y"}));
	CHECK(w.fresh == 2);
	// The longest overlap wins over a shorter one.
	w = joinWindow(ids({"q", "x", "y", "x"}), ids({"x", "y", "x", "z"}));
	CHECK(w.fresh == 1);
	// Moved by its whole size: cannot be joined (tuples may be missing between the reads).
	w = joinWindow(ids({"a", "b"}), ids({"c", "d"}));
	CHECK(!w.joined);
	CHECK(w.fresh == 2);
	// Emptied (its PE restarted): not joined, nothing new.
	w = joinWindow(ids({"a", "b"}), {});
	CHECK(!w.joined);
	CHECK(w.fresh == 0);
}

TEST_CASE("joinWindow: reads of a random stream through a window of 50 give back the stream exactly")
{
	std::mt19937_64 rng(7);
	std::vector<std::string> stream;
	for (int i = 0; i < 5000; i++)
		stream.push_back("t" + std::to_string(i % 3 == 0 ? i / 2 : i)); // some ids come out twice
	const size_t cap = 50;
	std::vector<std::string> prev, joined;
	size_t at = 0;
	while (at < stream.size()) {
		at = std::min(stream.size(), at + rng() % 40); // fewer than the window between two reads
		std::vector<std::string> cur(stream.begin() + static_cast<std::ptrdiff_t>(at > cap ? at - cap : 0),
					     stream.begin() + static_cast<std::ptrdiff_t>(at));
		const WindowJoin w = joinWindow(prev, cur);
		REQUIRE(w.joined);
		joined.insert(joined.end(), cur.end() - static_cast<std::ptrdiff_t>(w.fresh), cur.end());
		prev = std::move(cur);
	}
	CHECK(joined == stream);
}
