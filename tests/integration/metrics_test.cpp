// SPDX-License-Identifier: Apache-2.0
// Metric sources against real servers: a Prometheus server (Debian's /usr/bin/prometheus) in a lab host's network
// namespace scraping both Streams emulators, whose `up{job="dc2"} == 0` condition `xdc metrics prom --check` must see
// turn true during a dc1<->dc2 partition and false after it; and a JVM serving its MBeans through Debian's
// jolokia-core, read with `xdc metrics jmx`. Missing packages fail the test (scripts/install-deps.sh installs them).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "common/sys/process.h"
#include "controller/lab/topology.h"
#include "tests/support/harness.h"

using namespace xdc;
using namespace xdc::test;

namespace {

std::string readFile(const std::string &path)
{
	std::ifstream f(path);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

bool executable(const std::string &path)
{
	return ::access(path.c_str(), X_OK) == 0;
}

// A process the test started, stopped in the destructor on every way out of the test case. It runs under
// `setpriv --pdeathsig KILL`, so it is killed with the test even when the test itself is killed (meson's timeout).
class Child {
public:
	Child(std::vector<std::string> argv, sys::SpawnOptions opts, std::string log) : log_(std::move(log))
	{
		argv.insert(argv.begin(), {"setpriv", "--pdeathsig", "KILL", "--"});
		opts.stdoutFile = log_;
		auto pid = sys::spawn(argv, opts);
		REQUIRE_MESSAGE(pid.ok(), (pid.ok() ? "" : pid.error().message));
		pid_ = *pid;
		start_ = sys::processStartTime(pid_).value_or(0);
	}
	~Child() { stop(); }
	Child(const Child &) = delete;
	Child &operator=(const Child &) = delete;

	bool alive() const { return sys::processAlive(pid_, start_); }
	std::string log() const { return readFile(log_); }
	void stop()
	{
		if (pid_ > 0)
			(void)sys::stopProcess(pid_, start_, std::chrono::milliseconds(3000));
		pid_ = 0;
	}

private:
	std::string log_;
	pid_t pid_ = 0;
	uint64_t start_ = 0;
};

// `xdc metrics prom --check`: 0 holds, 1 does not, anything else is an error the test reports (unless it is waiting
// for the server to listen, when 3 is expected).
int check(const std::string &url, const std::string &promql, bool unreachableExpected = false)
{
	auto r = test::xdc({"metrics", "prom", promql, "--url", url, "--check", "--timeout", "3s"}, 10s);
	if (r.exitCode != 0 && r.exitCode != 1 && !(unreachableExpected && r.exitCode == 3))
		MESSAGE("xdc metrics prom --check " << promql << ": exit " << r.exitCode << ": " << r.err);
	return r.exitCode;
}

// A Prometheus server (Debian's /usr/bin/prometheus) in the lab's dc1-h1 with its own config: both emulators scraped
// every second over their DCs' data addresses (dc2's through the WAN a partition cuts; its management address would
// bypass the partition, as monitoring does in a real deployment), as jobs dc1 and dc2; `rules`, when given, is its
// rule file (evaluated every second). With `scrapeController`, the lab's controller's /metrics too (job xdc, on the
// lab's management address). Returns once every target is up; the controller reaches it on dc1-h1's management
// address.
struct PromServer {
	std::unique_ptr<Child> child;
	std::string url;
};

PromServer startPrometheus(LabFixture &lab, const TempDir &tmp, const std::string &rules = "",
			   bool scrapeController = false)
{
	const std::string prometheus = "/usr/bin/prometheus";
	REQUIRE_MESSAGE(executable(prometheus), "needs " << prometheus
				<< " (Debian package prometheus; scripts/install-deps.sh installs it)");
	auto st = lab.state();
	const lab::HostInfo *h1 = nullptr, *h2 = nullptr;
	for (const auto &h : st.hosts) {
		if (h.name == "dc1-h1")
			h1 = &h;
		if (h.name == "dc2-h1")
			h2 = &h;
	}
	REQUIRE(h1 != nullptr);
	REQUIRE(h2 != nullptr);
	const std::string pw = lab.stateDir() + "/streams/password";
	REQUIRE(!readFile(pw).empty());
	const std::string config = tmp.path() + "/prometheus.yml";
	{
		std::ofstream f(config);
		f << "global:\n  scrape_interval: 1s\n  scrape_timeout: 800ms\n  evaluation_interval: 1s\n";
		if (!rules.empty()) {
			std::ofstream r(tmp.path() + "/rules.yml");
			r << rules;
			f << "rule_files: ['" << tmp.path() << "/rules.yml']\n";
		}
		f << "scrape_configs:\n";
		for (const auto &[job, host] : {std::pair{"dc1", h1}, std::pair{"dc2", h2}})
			f << "  - job_name: " << job << "\n    metrics_path: /metrics\n    basic_auth:\n"
			  << "      username: streamsadmin\n      password_file: " << pw << "\n"
			  << "    static_configs:\n      - targets: ['" << host->data4 << ":8440']\n";
		if (scrapeController)
			f << "  - job_name: xdc\n    static_configs:\n      - targets: ['"
			  << lab::controllerAddress4(st.subnet) << ":7790']\n";
	}
	REQUIRE(::mkdir((tmp.path() + "/tsdb").c_str(), 0700) == 0);
	PromServer s;
	s.url = "http://" + h1->mgmt4 + ":9090";
	s.child = std::make_unique<Child>(
		std::vector<std::string>{prometheus, "--config.file=" + config, "--storage.tsdb.path=" + tmp.path() + "/tsdb",
					 "--web.listen-address=0.0.0.0:9090", "--storage.tsdb.retention.time=1h",
					 "--log.level=warn"},
		sys::SpawnOptions{.netns = lab.netns("dc1-h1")}, tmp.path() + "/prometheus.log");
	Child &prom = *s.child;
	const std::string url = s.url;
	const auto t0 = std::chrono::steady_clock::now();
	REQUIRE_MESSAGE(waitUntil([&] { return prom.alive() && check(url, R"(up{job="dc1"} == 1)", true) == 0; }, 30s, 200ms),
			"prometheus never scraped dc1: " << prom.log());
	REQUIRE(waitUntil([&] { return check(url, R"(up{job="dc2"} == 1)") == 0; }, 15s, 200ms));
	if (scrapeController)
		REQUIRE_MESSAGE(waitUntil([&] { return check(url, R"(up{job="xdc"} == 1)") == 0; }, 15s, 200ms),
				"prometheus never scraped the controller: " << prom.log());
	MESSAGE("prometheus ready, both targets up, after " << secondsSince(t0) << " s");
	return s;
}

// A JVM serving its own MBeans through Debian's jolokia-core (tests/java/JolokiaServer.java, compiled into tmp) on
// 127.0.0.1 and an ephemeral port. Returns once it serves; url is the agent's URL.
struct JolokiaJvm {
	std::unique_ptr<Child> child;
	std::string url;
};

JolokiaJvm startJolokia(const TempDir &tmp)
{
	const std::string javac = "/usr/bin/javac", java = "/usr/bin/java";
	const std::string core = "/usr/share/java/jolokia-core.jar", simple = "/usr/share/java/json-simple.jar";
	REQUIRE_MESSAGE(executable(javac), "needs javac (Debian package default-jdk-headless; scripts/install-deps.sh)");
	REQUIRE_MESSAGE(executable(java), "needs java (Debian package default-jdk-headless; scripts/install-deps.sh)");
	REQUIRE_MESSAGE(::access(core.c_str(), R_OK) == 0, "needs " << core << " (Debian package libjolokia-core-java)");
	REQUIRE_MESSAGE(::access(simple.c_str(), R_OK) == 0, "needs " << simple << " (Debian package libjson-simple-java)");
	const std::string cp = core + ":" + simple;
	auto c = sys::run({javac, "-nowarn", "-d", tmp.path(), "-cp", cp, sourceRoot() + "/tests/java/JolokiaServer.java"},
			  {.timeout = 120s, .mergeStderr = true});
	REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
	REQUIRE_MESSAGE(c->exitCode == 0, "javac: " << c->out);
	const std::string portFile = tmp.path() + "/port";
	JolokiaJvm j;
	j.child = std::make_unique<Child>(std::vector<std::string>{java, "-Xmx64m", "-cp", tmp.path() + ":" + cp,
								   "JolokiaServer", portFile},
					  sys::SpawnOptions{}, tmp.path() + "/jvm.log");
	Child &jvm = *j.child;
	REQUIRE_MESSAGE(waitUntil([&] { return !readFile(portFile).empty() || !jvm.alive(); }, 60s, 50ms),
			"the JVM never served: " << jvm.log());
	REQUIRE_MESSAGE(jvm.alive(), "the JVM exited: " << jvm.log());
	j.url = "http://127.0.0.1:" + readFile(portFile) + "/jolokia";
	return j;
}

// `xdc run` of a scenario in the lab; the report (empty when none was written) and the exit code.
json runScenario(const LabFixture &lab, const std::string &out, const std::string &file, std::vector<std::string> extra,
		 int &exitCode)
{
	std::vector<std::string> args = {"run", sourceRoot() + "/scenarios/" + file, "--lab", lab.name(), "--out", out};
	args.insert(args.end(), extra.begin(), extra.end());
	auto r = test::xdc(args, 180s);
	MESSAGE("xdc run " << file << " exit " << r.exitCode << "\n" << r.out << r.err);
	exitCode = r.exitCode;
	std::ifstream f(out + "/report.json");
	if (!f)
		return json::object();
	return json::parse(std::string(std::istreambuf_iterator<char>(f), {}));
}

json assertionNamed(const json &report, const std::string &name)
{
	for (const auto &a : report.value("assertions", json::array()))
		if (a.value("name", "") == name)
			return a;
	return json::object();
}

} // namespace

TEST_CASE("metrics: a real Prometheus in the lab sees dc2 down exactly while dc1 and dc2 are partitioned")
{
	requireRoot();
	const std::string prometheus = "/usr/bin/prometheus";
	REQUIRE_MESSAGE(executable(prometheus), "needs " << prometheus
				<< " (Debian package prometheus; scripts/install-deps.sh installs it)");
	LabFixture lab("mrp", {"--hosts-per-dc", "1", "--streams"});
	REQUIRE(lab.up());
	TempDir tmp;
	auto server = startPrometheus(lab, tmp);
	Child &prom = *server.child;
	const std::string url = server.url;
	INFO("prometheus log: " << prom.log());

	// Plain query output: the vector has both jobs with value 1.
	auto q = test::xdc({"metrics", "prom", "up", "--url", url, "--json"});
	REQUIRE_MESSAGE(q.exitCode == 0, q.err);
	auto qj = json::parse(q.out);
	CHECK(qj["resultType"] == "vector");
	CHECK(qj["result"].size() == 2);
	for (const auto &s : qj["result"])
		CHECK(s["value"] == 1);

	// Before: the condition is false.
	const std::string cond = R"(up{job="dc2"} == 0)";
	CHECK(check(url, cond) == 1);

	// During a 12 s partition it becomes true, and stays true until the partition ends.
	auto f = test::xdc({"fault", "apply", "--lab", lab.name(),
			    "{kind: network.partition, targets: {dc: dc1}, peers: {dc: dc2}, duration: 12s}"});
	REQUIRE_MESSAGE(f.exitCode == 0, f.out << f.err);
	const auto applied = std::chrono::steady_clock::now();
	REQUIRE_MESSAGE(waitUntil([&] { return check(url, cond) == 0; }, 8s, 200ms),
			"the condition never held during the partition");
	const double becameTrue = secondsSince(applied);
	MESSAGE("condition true " << becameTrue << " s after the partition was applied");
	CHECK(becameTrue < 8.0);
	// dc1's own target, in the same namespace as Prometheus, is unaffected.
	CHECK(check(url, R"(up{job="dc1"} == 1)") == 0);
	// Still true 3 s later (the partition lasts 12 s): not a single failed scrape.
	const bool flipped = waitUntil([&] { return check(url, cond) != 0; }, 3s, 200ms);
	CHECK_FALSE(flipped);

	// After: false again once the partition has ended and the next scrape succeeded.
	REQUIRE_MESSAGE(waitUntil([&] { return check(url, cond) == 1; }, 25s, 200ms),
			"the condition still held 25 s after the partition's 12 s");
	const double becameFalse = secondsSince(applied);
	MESSAGE("condition false again " << becameFalse << " s after the partition was applied");
	CHECK(becameFalse >= 10.0);

	// The range query shows the outage in dc2's `up` series: ones, then zeros, then ones again.
	auto rq = test::xdc({"metrics", "prom", R"(up{job="dc2"})", "--url", url, "--range", "60s", "--step", "1s",
			     "--json"});
	REQUIRE_MESSAGE(rq.exitCode == 0, rq.err);
	auto rj = json::parse(rq.out);
	REQUIRE(rj["resultType"] == "matrix");
	REQUIRE(rj["result"].size() == 1);
	int zeros = 0;
	for (const auto &p : rj["result"][0]["points"])
		zeros += p["value"] == 0 ? 1 : 0;
	CHECK(zeros >= 8);
	CHECK(rj["result"][0]["points"].back()["value"] == 1);

	// A PromQL syntax error is a usage error naming Prometheus's errorType.
	auto bad = test::xdc({"metrics", "prom", "up ==", "--url", url});
	CHECK(bad.exitCode == 2);
	CHECK(bad.err.find("bad_data") != std::string::npos);
	prom.stop();
	// With the server gone: unreachable.
	CHECK(check(url, cond, true) == 3);
}

TEST_CASE("metrics: a JVM's heap through Jolokia with xdc metrics jmx")
{
	requireRoot();
	TempDir tmp;
	auto server = startJolokia(tmp);
	Child &jvm = *server.child;
	const std::string url = server.url;

	auto r = test::xdc({"metrics", "jmx", "--url", url, "--mbean", "java.lang:type=Memory", "--attribute",
			    "HeapMemoryUsage", "--json"});
	REQUIRE_MESSAGE(r.exitCode == 0, r.err);
	auto j = json::parse(r.out);
	INFO(j.dump());
	CHECK(j["mbean"] == "java.lang:type=Memory");
	const json &v = j["value"];
	REQUIRE(v.is_object());
	REQUIRE(v["used"].is_number_integer());
	REQUIRE(v["committed"].is_number_integer());
	CHECK(v["used"].get<int64_t>() > 0);
	CHECK(v["used"].get<int64_t>() <= v["committed"].get<int64_t>());
	CHECK(v["committed"].get<int64_t>() <= v["max"].get<int64_t>());

	// A path inside the composite value: a plain number.
	auto used = test::xdc({"metrics", "jmx", "--url", url, "--mbean", "java.lang:type=Memory", "--attribute",
			       "HeapMemoryUsage", "--path", "used"});
	REQUIRE_MESSAGE(used.exitCode == 0, used.err);
	CHECK(std::stoll(used.out) > 0);

	// No such MBean: exit 1 with Jolokia's status and error type in the message.
	auto missing = test::xdc({"metrics", "jmx", "--url", url, "--mbean", "java.lang:type=NoSuchThing",
				  "--attribute", "X", "--json"});
	CHECK(missing.exitCode == 1);
	CHECK(missing.err.find("Jolokia status 404") != std::string::npos);
	CHECK(missing.err.find("InstanceNotFoundException") != std::string::npos);
	auto mj = json::parse(missing.out);
	CHECK(mj["error"]["kind"] == "server");
	CHECK(mj["error"]["error_type"] == "javax.management.InstanceNotFoundException");

	// No such attribute on a real MBean: also a clear error.
	auto attr = test::xdc({"metrics", "jmx", "--url", url, "--mbean", "java.lang:type=Memory", "--attribute",
			       "NoSuchAttribute"});
	CHECK(attr.exitCode == 1);
	CHECK(attr.err.find("AttributeNotFoundException") != std::string::npos);

	// Usage errors.
	CHECK(test::xdc({"metrics", "jmx", "--url", url}).exitCode == 2);
	CHECK(test::xdc({"metrics", "jmx", "--mbean", "java.lang:type=Memory"}).exitCode == 2);
	jvm.stop();
	CHECK(test::xdc({"metrics", "jmx", "--url", url, "--mbean", "java.lang:type=Memory"}).exitCode == 3);
}

TEST_CASE("metrics: a scenario's PromQL, JMX and Streams sources condition observe, feed assertions and the timeline")
{
	requireRoot();
	LabFixture lab("mrs", {"--hosts-per-dc", "1", "--streams"});
	REQUIRE(lab.up());
	TempDir tmp;
	// The alert the last run stops on: dc2's scrape target down (fires at the first evaluation that sees it).
	auto server = startPrometheus(lab, tmp,
				      "groups:\n  - name: xdc-test\n    rules:\n      - alert: Dc2Down\n"
				      "        expr: up{job=\"dc2\"} == 0\n",
				      true);
	INFO("prometheus log: " << server.child->log());
	auto jvm = startJolokia(tmp);
	const std::vector<std::string> params = {"--param", "prom=" + server.url, "--param", "jmx=" + jvm.url};

	// dc1/dc2 partitioned until Prometheus has seen dc2 down for 10 s (so the partition lasts >= 10 s with the
	// scrape interval and the detection); then reverted; dc2 up again after it.
	const auto t0 = std::chrono::steady_clock::now();
	int rc = -1;
	const std::string out = tmp.path() + "/run";
	const json rep = runScenario(lab, out, "lab-metrics-prom-dc2.yaml", params, rc);
	MESSAGE("passing run: " << secondsSince(t0) << " s");
	CHECK(rc == 0);
	CHECK(rep.value("verdict", "") == "passed");
	REQUIRE(rep.contains("metrics"));
	const json &m = rep["metrics"];
	CHECK(m["until"]["held"] == true);
	CHECK(m["sources"].size() == 5); // the four named ones and the steady-state check's own query
	for (const auto &src : m["sources"]) {
		INFO(src.dump());
		CHECK(src["samples"].get<int64_t>() >= 10);
	}
	// The partition lasted >= 10 s: from its verified start to its revert, per the agents' records.
	int64_t fStart = 0, fEnd = 0;
	for (const auto &f : rep["faults"])
		if (f.value("kind", "") == "network.partition") {
			fStart = f.value("window_start_ns", int64_t{0});
			fEnd = f.value("window_end_ns", int64_t{0});
		}
	REQUIRE(fStart > 0);
	MESSAGE("partition lasted " << (fEnd - fStart) / 1e9 << " s; the condition held from "
				    << (m["until"]["t_ns"].get<int64_t>() - fStart) / 1e9 << " s after its start");
	CHECK(fEnd - fStart >= 10 * 1000000000LL);

	// xdc in Prometheus: the controller's /metrics, scraped every second during the run, has the partition in place
	// on dc1-h1 from its verified start to its revert; a range query (100 ms steps) finds each edge within one scrape
	// interval plus a step. The run's phases and outcome are there too, labelled by scenario, never by run id.
	{
		constexpr int64_t kSec = 1000000000LL, kStep = kSec / 10, kScrape = kSec;
		const std::string range = std::to_string(static_cast<int>(secondsSince(t0)) + 5) + "s";
		auto rangeOf = [&](const std::string &q) {
			auto r = test::xdc({"metrics", "prom", q, "--url", server.url, "--range", range, "--step", "100ms",
					    "--json"});
			REQUIRE_MESSAGE(r.exitCode == 0, q << ": " << r.err);
			auto j = json::parse(r.out);
			REQUIRE(j["resultType"] == "matrix");
			return j["result"];
		};
		const json faults = rangeOf(R"(xdc_faults_in_place{kind="network.partition",host="dc1-h1",dc="dc1"})");
		REQUIRE_MESSAGE(faults.size() == 1, faults.dump());
		const json &pts = faults[0]["points"];
		REQUIRE(!pts.empty());
		const int64_t first = pts.front()["t_ns"], last = pts.back()["t_ns"];
		MESSAGE("xdc_faults_in_place: from " << (first - fStart) / 1e6 << " ms after the verified start to "
						     << (last - fEnd) / 1e6 << " ms from the revert");
		CHECK(first >= fStart);
		CHECK(first <= fStart + kScrape + kStep);
		CHECK(last >= fEnd - kScrape - kStep);
		CHECK(last <= fEnd + kScrape + kStep);
		for (const auto &p : pts)
			CHECK(p["value"] == 1);
		// The run was in observe while the partition held (observe ends on the condition, then recover reverts).
		const json observe = rangeOf(R"(xdc_run_phase{scenario="lab-metrics-prom-dc2",phase="observe"})");
		REQUIRE_MESSAGE(observe.size() == 1, observe.dump());
		CHECK(observe[0]["points"].front()["t_ns"].get<int64_t>() >= fStart);
		CHECK(observe[0]["points"].back()["t_ns"].get<int64_t>() <= fEnd + kScrape + kStep);
		// After the run: its outcome, per scenario.
		const std::string sc = R"(scenario="lab-metrics-prom-dc2")";
		CHECK(waitUntil([&] { return check(server.url, "xdc_last_run_passed{" + sc + "} == 1") == 0; }, 10s, 200ms));
		CHECK(check(server.url, "xdc_run_active{" + sc + "} == 0") == 0);
		CHECK(check(server.url, "xdc_last_run_assertion_passed{" + sc +
						R"(,assertion="the partition cut dc1 from dc2"} == 1)") == 0);
		CHECK(check(server.url, R"(xdc_agents{dc="dc2",state="live"} == 1)") == 0);
		CHECK(check(server.url, R"(xdc_agent_clock_bound_seconds{host="dc1-h1"} < 0.01)") == 0);
		CHECK(check(server.url, "xdc_faults_active == 0") == 0);
		// The Grafana dashboard in docs/ asks only what Prometheus answers: every query of its panels and
		// annotations is valid over this run's range, and the fault-window annotation finds the partition on dc1.
		const json dash = json::parse(readFile(sourceRoot() + "/docs/grafana/xdc-dashboard.json"));
		std::vector<std::string> exprs;
		for (const auto &p : dash["panels"])
			for (const auto &t : p["targets"])
				exprs.push_back(t["expr"]);
		for (const auto &a : dash["annotations"]["list"])
			exprs.push_back(a["expr"]);
		CHECK(exprs.size() >= 12);
		for (const auto &e : exprs) {
			INFO("dashboard query: " << e);
			CHECK(!rangeOf(e).is_null());
		}
		bool windowAnnotated = false;
		for (const auto &s : rangeOf(dash["annotations"]["list"][0]["expr"]))
			windowAnnotated |= s["labels"].value("kind", "") == "network.partition" &&
					   s["labels"].value("dc", "") == "dc1" && !s["points"].empty();
		CHECK(windowAnnotated);
	}
	// The condition turned true during the partition, not before.
	const int64_t until = m["until"]["t_ns"];
	CHECK(until > fStart);
	CHECK(until < fEnd);
	const json during = assertionNamed(rep, "dc2 was down in Prometheus's eyes during the partition");
	CHECK(during.value("status", "") == "passed");
	CHECK(during["observed"]["held"].get<int64_t>() >= 10);
	// The same condition read back from Prometheus's stored history with one range query: a sample per 1 s step
	// of the faults' window, and dc2 down at ten or more of them (the partition lasted 12 s).
	const json ranged = assertionNamed(
		rep, "Prometheus's own history (a range query at its scrape interval) has dc2 down during the partition");
	CHECK(ranged.value("status", "") == "passed");
	CHECK(ranged["observed"]["range_step_ms"] == 1000);
	CHECK(ranged["observed"]["held"].get<int64_t>() >= 8);
	CHECK(ranged["observed"]["samples"].get<int64_t>() >= ranged["observed"]["held"].get<int64_t>());
	const json after = assertionNamed(rep, "dc2 is up again after recovery");
	CHECK(after.value("status", "") == "passed");
	CHECK(after["observed"]["samples"].get<int64_t>() >= 2);
	CHECK(after["observed"]["held"] == 0);
	CHECK(assertionNamed(rep, "dc2 was up before the partition").value("status", "") == "passed");
	// The steady-state check on a PromQL condition of its own, before inject and after recovery: dc2 up at every
	// sample of the last 2 s (the source samples at the metrics block's 500 ms).
	std::vector<std::string> whens;
	for (const auto &st : rep.value("steady_state", json::array())) {
		if (!st.contains("condition"))
			continue;
		INFO(st.dump());
		whens.push_back(st.value("when", ""));
		CHECK(st["condition"] == R"(up{job="dc2"} == 1)");
		CHECK(st.value("status", "") == "passed");
		CHECK(st["samples"].get<int64_t>() >= 3);
		CHECK(st["held"] == st["samples"]);
		CHECK(st["window_ms"] == 2000);
		CHECK(st["complete"] == true);
	}
	CHECK(whens == std::vector<std::string>{"before inject", "after recovery"});
	// JMX: the heap's used bytes, > 0 at every sample, in the report.
	const json heap = assertionNamed(rep, "the JVM's heap is in use");
	CHECK(heap.value("status", "") == "passed");
	int64_t heapSamples = 0;
	for (const auto &x : m["samples"])
		if (x["source"] == "heap_used" && x["ok"] == true) {
			heapSamples++;
			CHECK(x["series"][0]["value"].get<double>() > 0);
		}
	CHECK(heapSamples >= 10);
	// Streams REST: dc1's Sink nTuplesProcessed, on the timeline, increasing.
	CHECK(assertionNamed(rep, "dc1's sink processed tuples during the run").value("status", "") == "passed");
	CHECK(assertionNamed(rep, "dc1's source submitted tuples on its output port during the run").value("status", "") ==
	      "passed");
	bool portSeries = false;
	for (const auto &x : m["samples"])
		if (x["source"] == "source_out" && x["ok"] == true && x["series"].size() == 1)
			portSeries = x["series"][0]["labels"].value("port", "") == "output0" &&
				     x["series"][0]["labels"].value("metric", "") == "nTuplesSubmitted";
	CHECK(portSeries);
	std::ifstream tl(out + "/evidence/timeline.jsonl");
	REQUIRE(tl);
	std::string line;
	int64_t lastT = 0, metricLines = 0;
	std::vector<double> processed;
	bool sorted = true;
	while (std::getline(tl, line)) {
		const json e = json::parse(line);
		sorted = sorted && e["t_ns"].get<int64_t>() >= lastT;
		lastT = e["t_ns"];
		if (e.value("kind", "") != "metric")
			continue;
		metricLines++;
		CHECK(e["host"] == "controller");
		CHECK(e.contains("bound_ns"));
		if (e["source"] == "sink_processed" && e["values"]["ok"] == true) {
			REQUIRE(e["series"].size() == 1);
			CHECK(e["series"][0]["labels"]["operator"] == "Sink");
			CHECK(e["series"][0]["labels"]["dc"] == "dc1");
			processed.push_back(e["series"][0]["value"].get<double>());
		}
	}
	CHECK(sorted);
	CHECK(metricLines == static_cast<int64_t>(m["samples"].size()));
	// `xdc evidence` lists them like any other timeline entry.
	auto ev = test::xdc({"evidence", out + "/evidence", "--kind", "metric", "--host", "controller", "--json"});
	REQUIRE_MESSAGE(ev.exitCode == 0, ev.err);
	CHECK(json::parse(ev.out)["entries"].size() == m["samples"].size());
	// A host the bundle does not have is a usage error naming the hosts it has, not an empty answer.
	auto typo = test::xdc({"evidence", out + "/evidence", "--host", "dc9-h1"});
	CHECK(typo.exitCode == 2);
	CHECK_MESSAGE(typo.err.rfind("xdc evidence: --host dc9-h1: no such host in " + out + "/evidence (its hosts: ", 0) ==
			      0,
		      typo.err);
	CHECK_MESSAGE(typo.err.find("; did you mean 'dc") != std::string::npos, typo.err);
	REQUIRE(processed.size() >= 10);
	CHECK(processed.back() > processed.front());
	// The HTML report shows the sources.
	std::ifstream html(out + "/report.html");
	const std::string page(std::istreambuf_iterator<char>(html), {});
	CHECK(page.find("id=\"metrics\"") != std::string::npos);
	CHECK(page.find("data-source=\"dc2_down\"") != std::string::npos);

	// Negative: asserting that the condition still held after recovery must fail the run (exit 1), naming the
	// assertion. A shorter partition keeps it quick.
	const auto t1 = std::chrono::steady_clock::now();
	std::vector<std::string> neg = params;
	neg.insert(neg.end(), {"--param", "after_holds=always", "--param", "down_for=2s"});
	const json bad = runScenario(lab, tmp.path() + "/run-neg", "lab-metrics-prom-dc2.yaml", neg, rc);
	MESSAGE("failing run: " << secondsSince(t1) << " s");
	CHECK(rc == 1);
	CHECK(bad.value("verdict", "") == "failed");
	CHECK(bad.value("reason", "").find("dc2 is up again after recovery") != std::string::npos);
	CHECK(bad.value("reason", "").find("expected always") != std::string::npos);
	// The condition itself worked in that run too: it held during the faults.
	CHECK(assertionNamed(bad, "dc2 was down in Prometheus's eyes during the partition").value("status", "") == "passed");

	// A Prometheus alert stops a run: a partition meant to last 60 s is cut short once Dc2Down fires; the run is
	// aborted (exit 4), the fault reverted and checked for residue, and the report names the condition.
	REQUIRE(waitUntil([&] { return check(server.url, R"(up{job="dc2"} == 1)") == 0; }, 15s, 200ms));
	const auto t2 = std::chrono::steady_clock::now();
	const json stopped = runScenario(lab, tmp.path() + "/run-alert", "lab-alert-stop.yaml",
					 {"--param", "prom=" + server.url}, rc);
	const double took = secondsSince(t2);
	MESSAGE("alert-stopped run: " << took << " s");
	CHECK(rc == 4);
	CHECK(stopped.value("verdict", "") == "aborted");
	const std::string why = stopped.value("reason", "");
	CHECK_MESSAGE(why.find("stop condition 'Prometheus alert Dc2Down firing' held: "
			       "ALERTS{alertname=\"Dc2Down\", alertstate=\"firing\"} (from the sample at ") !=
			      std::string::npos,
		      why);
	REQUIRE(stopped.contains("stop_condition"));
	CHECK(stopped["stop_condition"].value("phase", "") == "observe");
	// Stopped by the alert, long before the partition's 60 s: the alert fires within a few scrape and
	// evaluation intervals of the partition, and the source samples every second.
	int64_t cutStart = 0;
	for (const auto &f : stopped.value("faults", json::array()))
		cutStart = f.value("window_start_ns", int64_t{0});
	REQUIRE(cutStart > 0);
	const double stopAfter =
		static_cast<double>(stopped["stop_condition"].value("at_ns", int64_t{0}) - cutStart) / 1e9;
	MESSAGE("stopped " << stopAfter << " s after the partition began");
	CHECK(stopAfter > 0);
	CHECK(stopAfter < 15);
	CHECK(took < 45);
	// Nothing left: the fault list is empty and no xdc table remains on either side.
	auto list = test::xdc({"fault", "list", "--json", "--lab", lab.name()});
	REQUIRE(list.exitCode == 0);
	CHECK(json::parse(list.out).empty());
	for (const char *h : {"dc1-h1", "dc2-h1"}) {
		auto t = sys::run({"nft", "list", "tables"}, {.netns = lab.netns(h)});
		REQUIRE(t);
		CHECK_MESSAGE(t->out.find("xdc_") == std::string::npos, h << ": " << t->out);
	}
}

int main(int argc, char **argv)
{
	doctest::Context ctx(argc, argv);
	return ctx.run();
}
