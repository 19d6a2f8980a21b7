// SPDX-License-Identifier: Apache-2.0
// 10,000 malformed frames from an allowed key in each direction, plus raw TCP garbage at the agent endpoint: both
// sides keep serving and their per-category drop counters equal what was sent. Runs in a private network namespace.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <random>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.hpp>

#include "common/clock.h"
#include "common/proto/codec.h"
#include "common/transport/curve.h"
#include "common/transport/socket.h"
#include "controller/control/control_server.h"
#include "tests/support/harness.h"

using namespace xdc;
using namespace xdc::proto;
using namespace xdc::test;

namespace {

constexpr size_t kMaxFrame = 16384;
std::string gNetns;

Header hdr(MsgType t, const std::string &sender)
{
	Header h;
	h.type = t;
	h.id = 1;
	h.sender = sender;
	h.wallNs = clk::wallNs();
	h.monoNs = clk::monoNs();
	return h;
}

// Frames of each category, counted. `commands` adds replayed and expired commands (toward an agent).
class Garbage {
public:
	explicit Garbage(uint64_t seed) : rng_(seed) {}

	std::string random()
	{
		std::string b(1 + rng_() % 300, '\0');
		for (auto &c : b)
			c = static_cast<char>(rng_());
		if (static_cast<uint8_t>(b[0]) == kMagic0)
			b[0] = 'Z';
		return b;
	}
	std::string truncated(MsgType t)
	{
		std::string good = encode(Heartbeat{}, hdr(t, "x"));
		// Header announces more than arrives, or the frame stops inside the header.
		return good.substr(0, (rng_() % 2) ? good.size() - 1 - rng_() % 3 : 2 + rng_() % (kHeaderSize - 2));
	}
	std::string oversized()
	{
		std::string b(kMaxFrame + 1 + rng_() % 512, 'o');
		b[0] = static_cast<char>(kMagic0);
		b[1] = static_cast<char>(kMagic1);
		return b;
	}
	std::string badVersion()
	{
		std::string b = encode(Heartbeat{}, hdr(MsgType::Heartbeat, "x"));
		b[2] = static_cast<char>(kVersion + 1 + rng_() % 50);
		return b;
	}
	std::string unknownType()
	{
		std::string b = encode(Heartbeat{}, hdr(MsgType::Heartbeat, "x"));
		b[3] = static_cast<char>(kMaxMsgType + 1 + rng_() % 100);
		return b;
	}
	std::string badBody(MsgType t)
	{
		// A body that is not a map, or a map whose field has the wrong type.
		static const uint8_t notMap[] = {0xa3, 'a', 'b', 'c'};
		static const uint8_t wrongType[] = {0x81, 0xa3, 's', 'e', 'q', 0xa4, 't', 'e', 'x', 't'};
		if (t == MsgType::Command) {
			static const uint8_t wrongCmd[] = {0x81, 0xa4, 'n', 'a', 'm', 'e', 0x92, 0x01, 0x02};
			return encodeRaw(hdr(t, "x"), rng_() % 2 ? std::span<const uint8_t>(notMap) : wrongCmd);
		}
		return encodeRaw(hdr(t, "x"), rng_() % 2 ? std::span<const uint8_t>(notMap) : wrongType);
	}
	std::string trailing() { return encode(Heartbeat{}, hdr(MsgType::Heartbeat, "x")) + "tail"; }

	std::mt19937_64 rng_;
};

// The plan: how many of each category to send in one direction; sums to 10,000.
using Plan = std::vector<std::pair<Drop, int>>;

json controllerStats(const std::string &ctl)
{
	auto r = control::request(ctl, control::StatsRequest{}, 3000);
	return r && r->value("ok", false) ? (*r)["stats"] : json::object();
}

bool pingAgent(const std::string &ctl, const std::string &id)
{
	auto r = control::request(ctl, control::PingRequest{{id}, "ping"}, 15000);
	return r && r->value("ok", false) && (*r)["results"][id].value("ok", false);
}

// Malformed and out-of-window requests on the control socket: each is answered with its error, none ends the
// controller, and a request without "v" (a console from before the field) still works.
void checkControlAbuse(const std::string &ctl)
{
	auto error = [&](const json &line) -> std::pair<std::string, std::string> {
		auto r = control::requestLine(ctl, line, 3000);
		REQUIRE(r.ok());
		if ((*r).value("ok", false))
			return {"ok", ""};
		return {(*r)["error"].value("code", ""), (*r)["error"].value("message", "")};
	};
	// The console with --json: a refusal or an unreachable controller is still one JSON document on stdout.
	auto refused = test::xdc({"fault", "revert", "no-such-fault", "--json", "--control", ctl});
	const json rj = json::parse(refused.out, nullptr, false);
	REQUIRE_MESSAGE(rj.is_object(), refused.out, refused.err);
	CHECK(rj["ok"] == false);
	CHECK(!rj["error"].value("message", "").empty());
	CHECK(refused.exitCode == (rj["error"].value("code", "") == "invalid" ? 2 : 1));
	auto unreachable = test::xdc({"agents", "--json", "--control", ctl + ".missing"});
	const json uj = json::parse(unreachable.out, nullptr, false);
	REQUIRE_MESSAGE(uj.is_object(), unreachable.out, unreachable.err);
	CHECK(uj["error"]["code"] == "unreachable");
	CHECK(unreachable.exitCode == 3);

	CHECK(error(json::array()) == std::pair<std::string, std::string>{
		"invalid", "expected one JSON object with a string 'cmd' per line"});
	CHECK(error({{"cmd", "bogus"}}).second == "unknown command 'bogus'");
	CHECK(error({{"cmd", "agents"}, {"v", control::kControlVersion + 1}}).first == "unsupported");
	CHECK(error({{"cmd", "ping"}, {"agents", "a1"}}).second == "'agents' must be a list of agent ids");
	CHECK(error({{"cmd", "data.tail"}, {"host", 5}}).first == "invalid");
	CHECK(error({{"cmd", "fault.apply"}, {"spec", {{"kind", "resource.cpu"}, {"targets", {{"dc", "nowhere"}}},
						      {"duration", "99h"}}}})
		      .second.find("duration") != std::string::npos);
	CHECK(error({{"cmd", "agents"}}).first == "ok");
}

// Writes a key pair into dir and returns it.
transport::KeyPair keyIn(const std::string &dir, const std::string &name)
{
	auto kp = transport::generateKeyPair();
	REQUIRE(kp.ok());
	REQUIRE(transport::writeKeyPair(dir, name, *kp, true).ok());
	return *kp;
}

void writeFile(const std::string &path, const std::string &text)
{
	std::ofstream f(path);
	f << text;
}

// Raw TCP garbage: connections that write random bytes and close.
int tcpGarbage(int port, int connections, std::mt19937_64 &rng)
{
	int sent = 0;
	for (int i = 0; i < connections; i++) {
		int fd = ::socket(AF_INET, SOCK_STREAM, 0);
		sockaddr_in a{};
		a.sin_family = AF_INET;
		a.sin_port = htons(static_cast<uint16_t>(port));
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0) {
			std::string b(1 + rng() % 3000, '\0');
			for (auto &c : b)
				c = static_cast<char>(rng());
			if (i % 3 == 0)
				b[0] = static_cast<char>(0xff); // looks like the start of a ZMTP greeting
			sent += ::write(fd, b.data(), b.size()) > 0;
		}
		::close(fd);
	}
	return sent;
}

// A stand-in controller for agent `id`: the real ROUTER side of the protocol on 127.0.0.1:port, driven by the test,
// and the agent, configured to reach it (`extraYaml` added to its config), stopped when this goes.
struct StandIn {
	zmq::context_t ctx{1};
	zmq::socket_t router{ctx, zmq::socket_type::router};
	pid_t agent = -1;

	StandIn(const std::string &d, const std::string &id, int port, const std::string &extraYaml = "")
	{
		auto ctlKey = keyIn(d, "controller");
		keyIn(d, id);
		transport::applyCommon(router, transport::serverOptions());
		router.set(zmq::sockopt::router_mandatory, 1);
		transport::makeCurveServer(router, ctlKey.secretKey);
		router.bind(fmt::format("tcp://127.0.0.1:{}", port));
		writeFile(d + "/" + id + ".yaml",
			  fmt::format("id: {}\ndc: dc1\ncontroller: tcp://127.0.0.1:{}\ncontroller_key: {}/controller.pub\n"
				      "key: {}/{}.key\nstate_dir: {}\n{}log:\n  file: {}/{}.log\n",
				      id, port, d, d, id, d, extraYaml, d, id));
		auto pid = sys::spawn({agentBin(), "--config", d + "/" + id + ".yaml"});
		REQUIRE(pid.ok());
		agent = *pid;
	}
	~StandIn()
	{
		if (agent > 0)
			(void)sys::stopProcess(agent, std::nullopt, std::chrono::milliseconds(3000));
	}
	StandIn(const StandIn &) = delete;
	StandIn &operator=(const StandIn &) = delete;
};

} // namespace

TEST_CASE("controller: 10,000 malformed frames from an allowed key and raw TCP garbage")
{
	TempDir tmp;
	const std::string d = tmp.path();
	keyIn(d, "controller");
	auto peerKey = keyIn(d, "peer");
	auto agentKey = keyIn(d, "a1");
	writeFile(d + "/allow", "peer " + peerKey.publicKey + "\na1 " + agentKey.publicKey + "\n");
	::chmod((d + "/allow").c_str(), 0600);
	const std::string ctl = d + "/ctl.sock";
	auto cpid = sys::spawn({xdcBin(), "controller", "--listen", "tcp://127.0.0.1:17700", "--control", ctl, "--key",
				d + "/controller.key", "--allow", d + "/allow", "--max-frame", std::to_string(kMaxFrame),
				"--log-file", d + "/controller.log"});
	REQUIRE(cpid.ok());
	struct Stop {
		pid_t p;
		~Stop() { (void)sys::stopProcess(p, std::nullopt, std::chrono::milliseconds(3000)); }
	} stopController{*cpid};
	REQUIRE(waitUntil([&] { return !controllerStats(ctl).empty(); }, 10s));
	auto apid = sys::spawn({agentBin(), "--controller", "tcp://127.0.0.1:17700", "--controller-key",
				d + "/controller.pub", "--key", d + "/a1.key", "--id", "a1", "--dc", "dc1", "--state-dir",
				d, "--log-file", d + "/a1.log"});
	REQUIRE(apid.ok());
	struct StopA {
		pid_t p;
		~StopA() { (void)sys::stopProcess(p, std::nullopt, std::chrono::milliseconds(3000)); }
	} stopAgent{*apid};
	REQUIRE(waitUntil([&] { return pingAgent(ctl, "a1"); }, 10s));
	checkControlAbuse(ctl);

	// The abusive peer: a DEALER with an allowed key that registers properly first.
	zmq::context_t ctx(1);
	zmq::socket_t peer(ctx, zmq::socket_type::dealer);
	transport::SocketOptions so;
	transport::applyCommon(peer, so);
	transport::makeCurveClient(peer, peerKey.publicKey, peerKey.secretKey,
				   *transport::loadPublicKey(d + "/controller.pub"));
	peer.connect("tcp://127.0.0.1:17700");
	Hello hello;
	hello.agentId = "peer";
	hello.dc = "dc9";
	(void)peer.send(zmq::buffer(encode(hello, hdr(MsgType::Hello, "peer"))), zmq::send_flags::none);
	zmq::message_t m;
	peer.set(zmq::sockopt::rcvtimeo, 5000);
	REQUIRE(peer.recv(m));
	auto fr = decodeFrame({static_cast<const uint8_t *>(m.data()), m.size()});
	REQUIRE(fr.ok());
	REQUIRE(fr.frame().header.type == MsgType::Welcome);
	REQUIRE(decodeBody<Welcome>(fr.frame().body)->accepted);

	const json before = controllerStats(ctl)["drops"];
	Garbage g(42);
	const Plan plan = {{Drop::BadMagic, 2500}, {Drop::Truncated, 2000}, {Drop::Oversized, 500},
			   {Drop::BadVersion, 1500}, {Drop::UnknownType, 1500}, {Drop::BadBody, 1500},
			   {Drop::Malformed, 500}};
	int total = 0;
	for (const auto &[kind, n] : plan) {
		for (int i = 0; i < n; i++) {
			std::string f;
			switch (kind) {
			case Drop::BadMagic: f = g.random(); break;
			case Drop::Truncated: f = g.truncated(MsgType::Heartbeat); break;
			case Drop::Oversized: f = g.oversized(); break;
			case Drop::BadVersion: f = g.badVersion(); break;
			case Drop::UnknownType: f = g.unknownType(); break;
			case Drop::BadBody: f = g.badBody(MsgType::Heartbeat); break;
			default: f = g.trailing(); break;
			}
			REQUIRE(peer.send(zmq::buffer(f), zmq::send_flags::none));
			total++;
		}
	}
	CHECK(total == 10000);
	std::mt19937_64 rng(7);
	const int garbageConns = tcpGarbage(17700, 200, rng);
	CHECK(garbageConns == 200);

	json after;
	const bool counted = waitUntil([&] {
		after = controllerStats(ctl)["drops"];
		if (after.empty())
			return false;
		for (const auto &[kind, n] : plan)
			if (after[std::string(dropName(kind))].get<int>() - before[std::string(dropName(kind))].get<int>() != n)
				return false;
		return true;
	}, 20s);
	for (const auto &entry : plan) {
		const std::string k(dropName(entry.first));
		INFO(k);
		CHECK(after[k].get<int>() - before[k].get<int>() == entry.second);
	}
	CHECK(counted);
	// Still serving: the real agent answers through it, the abusive peer still gets heartbeat acks.
	CHECK(pingAgent(ctl, "a1"));
	Heartbeat hb;
	hb.seq = 99;
	(void)peer.send(zmq::buffer(encode(hb, hdr(MsgType::Heartbeat, "peer"))), zmq::send_flags::none);
	bool acked = false;
	for (int i = 0; i < 20 && !acked; i++) {
		zmq::message_t r;
		if (!peer.recv(r))
			break;
		auto f2 = decodeFrame({static_cast<const uint8_t *>(r.data()), r.size()});
		acked = f2.ok() && f2.frame().header.type == MsgType::HeartbeatAck &&
			decodeBody<HeartbeatAck>(f2.frame().body)->seq == 99;
	}
	CHECK(acked);
	CHECK(sys::processAlive(*cpid));
	CHECK(controllerStats(ctl)["transport"].contains("handshake_failed_protocol"));
}

TEST_CASE("agent: 10,000 malformed, replayed and expired frames from its controller's key")
{
	TempDir tmp;
	const std::string d = tmp.path();
	// A stand-in controller: the real ROUTER side of the protocol, driven by the test.
	StandIn standIn(d, "a2", 17701, "max_frame: " + std::to_string(kMaxFrame) + "\n");
	zmq::socket_t &router = standIn.router;

	std::string rid;
	Heartbeat lastHb;
	std::vector<CommandResult> results;
	auto send = [&](const std::string &bytes) {
		router.send(zmq::buffer(rid), zmq::send_flags::sndmore);
		return router.send(zmq::buffer(bytes), zmq::send_flags::none).has_value();
	};
	// Serves the agent for up to `ms`, until done() holds: welcome, heartbeat acks, results.
	auto serve = [&](const std::function<bool()> &done, int ms) {
		const int64_t deadline = clk::monoNs() + int64_t{ms} * clk::kMs;
		while (clk::monoNs() < deadline) {
			if (done())
				return true;
			zmq::pollitem_t it{router.handle(), 0, ZMQ_POLLIN, 0};
			zmq::poll(&it, 1, std::chrono::milliseconds(20));
			if (!(it.revents & ZMQ_POLLIN))
				continue;
			zmq::message_t id, data;
			(void)router.recv(id);
			(void)router.recv(data);
			auto f = decodeFrame({static_cast<const uint8_t *>(data.data()), data.size()});
			if (!f.ok())
				continue;
			rid = id.to_string();
			switch (f.frame().header.type) {
			case MsgType::Hello: {
				Welcome w;
				w.accepted = true;
				w.controllerId = "test";
				send(encode(w, hdr(MsgType::Welcome, "controller")));
				break;
			}
			case MsgType::Heartbeat:
				lastHb = *decodeBody<Heartbeat>(f.frame().body);
				send(encode(HeartbeatAck{lastHb.seq, "test", 5000}, hdr(MsgType::HeartbeatAck, "controller")));
				break;
			case MsgType::Result:
				results.push_back(*decodeBody<CommandResult>(f.frame().body));
				break;
			default:
				break;
			}
		}
		return done();
	};
	REQUIRE(serve([&] { return lastHb.seq >= 1; }, 10000));

	auto command = [&](uint64_t id, uint64_t nonce, int64_t notAfter) {
		Command c;
		c.id = id;
		c.nonce = nonce;
		c.notAfterNs = notAfter;
		c.name = "ping";
		c.args = packBytes(PingArgs{"hi"});
		return encode(c, hdr(MsgType::Command, "controller"));
	};
	// One valid command whose nonce is then replayed.
	REQUIRE(send(command(1, 777, clk::wallNs() + 10 * clk::kSec)));
	REQUIRE(serve([&] { return !results.empty(); }, 5000));
	CHECK(results[0].ok);

	Garbage g(99);
	const Plan plan = {{Drop::BadMagic, 2000}, {Drop::Truncated, 1500}, {Drop::Oversized, 500},
			   {Drop::BadVersion, 1000}, {Drop::UnknownType, 1000}, {Drop::BadBody, 1500},
			   {Drop::Malformed, 500}, {Drop::Replayed, 1000}, {Drop::Expired, 1000}};
	int total = 0;
	uint64_t id = 100;
	for (const auto &[kind, n] : plan) {
		for (int i = 0; i < n; i++) {
			std::string f;
			switch (kind) {
			case Drop::BadMagic: f = g.random(); break;
			case Drop::Truncated: f = g.truncated(MsgType::Command); break;
			case Drop::Oversized: f = g.oversized(); break;
			case Drop::BadVersion: f = g.badVersion(); break;
			case Drop::UnknownType: f = g.unknownType(); break;
			case Drop::BadBody: f = g.badBody(MsgType::Command); break;
			case Drop::Replayed: f = command(++id, 777, clk::wallNs() + 10 * clk::kSec); break;
			case Drop::Expired: id++; f = command(id, 5000 + id, clk::wallNs() - clk::kSec); break;
			default: f = g.trailing(); break;
			}
			REQUIRE(send(f));
			total++;
		}
		// Keep the agent's heartbeats answered while flooding.
		serve([] { return false; }, 1);
	}
	CHECK(total == 10000);
	auto matches = [&] {
		for (const auto &[kind, n] : plan) {
			auto it = lastHb.drops.find(std::string(dropName(kind)));
			if (it == lastHb.drops.end() || it->second != static_cast<uint64_t>(n))
				return false;
		}
		return true;
	};
	CHECK(serve(matches, 15000));
	for (const auto &entry : plan) {
		const std::string k(dropName(entry.first));
		INFO(k);
		CHECK(lastHb.drops[k] == static_cast<uint64_t>(entry.second));
	}
	// Still serving: a fresh command is answered, and only it (no replay executed).
	const size_t before = results.size();
	REQUIRE(send(command(1'000'000, 424242, clk::wallNs() + 10 * clk::kSec)));
	CHECK(serve([&] { return results.size() > before; }, 5000));
	CHECK(results.size() == before + 1);
	CHECK(results.back().commandId == 1'000'000);
	CHECK(sys::processAlive(standIn.agent));
}

int main(int argc, char **argv)
{
	requireRoot();
	// Everything here talks over loopback inside a private network namespace made for this run.
	gNetns = "xdcpa" + std::to_string(::getpid());
	if (!sys::run({"ip", "netns", "add", gNetns}).ok() ||
	    !sys::run({"ip", "-n", gNetns, "link", "set", "lo", "up"}).ok()) {
		fprintf(stderr, "cannot create netns %s\n", gNetns.c_str());
		return 1;
	}
	int fd = ::open(("/run/netns/" + gNetns).c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
		fprintf(stderr, "cannot enter netns %s\n", gNetns.c_str());
		(void)sys::run({"ip", "netns", "del", gNetns});
		return 1;
	}
	::close(fd);
	doctest::Context ctx(argc, argv);
	int rc = ctx.run();
	(void)sys::run({"ip", "netns", "del", gNetns});
	return rc;
}

TEST_CASE("agent: a controller that takes the handshake but answers no hello is left for a new connection")
{
	// Neither end sends ZMTP PINGs (common/transport/socket.h): a connection that went dead after its handshake is
	// found by the agent itself, after three unanswered hellos (hello_retry 1 s), and it connects anew.
	TempDir tmp;
	const std::string d = tmp.path();
	StandIn standIn(d, "a3", 17702);
	zmq::socket_t &router = standIn.router;

	// Every hello, by the connection (routing id) it came on; none is answered.
	std::map<std::string, int> hellosBy;
	std::vector<std::string> order;
	const int64_t t0 = clk::monoNs();
	int64_t secondAt = 0;
	while (clk::monoNs() - t0 < 20 * clk::kSec && hellosBy.size() < 2) {
		zmq::pollitem_t it{router.handle(), 0, ZMQ_POLLIN, 0};
		zmq::poll(&it, 1, std::chrono::milliseconds(50));
		if (!(it.revents & ZMQ_POLLIN))
			continue;
		zmq::message_t id, data;
		(void)router.recv(id);
		(void)router.recv(data);
		auto f = decodeFrame({static_cast<const uint8_t *>(data.data()), data.size()});
		if (!f.ok() || f.frame().header.type != MsgType::Hello)
			continue;
		if (!hellosBy.count(id.to_string())) {
			order.push_back(id.to_string());
			if (order.size() == 2)
				secondAt = clk::monoNs();
		}
		hellosBy[id.to_string()]++;
	}
	REQUIRE(hellosBy.size() == 2);
	// The first connection carried the hello and its retries before the agent gave it up, not one hello.
	CHECK(hellosBy[order[0]] >= 3);
	CHECK(secondAt - t0 >= 3 * clk::kSec);
	CHECK(waitUntil([&] {
		std::ifstream f(d + "/a3.log");
		std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
		return all.find("no answer from the controller to 3 hellos") != std::string::npos;
	}, 5s));
}
