// SPDX-License-Identifier: Apache-2.0
// Ansible acceptance over real SSH: `xdc lab up --no-agents --sshd` runs a lab-private sshd in each of 4 lab hosts in
// 2 DCs; ansible-playbook deploys, redeploys (changed=0), upgrades one DC at a time (and stops on a broken build),
// verifies and removes the agents; then a second lab whose hosts have their own roots (`--host-root`) gets the
// shipped agent's .deb through the role's package path; ansible-lint passes. The test cases run in file order.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <sys/stat.h>

#include "tests/support/harness.h"

using namespace xdc;
using namespace xdc::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

LabFixture *gLab = nullptr;
const std::vector<std::string> kHosts = {"dc1-h1", "dc1-h2", "dc2-h1", "dc2-h2"};

std::string readFile(const std::string &path)
{
	std::ifstream f(path);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

std::string inventory() { return gLab->stateDir() + "/ansible/inventory.yml"; }
std::string prefix(const std::string &host) { return gLab->stateDir() + "/hosts/" + host; }

struct Recap {
	int ok = -1, changed = -1, unreachable = -1, failed = -1;
};

struct PlaybookRun {
	sys::RunOutput out;
	std::map<std::string, Recap> recap;
	std::string text() const { return out.out + out.err; }
};

// ansible-playbook with the repository's ansible.cfg, against the lab's inventory.
PlaybookRun playbook(const std::string &name, const std::vector<std::string> &extra = {})
{
	const std::string dir = sourceRoot() + "/ansible";
	std::vector<std::string> argv = {"ansible-playbook", "-i", inventory(), dir + "/" + name};
	argv.insert(argv.end(), extra.begin(), extra.end());
	auto r = sys::run(argv, {.timeout = std::chrono::milliseconds(600000),
				 .env = {{"ANSIBLE_CONFIG", dir + "/ansible.cfg"},
					 {"ANSIBLE_NOCOLOR", "1"},
					 {"ANSIBLE_FORCE_COLOR", "0"},
					 {"ANSIBLE_LOCAL_TEMP", gLab->stateDir() + "/ansible/tmp"},
					 {"ANSIBLE_HOME", gLab->stateDir() + "/ansible/home"}}});
	REQUIRE_MESSAGE(r.ok(), "ansible-playbook could not run (apt-get install ansible-core): ",
			(r.ok() ? "" : r.error().message));
	PlaybookRun run{*r, {}};
	static const std::regex re(R"((\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+))");
	for (std::sregex_iterator it(r->out.begin(), r->out.end(), re), end; it != end; ++it)
		run.recap[(*it)[1]] = {std::stoi((*it)[2]), std::stoi((*it)[3]), std::stoi((*it)[4]), std::stoi((*it)[5])};
	return run;
}

std::string tail(const std::string &s, size_t n = 4000) { return s.size() > n ? s.substr(s.size() - n) : s; }

// Processes whose network namespace is the lab host's (by inode), other than its sshd.
std::vector<std::string> processesIn(const std::string &netns)
{
	struct stat nsSt{};
	std::vector<std::string> out;
	if (::stat(("/run/netns/" + netns).c_str(), &nsSt) != 0)
		return {"<netns " + netns + " missing>"};
	for (const auto &e : fs::directory_iterator("/proc")) {
		const std::string pid = e.path().filename();
		if (!std::all_of(pid.begin(), pid.end(), ::isdigit))
			continue;
		struct stat st{};
		if (::stat(("/proc/" + pid + "/ns/net").c_str(), &st) != 0 || st.st_ino != nsSt.st_ino ||
		    st.st_dev != nsSt.st_dev)
			continue;
		std::string comm = readFile("/proc/" + pid + "/comm");
		comm.erase(std::remove(comm.begin(), comm.end(), '\n'), comm.end());
		if (comm == "sshd")
			continue;
		out.push_back(pid + ":" + comm);
	}
	return out;
}

// What a fault or an install could leave in a host namespace: firewall, qdiscs, routes, rules, links, addresses.
std::string nsSnapshot(const std::string &netns)
{
	std::string s;
	for (const auto &argv : std::vector<std::vector<std::string>>{{"nft", "list", "ruleset"},
								      {"tc", "qdisc", "show"},
								      {"ip", "route", "show", "table", "all"},
								      {"ip", "-6", "route", "show", "table", "all"},
								      {"ip", "rule", "show"},
								      {"ip", "-br", "link"},
								      {"ip", "-br", "addr"}}) {
		auto r = sys::run(argv, {.netns = netns});
		s += "$";
		for (const auto &a : argv)
			s += " " + a;
		s += "\n" + (r ? r->out : "<" + r.error().message + ">");
	}
	return s;
}

// A unified diff of two texts (diff(1)), for messages.
std::string diffText(const std::string &a, const std::string &b)
{
	TempDir d;
	std::ofstream(d.path() + "/before") << a;
	std::ofstream(d.path() + "/after") << b;
	auto r = sys::run({"diff", "-u", d.path() + "/before", d.path() + "/after"});
	return r ? r->out : r.error().message;
}

std::map<std::string, json> agentsById()
{
	std::map<std::string, json> m;
	for (const auto &a : gLab->agents())
		m[a.value("id", "")] = a;
	return m;
}

bool allLiveWithPids(std::map<std::string, int> &pids)
{
	auto m = agentsById();
	pids.clear();
	for (const auto &h : kHosts) {
		if (!m.count(h) || m[h].value("state", "") != "live")
			return false;
		pids[h] = m[h].value("pid", 0);
	}
	return true;
}

std::string sha(const std::string &file)
{
	auto r = sys::run({"sha256sum", file});
	return r && r->ok() ? r->out.substr(0, 64) : "<" + file + " unreadable>";
}

std::map<std::string, std::string> gSnapshots;
std::map<std::string, int> gPidsAfterUpgrade;
std::string gNewBuild;

} // namespace

TEST_CASE("1. deploy.yml installs and starts an agent on 4 lab hosts in 2 DCs over SSH")
{
	REQUIRE(gLab->up());
	for (const auto &h : kHosts) {
		// The kernel adds link-local addresses' routes when their duplicate address detection ends, shortly after
		// `lab up`: snapshot a settled namespace.
		CHECK(waitUntil([&] {
			auto r = sys::run({"ip", "-6", "addr", "show", "tentative"}, {.netns = gLab->netns(h)});
			return r && r->ok() && r->out.empty();
		}, 10s, 50ms));
		gSnapshots[h] = nsSnapshot(gLab->netns(h));
		CHECK_MESSAGE(processesIn(gLab->netns(h)).empty(), h);
	}
	CHECK(gLab->agents().empty());
	auto run = playbook("deploy.yml");
	REQUIRE_MESSAGE(run.out.exitCode == 0, tail(run.text()));
	for (const auto &h : kHosts) {
		REQUIRE_MESSAGE(run.recap.count(h), h);
		CHECK(run.recap[h].failed == 0);
		CHECK(run.recap[h].changed > 0);
	}
	// The playbook waited for each agent to be live; the controller lists all 4 with their inventory labels.
	auto m = agentsById();
	REQUIRE(m.size() == 4);
	int rack = 1;
	for (const auto &h : kHosts) {
		INFO(h, " ", m[h].dump());
		CHECK(m[h]["state"] == "live");
		CHECK(m[h]["dc"] == h.substr(0, 3));
		CHECK(m[h]["labels"]["role"] == "streams");
		CHECK(m[h]["labels"]["rack"] == "r" + std::to_string(rack++));
		// Installed under the host's own prefix, from the build's binary, with a key made on the host (0600).
		CHECK(sha(prefix(h) + "/bin/xdc-agent") == sha(agentBin()));
		struct stat st{};
		REQUIRE(::stat((prefix(h) + "/etc/agent.key").c_str(), &st) == 0);
		CHECK((st.st_mode & 0777) == 0600);
		// The agent runs inside the host's namespace.
		auto procs = processesIn(gLab->netns(h));
		CHECK(std::any_of(procs.begin(), procs.end(),
				  [](const std::string &p) { return p.find(":xdc-agent") != std::string::npos; }));
	}
	// Every key on the allow-list is one the hosts made.
	const std::string allow = readFile(gLab->stateDir() + "/keys/agents.allow");
	for (const auto &h : kHosts) {
		std::string pub = readFile(prefix(h) + "/etc/agent.pub");
		auto p = pub.find("public: ");
		REQUIRE(p != std::string::npos);
		CHECK(allow.find(h + " " + pub.substr(p + 8, 40)) != std::string::npos);
	}
}

TEST_CASE("2. deploy.yml again reports changed=0")
{
	std::map<std::string, int> before;
	REQUIRE(allLiveWithPids(before));
	auto run = playbook("deploy.yml");
	REQUIRE_MESSAGE(run.out.exitCode == 0, tail(run.text()));
	for (const auto &h : kHosts) {
		REQUIRE(run.recap.count(h));
		CHECK_MESSAGE(run.recap[h].changed == 0, h, "\n", tail(run.text()));
	}
	std::map<std::string, int> after;
	REQUIRE(allLiveWithPids(after));
	CHECK(before == after);
}

TEST_CASE("3a. upgrade.yml restarts agents one DC at a time in the configured order, all come back")
{
	std::map<std::string, int> before;
	REQUIRE(allLiveWithPids(before));
	// A new build: the same program with different bytes (ELF loaders ignore trailing data).
	gNewBuild = gLab->stateDir() + "/ansible/xdc-agent.new";
	{
		std::ofstream f(gNewBuild, std::ios::binary);
		f << readFile(agentBin()) << std::string("\0xdc-test-build-2\n", 18);
	}
	::chmod(gNewBuild.c_str(), 0755);
	// dc2 first: the order is the configured one, not the inventory's.
	auto run = playbook("upgrade.yml", {"-e", "xdc_agent_binary=" + gNewBuild, "-e",
					    R"({"xdc_upgrade_order": ["dc2", "dc1"], "xdc_upgrade_serial": 1})"});
	REQUIRE_MESSAGE(run.out.exitCode == 0, tail(run.text()));
	REQUIRE(allLiveWithPids(gPidsAfterUpgrade));
	std::vector<std::pair<uint64_t, std::string>> starts;
	for (const auto &h : kHosts) {
		CHECK_MESSAGE(gPidsAfterUpgrade[h] != before[h], h, " was not restarted");
		CHECK(sha(prefix(h) + "/bin/xdc-agent") == sha(gNewBuild));
		auto t = sys::processStartTime(gPidsAfterUpgrade[h]);
		REQUIRE(t);
		starts.emplace_back(*t, h);
	}
	std::sort(starts.begin(), starts.end());
	std::string order;
	for (const auto &[t, h] : starts)
		order += h + " ";
	// One DC at a time, one host at a time, dc2 before dc1: each agent started after the previous one was live.
	CHECK(order == "dc2-h1 dc2-h2 dc1-h1 dc1-h2 ");
	for (size_t i = 1; i < starts.size(); i++)
		CHECK(starts[i].first > starts[i - 1].first);
}

TEST_CASE("3b. a broken build stops the rollout after the first host of the first DC; it is rolled back")
{
	std::map<std::string, int> before;
	REQUIRE(allLiveWithPids(before));
	const std::string broken = gLab->stateDir() + "/ansible/xdc-agent.broken";
	{
		std::ofstream f(broken);
		f << "#!/bin/sh\necho 'xdc-agent: this build is broken on purpose' >&2\nexit 1\n";
	}
	::chmod(broken.c_str(), 0755);
	auto run = playbook("upgrade.yml", {"-e", "xdc_agent_binary=" + broken, "-e", "xdc_agent_wait_timeout=8"});
	CHECK(run.out.exitCode != 0);
	const std::string text = run.text();
	INFO(tail(text));
	CHECK(text.find("rolled back to the previous binary") != std::string::npos);
	// Only dc1-h1 was touched: it failed; no other host ran a task of the upgrade's later batches.
	REQUIRE(run.recap.count("dc1-h1"));
	CHECK(run.recap["dc1-h1"].failed == 1);
	for (const auto &h : {"dc1-h2", "dc2-h1", "dc2-h2"})
		CHECK_MESSAGE(!run.recap.count(h), h, " was part of the rollout");
	// The others keep the old version and their running agents; dc1-h1 runs the previous build again.
	bool back = waitUntil([&] {
		auto m = agentsById();
		return m.count("dc1-h1") && m["dc1-h1"].value("state", "") == "live" &&
		       m["dc1-h1"].value("pid", 0) != before["dc1-h1"];
	}, 20s, 100ms);
	CHECK_MESSAGE(back, "dc1-h1 did not come back on the previous build");
	std::map<std::string, int> after;
	REQUIRE(allLiveWithPids(after));
	for (const auto &h : kHosts) {
		CHECK_MESSAGE(sha(prefix(h) + "/bin/xdc-agent") == sha(gNewBuild), h);
		if (std::string(h) != "dc1-h1")
			CHECK_MESSAGE(after[h] == before[h], h, " was restarted");
	}
}

TEST_CASE("verify.yml passes on a healthy fleet and names what is wrong otherwise")
{
	auto ok = playbook("verify.yml");
	CHECK_MESSAGE(ok.out.exitCode == 0, tail(ok.text()));
	for (const auto &h : kHosts)
		CHECK(ok.recap[h].changed == 0);
	auto bad = playbook("verify.yml", {"-e", "xdc_agent_expected_version=9.9.9"});
	CHECK(bad.out.exitCode != 0);
	CHECK_MESSAGE(bad.text().find("(expected 9.9.9)") != std::string::npos, tail(bad.text()));
	for (const auto &h : kHosts)
		CHECK(bad.recap[h].failed == 1);
}

TEST_CASE("xdc reload: a bad allow-list is refused with file:line and the old one stays in force")
{
	const std::string file = gLab->stateDir() + "/keys/agents.allow";
	const std::string good = readFile(file);
	{
		std::ofstream f(file, std::ios::trunc);
		f << good << "dc9-h9 not-a-key\n";
	}
	auto r = test::xdc({"reload", "--lab", gLab->name()});
	{
		std::ofstream f(file, std::ios::trunc);
		f << good;
	}
	CHECK(r.exitCode == 1);
	const int lines = static_cast<int>(std::count(good.begin(), good.end(), '\n'));
	CHECK_MESSAGE(r.err.find("agents.allow:" + std::to_string(lines + 1) + ": 'not-a-key' is not a 40-character Z85") !=
			      std::string::npos,
		      r.err);
	CHECK_MESSAGE(r.err.find("the old one stays in force") != std::string::npos, r.err);
	// Nobody was dropped, and the good file reloads cleanly, as JSON for scripts.
	std::map<std::string, int> pids;
	CHECK(allLiveWithPids(pids));
	auto ok = test::xdc({"reload", "--lab", gLab->name(), "--json"});
	REQUIRE_MESSAGE(ok.exitCode == 0, ok.err);
	auto j = json::parse(ok.out);
	CHECK(j["allowed"] == 4);
	CHECK(j["added"].empty());
	CHECK(j["removed"].empty());
}

TEST_CASE("4. remove.yml leaves no agent process, file, key or unit; host namespaces are unchanged")
{
	// A fault left behind by an agent that is then removed must go too: a partition on dc1-h1.
	auto f = test::xdc({"fault", "apply", "--lab", gLab->name(),
		      "{kind: network.partition, targets: {host: dc1-h1}, peers: {host: dc2-h1}, duration: 5m}"});
	CHECK_MESSAGE(f.exitCode == 0, f.out, f.err);
	auto run = playbook("remove.yml");
	REQUIRE_MESSAGE(run.out.exitCode == 0, tail(run.text()));
	const std::string allow = readFile(gLab->stateDir() + "/keys/agents.allow");
	for (const auto &h : kHosts) {
		INFO(h);
		CHECK(processesIn(gLab->netns(h)).empty());
		CHECK(!fs::exists(prefix(h)));
		CHECK(allow.find(h + " ") == std::string::npos);
		CHECK(!fs::exists("/etc/systemd/system/xdc-agent.service"));
		const std::string now = nsSnapshot(gLab->netns(h));
		CHECK_MESSAGE(now == gSnapshots[h], diffText(gSnapshots[h], now));
	}
	// The controller dropped them: their keys left its allow-list.
	auto m = agentsById();
	for (const auto &h : kHosts)
		CHECK_MESSAGE(m[h].value("state", "") == "lost", m[h].dump());
	// And a second remove finds nothing to do.
	auto again = playbook("remove.yml");
	CHECK_MESSAGE(again.out.exitCode == 0, tail(again.text()));
	for (const auto &h : kHosts)
		CHECK(again.recap[h].changed == 0);
}

// Restores gLab when a test case that points it at its own lab ends, even on a failed REQUIRE.
struct LabSwap {
	LabFixture *saved;
	explicit LabSwap(LabFixture &lab) : saved(gLab) { gLab = &lab; }
	~LabSwap() { gLab = saved; }
};

// dpkg's view inside a host's own root: "install ok installed VERSION", or what dpkg-query said.
std::string dpkgStatus(const std::string &root)
{
	auto r = sys::run({"chroot", root, "dpkg-query", "-W", "-f=${Status} ${Version}", "xdc-agent"});
	return r ? (r->ok() ? r->out : "<" + r->err + ">") : "<" + r.error().message + ">";
}

std::string procRoot(int pid)
{
	std::error_code ec;
	auto p = fs::read_symlink("/proc/" + std::to_string(pid) + "/root", ec);
	return ec ? "<" + ec.message() + ">" : p.string();
}

TEST_CASE("5. deploy.yml installs the agent's .deb into each host's own root; again changes nothing; remove.yml "
	  "purges it")
{
	// The shipped agent's package (scripts/test.sh builds it before the integration tests); a development build's
	// agent links this machine's libraries, which a clean root does not have.
	const std::string deb = std::getenv("XDC_AGENT_DEB") ? std::getenv("XDC_AGENT_DEB") : "";
	if (deb.empty()) {
		const char *ci = std::getenv("CI");
		REQUIRE_MESSAGE(!(ci && std::string(ci) == "true"),
				"XDC_AGENT_DEB is not set (scripts/build-agent.sh, then scripts/make-packages.sh)");
		MESSAGE("skipped: set XDC_AGENT_DEB to the shipped agent's .deb to run this case");
		return;
	}
	REQUIRE_MESSAGE(fs::exists(deb), deb);
	auto version = sys::run({"dpkg-deb", "-f", deb, "Version"});
	REQUIRE((version && version->ok()));
	const std::string pkgver = version->out.substr(0, version->out.find('\n'));
	// Each host's root: an overlay of a cached debootstrap root (nothing of ours in it), which its sshd chroots into.
	auto made = sys::run({sourceRoot() + "/scripts/make-root.sh", "bookworm"},
			     {.timeout = std::chrono::milliseconds(900000)});
	REQUIRE((made && made->ok()));
	const std::string lower = made->out.substr(0, made->out.find('\n'));
	REQUIRE_MESSAGE(!fs::exists(lower + "/usr/bin/xdc-agent"), "the cached root holds an xdc-agent: ", lower);
	const bool hostHadAgent = fs::exists("/usr/bin/xdc-agent");
	const std::string hostAgentSha = hostHadAgent ? sha("/usr/bin/xdc-agent") : "";

	LabFixture roots("anr", {"--no-agents", "--sshd", "--host-root", lower});
	REQUIRE_MESSAGE(roots.up(), roots.upOutput());
	LabSwap swap(roots);
	const std::vector<std::string> pkgArgs = {"-e", "xdc_agent_install_from=package", "-e", "xdc_agent_deb=" + deb};
	auto run = playbook("deploy.yml", pkgArgs);
	REQUIRE_MESSAGE(run.out.exitCode == 0, tail(run.text()));
	auto m = agentsById();
	REQUIRE(m.size() == 4);
	for (const auto &h : kHosts) {
		INFO(h, " ", m[h].dump());
		CHECK(run.recap[h].changed > 0);
		const std::string root = lab::hostRootPath(roots.name(), h);
		// Installed by dpkg into this host's root only, and running from it.
		CHECK(dpkgStatus(root) == "install ok installed " + pkgver);
		CHECK(m[h]["state"] == "live");
		CHECK(m[h]["version"] == pkgver);
		CHECK(procRoot(m[h].value("pid", 0)) == root);
		struct stat st{};
		REQUIRE(::stat((root + "/etc/xdc-agent/agent.key").c_str(), &st) == 0);
		CHECK((st.st_mode & 0777) == 0600);
	}
	// Nothing reached the shared lower layer or this machine's own /usr/bin.
	CHECK(!fs::exists(lower + "/usr/bin/xdc-agent"));
	CHECK(fs::exists("/usr/bin/xdc-agent") == hostHadAgent);
	if (hostHadAgent)
		CHECK(sha("/usr/bin/xdc-agent") == hostAgentSha);

	// The same package again: apt compares versions; nothing changes, no agent restarts.
	std::map<std::string, int> before, after;
	REQUIRE(allLiveWithPids(before));
	auto again = playbook("deploy.yml", pkgArgs);
	REQUIRE_MESSAGE(again.out.exitCode == 0, tail(again.text()));
	for (const auto &h : kHosts)
		CHECK_MESSAGE(again.recap[h].changed == 0, h, "\n", tail(again.text()));
	REQUIRE(allLiveWithPids(after));
	CHECK(before == after);

	auto removed = playbook("remove.yml", pkgArgs);
	REQUIRE_MESSAGE(removed.out.exitCode == 0, tail(removed.text()));
	for (const auto &h : kHosts) {
		INFO(h);
		const std::string root = lab::hostRootPath(roots.name(), h);
		CHECK(dpkgStatus(root).find("install ok installed") == std::string::npos);
		CHECK(!fs::exists(root + "/usr/bin/xdc-agent"));
		CHECK(!fs::exists(root + "/etc/xdc-agent"));
		CHECK(!fs::exists(root + "/var/lib/xdc-agent"));
		CHECK(processesIn(gLab->netns(h)).empty());
	}
}

TEST_CASE("6. ansible-lint is clean")
{
	const std::string dir = sourceRoot() + "/ansible";
	auto r = sys::run({"bash", "-c", "cd '" + dir + "' && ansible-lint --nocolor --offline -q"},
			  {.timeout = std::chrono::milliseconds(300000),
			   .env = {{"ANSIBLE_HOME", gLab->stateDir() + "/ansible/home"}}});
	REQUIRE_MESSAGE(r.ok(), "ansible-lint could not run (apt-get install ansible-lint)");
	CHECK_MESSAGE(r->exitCode == 0, r->out, r->err);
}

int main(int argc, char **argv)
{
	requireRoot();
	doctest::Context ctx(argc, argv);
	int rc = 0;
	{
		LabFixture lab("ans", {"--no-agents", "--sshd"});
		gLab = &lab;
		rc = ctx.run();
		gLab = nullptr;
	}
	return rc;
}
