// SPDX-License-Identifier: Apache-2.0
// Integration test support.
#include "tests/support/harness.h"

#include <csignal>
#include <cstdlib>
#include <thread>
#include <unistd.h>

#include <doctest/doctest.h>

#include "controller/lab/topology.h"

namespace xdc::test {

namespace {
std::string env(const char *k, const char *def)
{
	const char *v = std::getenv(k);
	return v && *v ? v : def;
}
} // namespace

namespace {
sys::RunOutput chromium(const std::string &htmlFile, const std::vector<std::string> &what, int height = 1000)
{
	std::string bin;
	for (const char *c : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
		if (::access(c, X_OK) == 0)
			bin = c;
	REQUIRE_MESSAGE(!bin.empty(), "headless Chromium is needed (scripts/install-deps.sh installs it)");
	TempDir profile;
	std::vector<std::string> argv = {bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
					 "--hide-scrollbars", "--user-data-dir=" + profile.path(),
					 "--window-size=1280," + std::to_string(height), "--virtual-time-budget=3000"};
	argv.insert(argv.end(), what.begin(), what.end());
	argv.push_back("file://" + htmlFile);
	auto r = sys::run(argv, {.timeout = std::chrono::seconds(90)});
	REQUIRE(r.ok());
	INFO(r->err.substr(0, 2000));
	REQUIRE(r->exitCode == 0);
	return *r;
}
} // namespace

std::string chromiumDom(const std::string &htmlFile) { return chromium(htmlFile, {"--dump-dom"}).out; }

void chromiumPdf(const std::string &htmlFile, const std::string &pdfFile)
{
	chromium(htmlFile, {"--print-to-pdf=" + pdfFile, "--no-pdf-header-footer"});
}

void chromiumScreenshot(const std::string &htmlFile, const std::string &pngFile, int height)
{
	chromium(htmlFile, {"--screenshot=" + pngFile}, height);
}

std::string xdcBin() { return env("XDC_BIN", "xdc"); }
std::string agentBin() { return env("XDC_AGENT_BIN", "xdc-agent"); }
std::string sourceRoot() { return env("XDC_SOURCE_ROOT", "."); }

void requireRoot()
{
	if (::geteuid() == 0)
		return;
	if (env("CI", "") == "true") {
		fprintf(stderr, "integration tests need root, and CI=true makes a skip a failure\n");
		std::exit(1);
	}
	fprintf(stderr, "skipping: integration tests need root\n");
	std::exit(77);
}

bool waitUntil(const std::function<bool()> &pred, std::chrono::milliseconds timeout, std::chrono::milliseconds every)
{
	const auto deadline = std::chrono::steady_clock::now() + timeout;
	while (true) {
		if (pred())
			return true;
		auto now = std::chrono::steady_clock::now();
		if (now >= deadline)
			return false;
		std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(every, deadline - now));
	}
}

sys::RunOutput xdc(const std::vector<std::string> &args, std::chrono::milliseconds timeout)
{
	std::vector<std::string> argv{xdcBin()};
	argv.insert(argv.end(), args.begin(), args.end());
	auto r = sys::run(argv, {.timeout = timeout});
	if (!r) {
		FAIL_CHECK("cannot run xdc: " << r.error().message);
		return {};
	}
	return *r;
}

std::string uniqueName(const std::string &prefix)
{
	return prefix + std::to_string(::getpid() % 100000);
}

double secondsSince(std::chrono::steady_clock::time_point t0)
{
	return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

LabFixture::LabFixture(const std::string &prefix, std::vector<std::string> extraArgs) : name_(uniqueName(prefix))
{
	// A lab of this name left by an earlier crashed run is swept first.
	(void)xdc({"lab", "down", "--name", name_});
	std::vector<std::string> args{"lab", "up", "--name", name_};
	args.insert(args.end(), extraArgs.begin(), extraArgs.end());
	const auto t0 = std::chrono::steady_clock::now();
	auto r = xdc(args, 120s);
	upSeconds_ = secondsSince(t0);
	upOutput_ = r.out + r.err;
	up_ = r.exitCode == 0;
	if (!up_)
		MESSAGE("lab up failed: " << upOutput_);
}

LabFixture::~LabFixture()
{
	auto r = xdc({"lab", "down", "--name", name_});
	if (r.exitCode != 0)
		fprintf(stderr, "lab down %s failed: %s%s\n", name_.c_str(), r.out.c_str(), r.err.c_str());
}

lab::LabState LabFixture::state() const
{
	auto s = lab::loadLab(name_);
	return s ? *s : lab::LabState{};
}

std::string LabFixture::netns(const std::string &host) const { return lab::hostNetns(state(), host); }

json LabFixture::agents() const
{
	auto r = sys::run({xdcBin(), "agents", "--json", "--lab", name_}, {.timeout = 5s});
	if (!r || r->exitCode != 0)
		return json::array();
	auto j = json::parse(r->out, nullptr, false);
	return j.is_discarded() ? json::array() : j;
}

std::optional<json> LabFixture::agent(const std::string &id) const
{
	for (const auto &a : agents())
		if (a.value("id", "") == id)
			return a;
	return std::nullopt;
}

std::string LabFixture::agentState(const std::string &id) const
{
	auto a = agent(id);
	return a ? a->value("state", "") : "absent";
}

bool LabFixture::allLive(size_t n) const
{
	auto a = agents();
	if (a.size() != n)
		return false;
	for (const auto &x : a)
		if (x["state"] != "live")
			return false;
	return true;
}

json LabFixture::stats() const
{
	auto r = sys::run({xdcBin(), "stats", "--json", "--lab", name_}, {.timeout = 5s});
	if (!r || r->exitCode != 0)
		return json::object();
	auto j = json::parse(r->out, nullptr, false);
	return j.is_discarded() ? json::object() : j;
}

int LabFixture::agentPid(const std::string &host) const
{
	auto a = agent(host);
	return a ? a->value("pid", 0) : 0;
}

int LabFixture::startAgent(const std::string &host) const
{
	const std::string dir = stateDir();
	auto pid = sys::spawn({agentBin(), "--config", dir + "/agents/" + host + ".yaml"},
			      {.netns = netns(host), .stdoutFile = dir + "/agents/" + host + ".out"});
	REQUIRE(pid.ok());
	return *pid;
}

int LabFixture::startController() const
{
	const std::string dir = stateDir();
	auto pid = sys::spawn({xdcBin(), "controller", "--config", dir + "/controller.yaml"},
			      {.stdoutFile = dir + "/controller.out"});
	REQUIRE(pid.ok());
	return *pid;
}

int LabFixture::controllerPid() const { return stats().value("pid", 0); }

TempDir::TempDir()
{
	char tmpl[] = "/tmp/xdc-test-XXXXXX";
	path_ = ::mkdtemp(tmpl);
}

TempDir::~TempDir()
{
	if (!path_.empty())
		(void)sys::run({"rm", "-rf", "--one-file-system", path_});
}

} // namespace xdc::test
