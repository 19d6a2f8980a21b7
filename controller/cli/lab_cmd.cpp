// SPDX-License-Identifier: Apache-2.0
// `xdc lab`: brings up several datacenters on this machine (network from controller/lab), keys, the controller in
// the host namespace and one agent per lab host, and takes all of it down again.
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/duration.h"
#include "common/log.h"
#include "common/sys/file.h"
#include "common/sys/process.h"
#include "common/transport/curve.h"
#include "controller/cli/cli.h"
#include "controller/cli/lab_internal.h"
#include "controller/control/control_server.h"
#include "controller/lab/topology.h"
#include "controller/streams/config.h"
#include "controller/streams/poll.h"

namespace xdc::cli {

using namespace labx;
namespace fs = std::filesystem;

namespace {

constexpr int kControllerPort = 7700;
// The lab controller's /metrics, on the management address: a Prometheus in a lab host scrapes it there.
constexpr int kMetricsPort = 7790;

// Stops the lab's processes (recorded ones by pid + start time, then anything still inside its namespaces),
// removes the network and the record. Safe to run twice.
Result<void> teardown(const std::string &name, bool json)
{
	auto loaded = lab::loadLab(name);
	lab::LabState st;
	if (loaded)
		st = *loaded;
	else
		st.name = name;
	// Agents first, then the controller, so the controller's log shows them leaving.
	for (int pass = 0; pass < 2; pass++) {
		for (const auto &p : st.processes) {
			if ((p.role == "controller") != (pass == 1))
				continue;
			auto r = sys::stopProcess(p.pid, p.startTime, std::chrono::milliseconds(3000));
			if (!r)
				progress(json, "warning: " + r.error().message);
		}
	}
	// A controller started by hand after `up` (a restart) is not recorded: ask the one on the lab's socket to go.
	// Only a controller listening on this lab's management address is the lab's: the default lab shares the default
	// socket path with a controller the user may run outside any lab.
	auto r = st.subnet ? control::request(labControlPath(name), control::StatsRequest{}, 1000)
			   : Result<nlohmann::json>(makeError(Errc::NotFound, "no record"));
	auto stats = r && r->value("ok", false) ? control::parseAnswer<control::StatsAnswer>(*r)
						: Result<control::StatsAnswer>(makeError(Errc::NotFound, "no answer"));
	if (stats && stats->listen.find("//" + lab::controllerAddress4(st.subnet) + ":") != std::string::npos) {
		const pid_t cpid = stats->pid;
		const auto start = sys::processStartTime(cpid);
		(void)control::request(labControlPath(name), control::ShutdownRequest{}, 1000);
		if (cpid > 1)
			(void)sys::stopProcess(cpid, start, std::chrono::milliseconds(3000));
	}
	// Anything left inside the lab's namespaces (a process whose record a crash lost) is ours too.
	auto nsList = sys::run({"ip", "netns", "list"});
	if (nsList && nsList->ok()) {
		std::istringstream in(nsList->out);
		std::string line;
		while (std::getline(in, line)) {
			std::string ns = line.substr(0, line.find(' '));
			if (ns.rfind(name + "_", 0) != 0)
				continue;
			auto pids = sys::run({"ip", "netns", "pids", ns});
			if (!pids || !pids->ok())
				continue;
			std::istringstream pin(pids->out);
			pid_t pid;
			while (pin >> pid)
				if (pid > 1 && pid != ::getpid())
					(void)sys::stopProcess(pid, sys::processStartTime(pid), std::chrono::milliseconds(2000));
		}
	}
	XDC_TRY(lab::destroyNetwork(st));
	// The default lab's console socket lives outside the state dir.
	const std::string ctl = labControlPath(name);
	if (ctl.rfind(lab::stateDir(name), 0) != 0 && ::access(ctl.c_str(), F_OK) == 0) {
		if (!control::request(ctl, control::StatsRequest{}, 500))
			::unlink(ctl.c_str());
	}
	for (const auto &f : st.files)
		::unlink(f.c_str());
	XDC_TRY(lab::removeLabState(name));
	return success();
}

struct Skew {
	std::string host;
	int64_t ms;
};

Result<Skew> parseSkew(const std::string &s)
{
	auto eq = s.find('=');
	if (eq == std::string::npos || eq == 0)
		return makeError(Errc::Invalid, "--skew '{}': expected HOST=+MS, e.g. dc2-h1=+250", s);
	try {
		size_t used = 0;
		std::string v = s.substr(eq + 1);
		int64_t ms = std::stoll(v, &used);
		if (used != v.size())
			throw std::invalid_argument("trailing");
		return Skew{s.substr(0, eq), ms};
	} catch (...) {
		return makeError(Errc::Invalid, "--skew '{}': '{}' is not a whole number of milliseconds", s,
				 s.substr(eq + 1));
	}
}

json labStatusJson(const lab::LabState &st)
{
	json hosts = json::array();
	for (const auto &h : st.hosts) {
		json j = {{"name", h.name}, {"dc", "dc" + std::to_string(h.dc)}, {"netns", h.netns},
			  {"data4", h.data4},  {"data6", h.data6},                  {"mgmt4", h.mgmt4}};
		for (const auto &p : st.processes)
			if (p.role == "agent" && p.name == h.name)
				j["agent"] = {{"pid", p.pid}, {"running", sys::processAlive(p.pid, p.startTime)}};
		if (!st.hostRoot.empty())
			j["root"] = lab::hostRootPath(st.name, h.name);
		hosts.push_back(j);
	}
	json ctl = nullptr;
	for (const auto &p : st.processes)
		if (p.role == "controller")
			ctl = {{"pid", p.pid}, {"running", sys::processAlive(p.pid, p.startTime)}};
	return {{"name", st.name},
		{"dcs", st.dcs},
		{"hosts_per_dc", st.hostsPerDc},
		{"subnet", fmt::format("10.{}.0.0/16", st.subnet)},
		{"host_veth", st.hostVeth},
		{"controller",
		 {{"endpoint", fmt::format("tcp://{}:{}", lab::controllerAddress4(st.subnet), kControllerPort)},
		  {"control", labControlPath(st.name)},
		  {"metrics", fmt::format("http://{}:{}/metrics", lab::controllerAddress4(st.subnet), kMetricsPort)},
		  {"process", ctl}}},
		{"state_dir", lab::stateDir(st.name)},
		{"created", st.created},
		{"host_root", st.hostRoot.empty() ? json(nullptr) : json(st.hostRoot)},
		{"hosts", hosts}};
}

void printStatus(const json &s)
{
	printf("lab %s: %d DCs x %d hosts, subnet %s, state %s\n", s["name"].get<std::string>().c_str(),
	       s["dcs"].get<int>(), s["hosts_per_dc"].get<int>(), s["subnet"].get<std::string>().c_str(),
	       s["state_dir"].get<std::string>().c_str());
	const auto &c = s["controller"];
	printf("controller %s  console %s  metrics %s  pid %s\n", c["endpoint"].get<std::string>().c_str(),
	       c["control"].get<std::string>().c_str(), c.value("metrics", "-").c_str(),
	       c["process"].is_null() ? "-"
				      : fmt::format("{}{}", c["process"]["pid"].get<int>(),
						    c["process"]["running"].get<bool>() ? "" : " (dead)")
						.c_str());
	if (s.contains("host_root") && !s["host_root"].is_null())
		printf("each host's own root: an overlay of %s at %s/roots/HOST/root\n",
		       s["host_root"].get<std::string>().c_str(), s["state_dir"].get<std::string>().c_str());
	printf("%-10s %-4s %-18s %-14s %-22s %-14s %s\n", "HOST", "DC", "NETNS", "DATA4", "DATA6", "MGMT4", "AGENT");
	for (const auto &h : s["hosts"]) {
		std::string agent = "-";
		if (h.contains("agent"))
			agent = fmt::format("pid {}{}", h["agent"]["pid"].get<int>(),
					    h["agent"]["running"].get<bool>() ? "" : " (dead)");
		printf("%-10s %-4s %-18s %-14s %-22s %-14s %s\n", h["name"].get<std::string>().c_str(),
		       h["dc"].get<std::string>().c_str(), h["netns"].get<std::string>().c_str(),
		       h["data4"].get<std::string>().c_str(), h["data6"].get<std::string>().c_str(),
		       h["mgmt4"].get<std::string>().c_str(), agent.c_str());
	}
}

// What `xdc lab up` was asked for: the lab's shape, clock skews, the registration timeout and the Streams setup.
struct LabUpOptions {
	lab::LabSpec spec;
	std::map<std::string, int64_t> skews;
	int64_t timeoutMs = 20000;
	StreamsLabSpec streams;
	bool js = false;
	bool agents = true;
	bool withStreams = false;
	std::string hostRoot; // --host-root, resolved
};

// Reads and checks the flags of `xdc lab up` (before anything is built).
Result<LabUpOptions> labUpOptions(const Args &a)
{
	LabUpOptions o;
	o.js = a.has("--json");
	o.agents = !a.has("--no-agents");
	o.withStreams = a.has("--streams");
	o.spec.name = a.get("--name", "xdc");
	try {
		o.spec.dcs = std::stoi(a.get("--dcs", "2"));
		o.spec.hostsPerDc = std::stoi(a.get("--hosts-per-dc", "2"));
	} catch (...) {
		return makeError(Errc::Invalid, "--dcs and --hosts-per-dc take whole numbers");
	}
	XDC_TRY(lab::validateSpec(o.spec));
	for (const auto &s : a.all("--skew")) {
		auto k = parseSkew(s);
		XDC_TRY(k);
		o.skews[k->host] = k->ms;
	}
	if (a.has("--timeout")) {
		auto d = parseDuration(a.get("--timeout"));
		if (!d)
			return makeError(Errc::Invalid, "--timeout: {}", d.error().message);
		o.timeoutMs = std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
	}
	auto streamsSpec = parseStreamsSpec(a);
	XDC_TRY(streamsSpec);
	o.streams = *streamsSpec;
	if (o.withStreams && o.spec.dcs != 2)
		return makeError(Errc::Invalid, "--streams needs --dcs 2 (the cross-DC toolkit pairs two DCs)");
	if (a.has("--host-root")) {
		const std::string given = a.get("--host-root");
		if (!a.has("--sshd"))
			return makeError(Errc::Invalid, "--host-root needs --sshd (the roots are what each host's sshd "
							"chroots into)");
		std::error_code ec;
		const fs::path real = fs::canonical(given, ec);
		if (ec || !fs::is_directory(real))
			return makeError(Errc::Invalid, "--host-root {}: not a directory{}", given,
					 ec ? " (" + ec.message() + ")" : "");
		if (!fs::exists(real / "bin/sh"))
			return makeError(Errc::Invalid, "--host-root {}: no bin/sh in it (a root filesystem, e.g. from "
							"scripts/make-root.sh)", given);
		if (real.string().find_first_of(",:\\") != std::string::npos)
			return makeError(Errc::Invalid, "--host-root {}: the path may not hold ',', ':' or '\\' (an "
							"overlay mount option)", given);
		o.hostRoot = real.string();
	}
	return o;
}

// Bring-up step: the controller's key pair, one per agent and the allow-list of the agents' public keys.
Result<void> writeLabKeys(const lab::LabState &st, const std::string &keys, const LabUpOptions &o)
{
	auto ckp = transport::generateKeyPair();
	XDC_TRY(ckp);
	XDC_TRY(transport::writeKeyPair(keys, "controller", *ckp, true));
	std::string allow = "# agents allowed to register with lab " + o.spec.name + "\n";
	// Without lab agents the allow-list starts empty: whoever deploys agents (Ansible) adds their keys and reloads.
	for (const auto &h : o.agents ? st.hosts : std::vector<lab::HostInfo>{}) {
		auto kp = transport::generateKeyPair();
		XDC_TRY(kp);
		XDC_TRY(transport::writeKeyPair(keys, h.name, *kp, true));
		allow += h.name + " " + kp->publicKey + "\n";
	}
	return writeText(keys + "/agents.allow", allow, 0600);
}

// Bring-up step: the controller's config, the controller itself (recorded in the lab state), and a wait until its
// console socket answers.
Result<void> startLabController(lab::LabState &st, const std::string &dir, const std::string &endpoint,
				const std::string &control)
{
	const std::string keys = dir + "/keys";
	XDC_TRY(writeText(dir + "/controller.yaml",
			  fmt::format("# controller of lab {}\nlisten: {}\ncontrol: {}\nkey: {}/controller.key\n"
				      "allow: {}/agents.allow\ndata_dir: {}/data\nmetrics_listen: {}:{}\nlog:\n  file: "
				      "{}/controller.log\n",
				      st.name, endpoint, control, keys, keys, dir, lab::controllerAddress4(st.subnet),
				      kMetricsPort, dir)));
	auto cpid = sys::spawn({selfExe(), "controller", "--config", dir + "/controller.yaml"},
			       {.stdoutFile = dir + "/controller.out"});
	XDC_TRY(cpid);
	st.processes.push_back({*cpid, sys::processStartTime(*cpid).value_or(0), "controller", "controller", {}});
	XDC_TRY(st.save());
	const int64_t ctlDeadline = clk::monoNs() + 10 * clk::kSec;
	while (true) {
		if (control::request(control, control::StatsRequest{}, 500))
			return success();
		if (!sys::processAlive(*cpid))
			return makeError(Errc::Io, "the controller exited at start; see {}/controller.log", dir);
		if (clk::monoNs() > ctlDeadline)
			return makeError(Errc::Timeout, "the controller did not answer on {} within 10 s", control);
		::usleep(20000);
	}
}

// The config of the agent on lab host h.
std::string labAgentConfig(const std::string &dir, const std::string &endpoint, const lab::HostInfo &h,
			   const LabUpOptions &o)
{
	const std::string keys = dir + "/keys";
	const std::string stateDir = fmt::format("{}/agents/{}", dir, h.name);
	std::string text = fmt::format(
		"# agent {} of lab {}\nid: {}\nhost: {}\ndc: dc{}\nlabels:\n  role: streams\n  lab: {}\n"
		"controller: {}\ncontroller_key: {}/controller.pub\nkey: {}/{}.key\nstate_dir: {}\n"
		"test_features: true\n",
		h.name, o.spec.name, h.name, h.name, h.dc, o.spec.name, endpoint, keys, keys, h.name, stateDir);
	if (auto skew = o.skews.find(h.name); skew != o.skews.end())
		text += fmt::format("test_clock_skew_ms: {}\n", skew->second);
	// The Streams host of each DC (where --streams runs the emulator): the emulator's streamtool, the
	// application's orderly-shutdown hook, its sink file and what the host shows of the toolkit.
	if (o.withStreams && h.name == fmt::format("dc{}-h1", h.dc))
		text += streamsAgentConfig(dir, h.dc, o.streams);
	text += fmt::format("log:\n  file: {}/agents/{}.log\n", dir, h.name);
	return text;
}

// Bring-up step: one agent per lab host in the host's namespace, each recorded in the lab state.
Result<void> startLabAgents(lab::LabState &st, const std::string &dir, const std::string &endpoint,
			    const LabUpOptions &o)
{
	const std::string agentBin = findAgentBinary();
	for (const auto &h : st.hosts) {
		const std::string cfg = fmt::format("{}/agents/{}.yaml", dir, h.name);
		::mkdir(fmt::format("{}/agents/{}", dir, h.name).c_str(), 0700);
		XDC_TRY(writeText(cfg, labAgentConfig(dir, endpoint, h, o)));
		auto pid = sys::spawn({agentBin, "--config", cfg},
				      {.netns = h.netns, .stdoutFile = fmt::format("{}/agents/{}.out", dir, h.name)});
		XDC_TRY(pid);
		st.processes.push_back({*pid, sys::processStartTime(*pid).value_or(0), "agent", h.name, {}});
		XDC_TRY(st.save());
	}
	return success();
}

// Bring-up step: waits until every lab agent is live at the controller.
Result<void> waitForLabAgents(const lab::LabState &st, const std::string &dir, const std::string &control,
			      int64_t timeoutMs)
{
	const int64_t deadline = clk::monoNs() + timeoutMs * clk::kMs;
	while (true) {
		auto r = control::request(control, control::AgentsRequest{}, 2000);
		size_t live = 0;
		if (auto agents = r && r->value("ok", false) ? control::parseAnswer<control::AgentsAnswer>(*r)
							       : Result<control::AgentsAnswer>(Error{Errc::Protocol, ""}))
			for (const auto &ag : agents->agents)
				live += ag.state == "live";
		if (live == st.hosts.size())
			return success();
		if (clk::monoNs() > deadline)
			return makeError(Errc::Timeout, "only {} of {} agents registered within {} ms; see {}/agents/*.log",
					 live, st.hosts.size(), timeoutMs, dir);
		::usleep(20000);
	}
}

// Everything after the network: keys, controller, agents, sshd and Streams, in that order.
Result<void> bringUpLab(lab::LabState &st, const Args &a, const LabUpOptions &o)
{
	const std::string dir = lab::stateDir(o.spec.name);
	const std::string keys = dir + "/keys";
	::mkdir(keys.c_str(), 0700);
	::mkdir((dir + "/agents").c_str(), 0755);
	XDC_TRY(writeLabKeys(st, keys, o));
	const std::string endpoint = fmt::format("tcp://{}:{}", lab::controllerAddress4(st.subnet), kControllerPort);
	const std::string control = labControlPath(o.spec.name);
	if (control.rfind(dir, 0) != 0)
		st.files.push_back(control);
	XDC_TRY(startLabController(st, dir, endpoint, control));
	progress(o.js, "controller up on " + endpoint);
	if (o.agents) {
		XDC_TRY(startLabAgents(st, dir, endpoint, o));
		progress(o.js, fmt::format("started {} agents; waiting for them to register", st.hosts.size()));
		XDC_TRY(waitForLabAgents(st, dir, control, o.timeoutMs));
	}
	if (a.has("--sshd"))
		XDC_TRY(startSshd(st, dir, endpoint, o.js));
	if (o.withStreams) {
		XDC_TRY(startStreams(st, dir, o.streams, o.js));
		progress(o.js, fmt::format("Streams emulators ready ({}): dc1 active, dc2 {} (xdc streams status --lab {})",
					   o.streams.mode, o.streams.mode == "active-passive" ? "passive" : "standby",
					   o.spec.name));
	}
	return success();
}

int labUp(const Args &a)
{
	auto o = labUpOptions(a);
	if (!o) {
		fprintf(stderr, "xdc lab up: %s\n", o.error().message.c_str());
		return kUsage;
	}
	const lab::LabSpec &spec = o->spec;
	const bool js = o->js;
	if (::geteuid() != 0) {
		fprintf(stderr, "xdc lab up: needs root (network namespaces, veths)\n");
		return kUsage;
	}
	const int64_t t0 = clk::monoNs();
	progress(js, fmt::format("building {} DCs x {} hosts as lab '{}'", spec.dcs, spec.hostsPerDc, spec.name));
	auto built = lab::buildNetwork(spec);
	if (!built) {
		fprintf(stderr, "xdc lab up: %s\n", built.error().message.c_str());
		return built.error().code == Errc::Exists ? kUsage : kFailed;
	}
	lab::LabState st = *built;
	st.hostRoot = o->hostRoot;
	for (const auto &[h, ms] : o->skews) {
		if (lab::hostNetns(st, h).empty()) {
			fprintf(stderr, "xdc lab up: --skew: no host '%s' in this lab\n", h.c_str());
			(void)teardown(spec.name, js);
			return kUsage;
		}
	}
	if (auto up = bringUpLab(st, a, *o); !up) {
		fprintf(stderr, "xdc lab up: %s; removing the partial lab\n", up.error().message.c_str());
		if (auto t = teardown(spec.name, js); !t)
			fprintf(stderr, "xdc lab up: cleanup: %s\n", t.error().message.c_str());
		return kFailed;
	}
	const double secs = static_cast<double>(clk::monoNs() - t0) / 1e9;
	json status = labStatusJson(st);
	status["up_seconds"] = secs;
	if (js) {
		printf("%s\n", status.dump(2).c_str());
	} else {
		printStatus(status);
		printf("lab %s is up in %.2f s. Try: xdc agents%s ; xdc lab down%s\n", spec.name.c_str(), secs,
		       spec.name == "xdc" ? "" : (" --lab " + spec.name).c_str(),
		       spec.name == "xdc" ? "" : (" --name " + spec.name).c_str());
	}
	return kOk;
}

int labDown(const Args &a)
{
	const std::string name = a.get("--name", a.get("--lab", "xdc"));
	if (auto v = lab::validateLabName(name); !v) {
		fprintf(stderr, "xdc lab down: %s\n", v.error().message.c_str());
		return kUsage;
	}
	if (::geteuid() != 0) {
		fprintf(stderr, "xdc lab down: needs root\n");
		return kUsage;
	}
	const bool existed = lab::loadLab(name).ok();
	if (auto t = teardown(name, a.has("--json")); !t) {
		fprintf(stderr, "xdc lab down: %s\n", t.error().message.c_str());
		return kFailed;
	}
	if (a.has("--json"))
		printf("%s\n", json{{"name", name}, {"removed", existed}}.dump().c_str());
	else
		printf(existed ? "lab %s is down\n" : "lab %s was not up (nothing recorded; swept leftovers by name)\n",
		       name.c_str());
	return kOk;
}

// The lab a lab command that works inside a lab acts on: --name / --lab, else $XDC_LAB, else the only lab up, else
// the default lab's name.
Result<std::string> labOf(const Args &a)
{
	if (a.has("--name"))
		return a.get("--name");
	auto l = chosenLab(a);
	if (!l)
		return l.error();
	return l->empty() ? std::string("xdc") : *l;
}

int labStatus(const Args &a)
{
	std::vector<std::string> names;
	if (a.has("--name") || a.has("--lab"))
		names.push_back(a.get("--name", a.get("--lab")));
	else
		names = lab::listLabs();
	json all = json::array();
	for (const auto &n : names) {
		auto st = lab::loadLab(n);
		if (!st) {
			fprintf(stderr, "xdc lab status: %s\n", st.error().message.c_str());
			return kFailed;
		}
		all.push_back(labStatusJson(*st));
	}
	if (a.has("--json")) {
		printf("%s\n", (a.has("--name") || a.has("--lab")) && !all.empty() ? all[0].dump(2).c_str()
										   : all.dump(2).c_str());
		return kOk;
	}
	if (all.empty())
		printf("no lab is up\n");
	for (const auto &s : all)
		printStatus(s);
	return kOk;
}

int labExec(const Args &a)
{
	if (a.positional.size() < 3) {
		fprintf(stderr, "xdc lab exec: usage: xdc lab exec HOST [--name LAB] -- CMD [ARGS...]\n");
		return kUsage;
	}
	const auto chosen = labOf(a);
	if (!chosen) {
		fprintf(stderr, "xdc lab exec: %s\n", chosen.error().message.c_str());
		return kUsage;
	}
	const std::string name = *chosen;
	auto st = lab::loadLab(name);
	if (!st) {
		fprintf(stderr, "xdc lab exec: %s\n", st.error().message.c_str());
		return kUsage;
	}
	const std::string host = a.positional[1];
	std::string ns = lab::hostNetns(*st, host);
	if (ns.empty()) {
		fprintf(stderr, "xdc lab exec: lab %s has no host '%s'\n", name.c_str(), host.c_str());
		return kUsage;
	}
	std::vector<std::string> cmd(a.positional.begin() + 2, a.positional.end());
	auto r = sys::runAttached(cmd, ns);
	if (!r) {
		fprintf(stderr, "xdc lab exec: %s\n", r.error().message.c_str());
		return kFailed;
	}
	return *r;
}

int labStreams(const Args &a)
{
	const bool js = a.has("--json");
	const std::string verb = a.positional.size() > 1 ? a.positional[1] : "";
	if (verb != "reset" || a.positional.size() != 2) {
		fprintf(stderr, "xdc lab streams: expected `xdc lab streams reset [--name N]`\n");
		return kUsage;
	}
	const auto chosen = labOf(a);
	if (!chosen) {
		fprintf(stderr, "xdc lab streams reset: %s\n", chosen.error().message.c_str());
		return kUsage;
	}
	const std::string name = *chosen;
	auto st = lab::loadLab(name);
	if (!st) {
		fprintf(stderr, "xdc lab streams reset: %s\n", st.error().message.c_str());
		return kUsage;
	}
	const int64_t t0 = clk::monoNs();
	if (auto r = resetStreams(*st, lab::stateDir(name), js); !r) {
		fprintf(stderr, "xdc lab streams reset: %s\n", r.error().message.c_str());
		return r.error().code == Errc::NotFound ? kUsage : kFailed;
	}
	const double secs = static_cast<double>(clk::monoNs() - t0) / 1e9;
	if (js)
		printf("%s\n", json{{"name", name}, {"reset", true}, {"seconds", secs}}.dump().c_str());
	else
		printf("lab %s: Streams back in its starting state in %.2f s\n", name.c_str(), secs);
	return kOk;
}

} // namespace

int cmdLab(const std::vector<std::string> &argv)
{
	std::vector<FlagSpec> specs = {
		{"--name", true, "lab name (default xdc); names namespaces, links and the state dir"},
		{"--lab", true, "same as --name"},
		{"--dcs", true, "datacenters (up; default 2)"},
		{"--hosts-per-dc", true, "hosts per datacenter (up; default 2)"},
		{"--skew", true, "HOST=+MS: test clock skew for one agent (up; repeatable)"},
		{"--no-agents", false, "build the network and start the controller only (up)"},
		{"--sshd", false, "start a lab-private sshd in every host and write an Ansible inventory (up; docs/DEPLOYMENT.md)"},
		{"--host-root", true, "DIR: give every host its own root filesystem, an overlay of DIR that its sshd chroots "
				      "into (up --sshd; e.g. scripts/make-root.sh bookworm)"},
		{"--timeout", true, "how long up waits for agents to register (default 20s)"},
		{"--streams", false, "also start a Streams emulator per DC on dc<d>-h1, dc1 active (up; docs/STREAMS.md)"},
		{"--streams-pes", true, "PEs in each emulated job (up --streams; default 3)"},
		{"--streams-mode", true, "active-active (both DCs run the job) or active-passive (dc2 runs the toolkit's "
					 "monitor, which submits the job on failover) (up --streams; default active-active)"},
		{"--init-delay", true, "toolkit crossDCInitDelay (up --streams; default 1s)"},
		{"--hb-interval", true, "toolkit heartbeatExchangeInterval (up --streams; default 1s)"},
		{"--hb-misses", true, "toolkit consecutiveHeartbeatMissesAllowed (up --streams; default 3)"},
		{"--snapshot-interval", true, "toolkit dataSnapshotExchangeInterval, whole seconds (up --streams; default 3s)"},
		{"--channels", true, "toolkit numberOfHttpSenderReceiverPairs (up --streams; default 1)"},
		{"--app-delay", true, "the application's delay before acting on the remote's replicated state (up --streams; "
				      "default 0)"},
		{"--takeover-delay", true, "same as --app-delay"},
		{"--metrics-interval", true, "the instances' metric collection interval (up --streams; default 1s)"},
		{"--trace-level", true, "the jobs' trace level: error (the product's default), info shows the toolkit's "
				    "_XXXXX_ lines (up --streams)"},
		{"--streams-no-toolkit", false, "an application without the cross-DC toolkit (up --streams; tests)"},
		{"--pe-restart-delay", true, "delay before a crashed PE relaunches (up --streams; default 500ms)"},
		{"--source-rate", true, "tuples/s the active job's source produces (up --streams; default 50)"},
		{"--json", false, "machine-readable output"},
		{"--help", false, "show help"}};
	auto a = parseArgs(argv, specs);
	if (!a) {
		fprintf(stderr, "xdc lab: %s\n", a.error().message.c_str());
		return kUsage;
	}
	const std::string sub = a->positional.empty() ? "" : a->positional[0];
	if (a->has("--help") || sub.empty()) {
		printf("Usage: xdc lab up [--name N] [--dcs D] [--hosts-per-dc H] [--skew HOST=+MS ...] [--no-agents]\n"
		       "                 [--sshd [--host-root DIR]]\n"
		       "                 [--streams [--streams-pes N] [--hb-interval D] [--hb-misses N] ...]\n"
		       "       xdc lab status [--name N] [--json]\n"
		       "       xdc lab exec HOST [--name N] -- CMD [ARGS...]\n"
		       "       xdc lab streams reset [--name N] [--json]\n"
		       "       xdc lab down [--name N]\n\n"
		       "A multi-datacenter lab on this machine (root): one network namespace per host, a bridge per DC\n"
		       "behind a WAN router namespace (IPv4 + IPv6), a management network reaching the host namespace\n"
		       "through one veth, where the controller runs; one agent per host inside its namespace.\n"
		       "`down` removes exactly what `up` recorded, and sweeps leftovers named after the lab; it is safe\n"
		       "to run twice. Two labs with different names coexist.\n"
		       "`streams reset` puts a --streams lab back to its starting state without rebuilding it: every job\n"
		       "canceled and submitted again (the toolkit never undoes a detection by itself), the passive\n"
		       "monitor restarted, and it returns once the toolkits have heard each other and stored a snapshot.\n");
		if (a->has("--help")) {
			printf("\nOptions:\n");
			for (const auto &f : specs)
				printf("  %-22s %s\n", (f.name + (f.takesValue ? " VALUE" : "")).c_str(), f.help.c_str());
		}
		return a->has("--help") ? kOk : kUsage;
	}
	if (sub == "up")
		return labUp(*a);
	if (sub == "down")
		return labDown(*a);
	if (sub == "status")
		return labStatus(*a);
	if (sub == "exec")
		return labExec(*a);
	if (sub == "streams")
		return labStreams(*a);
	fprintf(stderr, "xdc lab: unknown subcommand '%s' (up, status, exec, streams, down)\n", sub.c_str());
	return kUsage;
}

} // namespace xdc::cli
