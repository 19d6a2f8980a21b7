// SPDX-License-Identifier: Apache-2.0
// libFuzzer target: the wire decoder must classify any input without crashing, throwing or leaking.
#include <cstddef>
#include <cstdint>

#include "common/proto/codec.h"

using namespace xdc::proto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	auto fr = decodeFrame({data, size}, 1 << 16);
	if (!fr.ok())
		return 0;
	const auto body = fr.frame().body;
	switch (fr.frame().header.type) {
	case MsgType::Hello: (void)decodeBody<Hello>(body); break;
	case MsgType::Welcome: (void)decodeBody<Welcome>(body); break;
	case MsgType::Heartbeat: (void)decodeBody<Heartbeat>(body); break;
	case MsgType::HeartbeatAck: (void)decodeBody<HeartbeatAck>(body); break;
	case MsgType::Command: {
		auto c = decodeBody<Command>(body);
		if (c.ok())
			(void)unpackBytes<PingArgs>(c->args);
		break;
	}
	case MsgType::Result: (void)decodeBody<CommandResult>(body); break;
	case MsgType::ClockPing: (void)decodeBody<ClockPing>(body); break;
	case MsgType::ClockPong: (void)decodeBody<ClockPong>(body); break;
	case MsgType::EvidenceBatch: (void)decodeBody<EvidenceBatch>(body); break;
	case MsgType::EvidenceAck: (void)decodeBody<EvidenceAck>(body); break;
	case MsgType::FaultEvent: (void)decodeBody<FaultEvent>(body); break;
	case MsgType::Bye: (void)decodeBody<Bye>(body); break;
	}
	return 0;
}
