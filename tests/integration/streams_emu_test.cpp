// SPDX-License-Identifier: Apache-2.0
// The Streams emulator in a private network namespace: REST shapes in both path styles, paging, CDISW errors,
// Basic and Bearer auth, PE relaunch after SIGKILL, takeover by the standby DC when the active one's PEs stop, and no
// takeover after an orderly shutdown. Every emulator is stopped in a destructor; the namespace is always deleted.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <set>
#include <sched.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tests/support/harness.h"

using namespace xdc;
using namespace xdc::test;
using nlohmann::json;

namespace {

std::string emuBin()
{
	const char *v = std::getenv("XDC_EMU_BIN");
	return v && *v ? v : "xdc-streams-emu";
}

int64_t realNs()
{
	timespec ts{};
	::clock_gettime(CLOCK_REALTIME, &ts);
	return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

struct Reply {
	long status = 0;
	std::string body;
	json j() const { return json::parse(body, nullptr, false); }
};

size_t collect(char *p, size_t size, size_t n, void *ud)
{
	static_cast<std::string *>(ud)->append(p, size * n);
	return size * n;
}

// One HTTP request from the test, inside the namespace (the test's main thread joined it).
Reply http(const std::string &method, const std::string &url, const std::string &body = "",
	   const std::string &auth = "basic")
{
	Reply r;
	CURL *c = curl_easy_init();
	curl_slist *hdrs = nullptr;
	curl_easy_setopt(c, CURLOPT_URL, url.c_str());
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r.body);
	if (auth == "basic") {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, long(CURLAUTH_BASIC));
		curl_easy_setopt(c, CURLOPT_USERPWD, "streamsadmin:passw0rd");
	} else if (auth.rfind("Bearer ", 0) == 0 || auth.rfind("Basic ", 0) == 0) {
		hdrs = curl_slist_append(hdrs, ("Authorization: " + auth).c_str());
	}
	if (!body.empty() || method == "POST") {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, long(body.size()));
	}
	if (hdrs)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return r;
}

// The test's network namespace: created and joined in main(), deleted in the destructor however the run ends.
class Netns {
public:
	Netns() : name_(uniqueName("xdcemu"))
	{
		(void)sys::run({"ip", "netns", "del", name_});
		auto r = sys::runChecked({"ip", "netns", "add", name_});
		if (!r) {
			std::fprintf(stderr, "cannot create netns %s: %s\n", name_.c_str(), r.error().message.c_str());
			return;
		}
		(void)sys::runChecked({"ip", "-n", name_, "link", "set", "lo", "up"});
		const int fd = ::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
		ok_ = fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0;
		if (fd >= 0)
			::close(fd);
	}
	~Netns() { (void)sys::run({"ip", "netns", "del", name_}); }
	bool ok() const { return ok_; }
	const std::string &name() const { return name_; }

private:
	std::string name_;
	bool ok_ = false;
};

Netns *gNs = nullptr;

// A started process, stopped and reaped in the destructor; a member, so it is cleaned up even when the owner's
// constructor fails a REQUIRE after the start.
struct Child {
	pid_t pid = -1;
	std::optional<uint64_t> start;
	Child() = default;
	Child(const Child &) = delete;
	Child &operator=(const Child &) = delete;
	~Child()
	{
		if (pid > 0)
			(void)sys::stopProcess(pid, start, 3s);
	}
};

// One emulator process in the namespace; SIGTERM (then SIGKILL) and reaped in the destructor.
class Emu {
public:
	Emu(const std::string &dc, int restPort, int hbPort, std::vector<std::string> extra, const TempDir &dir)
		: dc_(dc), url_(fmt::format("http://127.0.0.1:{}", restPort)),
		  truth_(dir.path() + "/" + dc + ".truth.jsonl"), log_(dir.path() + "/" + dc + ".log")
	{
		// setpriv's parent-death signal takes the emulator (and so its PEs) down if the test itself is killed.
		std::vector<std::string> argv{"setpriv", "--pdeathsig", "KILL", emuBin(), "--dc", dc, "--rest", fmt::format("127.0.0.1:{}", restPort),
					      "--hb-listen", fmt::format("127.0.0.1:{}", hbPort), "--truth-log", truth_};
		argv.insert(argv.end(), extra.begin(), extra.end());
		// The test process already lives in the namespace, so the child inherits it.
		auto r = sys::spawn(argv, {.stdoutFile = log_});
		REQUIRE_MESSAGE(r.ok(), "cannot start the emulator: " << (r.ok() ? "" : r.error().message));
		child_.pid = *r;
		child_.start = sys::processStartTime(*r);
		const bool up = waitUntil([&] { return http("GET", url_ + "/streams/rest/resources").status == 200; }, 10s);
		REQUIRE_MESSAGE(up, "emulator " << dc << " did not answer; log " << log_);
	}
	Emu(const Emu &) = delete;
	Emu &operator=(const Emu &) = delete;

	std::string inst() const { return url_ + "/streams/rest/instances/" + dc_ + "-instance"; }
	const std::string &url() const { return url_; }
	pid_t pid() const { return child_.pid; }

	json get(const std::string &path) const { return http("GET", inst() + path).j(); }
	std::vector<json> truth() const
	{
		std::vector<json> out;
		std::ifstream f(truth_);
		std::string line;
		while (std::getline(f, line)) {
			json j = json::parse(line, nullptr, false);
			if (!j.is_discarded())
				out.push_back(j);
		}
		return out;
	}
	std::optional<json> event(const std::string &name) const
	{
		for (const auto &e : truth())
			if (e.value("event", "") == name)
				return e;
		return std::nullopt;
	}
	bool healthy() const
	{
		const json j = get("/jobs");
		return j.is_object() && j.value("total", 0) == 1 && j["jobs"][0].value("health", "") == "healthy";
	}
	// The value of a custom metric of the CrossDCFailover operator, -1 when it cannot be read.
	int64_t failoverMetric(const std::string &name) const
	{
		return operatorMetric("CrossDCFailover", name);
	}
	int64_t operatorMetric(const std::string &op, const std::string &name) const
	{
		const json ops = get("/operators");
		if (!ops.is_object() || !ops.contains("operators"))
			return -1;
		for (const auto &o : ops["operators"]) {
			if (o.value("name", "") != op)
				continue;
			const json m = http("GET", o["metrics"].get<std::string>()).j();
			for (const auto &x : m["metrics"])
				if (x.value("name", "") == name)
					return x["value"].get<int64_t>();
		}
		return -1;
	}

private:
	std::string dc_, url_, truth_, log_;
	Child child_;
};

std::string readComm(pid_t pid)
{
	std::ifstream f(fmt::format("/proc/{}/comm", pid));
	std::string s;
	std::getline(f, s);
	return s;
}

// Sends raw bytes and reads whatever comes back, to prove malformed requests do not bring the server down.
std::string rawExchange(int port, const std::string &bytes)
{
	const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	sockaddr_in a{};
	a.sin_family = AF_INET;
	a.sin_port = htons(uint16_t(port));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	std::string out;
	timeval tv{2, 0};
	::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	if (::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0) {
		(void)!::write(fd, bytes.data(), bytes.size());
		char buf[4096];
		ssize_t n;
		while ((n = ::read(fd, buf, sizeof buf)) > 0)
			out.append(buf, size_t(n));
	}
	::close(fd);
	return out;
}

} // namespace

TEST_CASE("REST shapes, paging, errors and auth")
{
	REQUIRE((gNs && gNs->ok()));
	TempDir dir;
	Emu dc1("dc1", 8440, 25091, {}, dir);
	REQUIRE(waitUntil([&] { return dc1.healthy(); }, 10s));

	// Root discovery lists the instances and the access tokens.
	const json root = http("GET", dc1.url() + "/streams/rest/resources").j();
	REQUIRE(root.contains("resources"));
	std::map<std::string, std::string> res;
	for (const auto &r : root["resources"])
		res[r["name"]] = r["resource"];
	CHECK(res["instances"] == dc1.url() + "/streams/rest/instances");
	CHECK(res["accessTokens"] == dc1.url() + "/streams/rest/accessTokens");
	const json insts = http("GET", res["instances"]).j();
	CHECK(insts["resourceType"] == "instanceList");
	CHECK(insts["total"] == 1);
	CHECK(insts["instances"][0]["id"] == "dc1-instance");

	// Both path styles, the same tree.
	const json j4 = http("GET", dc1.inst() + "/jobs").j();
	const json j7 = http("GET", dc1.url() + "/streams/instances/dc1-instance/jobs").j();
	CHECK(j4["resourceType"] == "jobList");
	CHECK(j4["total"] == 1);
	CHECK(j7["total"] == 1);
	CHECK(j4["jobs"][0]["name"] == "CrossDcApp");
	CHECK(j4["jobs"][0]["id"] == j7["jobs"][0]["id"]);
	CHECK(j7["jobs"][0]["self"].get<std::string>().rfind(dc1.url() + "/streams/instances/dc1-instance/jobs/", 0) == 0);
	const json job = j4["jobs"][0];
	for (const char *f : {"id", "name", "applicationName", "applicationVersion", "adlFile", "submitTime", "startedBy",
			      "jobGroup", "submitParameters", "health", "status", "pes", "operators", "instance", "restid",
			      "resourceType", "self"})
		CHECK_MESSAGE(job.contains(f), "job field " << f);
	CHECK(job["id"].is_string());
	CHECK(job["submitTime"].is_number_integer());
	const json byStyle = http("GET", job["pes"].get<std::string>()).j();
	CHECK(byStyle["total"] == 3);

	// Paging with count=1 over the 3 PEs: distinct PEs, total stays 3, page -1 is the last one.
	std::set<std::string> ids;
	for (int page = 1; page <= 3; ++page) {
		const json p = dc1.get(fmt::format("/pes?count=1&page={}", page));
		CHECK(p["total"] == 3);
		CHECK(p["resourceType"] == "peList");
		REQUIRE(p["pes"].size() == 1);
		ids.insert(p["pes"][0]["id"].get<std::string>());
		if (page == 3)
			CHECK(dc1.get("/pes?count=1&page=-1")["pes"][0]["id"] == p["pes"][0]["id"]);
	}
	CHECK(ids.size() == 3);
	const json pe = dc1.get("/pes")["pes"][0];
	for (const char *f : {"id", "indexWithinJob", "health", "status", "statusReason", "launchCount", "restartable",
			      "relocatable", "processId", "requiredConnections", "optionalConnections", "host", "job",
			      "metrics", "operators", "self", "resourceType", "restid"})
		CHECK_MESSAGE(pe.contains(f), "pe field " << f);
	CHECK(pe["status"] == "running");
	CHECK(readComm(pid_t(pe["processId"].get<int64_t>())) == "streams-pec");
	const json pm = http("GET", pe["metrics"].get<std::string>()).j();
	CHECK(pm["resourceType"] == "metricList");
	CHECK(pm["total"] == 3);
	const json filtered = dc1.get("/pes?job.restid=" + job["id"].get<std::string>() + "&fields=id,status&bogus=1");
	CHECK(filtered["total"] == 3);
	CHECK(filtered["pes"][0].size() == 2);
	CHECK(dc1.get("/pes?job.restid=999")["total"] == 0);
	CHECK(dc1.get("/operators")["total"] == 4);
	// Operator ports: Sink's one input port, its system port metrics; Source's one output port; none the other way.
	const json allOps = dc1.get("/operators");
	int portsSeen = 0;
	for (const auto &o : allOps["operators"]) {
		const std::string name = o.value("name", "");
		if (name != "Sink" && name != "Source")
			continue;
		const bool sink = name == "Sink";
		const json in = http("GET", o["inputPorts"].get<std::string>()).j();
		const json out = http("GET", o["outputPorts"].get<std::string>()).j();
		CHECK(in["resourceType"] == "operatorInputPortList");
		CHECK(in["total"] == (sink ? 1 : 0));
		CHECK(out["total"] == (sink ? 0 : 1));
		const json port = (sink ? in : out)[sink ? "inputPorts" : "outputPorts"][0];
		CHECK(port["indexWithinOperator"] == 0);
		CHECK(port["resourceType"] == (sink ? "operatorInputPort" : "operatorOutputPort"));
		CHECK(http("GET", port["self"].get<std::string>()).j()["id"] == "0");
		const json pm2 = http("GET", port["metrics"].get<std::string>()).j();
		std::set<std::string> names;
		for (const auto &x : pm2["metrics"])
			names.insert(x.value("name", ""));
		CHECK(names.count(sink ? "nTuplesProcessed" : "nTuplesSubmitted") == 1);
		if (sink)
			CHECK(names.count("queueSize") == 1);
		CHECK(http("GET", o["inputPorts"].get<std::string>() + "/5").status == 404);
		portsSeen++;
	}
	CHECK(portsSeen == 2);
	CHECK(dc1.get("/resources")["resourceType"] == "resourceList");
	CHECK(dc1.get("/activeServices")["total"].get<int>() > 0);

	// Errors: 404 with CDISW5000E, 400 with CDISW5002E, 401 with CDISW5003E.
	Reply nf = http("GET", dc1.inst() + "/jobs/999");
	CHECK(nf.status == 404);
	CHECK(nf.j()["id"] == "CDISW5000E");
	CHECK(http("GET", dc1.url() + "/streams/rest/instances/nope/jobs").status == 404);
	CHECK(http("GET", dc1.url() + "/nothing/here").j()["id"] == "CDISW5000E");
	Reply bad = http("GET", dc1.inst() + "/pes/abc");
	CHECK(bad.status == 400);
	CHECK(bad.j()["id"] == "CDISW5002E");
	Reply noAuth = http("GET", dc1.inst() + "/jobs", "", "none");
	CHECK(noAuth.status == 401);
	CHECK(noAuth.j()["id"] == "CDISW5003E");
	CHECK(http("GET", dc1.inst() + "/jobs", "", "Basic c3RyZWFtc2FkbWluOndyb25n").status == 401);

	// A token from accessTokens works as Bearer; a made-up one does not.
	Reply tok = http("POST", res["accessTokens"], R"({"audience":"streams"})");
	REQUIRE(tok.status == 200);
	const std::string token = tok.j()["accessToken"];
	CHECK(tok.j()["expiresIn"] == 300);
	CHECK(http("GET", dc1.inst() + "/pes", "", "Bearer " + token).status == 200);
	CHECK(http("GET", dc1.inst() + "/pes", "", "Bearer 0123").status == 401);

	// Malformed requests get an answer or a close, and the server carries on.
	CHECK(rawExchange(8440, "GARBAGE\r\n\r\n").find("400") != std::string::npos);
	(void)rawExchange(8440, std::string("GET / HTTP/1.1\r\nContent-Length: zz\r\n\r\n"));
	CHECK(http("POST", dc1.inst() + "/jobs", "{not json").status == 400);
	CHECK(http("GET", dc1.url() + "/metrics").body.find("streams_pe_launchCount{") != std::string::npos);

	// streamtool lists through the same API and reports the server's CDISW message on failure.
	if (const char *st = std::getenv("XDC_STREAMTOOL_BIN"); st && *st) {
		auto ls = sys::run({st, "--url", dc1.url(), "lsjobs"});
		REQUIRE(ls.ok());
		CHECK(ls->exitCode == 0);
		CHECK(ls->out.find("CrossDcApp") != std::string::npos);
		auto refused = sys::run({st, "--url", dc1.url(), "stoppe", "999"});
		REQUIRE(refused.ok());
		CHECK(refused->exitCode != 0);
		CHECK(refused->err.find("CDISW5000E") != std::string::npos);
	}

	// Cancel and resubmit: 204, then 404 for the same id; upload, submit with a job name, PEs run again.
	const std::string jobId = job["id"];
	CHECK(http("DELETE", dc1.inst() + "/jobs/" + jobId).status == 204);
	CHECK(http("DELETE", dc1.inst() + "/jobs/" + jobId).status == 404);
	CHECK(dc1.get("/jobs")["total"] == 0);
	Reply up = http("POST", dc1.inst() + "/applicationbundles", "PK-not-really-a-sab");
	REQUIRE(up.status == 200);
	const json sub{{"application", up.j()["bundleId"]},
		       {"jobConfigurationOverlay", {{"jobConfigOverlays", {{{"jobConfig", {{"jobName", "Renamed"}}}}}}}},
		       {"preview", false}};
	Reply created = http("POST", dc1.inst() + "/jobs", sub.dump());
	CHECK(created.status == 201);
	CHECK(created.j()["name"] == "Renamed");
	CHECK(waitUntil([&] { return dc1.healthy(); }, 5s));
	CHECK(dc1.event("job_canceled").has_value());
}

TEST_CASE("a SIGKILLed PE is relaunched with launchCount + 1 and a new processId")
{
	REQUIRE((gNs && gNs->ok()));
	TempDir dir;
	Emu dc1("dc1", 8440, 25091, {"--pe-restart-delay-ms", "500"}, dir);
	REQUIRE(waitUntil([&] { return dc1.healthy(); }, 10s));
	const json pe = dc1.get("/pes?count=1&page=1")["pes"][0];
	const std::string id = pe["id"];
	const auto oldPid = pid_t(pe["processId"].get<int64_t>());
	REQUIRE(pe["launchCount"] == 1);
	REQUIRE(readComm(oldPid) == "streams-pec");
	REQUIRE(::kill(oldPid, SIGKILL) == 0);
	// The restart delay leaves time to see the PE restarting because it crashed, and the job not healthy.
	CHECK(waitUntil([&] {
		const json p = dc1.get("/pes/" + id);
		return p.value("status", "") == "restarting" && p.value("statusReason", "") == "crashed";
	}, 400ms));
	CHECK(dc1.get("/jobs")["jobs"][0]["health"] == "partiallyHealthy");
	json now;
	CHECK(waitUntil([&] {
		now = dc1.get("/pes/" + id);
		return now.value("status", "") == "running" && now.value("launchCount", 0) == 2;
	}, 3s));
	const auto newPid = pid_t(now["processId"].get<int64_t>());
	CHECK(newPid != oldPid);
	CHECK(readComm(newPid) == "streams-pec");
	CHECK(waitUntil([&] { return dc1.healthy(); }, 2s));

	std::optional<json> exitEv, launchEv;
	for (const auto &e : dc1.truth()) {
		if (e["event"] == "pe_exit" && e["pid"] == oldPid)
			exitEv = e;
		if (e["event"] == "pe_launch" && e["pid"] == newPid)
			launchEv = e;
	}
	REQUIRE(exitEv.has_value());
	REQUIRE(launchEv.has_value());
	CHECK((*exitEv)["signal"] == 9);
	CHECK((*exitEv)["pe"] == id);
	CHECK((*launchEv)["launchCount"] == 2);
	const double gapMs = double((*launchEv)["t_ns"].get<int64_t>() - (*exitEv)["t_ns"].get<int64_t>()) / 1e6;
	CHECK(gapMs >= 450);
	CHECK(gapMs <= 1500);
}

namespace {

// dc1 active and dc2 standby, heartbeats every 200 ms, 3 misses allowed; returns once both hear each other.
struct Pair {
	TempDir dir;
	Emu dc1, dc2;
	Pair()
		: dc1("dc1", 8440, 25091,
		      {"--role", "active", "--peer", "127.0.0.1:25092", "--hb-interval-ms", "200", "--hb-misses", "3",
		       "--snapshot-interval-ms", "400"},
		      dir),
		  dc2("dc2", 8441, 25092,
		      {"--role", "standby", "--peer", "127.0.0.1:25091", "--hb-interval-ms", "200", "--hb-misses", "3",
		       "--snapshot-interval-ms", "400"},
		      dir)
	{
		REQUIRE(waitUntil([&] {
			return dc2.failoverMetric("nSnapshotsReceived") >= 1 && dc1.failoverMetric("nHeartbeatsReceived") >= 2;
		}, 10s));
		REQUIRE(dc1.failoverMetric("isActive") == 1);
		REQUIRE(dc2.failoverMetric("isActive") == 0);
		REQUIRE(dc2.failoverMetric("remoteDataCenterStatus") == 1);
	}
};

} // namespace

TEST_CASE("the standby takes over when the active DC's PEs stop")
{
	REQUIRE((gNs && gNs->ok()));
	Pair pair;
	// Only the active DC's sink counts tuples.
	CHECK(waitUntil([&] { return pair.dc1.operatorMetric("Sink", "nTuplesProcessed") > 0; }, 3s));
	CHECK(pair.dc2.operatorMetric("Sink", "nTuplesProcessed") == 0);

	const int64_t stopNs = realNs();
	// A named copy: a range-for over get(...)["pes"] would iterate a member of a destroyed temporary.
	const json pes = pair.dc1.get("/pes");
	for (const auto &p : pes["pes"]) {
		Reply r = http("POST", pair.dc1.url() + "/emulator/pes/" + p["id"].get<std::string>() + "/stop");
		CHECK(r.status == 200);
	}
	CHECK(waitUntil([&] {
		const json p = pair.dc1.get("/pes");
		for (const auto &x : p["pes"])
			if (x["status"] != "stopped" || x["statusReason"] != "user request")
				return false;
		return true;
	}, 3s));
	REQUIRE(waitUntil([&] { return pair.dc2.event("takeover_complete").has_value(); }, 5s));
	const auto down = pair.dc2.event("remote_down");
	REQUIRE(down.has_value());
	const int64_t lastHb = (*down)["last_heartbeat_t_ns"].get<int64_t>();
	const double detectMs = double((*down)["t_ns"].get<int64_t>() - lastHb) / 1e6;
	MESSAGE("remote_down " << detectMs << " ms after the last heartbeat");
	CHECK(detectMs >= 300);
	CHECK(detectMs <= 900);
	// The last heartbeat came before the stop (or within one send of it), never long after.
	CHECK(lastHb <= stopNs + 200 * 1000000LL);
	CHECK((*pair.dc2.event("takeover_complete"))["t_ns"] >= (*down)["t_ns"]);
	CHECK(pair.dc2.failoverMetric("isActive") == 1);
	CHECK(pair.dc2.failoverMetric("nTakeovers") == 1);
	CHECK(pair.dc2.failoverMetric("remoteDataCenterStatus") == 0);
	CHECK(waitUntil([&] { return pair.dc2.operatorMetric("Sink", "nTuplesProcessed") > 0; }, 3s));
	// The old active DC never hears of it and stays active: split brain once its PEs come back.
	CHECK(pair.dc1.failoverMetric("isActive") == 1);
	CHECK_FALSE(pair.dc2.event("remote_shutdown").has_value());
}

TEST_CASE("an orderly shutdown of the active job is no reason to take over")
{
	REQUIRE((gNs && gNs->ok()));
	Pair pair;
	const std::string jobId = pair.dc1.get("/jobs")["jobs"][0]["id"];
	CHECK(http("DELETE", pair.dc1.inst() + "/jobs/" + jobId).status == 204);
	REQUIRE(waitUntil([&] { return pair.dc2.event("remote_shutdown").has_value(); }, 3s));
	CHECK(pair.dc2.failoverMetric("remoteDataCenterStatus") == 0);
	// Three times the detection time passes without a takeover.
	CHECK_FALSE(waitUntil([&] { return pair.dc2.event("takeover_complete").has_value(); }, 1800ms));
	CHECK_FALSE(pair.dc2.event("remote_down").has_value());
	CHECK(pair.dc2.failoverMetric("isActive") == 0);
	CHECK(pair.dc2.failoverMetric("nTakeovers") == 0);
	// dc1's PEs are gone with the job.
	CHECK(waitUntil([&] { return pair.dc1.truth().back().value("event", "") == "pe_exit" ||
			      pair.dc1.get("/pes")["total"] == 0; }, 3s));
	CHECK(pair.dc1.get("/pes")["total"] == 0);
}

int main(int argc, char **argv)
{
	requireRoot();
	curl_global_init(CURL_GLOBAL_DEFAULT);
	doctest::Context ctx(argc, argv);
	int rc = 1;
	{
		// Every emulator runs in this namespace, and so does the test's own HTTP traffic.
		Netns ns;
		gNs = &ns;
		rc = ctx.run();
		gNs = nullptr;
	}
	curl_global_cleanup();
	return rc;
}
