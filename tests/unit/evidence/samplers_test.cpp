// SPDX-License-Identifier: Apache-2.0
// The non-probe samplers: the host sampler on a fake /proc tree (values, CPU deltas, unreadable files), the process
// sampler on real child processes (count, pids, exited/started events with the window they fall in), and the command
// sampler with the agent's declared commands (success, failure, timeout, undeclared names).
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iterator>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "agent/evidence/sampler.h"
#include "common/clock.h"

using namespace xdc;
using namespace xdc::agent;
using namespace std::chrono_literals;

namespace {

// A temporary directory, removed at the end.
class Tmp {
public:
	Tmp()
	{
		char tmpl[] = "/tmp/xdc-unit-ev-XXXXXX";
		root_ = ::mkdtemp(tmpl);
	}
	~Tmp() { std::filesystem::remove_all(root_); }
	Tmp(const Tmp &) = delete;
	Tmp &operator=(const Tmp &) = delete;
	const std::string &path() const { return root_; }
	void write(const std::string &rel, const std::string &text) const
	{
		std::filesystem::create_directories(std::filesystem::path(root_ + "/" + rel).parent_path());
		std::ofstream(root_ + "/" + rel) << text;
	}

private:
	std::string root_;
};

evidence::SamplerSpec spec(const std::string &text)
{
	auto r = evidence::parseSamplerText(text, "<test>");
	REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
	return *r;
}

std::unique_ptr<Sampler> make(const std::string &text, const SamplerEnv &env)
{
	auto r = makeSampler(spec(text), env);
	REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
	return std::move(*r);
}

std::vector<proto::Sample> take(Sampler &s)
{
	std::vector<proto::Sample> out;
	s.sample(out);
	return out;
}

// Polls cond until it holds or the deadline passes (no fixed sleeps as synchronisation).
template <typename F> bool waitUntil(F cond, std::chrono::milliseconds timeout = 10s)
{
	const auto end = std::chrono::steady_clock::now() + timeout;
	while (std::chrono::steady_clock::now() < end) {
		if (cond())
			return true;
		std::this_thread::sleep_for(5ms);
	}
	return cond();
}

const char *kNetDev = "Inter-|   Receive                                                |  Transmit\n"
		      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo "
		      "colls carrier compressed\n"
		      "    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0"
		      "     0       0          0\n"
		      "  eth0: 5000000   4000    1    7    0     0          0         0  3000000   2000    0    3    0"
		      "     0       0          0\n";

void writeStat(const Tmp &t, uint64_t user, uint64_t system, uint64_t idle, uint64_t iowait)
{
	t.write("proc/stat", fmt::format("cpu  {} 0 {} {} {} 0 0 0 0 0\ncpu0 1 2 3 4 5 6 7 8 9 10\nintr 1 2 3\n", user,
					 system, idle, iowait));
}

} // namespace

TEST_CASE("host sampler: values from a fake /proc, CPU from the difference of two samples")
{
	Tmp t;
	writeStat(t, 100, 100, 700, 100);
	t.write("proc/meminfo", "MemTotal:        1000000 kB\nMemFree:          100000 kB\nMemAvailable:     250000 kB\n"
				"Buffers:            100 kB\n");
	t.write("proc/loadavg", "0.52 1.58 2.59 3/467 12345\n");
	t.write("net/dev", kNetDev);
	std::filesystem::create_directories(t.path() + "/disk");
	SamplerEnv env;
	env.proc.procRoot = t.path() + "/proc";
	env.netDevPath = t.path() + "/net/dev";
	auto s = make(fmt::format("{{kind: host, on: {{host: h}}, disks: [/, \"{}/disk\"]}}", t.path()), env);
	CHECK(s->spec().name == "host");

	const int64_t before = clk::wallNs();
	auto a = take(*s);
	REQUIRE(a.size() == 1);
	const auto &v = a[0].values;
	CHECK(a[0].kind == "host");
	CHECK(a[0].source == "host");
	CHECK(a[0].seq == 0);
	CHECK(a[0].wallNs >= before);
	CHECK(a[0].monoNs > 0);
	CHECK_MESSAGE(a[0].tags.count("error") == 0, a[0].tags["error"]);
	CHECK(v.count("cpu_percent") == 0); // no previous sample
	CHECK(v.at("mem_total_bytes") == 1000000.0 * 1024);
	CHECK(v.at("mem_available_bytes") == 250000.0 * 1024);
	CHECK(v.at("mem_used_percent") == doctest::Approx(75.0));
	CHECK(v.at("load1") == doctest::Approx(0.52));
	CHECK(v.at("load5") == doctest::Approx(1.58));
	CHECK(v.at("load15") == doctest::Approx(2.59));
	CHECK(v.at("net.eth0.rx_bytes") == 5000000);
	CHECK(v.at("net.eth0.rx_packets") == 4000);
	CHECK(v.at("net.eth0.rx_drops") == 7);
	CHECK(v.at("net.eth0.tx_bytes") == 3000000);
	CHECK(v.at("net.eth0.tx_packets") == 2000);
	CHECK(v.at("net.eth0.tx_drops") == 3);
	CHECK(v.at("net.lo.rx_bytes") == 1000);
	for (const std::string &d : {std::string("/"), t.path() + "/disk"}) {
		INFO(d);
		REQUIRE(v.count("disk." + d + ".total_bytes") == 1);
		CHECK(v.at("disk." + d + ".total_bytes") > 0);
		CHECK(v.at("disk." + d + ".free_bytes") <= v.at("disk." + d + ".total_bytes"));
		CHECK(v.at("disk." + d + ".used_percent") >= 0);
		CHECK(v.at("disk." + d + ".used_percent") <= 100);
	}

	// 1000 more ticks: 300 busy (user 200, system 100), 700 idle (idle 600, iowait 100) -> 30%.
	writeStat(t, 300, 200, 1300, 200);
	auto b = take(*s);
	REQUIRE(b.size() == 1);
	CHECK(b[0].values.at("cpu_percent") == doctest::Approx(30.0));
	CHECK(b[0].monoNs >= a[0].monoNs);
	// Nothing moved: no division by zero, no value.
	auto c = take(*s);
	CHECK(c[0].values.count("cpu_percent") == 0);
	writeStat(t, 300, 200, 1400, 200);
	CHECK(take(*s)[0].values.at("cpu_percent") == doctest::Approx(0.0));
}

TEST_CASE("host sampler: unreadable or garbled files and missing disks are an error tag, the rest still sampled")
{
	Tmp t;
	t.write("proc/stat", "garbage\n");
	t.write("proc/loadavg", "0.10 0.20 0.30 1/1 1\n");
	SamplerEnv env;
	env.proc.procRoot = t.path() + "/proc";
	env.netDevPath = t.path() + "/net/dev";
	auto s = make(fmt::format("{{kind: host, on: {{host: h}}, disks: [\"{}/nope\"]}}", t.path()), env);
	auto a = take(*s);
	REQUIRE(a.size() == 1);
	const std::string err = a[0].tags["error"];
	CHECK(err.find(t.path() + "/proc/stat: unexpected format") != std::string::npos);
	CHECK(err.find(t.path() + "/proc/meminfo: No such file or directory") != std::string::npos);
	CHECK(err.find(t.path() + "/net/dev: No such file") != std::string::npos);
	CHECK(err.find("statvfs " + t.path() + "/nope: No such file") != std::string::npos);
	CHECK(a[0].values.at("load15") == doctest::Approx(0.30));
	CHECK(a[0].values.count("mem_total_bytes") == 0);
}

TEST_CASE("host sampler: the real /proc of this machine")
{
	SamplerEnv env;
	auto s = make("{kind: host, on: {host: h}}", env);
	auto a = take(*s);
	REQUIRE(a.size() == 1);
	CHECK_MESSAGE(a[0].tags.count("error") == 0, a[0].tags["error"]);
	CHECK(a[0].values.at("mem_total_bytes") > 0);
	CHECK(a[0].values.count("net.lo.rx_bytes") == 1);
	CHECK(a[0].values.count("disk./.total_bytes") == 1);
	// The CPU share appears from the second sample on, once ticks have passed.
	std::vector<proto::Sample> b;
	CHECK(waitUntil([&] {
		b = take(*s);
		return b[0].values.count("cpu_percent") == 1;
	}));
	if (b[0].values.count("cpu_percent")) {
		CHECK(b[0].values.at("cpu_percent") >= 0);
		CHECK(b[0].values.at("cpu_percent") <= 100);
	}
}

namespace {

// A child `sleep` with a command line no other process has, started and reaped by the test.
class Child {
public:
	explicit Child(const std::string &arg)
	{
		pid_ = ::fork();
		REQUIRE(pid_ >= 0);
		if (pid_ == 0) {
			::execlp("sleep", "sleep", arg.c_str(), static_cast<char *>(nullptr));
			::_exit(127);
		}
	}
	~Child() { kill(); }
	Child(const Child &) = delete;
	Child &operator=(const Child &) = delete;
	pid_t pid() const { return pid_; }
	void kill()
	{
		if (pid_ <= 0)
			return;
		::kill(pid_, SIGKILL);
		int status = 0;
		while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
		}
		pid_ = -1;
	}

private:
	pid_t pid_ = -1;
};

std::string cmdlineOf(pid_t pid)
{
	std::ifstream f("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
	std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
	while (!text.empty() && text.back() == '\0')
		text.pop_back();
	std::replace(text.begin(), text.end(), '\0', ' ');
	return text;
}

const proto::Sample *findKind(const std::vector<proto::Sample> &v, const std::string &kind, size_t nth = 0)
{
	for (const auto &s : v)
		if (s.kind == kind && nth-- == 0)
			return &s;
	return nullptr;
}

} // namespace

TEST_CASE("process sampler: count and pids of real processes, and an event for each that exits or starts")
{
	// sleep takes fractional seconds: the argument is unique to this test run, so only our children match.
	const std::string arg = fmt::format("3600.{}{}", ::getpid(), 7);
	SamplerEnv env;
	env.proc.selfPid = ::getpid();
	env.proc.selfNetns = inodeOf("/proc/self/ns/net");
	REQUIRE(env.proc.selfNetns != 0);
	auto s = make(fmt::format("{{name: sleepers, kind: process, on: {{host: h}}, match: {{cmdline: \"^sleep {}$\"}}}}",
				  arg),
		      env);

	auto first = take(*s);
	REQUIRE(first.size() == 1);
	CHECK(first[0].kind == "process");
	CHECK(first[0].source == "sleepers");
	CHECK_MESSAGE(first[0].tags.count("error") == 0, first[0].tags["error"]);
	CHECK(first[0].values.at("count") == 0);
	CHECK(first[0].values.at("rss_bytes") == 0);
	CHECK(first[0].values.count("cpu_percent") == 0); // no previous sample
	CHECK(first[0].tags.at("pids").empty());
	CHECK(first[0].tags.at("match") == fmt::format("cmdline /^sleep {}$/", arg));

	auto one = std::make_unique<Child>(arg);
	const pid_t p1 = one->pid();
	// Wait for the exec (until then the child's command line is this test's).
	std::vector<proto::Sample> got;
	int64_t lastZeroWall = first[0].wallNs; // the newest sample that did not see the child yet
	REQUIRE(waitUntil([&] {
		got = take(*s);
		if (got[0].values.at("count") == 0)
			lastZeroWall = got[0].wallNs;
		return got[0].values.at("count") == 1;
	}));
	CHECK(got[0].tags.at("pids") == std::to_string(p1));
	CHECK(got[0].tags.at("states").size() == 1);
	CHECK(got[0].values.at("rss_bytes") > 0);
	CHECK(got[0].values.at("cpu_percent") >= 0);
	const auto *started = findKind(got, "process.event");
	REQUIRE(started != nullptr);
	CHECK(started->source == "sleepers");
	CHECK(started->tags.at("event") == "started");
	CHECK(started->tags.at("pid") == std::to_string(p1));
	CHECK(started->tags.at("comm") == "sleep");
	CHECK(started->tags.at("cmdline") == "sleep " + arg);
	CHECK(started->values.at("pid") == p1);
	// Seen by the end of the scan that found it: not before the scan began, not after it returned.
	CHECK(started->wallNs >= got[0].wallNs);
	CHECK(started->wallNs <= clk::wallNs());
	// The change lies in (prev_wall_ns, wallNs]: prev_wall_ns is the sample before, the last one without the child
	// (polls before the exec still saw this test's command line in the child).
	CHECK(started->values.at("prev_wall_ns") == static_cast<double>(lastZeroWall));
	CHECK(started->values.at("prev_wall_ns") < static_cast<double>(started->wallNs));

	// Steady state: no events.
	auto steady = take(*s);
	CHECK(steady.size() == 1);
	CHECK(steady[0].values.at("count") == 1);

	// Kill and reap it: an "exited" event, count back to 0.
	const int64_t prevWall = steady[0].wallNs;
	one->kill();
	auto after = take(*s);
	CHECK(after[0].values.at("count") == 0);
	const auto *exited = findKind(after, "process.event");
	REQUIRE(exited != nullptr);
	CHECK(exited->tags.at("event") == "exited");
	CHECK(exited->tags.at("pid") == std::to_string(p1));
	CHECK(exited->tags.at("cmdline") == "sleep " + arg);
	CHECK(exited->values.at("prev_wall_ns") == doctest::Approx(static_cast<double>(prevWall)).epsilon(1e-15));
	CHECK(findKind(after, "process.event", 1) == nullptr);

	// A relaunch between two samples: one "exited" then one "started", in that order.
	Child two(arg);
	REQUIRE(waitUntil([&] {
		got = take(*s);
		return got[0].values.at("count") == 1;
	}));
	CHECK(got[0].tags.at("pids") == std::to_string(two.pid()));
	REQUIRE(findKind(got, "process.event") != nullptr);
	CHECK(findKind(got, "process.event")->tags.at("event") == "started");
	Child three(arg);
	REQUIRE(waitUntil([&] {
		got = take(*s);
		return got[0].values.at("count") == 2;
	}));
	const pid_t p2 = two.pid();
	two.kill();
	Child four(arg);
	// Only after the new one runs `sleep` is the next sample taken, so both changes land in that one sample.
	REQUIRE(waitUntil([&] { return cmdlineOf(four.pid()) == "sleep " + arg; }));
	got = take(*s);
	CHECK(got[0].tags.at("pids").find(std::to_string(four.pid())) != std::string::npos);
	CHECK(got[0].values.at("count") == 2);
	REQUIRE(got.size() == 3);
	CHECK(got[1].tags.at("event") == "exited");
	CHECK(got[1].tags.at("pid") == std::to_string(p2));
	CHECK(got[2].tags.at("event") == "started");
	CHECK(got[2].tags.at("pid") == std::to_string(four.pid()));
}

TEST_CASE("process sampler: a busy process shows its CPU share")
{
	// A forked copy of this test that spins, named by a pidfile (its command line is this binary's).
	Tmp t;
	pid_t pid = ::fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		volatile unsigned long spins = 0;
		for (;;)
			spins = spins + 1;
	}
	t.write("busy.pid", std::to_string(pid) + "\n");
	SamplerEnv env;
	env.proc.selfPid = ::getpid();
	env.proc.selfNetns = inodeOf("/proc/self/ns/net");
	auto s = make(fmt::format("{{kind: process, on: {{host: h}}, match: {{pidfile: \"{}/busy.pid\"}}}}", t.path()),
		      env);
	std::vector<proto::Sample> got;
	bool sawBusy = waitUntil([&] {
		got = take(*s);
		return got[0].values.count("count") && got[0].values.at("count") == 1 &&
		       got[0].values.count("cpu_percent") && got[0].values.at("cpu_percent") > 10;
	});
	::kill(pid, SIGKILL);
	::waitpid(pid, nullptr, 0);
	CHECK_MESSAGE(sawBusy, got[0].tags["error"]);
	if (got[0].values.count("cpu_percent"))
		CHECK(got[0].values.at("cpu_percent") <= 200);
}

TEST_CASE("process sampler: a match the matcher refuses is an error sample without events")
{
	Tmp t;
	SamplerEnv env;
	env.proc.selfPid = ::getpid();
	auto s = make(fmt::format("{{kind: process, on: {{host: h}}, match: {{pidfile: \"{}/none.pid\"}}}}", t.path()),
		      env);
	auto a = take(*s);
	REQUIRE(a.size() == 1);
	CHECK(a[0].values.count("count") == 0);
	CHECK(a[0].tags.at("error").find("match.pidfile: cannot read") != std::string::npos);
}

TEST_CASE("command sampler: declared commands, exit codes, output, timeout")
{
	SamplerEnv env;
	env.commands["yes"] = CommandDef{{"/bin/echo", "hello", "world"}, 5000ms};
	env.commands["no"] = CommandDef{{"/bin/false"}, 5000ms};
	env.commands["true"] = CommandDef{{"true"}, 5000ms};
	env.commands["hang"] = CommandDef{{"sleep", "30"}, 5000ms};
	env.commands["tight"] = CommandDef{{"sleep", "30"}, 150ms};
	env.commands["missing"] = CommandDef{{"/nonexistent/xdc-check"}, 5000ms};

	auto ok = take(*make("{kind: command, on: {host: h}, command: yes}", env));
	REQUIRE(ok.size() == 1);
	CHECK(ok[0].kind == "command");
	CHECK(ok[0].source == "command:yes");
	CHECK(ok[0].values.at("ok") == 1);
	CHECK(ok[0].values.at("exit_code") == 0);
	CHECK(ok[0].values.at("duration_ms") >= 0);
	CHECK(ok[0].tags.at("command") == "yes");
	CHECK(ok[0].tags.at("output") == "hello world");
	CHECK(ok[0].tags.at("error").empty());
	CHECK(take(*make("{kind: command, on: {host: h}, command: true}", env))[0].values.at("ok") == 1);

	auto no = take(*make("{kind: command, on: {host: h}, command: no}", env));
	CHECK(no[0].values.at("ok") == 0);
	CHECK(no[0].values.at("exit_code") == 1);
	CHECK(no[0].tags.at("error") == "exit 1");

	// The spec's timeout (1s, its interval) ends a hanging command; it comes back promptly.
	const auto t0 = std::chrono::steady_clock::now();
	auto hang = take(*make("{kind: command, on: {host: h}, command: hang, interval: 1s}", env));
	const auto took = std::chrono::steady_clock::now() - t0;
	CHECK(took < 4s);
	CHECK(hang[0].values.at("ok") == 0);
	CHECK(hang[0].values.at("exit_code") == -1);
	CHECK(hang[0].tags.at("error") == "timeout after 1000 ms");
	CHECK(hang[0].values.at("duration_ms") >= 1000);
	// The agent's own, tighter timeout for the command wins over the spec's.
	auto tight = take(*make("{kind: command, on: {host: h}, command: tight, interval: 10s}", env));
	CHECK(tight[0].tags.at("error") == "timeout after 150 ms");
	CHECK(tight[0].values.at("duration_ms") < 3000);

	auto missing = take(*make("{kind: command, on: {host: h}, command: missing}", env));
	CHECK(missing[0].values.at("ok") == 0);
	CHECK(missing[0].tags.at("error").find("cannot run '/nonexistent/xdc-check'") != std::string::npos);

	// A name the agent's config does not declare is refused when the sampler is built.
	auto undeclared = makeSampler(spec("{kind: command, on: {host: h}, command: reboot}"), env);
	REQUIRE(!undeclared.ok());
	CHECK(undeclared.error().code == Errc::Refused);
	CHECK(undeclared.error().message.find("'reboot' is not declared") != std::string::npos);
	CHECK(undeclared.error().message.find("hang, missing, no, tight, true, yes") != std::string::npos);
}
