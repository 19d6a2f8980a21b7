// SPDX-License-Identifier: Apache-2.0
// Streams acceptance in the lab, checked against the emulators' ground-truth logs (which xdc itself never reads):
// `xdc streams status` and `watch` from what a real deployment exposes (port metrics of the toolkit's operators, no
// custom metric anywhere); the toolkit's detection rule at six offsets from a Beacon tick, twice; split brain with no
// recovery after the partition heals; takeover on isolation; no takeover after an application orderly shutdown; the
// active/passive mode's failover chain; the hosts' signals (trace lines, snapshot files); a deployment without the
// toolkit; PE kill, stop/restart through the agent, cancel and submit.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <ctime>
#include <fstream>
#include <sys/stat.h>
#include <thread>

#include "common/sys/process.h"
#include "controller/streams/client.h"
#include "controller/streams/config.h"
#include "tests/support/harness.h"

using namespace xdc;
using namespace xdc::test;

namespace {

constexpr int64_t kMs = 1000000;

int64_t realNs()
{
	timespec ts{};
	::clock_gettime(CLOCK_REALTIME, &ts);
	return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

json statusJson(const std::string &lab)
{
	auto r = test::xdc({"streams", "status", "--lab", lab, "--json"});
	try {
		return json::parse(r.out);
	} catch (...) {
		MESSAGE("streams status: " << r.out << r.err);
		return json::object();
	}
}

const json *dcOf(const json &status, const std::string &dc)
{
	if (!status.contains("dcs"))
		return nullptr;
	for (const auto &d : status["dcs"])
		if (d.value("dc", "") == dc)
			return &d;
	return nullptr;
}

std::vector<json> jsonLines(const std::string &path)
{
	std::vector<json> out;
	std::ifstream f(path);
	std::string line;
	while (std::getline(f, line)) {
		json j = json::parse(line, nullptr, false);
		if (!j.is_discarded())
			out.push_back(std::move(j));
	}
	return out;
}

std::string str(const json &v)
{
	return v.is_string() ? v.get<std::string>() : v.dump();
}

// The ground truth of one DC (dcN.truth.jsonl; the passive monitor's is dc2.monitor.truth.jsonl): events named
// `event`, at or after `fromNs`.
std::vector<json> truth(const LabFixture &lab, const std::string &dc, const std::string &event, int64_t fromNs = 0,
			const std::string &file = "")
{
	std::vector<json> out;
	for (const auto &j : jsonLines(lab.stateDir() + "/streams/" + (file.empty() ? dc + ".truth.jsonl" : file)))
		if (j.value("event", "") == event && j.value("t_ns", int64_t{0}) >= fromNs)
			out.push_back(j);
	return out;
}

// `xdc streams watch --json` running in the background for the test's lifetime.
class Watch {
public:
	Watch(const std::string &lab, const std::string &dir) : out_(dir + "/watch.jsonl")
	{
		// Bounded, so that even a crashed test leaves no watch behind for long.
		auto pid = sys::spawn({xdcBin(), "streams", "watch", "--lab", lab, "--interval", "200ms", "--duration", "15m",
				       "--json"},
				      {.stdoutFile = out_});
		REQUIRE(pid.ok());
		pid_ = *pid;
		start_ = sys::processStartTime(pid_).value_or(0);
		REQUIRE(waitUntil([&] { return !find("ready").empty(); }, 15s));
	}
	~Watch() { (void)sys::stopProcess(pid_, start_, std::chrono::milliseconds(3000)); }
	std::vector<json> find(const std::string &key, const std::string &kind = "") const
	{
		std::vector<json> r;
		for (const auto &j : jsonLines(out_))
			if (j.contains(key) && (kind.empty() || j[key].value("kind", "") == kind))
				r.push_back(j[key]);
		return r;
	}
	// Events of one kind (in one DC) whose latest instant is at or after fromNs.
	std::vector<json> events(const std::string &kind, const std::string &dc = "", int64_t fromNs = 0) const
	{
		std::vector<json> r;
		for (const auto &e : find("event", kind))
			if ((dc.empty() || e.value("dc", "") == dc) && e.value("t_ns", int64_t{0}) >= fromNs)
				r.push_back(e);
		return r;
	}
	std::string dump() const
	{
		std::ifstream f(out_);
		return std::string(std::istreambuf_iterator<char>(f), {});
	}

private:
	std::string out_;
	pid_t pid_ = 0;
	uint64_t start_ = 0;
};

// An xdc event `e` holds the truth instant `t` within the bound it states (its since_ns..t_ns), give or take `slack`.
void checkWithin(const json &e, int64_t t, int64_t slack, const std::string &what)
{
	const int64_t lo = e["since_ns"].get<int64_t>(), hi = e["t_ns"].get<int64_t>();
	MESSAGE(what << ": truth " << (t - lo) / 1e6 << " ms after since, " << (hi - t) / 1e6 << " ms before t; bound "
		     << e.value("bound_ms", 0.0) << " ms");
	CHECK(t >= lo - slack);
	CHECK(t <= hi + slack);
}

void reset(const LabFixture &lab)
{
	auto r = test::xdc({"lab", "streams", "reset", "--name", lab.name()});
	INFO(r.out << r.err);
	REQUIRE(r.exitCode == 0);
}

void halt(const LabFixture &lab)
{
	auto r = test::xdc({"halt", "--lab", lab.name()});
	INFO(r.out << r.err);
	CHECK(r.exitCode == 0);
}

void partition(const LabFixture &lab)
{
	auto p = test::xdc({"fault", "apply", "--lab", lab.name(),
			    "{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 60s, action: reject}"});
	INFO(p.out << p.err);
	REQUIRE(p.exitCode == 0);
}

void stopAllPes(const LabFixture &lab, const std::string &dc)
{
	json st = statusJson(lab.name());
	const json *d = dcOf(st, dc);
	REQUIRE(d != nullptr);
	for (const auto &pe : (*d)["pes"]) {
		auto s = test::xdc({"streams", "stop-pe", str(pe["id"]), "--lab", lab.name(), "--dc", dc});
		INFO(s.out << s.err);
		CHECK(s.exitCode == 0);
	}
}

// Runs a scenario (a sample by name, or a file by absolute path) against the lab; its report ({} on none).
json runScenario(const LabFixture &lab, const std::string &out, const std::string &file, std::vector<std::string> extra,
		 int &exitCode)
{
	std::vector<std::string> args = {"run", file[0] == '/' ? file : sourceRoot() + "/scenarios/" + file, "--lab",
					 lab.name(), "--out", out};
	args.insert(args.end(), extra.begin(), extra.end());
	auto r = test::xdc(args, 180s);
	MESSAGE("xdc run " << file << " exit " << r.exitCode << "\n" << r.out << r.err);
	exitCode = r.exitCode;
	std::ifstream f(out + "/report.json");
	if (!f)
		return json::object();
	return json::parse(std::string(std::istreambuf_iterator<char>(f), {}), nullptr, false);
}

json reportEvent(const json &report, const std::string &kind, const std::string &dc = "")
{
	if (!report.is_object() || !report.contains("streams"))
		return json::object();
	for (const auto &e : report["streams"].value("events", json::array()))
		if (e.value("kind", "") == kind && (dc.empty() || e.value("dc", "") == dc))
			return e;
	return json::object();
}

// Every metric the REST API lists, of every operator and every operator port: none is a custom metric.
void checkNoCustomMetrics(const LabFixture &lab)
{
	auto eps = streams::loadStreamsConfig(lab.stateDir() + "/streams.yaml");
	REQUIRE(eps.ok());
	size_t toolkitOps = 0, metrics = 0;
	for (const auto &ep : *eps) {
		streams::Client c(ep);
		auto jobs = c.jobs();
		REQUIRE(jobs.ok());
		for (const auto &job : *jobs) {
			auto ops = c.jobOperators(job.id);
			REQUIRE(ops.ok());
			for (const auto &op : *ops) {
				CHECK_MESSAGE(op.name != "CrossDCFailover", "the composite itself is never listed");
				toolkitOps += op.name.rfind("CrossDCFailover.", 0) == 0;
				auto om = c.operatorMetrics(op.id);
				REQUIRE(om.ok());
				std::vector<streams::Metric> all = *om;
				for (const bool input : {true, false})
					for (int i = 0;; ++i) {
						auto pm = c.portMetrics(op.id, input, i);
						if (!pm.ok())
							break;
						all.insert(all.end(), pm->begin(), pm->end());
					}
				for (const auto &m : all) {
					CHECK_MESSAGE(m.metricType == "system", op.name << " has " << m.metricType << " metric " << m.name);
					CHECK(m.lastTimeRetrieved > 0);
					metrics++;
				}
			}
		}
	}
	CHECK(toolkitOps >= 2 * 7);
	CHECK(metrics > 50);
}

} // namespace

TEST_CASE("streams: status from real signals, PE kill and relaunch, stop/restart through the agent, cancel sends "
	  "nothing, submit")
{
	requireRoot();
	LabFixture lab("sta", {"--hosts-per-dc", "1", "--streams", "--hb-interval", "500ms", "--hb-misses", "3"});
	REQUIRE(lab.up());
	TempDir tmp;
	checkNoCustomMetrics(lab);

	json st = statusJson(lab.name());
	INFO(st.dump(2));
	REQUIRE(st.contains("dcs"));
	CHECK(st["dcs"].size() == 2);
	CHECK(st.value("active", "") == "dc1");
	for (const std::string dc : {"dc1", "dc2"}) {
		const json *d = dcOf(st, dc);
		REQUIRE(d != nullptr);
		CHECK((*d)["reachable"] == true);
		CHECK((*d)["instance"]["status"] == "running");
		CHECK((*d)["job"]["name"] == "CrossDcApp");
		CHECK((*d)["job"]["health"] == "healthy");
		CHECK((*d)["state"] == (dc == "dc1" ? "active" : "standby"));
		CHECK((*d)["signals"]["prefix"] == "CrossDCFailover");
		CHECK((*d)["signals"]["missing"].empty());
		CHECK((*d)["signals"]["can_tell"]["detection"] == true);
		CHECK((*d)["toolkit"]["remote"] == "up");
		CHECK((*d)["sink"]["retrieved_ns"].get<int64_t>() > 0);
		REQUIRE((*d)["pes"].size() == 3);
		for (const auto &pe : (*d)["pes"]) {
			CHECK(pe["status"] == "running");
			CHECK(pe["host"] == dc + "-h1");
			const int pid = pe["processId"].get<int>();
			REQUIRE(pid > 0);
			std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
			std::string name;
			std::getline(comm, name);
			CHECK(name == "streams-pec");
			struct stat a{}, b{};
			CHECK(::stat(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), &a) == 0);
			CHECK(::stat(("/run/netns/" + lab.netns(dc + "-h1")).c_str(), &b) == 0);
			CHECK(a.st_ino == b.st_ino);
		}
	}
	auto human = test::xdc({"streams", "status", "--lab", lab.name()});
	CHECK(human.exitCode == 0);
	CHECK(human.out.find("active DC (toolkit view): dc1") != std::string::npos);
	CHECK(human.out.find("toolkit CrossDCFailover: remote up, heartbeats flowing") != std::string::npos);

	Watch watch(lab.name(), tmp.path());

	// process.kill of one PE: xdc sees launchCount + 1 and the relaunch near the emulator's own time.
	const json *d1 = dcOf(st, "dc1");
	const json pe0 = (*d1)["pes"][0];
	auto k = test::xdc({"fault", "apply", "--lab", lab.name(),
			    fmt::format("{{kind: process.kill, targets: {{host: dc1-h1}}, match: {{cmdline: 'pe-id {} '}}, "
					"duration: 5s}}", str(pe0["id"]))});
	INFO(k.out << k.err);
	REQUIRE(k.exitCode == 0);
	REQUIRE(waitUntil([&] { return !watch.events("pe_relaunch").empty(); }, 10s));
	const json rel = watch.events("pe_relaunch")[0];
	CHECK(rel["dc"] == "dc1");
	CHECK(rel["pe"] == pe0["id"]);
	CHECK(rel["launch_count"] == pe0["launchCount"].get<int>() + 1);
	std::vector<json> launches;
	for (const auto &l : truth(lab, "dc1", "pe_launch"))
		if (str(l["pe"]) == str(pe0["id"]) && l.value("launchCount", 0) == rel["launch_count"].get<int>())
			launches.push_back(l);
	REQUIRE(launches.size() == 1);
	checkWithin(rel, launches[0]["t_ns"].get<int64_t>(), 5 * kMs, "relaunch");

	// streamtool through the agent: stop a PE (stopped, not relaunched), then restart it (launch count + 1).
	const std::string pe1 = str((*d1)["pes"][1]["id"]);
	auto stop = test::xdc({"streams", "stop-pe", pe1, "--lab", lab.name(), "--dc", "dc1", "--json"});
	INFO(stop.out << stop.err);
	REQUIRE(stop.exitCode == 0);
	auto peStatus = [&](const std::string &id) {
		json s = statusJson(lab.name());
		const json *d = dcOf(s, "dc1");
		if (d && d->contains("pes"))
			for (const auto &pe : (*d)["pes"])
				if (str(pe["id"]) == id)
					return pe;
		return json::object();
	};
	CHECK(waitUntil([&] { return peStatus(pe1).value("status", "") == "stopped"; }, 5s));
	const int64_t launchesBefore = peStatus(pe1).value("launchCount", 0);
	auto restart = test::xdc({"streams", "restart-pe", pe1, "--lab", lab.name(), "--dc", "dc1"});
	INFO(restart.out << restart.err);
	REQUIRE(restart.exitCode == 0);
	CHECK(waitUntil([&] {
		auto p = peStatus(pe1);
		return p.value("status", "") == "running" && p.value("launchCount", 0) == launchesBefore + 1;
	}, 5s));

	// Canceling dc1's job sends nothing to dc2 (only the application can send the orderly-shutdown message): dc2's
	// toolkit declares dc1 down after its misses and its application takes over.
	const int64_t cancelNs = realNs();
	auto cancel = test::xdc({"streams", "cancel-job", "--lab", lab.name(), "--dc", "dc1"});
	INFO(cancel.out << cancel.err);
	REQUIRE(cancel.exitCode == 0);
	REQUIRE(waitUntil([&] { return !watch.events("takeover_complete", "dc2", cancelNs).empty(); }, 10s));
	INFO(watch.dump());
	CHECK(truth(lab, "dc2", "orderly_shutdown_received").empty());
	const auto down = truth(lab, "dc2", "remote_down", cancelNs);
	REQUIRE(down.size() == 1);
	CHECK(down[0]["cause"] == "misses");
	const auto det = watch.events("remote_down", "dc2", cancelNs);
	REQUIRE(det.size() == 1);
	checkWithin(det[0], down[0]["t_ns"].get<int64_t>(), 5 * kMs, "detection after cancel");
	// dc1's own job-down event comes from dc1's poll round, which may follow dc2's takeover round.
	CHECK(waitUntil([&] { return !watch.events("dc_down", "dc1", cancelNs).empty(); }, 5s));

	// streams.submit_job brings the job back.
	const std::string sab = tmp.path() + "/CrossDcApp.sab";
	std::ofstream(sab) << "emulated application bundle\n";
	auto sub = test::xdc({"streams", "submit-job", "--lab", lab.name(), "--dc", "dc1", "--bundle", sab, "--json"});
	INFO(sub.out << sub.err);
	REQUIRE(sub.exitCode == 0);
	CHECK(waitUntil([&] {
		json s = statusJson(lab.name());
		const json *d = dcOf(s, "dc1");
		return d && (*d).contains("job") && (*d)["job"].is_object() && (*d)["job"]["health"] == "healthy" &&
		       (*d)["job"]["name"] == "CrossDcApp";
	}, 10s));
	CHECK(waitUntil([&] { return !watch.events("job_submitted", "dc1").empty(); }, 5s));
}

namespace {

// Acceptance 1: with the Beacon ticks known from the truth log, cut the heartbeats at six offsets from one of dc2's
// ticks; each side's detection falls on the tick the rule predicts (the allowed+1-th after the last heartbeat it
// received), and xdc's remote_down holds the emulator's instant within the bound it states.
void detectionRule(const std::string &prefix, const std::string &interval, int64_t intervalMs, int misses)
{
	LabFixture lab(prefix, {"--hosts-per-dc", "1", "--streams", "--hb-interval", interval, "--hb-misses",
				std::to_string(misses)});
	REQUIRE(lab.up());
	TempDir tmp;
	Watch watch(lab.name(), tmp.path());
	const int64_t iv = intervalMs * kMs;
	for (int k = 0; k < 6; ++k) {
		CAPTURE(k);
		reset(lab);
		// dc2's latest tick of the fresh toolkit, then a cut k/6 (plus a twelfth) of an interval after one.
		const int64_t since = truth(lab, "dc2", "toolkit_start").back()["t_ns"].get<int64_t>();
		REQUIRE(waitUntil([&] { return truth(lab, "dc2", "beacon_tick", since).size() >= 2; }, 10s));
		const int64_t tick = truth(lab, "dc2", "beacon_tick", since).back()["t_ns"].get<int64_t>();
		int64_t cut = tick + iv * k / 6 + iv / 12;
		while (cut < realNs() + 100 * kMs)
			cut += iv;
		// Placing the cut at a chosen phase of the tick schedule is the experiment, not a synchronisation.
		std::this_thread::sleep_for(std::chrono::nanoseconds(cut - realNs()));
		const int64_t cutAt = realNs();
		partition(lab);
		const int64_t budget = (misses + 2) * intervalMs + 3000;
		REQUIRE(waitUntil([&] {
			return !watch.events("remote_down", "dc1", cutAt).empty() && !watch.events("remote_down", "dc2", cutAt).empty();
		}, std::chrono::milliseconds(budget)));
		for (const std::string dc : {"dc1", "dc2"}) {
			CAPTURE(dc);
			const auto downs = truth(lab, dc, "remote_down", cutAt);
			REQUIRE(downs.size() == 1);
			const int64_t det = downs[0]["t_ns"].get<int64_t>();
			int64_t lastHb = 0;
			for (const auto &h : truth(lab, dc, "heartbeat_received", since))
				if (h["t_ns"].get<int64_t>() < det)
					lastHb = h["t_ns"].get<int64_t>();
			REQUIRE(lastHb > 0);
			std::vector<int64_t> ticks;
			for (const auto &t : truth(lab, dc, "beacon_tick", lastHb))
				ticks.push_back(t["t_ns"].get<int64_t>());
			REQUIRE(ticks.size() > size_t(misses));
			const int64_t predicted = ticks[size_t(misses)];
			MESSAGE(dc << ": cut " << (cutAt - tick) / 1e6 << " ms after a dc2 tick; last heartbeat "
				    << (cutAt - lastHb) / 1e6 << " ms before the cut; detection " << (det - lastHb) / 1e6
				    << " ms after it, " << (det - predicted) / 1e6 << " ms from the predicted tick");
			// Within one tick the emulator writes the detection first and the tick's own truth entry after it
			// has handed the status on (log, snapshot store, application): on a loaded 2-core CI machine that
			// took 6.3 ms once. A detector with the wrong rule is off by a whole interval (500 ms or more), so
			// 10 ms still tells the rule apart.
			CHECK(std::llabs(det - predicted) <= 10 * kMs);
			CHECK(det - lastHb > misses * iv - 10 * kMs);
			CHECK(det - lastHb <= (misses + 1) * iv + 10 * kMs);
			const auto seen = watch.events("remote_down", dc, cutAt);
			REQUIRE(seen.size() == 1);
			checkWithin(seen[0], det, 5 * kMs, dc + " detection");
			// The bound xdc states is one metric collection (1 s in the lab) and a poll at most.
			CHECK(seen[0]["bound_ms"].get<double>() <= 1000 + 200 + 50);
		}
		halt(lab);
	}
}

} // namespace

TEST_CASE("streams: the detection rule at six offsets from a tick, 1 s x 3")
{
	requireRoot();
	detectionRule("sda", "1s", 1000, 3);
}

TEST_CASE("streams: the detection rule at six offsets from a tick, 500 ms x 4")
{
	requireRoot();
	detectionRule("sdb", "500ms", 500, 4);
}

TEST_CASE("streams: real signals only: split brain with no recovery, takeover on isolation, no takeover after an "
	  "orderly shutdown, and the scenarios that show them")
{
	requireRoot();
	LabFixture lab("stc", {"--hosts-per-dc", "1", "--streams", "--hb-interval", "500ms", "--hb-misses", "3"});
	REQUIRE(lab.up());
	TempDir tmp;
	Watch watch(lab.name(), tmp.path());
	const int64_t detect = 4 * 500 * kMs;

	// A plain partition: each side declares the other down (split brain: both deliver), and healing it recovers
	// nothing (a side that declared its remote down stops sending heartbeats).
	const int64_t cut = realNs();
	partition(lab);
	REQUIRE(waitUntil([&] {
		return !watch.events("remote_down", "dc1", cut).empty() && !watch.events("remote_down", "dc2", cut).empty() &&
		       !watch.events("split_brain", "", cut).empty();
	}, 10s));
	for (const std::string dc : {"dc1", "dc2"}) {
		const auto t = truth(lab, dc, "remote_down", cut);
		REQUIRE(t.size() == 1);
		checkWithin(watch.events("remote_down", dc, cut)[0], t[0]["t_ns"].get<int64_t>(), 5 * kMs, dc + " detection");
		// From the next tick on, that side sends no heartbeat.
		CHECK(waitUntil([&] { return !truth(lab, dc, "heartbeats_suppressed", cut).empty(); }, 2s));
	}
	CHECK(watch.events("split_brain", "", cut)[0]["dc"] == "dc1,dc2");
	halt(lab);
	const int64_t healed = realNs();
	// Three detection times with the link back: no heartbeat flows again, no side recovers.
	CHECK_FALSE(waitUntil([&] {
		return !watch.events("remote_up", "", healed).empty() || !truth(lab, "dc1", "remote_up", healed).empty() ||
		       !truth(lab, "dc2", "remote_up", healed).empty();
	}, std::chrono::milliseconds(3 * detect / kMs)));
	json st = statusJson(lab.name());
	for (const std::string dc : {"dc1", "dc2"})
		CHECK((*dcOf(st, dc))["toolkit"]["remote"] == "down");
	CHECK(truth(lab, "dc2", "heartbeat_received", healed).empty());

	// Isolating dc1 (cut off, PEs stopped): dc2 detects it and takes over, without split brain.
	reset(lab);
	const int64_t iso = realNs();
	partition(lab);
	stopAllPes(lab, "dc1");
	REQUIRE(waitUntil([&] { return !watch.events("takeover_complete", "dc2", iso).empty(); }, 10s));
	{
		const auto down = truth(lab, "dc2", "remote_down", iso);
		const auto took = truth(lab, "dc2", "takeover_complete", iso);
		REQUIRE(down.size() == 1);
		REQUIRE(took.size() == 1);
		checkWithin(watch.events("remote_down", "dc2", iso)[0], down[0]["t_ns"].get<int64_t>(), 5 * kMs, "detection");
		// The output flows from the takeover on: the first tuple reaches the sink within one source period (20 ms).
		checkWithin(watch.events("takeover_complete", "dc2", iso)[0], took[0]["t_ns"].get<int64_t>(), 25 * kMs,
			    "takeover");
		CHECK(!watch.events("state_handed_over", "dc2", iso).empty());
		CHECK(watch.events("split_brain", "", iso).empty());
	}
	halt(lab);

	// An orderly shutdown through the application's own hook (the agent's streams.orderly_shutdown): dc1 sends the
	// message, dc2 deletes dc1's snapshots, still declares dc1 down when the heartbeats stop, and does not take over.
	reset(lab);
	const int64_t os = realNs();
	auto hook = test::xdc({"streams", "orderly-shutdown", "--lab", lab.name(), "--dc", "dc1", "--json"});
	INFO(hook.out << hook.err);
	REQUIRE(hook.exitCode == 0);
	REQUIRE(waitUntil([&] { return !truth(lab, "dc2", "orderly_shutdown_received", os).empty(); }, 5s));
	CHECK(!truth(lab, "dc1", "orderly_shutdown_sent", os).empty());
	// dc2 deletes what it stored of dc1 right after logging the message: wait for that line too.
	INFO("dc2 had stored " << truth(lab, "dc2", "orderly_shutdown_received", os)[0].value("stored", -1)
			       << " snapshot(s) when the message came");
	CHECK(waitUntil([&] { return !truth(lab, "dc2", "snapshot_deleted", os).empty(); }, 2s));
	REQUIRE(waitUntil([&] { return !watch.events("remote_down", "dc2", os).empty(); }, 10s));
	checkWithin(watch.events("remote_down", "dc2", os)[0], truth(lab, "dc2", "remote_down", os)[0]["t_ns"].get<int64_t>(),
		    5 * kMs, "detection after the orderly shutdown");
	CHECK_FALSE(waitUntil([&] {
		return !watch.events("takeover_complete", "", os).empty() || !truth(lab, "dc2", "takeover_complete", os).empty();
	}, std::chrono::milliseconds(2 * detect / kMs)));

	// The same as scenarios, each from the starting state (streams.reset): the split-brain sample, and an orderly
	// shutdown as an inject step with no takeover asserted.
	int rc = -1;
	json rep = runScenario(lab, tmp.path() + "/sb", "lab-streams-split-brain.yaml", {}, rc);
	CHECK(rc == 0);
	CHECK(rep.value("verdict", "") == "passed");
	CHECK(reportEvent(rep, "split_brain").value("dc", "") == "dc1,dc2");
	const std::string file = tmp.path() + "/orderly.yaml";
	std::ofstream(file) << R"(version: 1
name: orderly-shutdown
streams: {interval: 200ms, reset: true}
phases:
  baseline: {duration: 1s}
  inject:
    faults:
      - {kind: streams.orderly_shutdown, dc: dc1}
  observe: {until: {streams: remote_down}, timeout: 10s}
  recover: {duration: 2s}
assertions:
  - streams: {takeover: false, split_brain: false}
)";
	rep = runScenario(lab, tmp.path() + "/os", file, {}, rc);
	CHECK(rc == 0);
	CHECK(rep.value("verdict", "") == "passed");
	CHECK(reportEvent(rep, "remote_down", "dc2").contains("t_ns"));
	CHECK(reportEvent(rep, "takeover_complete").empty());
	bool ran = false;
	for (const auto &f : rep["faults"])
		ran = ran || (f.value("kind", "") == "streams.orderly_shutdown" && f.value("status", "") == "applied");
	CHECK(ran);
}

TEST_CASE("streams: active/passive: the monitor's detection, the failover script, the job's submission, its PEs and "
	  "dc2's output, each timed with its bound")
{
	requireRoot();
	LabFixture lab("stp", {"--hosts-per-dc", "1", "--streams", "--streams-mode", "active-passive", "--hb-interval",
			       "1s", "--hb-misses", "3"});
	REQUIRE(lab.up());
	TempDir tmp;
	json st = statusJson(lab.name());
	CHECK(st.value("active", "") == "dc1");
	CHECK((*dcOf(st, "dc2"))["state"] == "no_job");
	int rc = -1;
	const int64_t t0 = realNs();
	const json rep = runScenario(lab, tmp.path() + "/run", "lab-streams-active-passive.yaml", {}, rc);
	CHECK(rc == 0);
	REQUIRE(rep.contains("streams"));
	const json steps = rep["streams"]["host"]["failover_steps"];
	INFO(steps.dump(2));
	REQUIRE(steps.size() == 6);
	int64_t prevSince = 0;
	for (const auto &s : steps) {
		CHECK_MESSAGE(s.value("seen", false), s["step"]);
		if (!s.value("seen", false))
			continue;
		CHECK(s.contains("bound_ms"));
		// In order, each step's latest instant after the previous step's earliest (they are observed apart: the
		// host's samplers, the REST polls, the metric collections).
		CHECK_MESSAGE(s["t_ns"].get<int64_t>() >= prevSince, s["step"]);
		prevSince = s["since_ns"].get<int64_t>();
	}
	// Each against the truth: the monitor's detection, the script's start, the submission, the PEs, the output.
	const auto mon = truth(lab, "dc2", "remote_down", t0, "dc2.monitor.truth.jsonl");
	REQUIRE(mon.size() == 1);
	checkWithin(steps[0], mon[0]["t_ns"].get<int64_t>(), 5 * kMs, "monitor detection");
	const auto script = truth(lab, "dc2", "failover_script_started", t0, "dc2.monitor.truth.jsonl");
	REQUIRE(script.size() == 1);
	checkWithin(steps[1], script[0]["t_ns"].get<int64_t>(), 5 * kMs, "failover script");
	const auto sub = truth(lab, "dc2", "job_submitted", t0);
	REQUIRE(sub.size() == 1);
	checkWithin(steps[2], sub[0]["t_ns"].get<int64_t>(), 2 * kMs, "job submitted");
	const auto pes = truth(lab, "dc2", "pe_launch", t0);
	REQUIRE(pes.size() == 3);
	checkWithin(steps[3], pes.back()["t_ns"].get<int64_t>(), 5 * kMs, "PEs started");
	CHECK(steps[5]["t_ns"].get<int64_t>() >= pes.back()["t_ns"].get<int64_t>());
	CHECK(rep["assertions"][0]["observed"]["detection_source"] == "passive monitor output");
	CHECK(rep["streams"]["active_after_observe"] == "dc2");
}

TEST_CASE("streams: host signals at a raised trace level: heartbeat receipts from the trace, the state age at "
	  "failover; the isolation scenario's figures against the truth")
{
	requireRoot();
	LabFixture lab("sth", {"--hosts-per-dc", "1", "--streams", "--hb-interval", "1s", "--hb-misses", "3",
			       "--trace-level", "info"});
	REQUIRE(lab.up());
	TempDir tmp;
	int rc = -1;
	const int64_t t0 = realNs();
	const json rep = runScenario(lab, tmp.path() + "/run", "lab-streams-isolate-dc1.yaml", {}, rc);
	CHECK(rc == 0);
	REQUIRE(rep.contains("streams"));
	CHECK(rep["verdict"] == "passed");

	// Heartbeat receipts on dc2 from its PE trace lines, each one the emulator's own receipt of that heartbeat.
	const json receipts = rep["streams"]["host"]["heartbeats_received"]["dc2"]["receipts"];
	REQUIRE(receipts.size() >= 2);
	std::map<int64_t, int64_t> truthByCnt;
	for (const auto &h : truth(lab, "dc2", "heartbeat_received", t0))
		if (h.value("type", 0) == 1)
			truthByCnt[h["hb_cnt"].get<int64_t>()] = h["t_ns"].get<int64_t>();
	for (const auto &r : receipts) {
		const int64_t cnt = r["hb_cnt"].get<int64_t>();
		REQUIRE(truthByCnt.count(cnt));
		const double diffMs = std::fabs(double(r["t_ns"].get<int64_t>() - truthByCnt[cnt]) / 1e6);
		CHECK_MESSAGE(diffMs <= r["bound_ms"].get<double>() + 5, "heartbeat " << cnt << " off by " << diffMs << " ms");
		CHECK(r["origin"] == "dc1");
	}

	// The state age at failover: the snapshot file dc2 took over, against when the emulator wrote and took it.
	const json age = rep["streams"]["host"]["state_age_at_failover"];
	INFO(age.dump());
	REQUIRE(age.contains("age_ms"));
	CHECK(age["dc"] == "dc2");
	const auto taken = truth(lab, "dc2", "snapshot_taken_over", t0);
	REQUIRE(taken.size() == 1);
	int64_t written = 0;
	for (const auto &w : truth(lab, "dc2", "snapshot_written", t0))
		if (w["file"] == taken[0]["file"] && w["t_ns"].get<int64_t>() < taken[0]["t_ns"].get<int64_t>())
			written = w["t_ns"].get<int64_t>();
	REQUIRE(written > 0);
	const double trueAge = double(taken[0]["t_ns"].get<int64_t>() - written) / 1e6;
	MESSAGE("state age at failover: truth " << trueAge << " ms; xdc " << age["age_min_ms"] << ".." << age["age_max_ms"]);
	CHECK(trueAge >= age["age_min_ms"].get<double>() - 5);
	CHECK(trueAge <= age["age_max_ms"].get<double>() + 5);

	// The scenario's detection and takeover against the truth, within the bounds the report states.
	const auto down = truth(lab, "dc2", "remote_down", t0);
	const auto took = truth(lab, "dc2", "takeover_complete", t0);
	REQUIRE(down.size() == 1);
	REQUIRE(took.size() == 1);
	checkWithin(reportEvent(rep, "remote_down", "dc2"), down[0]["t_ns"].get<int64_t>(), 5 * kMs, "detection");
	checkWithin(reportEvent(rep, "takeover_complete", "dc2"), took[0]["t_ns"].get<int64_t>(), 25 * kMs, "takeover");
	const json obs = rep["assertions"][0]["observed"];
	CHECK(down[0]["t_ns"].get<int64_t>() > obs["faults_start_ns"].get<int64_t>());
	CHECK(rep["streams"]["active_after_observe"] == "dc2");
	// Throughput: the built-in source's rate (dc1 before the cut) is what dc2 comes back to, and not before the
	// emulator's own takeover (dc2's application outputs nothing while it stands by).
	const json tp = rep["assertions"][2];
	INFO(tp.dump());
	CHECK(tp["kind"] == "throughput");
	CHECK(tp["status"] == "passed");
	CHECK(tp["observed"]["baseline_rate"].get<double>() == doctest::Approx(50).epsilon(0.1));
	CHECK(tp["observed"]["rate_per_dc"]["dc2"].get<double>() >= 40);
	const int64_t back = obs["faults_start_ns"].get<int64_t>() +
			     static_cast<int64_t>(tp["observed"]["recovered_after_ms"].get<double>() * 1e6);
	CHECK(back >= took[0]["t_ns"].get<int64_t>());
	std::ifstream html(tmp.path() + "/run/report.html");
	const std::string page(std::istreambuf_iterator<char>(html), {});
	CHECK(page.find("id=\"streams-events\"") != std::string::npos);
	CHECK(page.find("data-kind=\"takeover_complete\"") != std::string::npos);

	// A detection bound the toolkit cannot meet (1 s x 3 misses cannot detect within 1 s) fails the run, exit 1.
	const json bad = runScenario(lab, tmp.path() + "/bad", "lab-streams-isolate-dc1.yaml",
				     {"--param", "detection_max=1s"}, rc);
	CHECK(rc == 1);
	CHECK(bad.value("verdict", "") == "failed");
	CHECK(bad.value("reason", "").find("detection_max 1s") != std::string::npos);
}

TEST_CASE("streams: a deployment without the toolkit: status names what it looked for; a detection assertion is a "
	  "harness error")
{
	requireRoot();
	LabFixture lab("stn", {"--hosts-per-dc", "1", "--streams", "--streams-no-toolkit"});
	REQUIRE(lab.up());
	TempDir tmp;
	auto human = test::xdc({"streams", "status", "--lab", lab.name()});
	INFO(human.out << human.err);
	CHECK(human.exitCode == 0);
	CHECK(human.out.find("none of its operators found") != std::string::npos);
	CHECK(human.out.find("RemoteDataCenterHeartbeatWatchdog") != std::string::npos);
	json st = statusJson(lab.name());
	for (const std::string dc : {"dc1", "dc2"}) {
		const json *d = dcOf(st, dc);
		REQUIRE(d != nullptr);
		CHECK((*d)["signals"]["found"].empty());
		CHECK((*d)["signals"]["missing"].size() == 7);
		CHECK((*d)["signals"]["can_tell"]["detection"] == false);
		CHECK((*d)["toolkit"]["remote"] == "unknown");
	}
	const std::string file = tmp.path() + "/detect.yaml";
	std::ofstream(file) << R"(version: 1
name: detect-without-toolkit
streams: {interval: 200ms}
phases:
  baseline: {duration: 1s}
  inject:
    faults:
      - {kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 20s, action: reject}
  observe: {until: {streams: remote_down}, timeout: 10s}
  recover: {duration: 1s}
assertions:
  - streams: {detection_max: 10s}
)";
	int rc = -1;
	const json rep = runScenario(lab, tmp.path() + "/run", file, {}, rc);
	CHECK(rc == 3);
	CHECK(rep.value("verdict", "") == "harness");
	CHECK(rep.value("reason", "").find("RemoteDataCenterHeartbeatWatchdog") != std::string::npos);
	CHECK(rep["residue"]["clean"] == true);
}

int main(int argc, char **argv)
{
	requireRoot();
	doctest::Context ctx(argc, argv);
	return ctx.run();
}
