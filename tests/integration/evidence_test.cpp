// SPDX-License-Identifier: Apache-2.0
// Evidence in a real 2x2 lab, through `xdc record` and the bundle it writes: a 100 Hz TCP probe over a 3 s reject
// partition finds the outage where the verified fault records say it was (also with a 250 ms skewed agent clock);
// samples taken while the management path to dc2 is cut (10 s, and 30 s through the disk spool) all arrive, without
// a sequence gap; a relaunched process shows up as pid-change events at the kill's time; and the agent's cost while
// probing at 100 Hz stays within its budget.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "common/clock.h"
#include "controller/lab/topology.h"
#include "tests/support/harness.h"
#include "tests/support/netprobe.h"
#include "tests/support/victims.h"

using namespace xdc;
using namespace xdc::test;
using nlohmann::json;

namespace {

LabFixture *gLab = nullptr;

LabFixture &theLab()
{
	REQUIRE(gLab != nullptr);
	REQUIRE(gLab->up());
	return *gLab;
}

constexpr int64_t kMs = 1000000;

// `xdc record ... --json` running in the background; joined in the destructor whatever happens.
class RecordRun {
public:
	RecordRun(const LabFixture &lab, std::vector<std::string> args, std::string out) : out_(std::move(out))
	{
		args.insert(args.begin(), "record");
		for (const auto &a : {"--out", out_.c_str(), "--json", "--lab", lab.name().c_str()})
			args.push_back(a);
		thread_ = std::thread([this, args] { result_ = test::xdc(args, 240s); });
	}
	~RecordRun()
	{
		if (thread_.joinable())
			thread_.join();
	}
	RecordRun(const RecordRun &) = delete;
	RecordRun &operator=(const RecordRun &) = delete;
	// Samples of host received so far (the controller appends them to the raw file as they arrive).
	size_t received(const std::string &host) const
	{
		std::ifstream f(out_ + "/hosts/" + host + "/raw.jsonl");
		return static_cast<size_t>(std::count(std::istreambuf_iterator<char>(f), {}, '\n'));
	}
	json finish(int expectExit = 0)
	{
		thread_.join();
		INFO(result_.out << result_.err);
		CHECK(result_.exitCode == expectExit);
		auto j = json::parse(result_.out, nullptr, false);
		REQUIRE(!j.is_discarded());
		REQUIRE(j.value("ok", false));
		return j["meta"];
	}

private:
	std::string out_;
	std::thread thread_;
	sys::RunOutput result_;
};

std::vector<json> readLines(const std::string &path)
{
	std::vector<json> out;
	std::ifstream f(path);
	std::string line;
	while (std::getline(f, line))
		out.push_back(json::parse(line));
	return out;
}

json hostMeta(const json &meta, const std::string &host)
{
	for (const auto &h : meta["hosts"])
		if (h["host"] == host)
			return h;
	FAIL("no host " << host << " in the bundle");
	return {};
}

json outagesOf(const json &meta, const std::string &host, const std::string &source)
{
	for (const auto &o : meta["outages"])
		if (o["host"] == host && o["source"] == source)
			return o["outages"];
	return json::array();
}

json applyFault(const std::string &spec)
{
	auto r = test::xdc({"fault", "apply", spec, "--json", "--lab", theLab().name()});
	INFO(spec << " -> " << r.out << r.err);
	REQUIRE(r.exitCode == 0);
	return json::parse(r.out);
}

std::string probe(const std::string &name, const std::string &from, const std::string &to)
{
	return fmt::format("{{kind: probe.tcp, name: {}, on: {{host: {}}}, target: '{}:{}', rate: 100hz, timeout: 10ms}}",
			   name, from, to, kPort);
}

// The partition acceptance, on whatever lab is given (plain or with a skewed dc2-h1 clock).
void partitionOutageMatchesFaultRecords(const LabFixture &lab, int64_t skewMs)
{
	auto st = lab.state();
	Listener l11(lab.netns("dc1-h1")), l21(lab.netns("dc2-h1"));
	REQUIRE(waitUntil([&] { return tcpConnect(lab.netns("dc1-h1"), st.hosts[2].data4); }, 3s));
	REQUIRE(waitUntil([&] { return tcpConnect(lab.netns("dc2-h1"), st.hosts[0].data4); }, 3s));
	TempDir dir;
	RecordRun rec(lab, {"--probe", probe("p12", "dc1-h1", "dc2-h1"), "--probe", probe("p21", "dc2-h1", "dc1-h1"),
			    "--for", "8s"}, dir.path() + "/b");
	REQUIRE(waitUntil([&] { return rec.received("dc1-h1") >= 100 && rec.received("dc2-h1") >= 100; }, 10s));
	auto r = test::xdc({"fault", "apply",
			    "{kind: network.partition, targets: {host: dc1-h1}, peers: {host: dc2-h1}, duration: 3s, "
			    "action: reject}", "--json", "--lab", lab.name()});
	REQUIRE_MESSAGE(r.exitCode == 0, r.out << r.err);
	const json meta = rec.finish();
	CHECK(meta["complete"] == true);
	CHECK(meta["gaps"].empty());

	// The partition as its fault records tell it, on the controller's timeline: in effect from the first side's
	// verified effective time, gone at the last side's verified revert (reverted_ns: when the rules were deleted,
	// before the read-back that verified it; the read-back alone takes tens of ms on a loaded machine).
	// The partition's set elements expire in the kernel at the fault's end: when the agent's own revert comes a few
	// ms late (a busy host), the kernel has already ended the fault, so a side's end is the earlier of the two.
	int64_t applied = INT64_MAX, reverted = 0, rawApplied21 = 0, mappedApplied21 = 0;
	for (const std::string host : {"dc1-h1", "dc2-h1"}) {
		bool sawApply = false, sawRevert = false;
		int64_t expires = INT64_MAX, end = 0;
		for (const auto &f : readLines(dir.path() + "/b/hosts/" + host + "/faults.jsonl")) {
			if (f["tags"]["event"] == "applied") {
				sawApply = true;
				applied = std::min<int64_t>(applied, f["times"]["applied_ns"]);
				CHECK(f["tags"]["mechanism"].get<std::string>().find("expire in the kernel") != std::string::npos);
				expires = f["times"]["expires_ns"];
				CHECK(f["tags"]["readback"].get<std::string>().find("reject") != std::string::npos);
				if (host == "dc2-h1") {
					rawApplied21 = static_cast<int64_t>(f["values"]["applied_ns"].get<double>());
					mappedApplied21 = f["times"]["applied_ns"];
				}
			} else if (f["tags"]["event"] == "reverted") {
				sawRevert = true;
				end = f["times"]["reverted_ns"];
				CHECK(f["times"]["reverted_ns"].get<int64_t>() <= f["times"]["verified_ns"].get<int64_t>());
			}
		}
		reverted = std::max(reverted, std::min(end, expires));
		CHECK_MESSAGE(sawApply, host);
		CHECK_MESSAGE(sawRevert, host);
	}
	REQUIRE(applied < reverted);
	// The skew is real, and it is corrected: the agent's own clock is skewMs off the mapped time.
	CHECK(std::llabs(rawApplied21 - mappedApplied21 - skewMs * kMs) < 20 * kMs);
	int64_t bound = 0;
	for (const std::string host : {"dc1-h1", "dc2-h1"})
		bound = std::max<int64_t>(bound, hostMeta(meta, host).value("max_clock_bound_ns", int64_t{0}));
	const int64_t tol = 10 * kMs + bound + 5 * kMs;
	MESSAGE("clock bound " << bound / 1e6 << " ms, tolerance " << tol / 1e6 << " ms");
	for (const auto &hs : {std::pair<std::string, std::string>{"dc1-h1", "p12"}, {"dc2-h1", "p21"}}) {
		const std::string source = hs.second;
		const json all = outagesOf(meta, hs.first, source);
		INFO(hs.first << " " << source << ": " << all.dump());
		// The partition's outage is hundreds of failed attempts; on a loaded machine a lone 10 ms timeout
		// elsewhere is possible and is reported, but is not this outage.
		json outs = json::array();
		for (const auto &o : all)
			if (o["failed"].get<int>() >= 5)
				outs.push_back(o);
		if (all.size() != outs.size())
			MESSAGE(source << ": " << all.size() - outs.size() << " short outage(s) besides the partition");
		REQUIRE(outs.size() == 1);
		const json &o = outs[0];
		CHECK(o["open"] == false);
		const int64_t start = o["start_ns"], end = o["end_ns"];
		MESSAGE(source << ": outage starts " << (start - applied) / 1e6 << " ms after the verified effective "
			       "time, ends " << (end - reverted) / 1e6 << " ms after the verified revert");
		CHECK(std::llabs(start - applied) <= tol);
		CHECK(std::llabs(end - reverted) <= tol);
		CHECK(o["first_error"] != "");
	}
}

// Samples of host whose time falls in [from, to) on the controller's timeline, per sampler.
std::map<std::string, int> countIn(const std::string &bundle, const std::string &host, int64_t from, int64_t to)
{
	std::map<std::string, int> n;
	for (const auto &e : readLines(bundle + "/hosts/" + host + "/samples.jsonl")) {
		const int64_t t = e["t_ns"];
		if (e["kind"] != "fault" && t >= from && t < to)
			n[e["source"]]++;
	}
	return n;
}

// Every sequence number 1..last_seq of host is in its samples.
void checkNoSeqGap(const json &meta, const std::string &bundle, const std::string &host)
{
	std::set<uint64_t> seqs;
	for (const auto &e : readLines(bundle + "/hosts/" + host + "/samples.jsonl"))
		seqs.insert(e["seq"].get<uint64_t>());
	const uint64_t last = hostMeta(meta, host)["last_seq"];
	CHECK(last > 0);
	CHECK(seqs.size() == last);
	CHECK((!seqs.empty() && *seqs.begin() == 1 && *seqs.rbegin() == last));
}

void managementCut(std::chrono::seconds cut, uint64_t memorySamples)
{
	LabFixture &lab = theLab();
	auto st = lab.state();
	Listener l22(lab.netns("dc2-h2")), l12(lab.netns("dc1-h2"));
	REQUIRE(waitUntil([&] { return tcpConnect(lab.netns("dc2-h1"), st.hosts[3].data4); }, 3s));
	TempDir dir;
	const std::string bundle = dir.path() + "/b";
	std::vector<std::string> args = {
		"--probe", probe("p22", "dc2-h1", "dc2-h2"),
		"--probe", probe("p12", "dc1-h1", "dc1-h2"),
		"--sample", "{kind: host, name: h, on: {dc: dc2}, interval: 100ms}",
		"--for", std::to_string(cut.count() + 12) + "s", "--drain", "60s"};
	if (memorySamples) {
		args.push_back("--memory-samples");
		args.push_back(std::to_string(memorySamples));
	}
	RecordRun rec(lab, args, bundle);
	REQUIRE(waitUntil([&] { return rec.received("dc2-h1") >= 200 && rec.received("dc2-h2") >= 10; }, 10s));
	// Cut dc2's management links from outside the agents: their bridge ports in the lab's management namespace.
	const std::string mgmt = lab::mgmtNetns(lab.name());
	struct Relink {
		std::string ns;
		~Relink()
		{
			for (const char *h : {"dc2-h1", "dc2-h2"})
				(void)sys::run({"ip", "-n", ns, "link", "set", h, "up"});
		}
	} relink{mgmt};
	const int64_t cutStart = clk::wallNs();
	for (const char *h : {"dc2-h1", "dc2-h2"})
		REQUIRE(sys::run({"ip", "-n", mgmt, "link", "set", h, "down"})->ok());
	// The controller notices (the lost state is the proof the cut works), and the cut lasts its full length.
	CHECK(waitUntil([&] { return lab.agentState("dc2-h1") == "lost"; }, cut));
	const auto cutEndMono = std::chrono::steady_clock::now() + cut - std::chrono::nanoseconds(clk::wallNs() - cutStart);
	waitUntil([&] { return std::chrono::steady_clock::now() >= cutEndMono; }, cut + 1s, 5ms);
	const int64_t cutEnd = clk::wallNs();
	for (const char *h : {"dc2-h1", "dc2-h2"})
		REQUIRE(sys::run({"ip", "-n", mgmt, "link", "set", h, "up"})->ok());
	const json meta = rec.finish();
	CHECK(meta["complete"] == true);
	CHECK(meta["gaps"].empty());
	const double secs = static_cast<double>(cutEnd - cutStart) / 1e9;
	for (const std::string host : {"dc2-h1", "dc2-h2"}) {
		checkNoSeqGap(meta, bundle, host);
		auto n = countIn(bundle, host, cutStart, cutEnd);
		const json hm = hostMeta(meta, host);
		INFO(host << " " << hm.dump());
		// rate x window +- 1. A slot the sampler could not keep (descheduled longer than the interval on a busy
		// 2-vCPU VM) is never taken, so it is not a lost sample; the agent counts them (missed_slots) and they widen
		// the lower bound only. Delivery losses would show as sequence gaps, checked above.
		auto missed = [&](const char *s) {
			return static_cast<double>(hm["samplers"][s].value("missed_slots", uint64_t{0}));
		};
		if (host == "dc2-h1") {
			CHECK(n["p22"] <= 100.0 * secs + 1.5);
			CHECK(n["p22"] >= 100.0 * secs - 1.5 - missed("p22"));
		}
		CHECK(n["h"] <= 10.0 * secs + 1.5);
		CHECK(n["h"] >= 10.0 * secs - 1.5 - missed("h"));
		if (memorySamples && host == "dc2-h1")
			CHECK(hm["spilled"].get<uint64_t>() > 0);
	}
	checkNoSeqGap(meta, bundle, "dc1-h1");
}

// CPU time (utime + stime, in clock ticks) of a process.
int64_t cpuTicks(int pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
	std::string line;
	std::getline(f, line);
	std::istringstream in(line.substr(line.rfind(')') + 2));
	std::string w;
	int64_t ut = 0, stt = 0;
	for (int i = 3; in >> w; i++) {
		if (i == 14)
			ut = std::stoll(w);
		if (i == 15) {
			stt = std::stoll(w);
			break;
		}
	}
	return ut + stt;
}

uint64_t statusKb(int pid, const std::string &key)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/status");
	std::string line;
	while (std::getline(f, line))
		if (line.rfind(key + ":", 0) == 0)
			return std::stoull(line.substr(key.size() + 1));
	return 0;
}

uint64_t rssBytes(int pid) { return statusKb(pid, "VmRSS") * 1024; }

// The machine's idle and stolen time (the "cpu" line of /proc/stat, clock ticks summed over all CPUs), to print how
// busy the machine was beside the agent's figure, which explains a bad one. Busy time is the window minus idle: the
// per-state busy counters are tick samples, which miss short bursts on a tickless kernel; idle time is measured.
struct MachineTicks {
	int64_t idle = 0, steal = 0;
};

MachineTicks machineTicks()
{
	std::ifstream f("/proc/stat");
	std::string cpu;
	int64_t v[8] = {};
	f >> cpu;
	for (auto &x : v)
		f >> x;
	// user nice system idle iowait irq softirq steal
	return {v[3] + v[4], v[7]};
}

} // namespace

TEST_CASE("a 100 Hz TCP probe over a 3 s reject partition finds the outage at the verified fault times")
{
	partitionOutageMatchesFaultRecords(theLab(), 0);
}

TEST_CASE("the same with dc2-h1's clock 250 ms ahead: corrected times still within tolerance")
{
	LabFixture skewed("evs", {"--skew", "dc2-h1=+250"});
	REQUIRE(skewed.up());
	partitionOutageMatchesFaultRecords(skewed, 250);
}

TEST_CASE("10 s management cut to dc2: every sample of the window arrives, no sequence gap")
{
	managementCut(10s, 0);
}

TEST_CASE("30 s management cut with a 5 s memory buffer: spilled to the disk spool, nothing lost")
{
	// 5 s of the busiest sampler (100 Hz) plus the host sampler.
	managementCut(30s, 550);
}

TEST_CASE("a relaunched process appears as pid-change events at the kill's time")
{
	LabFixture &lab = theLab();
	VictimBinary bin("xev");
	Supervisor sup(bin, lab.netns("dc1-h1"));
	REQUIRE(waitUntil([&] { return sup.current() > 0; }, 2s));
	const pid_t first = sup.current();
	TempDir dir;
	const std::string bundle = dir.path() + "/b";
	RecordRun rec(lab, {"--sample", "{kind: process, name: pe, on: {host: dc1-h1}, match: {name: " + bin.name() +
					     "}, interval: 100ms}", "--for", "5s"}, bundle);
	REQUIRE(waitUntil([&] { return rec.received("dc1-h1") >= 5; }, 10s));
	applyFault("{kind: process.kill, targets: {host: dc1-h1}, match: {name: " + bin.name() + "}, duration: 2s}");
	REQUIRE(waitUntil([&] { return sup.current() != first && sup.current() > 0; }, 3s));
	const pid_t second = sup.current();
	const json meta = rec.finish();
	CHECK(meta["complete"] == true);
	int64_t killed = 0;
	for (const auto &f : readLines(bundle + "/hosts/dc1-h1/faults.jsonl"))
		if (f["tags"]["event"] == "applied")
			killed = f["times"]["applied_ns"];
	REQUIRE(killed > 0);
	const int64_t bound = hostMeta(meta, "dc1-h1").value("max_clock_bound_ns", int64_t{0});
	bool exited = false, started = false;
	for (const auto &e : readLines(bundle + "/hosts/dc1-h1/samples.jsonl")) {
		if (e["kind"] != "process.event")
			continue;
		INFO(e.dump());
		const int64_t t = e["t_ns"];
		const std::string ev = e["tags"]["event"], pid = e["tags"]["pid"];
		// Seen by the first scan after the change: at its end, within one interval after the kill (plus the bound
		// and the scan's own few milliseconds). Never before the kill: the event carries the scan's end.
		if (ev == "exited" && pid == std::to_string(first)) {
			exited = true;
			CHECK(t >= killed - bound);
			CHECK(t <= killed + 100 * kMs + bound + 20 * kMs);
		}
		if (ev == "started" && pid == std::to_string(second)) {
			started = true;
			CHECK(t >= killed - bound);
			CHECK(t <= killed + 100 * kMs + bound + 50 * kMs);
		}
	}
	CHECK(exited);
	CHECK(started);
	// The regular samples count the process throughout (1 before and after, briefly 0 or 1 around the relaunch).
	int withOne = 0;
	for (const auto &e : readLines(bundle + "/hosts/dc1-h1/samples.jsonl"))
		if (e["kind"] == "process" && e["values"]["count"] == 1.0)
			withOne++;
	CHECK(withOne >= 40);
}

TEST_CASE("60 s of a 100 Hz probe and 1 Hz host sampling: agent CPU <= 3 % of a core and RSS <= 16 MiB")
{
	LabFixture &lab = theLab();
	auto st = lab.state();
	Listener l21(lab.netns("dc2-h1"));
	REQUIRE(waitUntil([&] { return tcpConnect(lab.netns("dc1-h1"), st.hosts[2].data4); }, 3s));
	const int pid = lab.agentPid("dc1-h1");
	REQUIRE(pid > 0);
	TempDir dir;
	RecordRun rec(lab, {"--probe", probe("p", "dc1-h1", "dc2-h1"), "--sample",
			    "{kind: host, name: h, on: {host: dc1-h1}, interval: 1s}", "--for", "62s"},
		      dir.path() + "/b");
	REQUIRE(waitUntil([&] { return rec.received("dc1-h1") >= 50; }, 10s));
	const int64_t t0 = clk::monoNs(), c0 = cpuTicks(pid);
	const MachineTicks m0 = machineTicks();
	uint64_t maxRss = 0;
	// Sampled once a second for 60 s (the measurement window itself, not a synchronisation).
	waitUntil([&] {
		maxRss = std::max(maxRss, rssBytes(pid));
		return clk::monoNs() - t0 >= 60 * clk::kSec;
	}, 65s, 1000ms);
	const int64_t c1 = cpuTicks(pid), t1 = clk::monoNs();
	const MachineTicks m1 = machineTicks();
	const double cpuPct = 100.0 * (static_cast<double>(c1 - c0) / static_cast<double>(sysconf(_SC_CLK_TCK))) /
			      (static_cast<double>(t1 - t0) / 1e9);
	const double all = static_cast<double>(sysconf(_SC_CLK_TCK)) * static_cast<double>(sysconf(_SC_NPROCESSORS_ONLN)) *
			   (static_cast<double>(t1 - t0) / 1e9);
	MESSAGE("agent CPU " << cpuPct << " % of a core, max RSS " << maxRss / 1048576.0 << " MiB (now anon "
		<< statusKb(pid, "RssAnon") << " kB, file " << statusKb(pid, "RssFile") << " kB, "
		<< statusKb(pid, "Threads") << " threads); machine over the window: busy "
		<< 100.0 * (1.0 - static_cast<double>(m1.idle - m0.idle) / all) << " %, stolen "
		<< 100.0 * static_cast<double>(m1.steal - m0.steal) / all << " % of all CPUs");
	const json meta = rec.finish();
	CHECK(meta["complete"] == true);
	// The figure. The lab's WAN receives in NAPI threads (controller/lab/topology.cpp), so the router's and
	// the probed host's packet work is theirs, not the probing agent's, as on a real network.
	CHECK(cpuPct <= 3.0);
	CHECK(maxRss <= 16u << 20);
	CHECK(maxRss > 0);
}

int main(int argc, char **argv)
{
	requireRoot();
	doctest::Context ctx(argc, argv);
	// One lab for the cases that need no skew (bringing one up is the slow part); taken down when main returns.
	LabFixture fixture("ev");
	gLab = &fixture;
	const int rc = ctx.run();
	gLab = nullptr;
	return rc;
}
