// SPDX-License-Identifier: Apache-2.0
// Streams acceptance in the lab: `xdc streams status` over the two emulators, PE kill and relaunch, cancel and
// submit, orderly shutdown, and the toolkit view's detection, takeover and split brain checked against the
// emulators' ground-truth logs (which xdc itself never reads).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>
#include <fstream>
#include <sys/stat.h>

#include "common/sys/process.h"
#include "tests/support/harness.h"

using namespace xdc;
using namespace xdc::test;

namespace {

constexpr int64_t kMs = 1000000;

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

// Lines of a JSON-lines file (the ones that parse).
std::vector<json> jsonLines(const std::string &path)
{
	std::vector<json> out;
	std::ifstream f(path);
	std::string line;
	while (std::getline(f, line)) {
		try {
			out.push_back(json::parse(line));
		} catch (...) {
		}
	}
	return out;
}

std::string str(const json &v)
{
	return v.is_string() ? v.get<std::string>() : v.dump();
}

// The emulator's ground truth of one DC: events named `event`.
std::vector<json> truth(const LabFixture &lab, const std::string &dc, const std::string &event)
{
	std::vector<json> out;
	for (const auto &j : jsonLines(lab.stateDir() + "/streams/" + dc + ".truth.jsonl"))
		if (j.value("event", "") == event)
			out.push_back(j);
	return out;
}

// `xdc streams watch --json` running in the background for the test's lifetime.
class Watch {
public:
	Watch(const std::string &lab, const std::string &dir) : out_(dir + "/watch.jsonl")
	{
		auto pid = sys::spawn({xdcBin(), "streams", "watch", "--lab", lab, "--interval", "200ms", "--json"},
				      {.stdoutFile = out_});
		REQUIRE(pid.ok());
		pid_ = *pid;
		start_ = sys::processStartTime(pid_).value_or(0);
		REQUIRE(waitUntil([&] { return !find("ready").empty(); }, 15s));
	}
	~Watch() { (void)sys::stopProcess(pid_, start_, std::chrono::milliseconds(3000)); }
	// Lines with `key` (ready, event, end), or events of one kind when kind is given.
	std::vector<json> find(const std::string &key, const std::string &kind = "") const
	{
		std::vector<json> r;
		for (const auto &j : jsonLines(out_))
			if (j.contains(key) && (kind.empty() || j[key].value("kind", "") == kind))
				r.push_back(j[key]);
		return r;
	}
	std::vector<json> events(const std::string &kind) const { return find("event", kind); }
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

} // namespace

TEST_CASE("streams: status, PE kill and relaunch, stop/restart through the agent, cancel and submit, orderly "
	  "shutdown")
{
	requireRoot();
	LabFixture lab("sta", {"--hosts-per-dc", "1", "--streams", "--hb-interval", "500ms", "--hb-misses", "3"});
	REQUIRE(lab.up());
	TempDir tmp;

	// Acceptance 1: both instances, the job, its PEs (real streams-pec processes in the DC's namespace), dc1 active.
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

	Watch watch(lab.name(), tmp.path());

	// Acceptance 4: process.kill of one PE; xdc sees launchCount + 1 and the relaunch near the emulator's own time.
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
	const int64_t relTruth = launches[0]["t_ns"].get<int64_t>();
	MESSAGE("relaunch: emulator " << relTruth << ", xdc saw it between " << rel["since_ns"] << " and "
				      << rel["t_ns"]);
	CHECK(rel["t_ns"].get<int64_t>() >= relTruth);
	CHECK(rel["t_ns"].get<int64_t>() - relTruth <= 300 * kMs);

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

	// Acceptance 5: orderly shutdown of dc1's job: no takeover, in the emulator's truth and in xdc's view.
	auto cancel = test::xdc({"streams", "cancel-job", "--lab", lab.name(), "--dc", "dc1"});
	INFO(cancel.out << cancel.err);
	REQUIRE(cancel.exitCode == 0);
	REQUIRE(waitUntil([&] { return !watch.events("orderly_shutdown").empty(); }, 5s));
	CHECK(waitUntil([&] { return !truth(lab, "dc2", "remote_shutdown").empty(); }, 5s));
	// Longer than detection (500 ms x 3) plus a takeover and a poll: nothing may follow.
	const auto quietFrom = std::chrono::steady_clock::now();
	CHECK_FALSE(waitUntil([&] {
		return !watch.events("takeover_complete").empty() || !watch.events("remote_down").empty() ||
		       !truth(lab, "dc2", "takeover_complete").empty();
	}, 3s));
	CHECK(secondsSince(quietFrom) >= 2.9);
	INFO(watch.dump());
	CHECK(watch.events("takeover_complete").empty());
	CHECK(truth(lab, "dc2", "takeover_complete").empty());

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
}

TEST_CASE("streams: isolating dc1 (partition + its PEs stopped) gives detection and takeover at the emulator's "
	  "instants")
{
	requireRoot();
	LabFixture lab("stb", {"--hosts-per-dc", "1", "--streams", "--hb-interval", "1s", "--hb-misses", "3"});
	REQUIRE(lab.up());
	TempDir tmp;
	Watch watch(lab.name(), tmp.path());
	auto p = test::xdc({"fault", "apply", "--lab", lab.name(),
		      "{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 60s}"});
	INFO(p.out << p.err);
	REQUIRE(p.exitCode == 0);
	json st = statusJson(lab.name());
	const json *d1 = dcOf(st, "dc1");
	REQUIRE(d1 != nullptr);
	for (const auto &pe : (*d1)["pes"]) {
		auto s = test::xdc({"streams", "stop-pe", str(pe["id"]), "--lab", lab.name(), "--dc", "dc1"});
		INFO(s.out << s.err);
		CHECK(s.exitCode == 0);
	}
	INFO(watch.dump());
	REQUIRE(waitUntil([&] { return !watch.events("takeover_complete").empty(); }, 15s));
	const auto down = truth(lab, "dc2", "remote_down");
	const auto took = truth(lab, "dc2", "takeover_complete");
	REQUIRE(down.size() == 1);
	REQUIRE(took.size() == 1);
	const auto det = watch.events("remote_down");
	REQUIRE(det.size() == 1);
	const json tk = watch.events("takeover_complete")[0];
	CHECK(det[0]["dc"] == "dc2");
	CHECK(tk["dc"] == "dc2");
	const int64_t tol = (200 + 100) * kMs;
	const int64_t dDet = det[0]["t_ns"].get<int64_t>() - down[0]["t_ns"].get<int64_t>();
	const int64_t dTk = tk["t_ns"].get<int64_t>() - took[0]["t_ns"].get<int64_t>();
	MESSAGE("detection: xdc - emulator = " << dDet / 1e6 << " ms; takeover: " << dTk / 1e6 << " ms");
	CHECK(std::llabs(dDet) <= tol);
	CHECK(std::llabs(dTk) <= tol);
	CHECK(watch.events("split_brain").empty());
	(void)test::xdc({"halt", "--lab", lab.name()});
}

TEST_CASE("streams: a plain partition between the DCs is split brain")
{
	requireRoot();
	LabFixture lab("stc", {"--hosts-per-dc", "1", "--streams", "--hb-interval", "300ms", "--hb-misses", "3"});
	REQUIRE(lab.up());
	TempDir tmp;
	Watch watch(lab.name(), tmp.path());
	auto p = test::xdc({"fault", "apply", "--lab", lab.name(),
		      "{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 60s}"});
	INFO(p.out << p.err);
	REQUIRE(p.exitCode == 0);
	REQUIRE(waitUntil([&] { return !watch.events("split_brain").empty(); }, 10s));
	INFO(watch.dump());
	CHECK(watch.events("split_brain")[0]["dc"] == "dc1,dc2");
	CHECK(truth(lab, "dc2", "takeover_complete").size() == 1);
	auto st = test::xdc({"streams", "status", "--lab", lab.name()});
	CHECK(st.out.find("SPLIT BRAIN") != std::string::npos);
	(void)test::xdc({"halt", "--lab", lab.name()});
}

namespace {

// Runs a scenario (a sample by name, or a file by absolute path) against the lab and returns its report (empty on
// no report).
json runScenario(const LabFixture &lab, const TempDir &tmp, const std::string &file, std::vector<std::string> extra,
		 int &exitCode)
{
	std::vector<std::string> args = {"run", file[0] == '/' ? file : sourceRoot() + "/scenarios/" + file, "--lab",
					 lab.name(), "--out", tmp.path() + "/run"};
	args.insert(args.end(), extra.begin(), extra.end());
	auto r = test::xdc(args);
	MESSAGE("xdc run " << file << " exit " << r.exitCode << "\n" << r.out << r.err);
	exitCode = r.exitCode;
	std::ifstream f(tmp.path() + "/run/report.json");
	if (!f)
		return json::object();
	return json::parse(std::string(std::istreambuf_iterator<char>(f), {}));
}

// The report's first toolkit-view event of a kind.
json reportEvent(const json &report, const std::string &kind)
{
	for (const auto &e : report["streams"].value("events", json::array()))
		if (e.value("kind", "") == kind)
			return e;
	return json::object();
}

} // namespace

TEST_CASE("streams: scenario isolating dc1 measures detection and takeover at the emulator's instants")
{
	requireRoot();
	LabFixture lab("ssa", {"--hosts-per-dc", "1", "--streams", "--hb-interval", "1s", "--hb-misses", "3"});
	REQUIRE(lab.up());
	TempDir tmp;
	int rc = -1;
	const json rep = runScenario(lab, tmp, "lab-streams-isolate-dc1.yaml", {}, rc);
	CHECK(rc == 0);
	REQUIRE(rep.contains("streams"));
	CHECK(rep["verdict"] == "passed");
	// The operation is in the report as a streams.stop_pe entry that ran on dc1's Streams host.
	bool stopped = false;
	for (const auto &f : rep["faults"])
		if (f.value("kind", "") == "streams.stop_pe") {
			stopped = f.value("status", "") == "applied" && f["detail"].size() >= 1 && f["hosts"][0] == "dc1-h1";
			for (const auto &d : f["detail"])
				stopped = stopped && d.value("ok", false);
		}
	CHECK(stopped);
	const auto down = truth(lab, "dc2", "remote_down");
	const auto took = truth(lab, "dc2", "takeover_complete");
	REQUIRE(down.size() == 1);
	REQUIRE(took.size() == 1);
	const json det = reportEvent(rep, "remote_down"), tk = reportEvent(rep, "takeover_complete");
	REQUIRE(det.contains("t_ns"));
	REQUIRE(tk.contains("t_ns"));
	CHECK(det["dc"] == "dc2");
	CHECK(tk["dc"] == "dc2");
	const int64_t tol = (rep["streams"]["interval_ms"].get<int64_t>() + 100) * kMs;
	const int64_t dDet = det["t_ns"].get<int64_t>() - down[0]["t_ns"].get<int64_t>();
	const int64_t dTk = tk["t_ns"].get<int64_t>() - took[0]["t_ns"].get<int64_t>();
	MESSAGE("scenario: detection xdc - emulator = " << dDet / 1e6 << " ms; takeover " << dTk / 1e6 << " ms");
	CHECK(std::llabs(dDet) <= tol);
	CHECK(std::llabs(dTk) <= tol);
	// The figures are measured from the partition's verified start: the emulator's detection lies after it.
	const json obs = rep["assertions"][0]["observed"];
	CHECK(obs["detection_ms"].get<double>() * 1e6 ==
	      doctest::Approx(static_cast<double>(det["t_ns"].get<int64_t>() - obs["faults_start_ns"].get<int64_t>())));
	CHECK(down[0]["t_ns"].get<int64_t>() > obs["faults_start_ns"].get<int64_t>());
	CHECK(rep["streams"]["active_after_observe"] == "dc2");
	// The HTML report has the toolkit view's lanes and events.
	std::ifstream html(tmp.path() + "/run/report.html");
	const std::string page(std::istreambuf_iterator<char>(html), {});
	CHECK(page.find("id=\"streams-events\"") != std::string::npos);
	CHECK(page.find("data-kind=\"takeover_complete\"") != std::string::npos);
}

TEST_CASE("streams: a scenario's detection bound fails when the toolkit is slower than it")
{
	requireRoot();
	LabFixture lab("ssb", {"--hosts-per-dc", "1", "--streams", "--hb-interval", "1s", "--hb-misses", "3"});
	REQUIRE(lab.up());
	TempDir tmp;
	int rc = -1;
	// Heartbeat 1 s x 3 misses cannot detect within 1 s: the assertion must fail, exit 1.
	const json rep = runScenario(lab, tmp, "lab-streams-isolate-dc1.yaml", {"--param", "detection_max=1s"}, rc);
	CHECK(rc == 1);
	CHECK(rep.value("verdict", "") == "failed");
	CHECK(rep.value("reason", "").find("detection_max 1s") != std::string::npos);
	CHECK(truth(lab, "dc2", "remote_down").size() == 1);
}

TEST_CASE("streams: the split-brain scenario reports split brain")
{
	requireRoot();
	LabFixture lab("ssc", {"--hosts-per-dc", "1", "--streams", "--hb-interval", "300ms", "--hb-misses", "3"});
	REQUIRE(lab.up());
	TempDir tmp;
	int rc = -1;
	const json rep = runScenario(lab, tmp, "lab-streams-split-brain.yaml", {}, rc);
	CHECK(rc == 0);
	CHECK(rep.value("verdict", "") == "passed");
	CHECK(reportEvent(rep, "split_brain").value("dc", "") == "dc1,dc2");
	// The emulators agree: dc2 took over while dc1 never stood down.
	CHECK(truth(lab, "dc2", "takeover_complete").size() == 1);
	CHECK(truth(lab, "dc1", "takeover_complete").empty());
}

TEST_CASE("streams: a scenario cancels and resubmits dc1's job: orderly shutdown, no takeover")
{
	requireRoot();
	LabFixture lab("ssd", {"--hosts-per-dc", "1", "--streams", "--hb-interval", "500ms", "--hb-misses", "3"});
	REQUIRE(lab.up());
	TempDir tmp;
	std::ofstream(tmp.path() + "/CrossDcApp.sab") << "emulated application bundle\n";
	const std::string file = tmp.path() + "/orderly.yaml";
	std::ofstream(file) << R"(version: 1
name: orderly-shutdown
streams: {interval: 200ms}
phases:
  baseline: {duration: 1s}
  inject:
    faults:
      - {kind: streams.cancel_job, dc: dc1}
      - {kind: streams.submit_job, dc: dc1, bundle: CrossDcApp.sab, start: 3s}
  observe: {duration: 2s}
  recover: {duration: 1s}
assertions:
  - streams: {takeover: false, split_brain: false}
)";
	int rc = -1;
	const json rep = runScenario(lab, tmp, file, {}, rc);
	CHECK(rc == 0);
	REQUIRE(rep.contains("faults"));
	CHECK(rep["verdict"] == "passed");
	std::map<std::string, json> ops;
	for (const auto &x : rep["faults"])
		ops[x.value("kind", "")] = x;
	REQUIRE(ops.count("streams.cancel_job"));
	REQUIRE(ops.count("streams.submit_job"));
	CHECK(ops["streams.cancel_job"]["status"] == "applied");
	CHECK(ops["streams.submit_job"]["status"] == "applied");
	// submit ran at its 3 s offset from cancel's instant, within scheduling slack.
	const int64_t gap = ops["streams.submit_job"]["applied_ns"].get<int64_t>() -
			    ops["streams.cancel_job"]["applied_ns"].get<int64_t>();
	CHECK(gap >= 2900 * kMs);
	CHECK(gap <= 3500 * kMs);
	CHECK(reportEvent(rep, "orderly_shutdown").value("dc", "") == "dc1");
	CHECK(reportEvent(rep, "takeover_complete").empty());
	CHECK(truth(lab, "dc2", "takeover_complete").empty());
	CHECK(!truth(lab, "dc2", "remote_shutdown").empty());
	// The job is back in dc1.
	CHECK(waitUntil([&] {
		json st = statusJson(lab.name());
		const json *d = dcOf(st, "dc1");
		return d && (*d).contains("job") && (*d)["job"].is_object() && (*d)["job"]["health"] == "healthy";
	}, 10s));
}

int main(int argc, char **argv)
{
	requireRoot();
	doctest::Context ctx(argc, argv);
	return ctx.run();
}
