// SPDX-License-Identifier: Apache-2.0
// Writes one valid frame of every message type into a directory: the fuzzer's starting corpus.
#include <cstdio>
#include <fstream>
#include <string>

#include "common/proto/codec.h"

using namespace xdc::proto;

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_seeds DIR\n");
		return 2;
	}
	const std::string dir = argv[1];
	Header h;
	h.sender = "dc1-h1";
	int n = 0;
	auto put = [&](const std::string &bytes) { std::ofstream(dir + "/seed" + std::to_string(n++), std::ios::binary) << bytes; };
	Hello hello;
	hello.agentId = "dc1-h1";
	hello.labels = {{"role", "streams"}};
	hello.capabilities = {{"nft", "yes"}};
	put(encode(hello, h));
	put(encode(Welcome{true, "", "c1", 1, 1000, 5000, true}, h));
	put(encode(Heartbeat{1, 2, {{"bad_magic", 3}}, 0, 4096}, h));
	put(encode(HeartbeatAck{1, "c1", 5000}, h));
	put(encode(Command{1, 2, 3, "ping", packBytes(PingArgs{"x"})}, h));
	put(encode(CommandResult{1, true, "", "", {}, 1, 2}, h));
	put(encode(ClockPing{1, 2}, h));
	put(encode(ClockPong{1, 2, 3, 4}, h));
	EvidenceBatch eb;
	eb.samples.push_back(Sample{1, "host", "cpu", 1, 2, {{"cpu", 0.5}}, {{"if", "eth0"}}});
	put(encode(eb, h));
	put(encode(EvidenceAck{"r1", 42}, h));
	put(encode(FaultEvent{"f1", "network.partition", "reverted", "duration elapsed", 1, 2, ""}, h));
	put(encode(Bye{"bye"}, h));
	return 0;
}
