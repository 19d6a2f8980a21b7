// SPDX-License-Identifier: Apache-2.0
// The process matcher on a fake /proc tree: what each kind of match selects, the network-namespace fence, the
// processes that are never signalled, the messages that refuse PID 1 and oversized matches, and counts.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "agent/faults/process_match.h"

using namespace xdc;
using namespace xdc::agent;

namespace {

constexpr unsigned kPfKthread = 0x00200000;

// A fake /proc (and /sys/fs/cgroup) in a temporary directory, removed at the end.
class FakeProc {
public:
	FakeProc()
	{
		char tmpl[] = "/tmp/xdc-unit-proc-XXXXXX";
		root_ = ::mkdtemp(tmpl);
		std::filesystem::create_directories(proc());
		std::filesystem::create_directories(cgroup());
		// Two "network namespaces": two files whose inodes stand for the nsfs inodes.
		std::ofstream(root_ + "/netA") << "A";
		std::ofstream(root_ + "/netB") << "B";
	}
	~FakeProc() { std::filesystem::remove_all(root_); }
	FakeProc(const FakeProc &) = delete;
	FakeProc &operator=(const FakeProc &) = delete;

	std::string proc() const { return root_ + "/proc"; }
	std::string cgroup() const { return root_ + "/cgroup"; }
	std::string path(const std::string &rel) const { return root_ + "/" + rel; }
	uint64_t netA() const { return inodeOf(root_ + "/netA"); }

	struct Proc {
		int pid;
		int ppid = 1;
		std::string comm;
		std::string argv; // arguments separated by '\0' (as in /proc/PID/cmdline); empty for kernel threads
		char state = 'S';
		unsigned flags = 0;
		std::string net = "A";
	};

	void add(const Proc &p)
	{
		const std::string dir = proc() + "/" + std::to_string(p.pid);
		std::filesystem::create_directories(dir + "/ns");
		// Fields 3.. of /proc/PID/stat; field 9 is flags, field 22 the start time (here 1000 + pid).
		std::ofstream(dir + "/stat") << p.pid << " (" << p.comm << ") " << p.state << " " << p.ppid << " " << p.pid
					     << " " << p.pid << " 0 -1 " << p.flags << " 0 0 0 0 0 0 0 0 20 0 1 0 "
					     << (1000 + p.pid) << " 1000 100 18446744073709551615\n";
		std::ofstream(dir + "/status") << "Name:\t" << p.comm << "\nState:\t" << p.state << "\nPPid:\t" << p.ppid
					       << "\n";
		std::ofstream(dir + "/comm") << p.comm << "\n";
		std::string cmd = p.argv.empty() ? std::string() : p.argv + std::string(1, '\0');
		std::ofstream(dir + "/cmdline", std::ios::binary) << cmd;
		std::filesystem::create_symlink(root_ + "/net" + p.net, dir + "/ns/net");
	}

	void writeFile(const std::string &rel, const std::string &text)
	{
		std::filesystem::create_directories(std::filesystem::path(path(rel)).parent_path());
		std::ofstream(path(rel)) << text;
	}

	// The agent is pid 500 (its parent a shell 400, whose parent is sshd 300, whose parent is PID 1).
	ProcContext context() const
	{
		ProcContext c;
		c.procRoot = proc();
		c.cgroupRoot = cgroup();
		c.selfNetns = netA();
		c.selfPid = 500;
		c.ancestors = ancestorsOf(proc(), 500);
		return c;
	}

private:
	std::string root_;
};

std::string args(std::initializer_list<std::string> a)
{
	std::string out;
	for (const auto &s : a) {
		if (!out.empty())
			out += '\0';
		out += s;
	}
	return out;
}

// A host: init, kernel threads, the agent with its ancestors, worker and guard, sshd, the controller, and victims
// on this host (netns A) and on another lab host (netns B).
void populate(FakeProc &fp)
{
	fp.add({.pid = 1, .ppid = 0, .comm = "systemd", .argv = args({"/sbin/init", "splash"})});
	fp.add({.pid = 2, .ppid = 0, .comm = "kthreadd", .flags = kPfKthread});
	fp.add({.pid = 3, .ppid = 2, .comm = "rcu_gp", .state = 'I', .flags = kPfKthread});
	fp.add({.pid = 300, .ppid = 1, .comm = "sshd", .argv = args({"sshd: root@pts/0"})});
	fp.add({.pid = 400, .ppid = 300, .comm = "bash", .argv = args({"-bash"})});
	fp.add({.pid = 500, .ppid = 400, .comm = "xdc-agent", .argv = args({"xdc-agent", "--config", "a.yaml"})});
	fp.add({.pid = 501, .ppid = 500, .comm = "xdc-cpu", .argv = args({"xdc-agent", "--cpu-worker"})});
	fp.add({.pid = 502, .ppid = 1, .comm = "xdc-agent-guard", .argv = args({"xdc-agent", "--config", "a.yaml"})});
	fp.add({.pid = 503, .ppid = 1, .comm = "xdc", .argv = args({"xdc", "controller"})});
	fp.add({.pid = 1000, .ppid = 1, .comm = "victim", .argv = args({"/opt/victim", "--port", "80"})});
	fp.add({.pid = 1001, .ppid = 1, .comm = "victim", .argv = args({"/opt/victim", "--port", "81"})});
	fp.add({.pid = 1002, .ppid = 1, .comm = "victim", .argv = args({"/opt/victim", "--port", "82"}), .net = "B"});
	fp.add({.pid = 1003, .ppid = 1, .comm = "victim", .state = 'Z'});
	fp.add({.pid = 1100, .ppid = 1, .comm = "java",
		.argv = args({"/usr/bin/java", "-cp", "/opt/app.jar", "com.example.Main", "--x"})});
	fp.add({.pid = 1200, .ppid = 1, .comm = "streams-pec", .argv = args({"streams-pec", "-p", "1"})});
	fp.add({.pid = 1201, .ppid = 1, .comm = "streams-pec", .argv = args({"streams-pec", "-p", "2"}), .net = "B"});
	fp.add({.pid = 1202, .ppid = 1, .comm = "streams-other", .argv = args({"streams-other"})});
	fp.add({.pid = 1300, .ppid = 1, .comm = "we (i)rd) x", .argv = args({"weird"}), .state = 'T'});
}

std::vector<int> pids(const MatchResult &r)
{
	std::vector<int> out;
	for (const auto &p : r.selected)
		out.push_back(p.pid);
	return out;
}

MatchResult ok(const fault::ProcessMatch &m, const ProcContext &c)
{
	auto r = matchProcesses(m, c);
	REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.error().message));
	return *r;
}

std::string err(const fault::ProcessMatch &m, const ProcContext &c)
{
	auto r = matchProcesses(m, c);
	REQUIRE_MESSAGE(!r.ok(), describeMatch(m) << " matched " << (r.ok() ? r->selected.size() : 0));
	return r.error().message;
}

} // namespace

TEST_CASE("readProcess: stat fields after the last ')', comm, cmdline joined with spaces, netns inode")
{
	FakeProc fp;
	populate(fp);
	auto p = readProcess(fp.proc(), 1300);
	REQUIRE(p);
	CHECK(p->comm == "we (i)rd) x");
	CHECK(p->state == 'T');
	CHECK(p->ppid == 1);
	CHECK(p->startTime == 2300);
	CHECK(p->netns == fp.netA());
	auto j = readProcess(fp.proc(), 1100);
	REQUIRE(j);
	CHECK(j->cmdline == "/usr/bin/java -cp /opt/app.jar com.example.Main --x");
	auto k = readProcess(fp.proc(), 2);
	REQUIRE(k);
	CHECK(k->kernelThread());
	CHECK_FALSE(readProcess(fp.proc(), 4242));
	CHECK(listProcesses(fp.proc()).size() == 18);
}

TEST_CASE("ancestors: PPid walked up to PID 1")
{
	FakeProc fp;
	populate(fp);
	CHECK(ancestorsOf(fp.proc(), 500) == std::set<pid_t>{400, 300, 1});
	CHECK(ancestorsOf(fp.proc(), 1).empty());
}

TEST_CASE("only this network namespace: a same-named process on another lab host is never selected")
{
	FakeProc fp;
	populate(fp);
	auto c = fp.context();
	auto r = ok({.name = "victim"}, c);
	CHECK(pids(r) == std::vector<int>{1000, 1001}); // not 1002 (netns B), not the zombie 1003
	CHECK(r.elsewhere == 1);
	// Seen from the other host, only its own.
	c.selfNetns = inodeOf(fp.path("netB"));
	CHECK(pids(ok({.name = "victim"}, c)) == std::vector<int>{1002});
	// Only on another host: nothing here (the fault turns that into "no process matches").
	c = fp.context();
	fp.add({.pid = 1400, .ppid = 1, .comm = "remote-only", .argv = args({"remote-only"}), .net = "B"});
	auto e = ok({.name = "remote-only"}, c);
	CHECK(e.selected.empty());
	CHECK(e.elsewhere == 1);
}

TEST_CASE("cmdline: an ECMAScript regex searched in argv joined with spaces")
{
	FakeProc fp;
	populate(fp);
	auto c = fp.context();
	CHECK(pids(ok({.cmdline = "com\\.example\\.Main"}, c)) == std::vector<int>{1100});
	CHECK(pids(ok({.cmdline = "-cp /opt/app\\.jar com"}, c)) == std::vector<int>{1100});
	CHECK(pids(ok({.cmdline = "--port 8[01]$"}, c)) == std::vector<int>{1000, 1001});
	CHECK(pids(ok({.cmdline = "^/opt/victim"}, c)) == std::vector<int>{1000, 1001});
	CHECK(err({.cmdline = "(unclosed"}, c).find("match.cmdline: invalid regular expression") == 0);
}

TEST_CASE("preset streams-pe: the agent's pattern over comm")
{
	FakeProc fp;
	populate(fp);
	auto c = fp.context();
	CHECK(pids(ok({.preset = "streams-pe"}, c)) == std::vector<int>{1200});
	c.streamsPePattern = "^streams-";
	CHECK(pids(ok({.preset = "streams-pe"}, c)) == std::vector<int>{1200, 1202});
	c.streamsPePattern = "[";
	CHECK(err({.preset = "streams-pe"}, c).find("faults.streams_pe_pattern") != std::string::npos);
}

TEST_CASE("pidfile: the pid it holds, PID 1 refused by name")
{
	FakeProc fp;
	populate(fp);
	auto c = fp.context();
	fp.writeFile("run/victim.pid", "1001\n");
	CHECK(pids(ok({.pidfile = fp.path("run/victim.pid")}, c)) == std::vector<int>{1001});
	fp.writeFile("run/one.pid", "1\n");
	CHECK(err({.pidfile = fp.path("run/one.pid")}, c) == "match.pidfile: names PID 1, which is never signalled");
	fp.writeFile("run/agent.pid", "500");
	CHECK(err({.pidfile = fp.path("run/agent.pid")}, c) ==
	      "match.pidfile: names pid 500 (xdc-agent), which is never signalled (the xdc agent itself)");
	fp.writeFile("run/junk.pid", "abc");
	CHECK(err({.pidfile = fp.path("run/junk.pid")}, c).find("match.pidfile: ") == 0);
	CHECK(err({.pidfile = fp.path("run/missing.pid")}, c).find("match.pidfile: cannot read") == 0);
	// A pid that no longer exists selects nothing (the fault says "no process matches").
	fp.writeFile("run/stale.pid", "4242");
	CHECK(ok({.pidfile = fp.path("run/stale.pid")}, c).selected.empty());
}

TEST_CASE("cgroup: the group's processes and its child groups', relative to the cgroup root")
{
	FakeProc fp;
	populate(fp);
	auto c = fp.context();
	fp.writeFile("cgroup/system.slice/victim.service/cgroup.procs", "1001\n");
	fp.writeFile("cgroup/system.slice/victim.service/worker/cgroup.procs", "1000\n1002\n");
	auto r = ok({.cgroup = "system.slice/victim.service"}, c);
	CHECK(pids(r) == std::vector<int>{1000, 1001});
	CHECK(r.elsewhere == 1);
	CHECK(pids(ok({.cgroup = "/system.slice/victim.service/worker"}, c)) == std::vector<int>{1000});
	CHECK(err({.cgroup = "system.slice/nope.service"}, c).find("match.cgroup: ") == 0);
	// A group of protected processes only is refused.
	fp.writeFile("cgroup/system.slice/ssh.service/cgroup.procs", "300\n");
	CHECK(err({.cgroup = "system.slice/ssh.service"}, c).find("match.cgroup: matches only processes that are "
								"never signalled: pid 300 (sshd): an ancestor of the xdc agent") == 0);
}

TEST_CASE("never signalled: PID 1, the agent, its ancestors and workers, sshd, xdc, the guard, kernel threads")
{
	FakeProc fp;
	populate(fp);
	auto c = fp.context();
	// A match that would hit everything selects only the ordinary processes of this host.
	auto all = ok({.cmdline = "."}, c);
	CHECK(pids(all) == std::vector<int>{1000, 1001, 1100, 1200, 1202, 1300});
	std::set<int> skipped;
	for (const auto &[p, why] : all.skipped)
		skipped.insert(p.pid);
	CHECK(skipped == std::set<int>{1, 300, 400, 500, 501, 502, 503});

	CHECK(err({.name = "systemd"}, c) ==
	      "match.name: matches only processes that are never signalled: pid 1 (systemd): PID 1");
	CHECK(err({.name = "xdc-agent"}, c).find("pid 500 (xdc-agent): the xdc agent itself") != std::string::npos);
	CHECK(err({.name = "bash"}, c).find("an ancestor of the xdc agent") != std::string::npos);
	CHECK(err({.name = "xdc-cpu"}, c).find("a worker of the xdc agent") != std::string::npos);
	CHECK(err({.name = "xdc-agent-guard"}, c).find("part of xdc") != std::string::npos);
	CHECK(err({.name = "xdc"}, c).find("part of xdc") != std::string::npos);
	CHECK(err({.name = "sshd"}, c).find("match.name: ") == 0);
	CHECK(err({.name = "kthreadd"}, c).find("a kernel thread") != std::string::npos);
	// PID 1 is refused even when it lives in another network namespace (a lab host's view of the real init).
	c.selfNetns = inodeOf(fp.path("netB"));
	CHECK(err({.name = "systemd"}, c).find("PID 1") != std::string::npos);
	// sshd (and OpenSSH 9.8's per-session sshd-session) even when it is not an ancestor.
	ProcessInfo sshd{.pid = 301, .ppid = 1, .comm = "sshd", .cmdline = "sshd -D", .netns = c.selfNetns};
	CHECK(protectedReason(sshd, c) == "sshd");
	sshd.comm = "sshd-session";
	CHECK(protectedReason(sshd, c) == "sshd");
	// Configured pids.
	c = fp.context();
	c.protectedPids = {1001};
	CHECK(pids(ok({.name = "victim"}, c)) == std::vector<int>{1000});
	// An xdc-named process that is not the agent's child is an ordinary process.
	fp.add({.pid = 1500, .ppid = 1, .comm = "xdc-tool", .argv = args({"xdc-tool"})});
	CHECK(pids(ok({.name = "xdc-tool"}, c)) == std::vector<int>{1500});
}

TEST_CASE("the cap: a match larger than faults.process_match_cap is refused")
{
	FakeProc fp;
	populate(fp);
	for (int i = 0; i < 70; i++)
		fp.add({.pid = 2000 + i, .ppid = 1, .comm = "many", .argv = args({"many"})});
	auto c = fp.context();
	CHECK(err({.name = "many"}, c) == "match: 70 processes match, more than the cap of 64 (faults.process_match_cap)");
	c.cap = 70;
	CHECK(ok({.name = "many"}, c).selected.size() == 70);
}

TEST_CASE("count: all, N (at most all), a percentage rounded up and at least 1")
{
	using M = fault::Count::Mode;
	CHECK(countOf({M::All, 0}, 7) == 7);
	CHECK(countOf({M::Number, 2}, 7) == 2);
	CHECK(countOf({M::Number, 9}, 7) == 7);
	CHECK(countOf({M::Percent, 50}, 7) == 4);
	CHECK(countOf({M::Percent, 1}, 7) == 1);
	CHECK(countOf({M::Percent, 100}, 7) == 7);
	CHECK(countOf({M::Percent, 34}, 3) == 2);
	CHECK(countOf({M::All, 0}, 0) == 0);
}

TEST_CASE("describeMatch and matchField name the spec key")
{
	CHECK(describeMatch({.name = "x"}) == "name 'x'");
	CHECK(matchField({.pidfile = "/p"}) == "match.pidfile");
	CHECK(matchField({.preset = "streams-pe"}) == "match.preset");
}
