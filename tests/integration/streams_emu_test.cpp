// SPDX-License-Identifier: Apache-2.0
// The Streams emulator in a private network namespace, checked against its ground-truth log: REST shapes in both
// path styles, paging, CDISW errors, Basic and Bearer auth, PE relaunch after SIGKILL; then the cross-DC toolkit as
// shared/reference/crossdc-toolkit.md describes it: no custom metrics (port metrics of the composite's operators,
// collected on a schedule, starting again from 0 with each launch), the failure detector's exact rule under a
// one-way heartbeat cut (an nft rule inside this namespace), snapshot files and the takeover they enable, orderly
// shutdown only through the application, trace files by level, and the passive monitor's failover script. Every
// process is stopped in a destructor; the namespace (and any nft table in it) is always deleted.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tests/support/harness.h"

using namespace xdc;
using namespace xdc::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// The pairs' toolkit settings: heartbeats every 200 ms, 3 misses allowed, so a detection comes 600-800 ms after the
// last heartbeat received; 3x that is how long "never" is watched.
constexpr int kIntervalMs = 200, kAllowed = 3, kDetectMs = (kAllowed + 1) * kIntervalMs;
constexpr auto kNever = std::chrono::milliseconds(3 * kDetectMs);
constexpr int64_t kSlackNs = 5 * 1000000LL; // scheduling slack on the truth log's timestamps
constexpr int kRest1 = 8440, kRest2 = 8441, kHb1 = 25091, kHb2 = 25191, kSpecial = 25300; // channel k: hb + 1 + k
const std::string kTk = "CrossDCFailover.";
const std::vector<std::string> kAppOps{"Source", "Process", "Sink", "SpecialMessageSignalReceiver",
				       "SpecialMessageSender"};
const std::vector<std::string> kToolkitOps{
	"HeartbeatSignalGenerator", "HeartbeatMessagePreparer", "CrossDataCenterSender1", "CrossDataCenterSender2[0]",
	"HttpPostResponseSink", "CrossDataCenterReceiverForHB", "RemoteDataCenterHeartbeatWatchdog",
	"CrossDataCenterReceiver[0]", "RemoteDataCenterWatchdog", "SendSnapshotFilesData", "RemoteDCDataMerger"};

std::string emuBin()
{
	const char *v = std::getenv("XDC_EMU_BIN");
	return v && *v ? v : "xdc-streams-emu";
}

// A sibling of the emulator binary (the build and the install put them together), unless the env names it.
std::string siblingBin(const char *env, const std::string &name)
{
	if (const char *v = std::getenv(env); v && *v)
		return v;
	return (fs::path(emuBin()).parent_path() / name).string();
}

int64_t realMs()
{
	timespec ts{};
	::clock_gettime(CLOCK_REALTIME, &ts);
	return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
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
	// True when the calling thread is in this namespace (so what it forks is too).
	bool current() const
	{
		struct stat a {}, b {};
		return ok_ && ::stat("/proc/thread-self/ns/net", &a) == 0 && ::stat(("/run/netns/" + name_).c_str(), &b) == 0 &&
		       a.st_ino == b.st_ino && a.st_dev == b.st_dev;
	}

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
	void stop()
	{
		if (pid > 0)
			(void)sys::stopProcess(pid, start, 3s);
		pid = -1;
	}
	~Child() { stop(); }
};

// Starts argv under setpriv's parent-death signal (the process, and so its PEs, die with the test), output to log.
void spawnInto(Child &c, std::vector<std::string> argv, const std::string &log)
{
	argv.insert(argv.begin(), {"setpriv", "--pdeathsig", "KILL"});
	// The test process already lives in the namespace, so the child inherits it.
	auto r = sys::spawn(argv, {.stdoutFile = log});
	REQUIRE_MESSAGE(r.ok(), "cannot start " << argv[3] << ": " << (r.ok() ? "" : r.error().message));
	c.pid = *r;
	c.start = sys::processStartTime(*r);
}

using Events = std::vector<json>;

Events readTruth(const std::string &path)
{
	Events out;
	std::ifstream f(path);
	std::string line;
	while (std::getline(f, line)) {
		json j = json::parse(line, nullptr, false);
		if (!j.is_discarded())
			out.push_back(j);
	}
	return out;
}

Events named(const Events &all, const std::string &name)
{
	Events out;
	for (const auto &e : all)
		if (e.value("event", "") == name)
			out.push_back(e);
	return out;
}

int64_t tNs(const json &e) { return e["t_ns"].get<int64_t>(); }

std::string readFile(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	return std::string(std::istreambuf_iterator<char>(f), {});
}

// A port's tuple counter as REST serves it: the value of the last metric collection and when it was retrieved.
struct PortValue {
	int64_t value = -1, at = -1;
};

// One emulator process in the namespace; SIGTERM (then SIGKILL) and reaped in the destructor.
class Emu {
public:
	Emu(const std::string &dc, int restPort, int hbPort, std::vector<std::string> extra, const TempDir &dir)
		: dc_(dc), url_(fmt::format("http://127.0.0.1:{}", restPort)),
		  truth_(dir.path() + "/" + dc + ".truth.jsonl"), log_(dir.path() + "/" + dc + ".log")
	{
		REQUIRE((gNs && gNs->ok())); // every test starts with an emulator: none runs outside the namespace
		std::vector<std::string> argv{emuBin(), "--dc", dc, "--rest", fmt::format("127.0.0.1:{}", restPort),
					      "--hb-listen", fmt::format("127.0.0.1:{}", hbPort), "--truth-log", truth_};
		argv.insert(argv.end(), extra.begin(), extra.end());
		spawnInto(child_, argv, log_);
		const bool up = waitUntil([&] { return http("GET", url_ + "/streams/rest/resources").status == 200; }, 10s);
		REQUIRE_MESSAGE(up, "emulator " << dc << " did not answer; log " << log_);
	}
	Emu(const Emu &) = delete;
	Emu &operator=(const Emu &) = delete;

	std::string inst() const { return url_ + "/streams/rest/instances/" + dc_ + "-instance"; }
	const std::string &url() const { return url_; }
	void stop() { child_.stop(); }

	json get(const std::string &path) const { return http("GET", inst() + path).j(); }
	Events truth() const { return readTruth(truth_); }
	const std::string &truthPath() const { return truth_; }
	Events events(const std::string &name) const { return named(truth(), name); }
	json first(const std::string &name) const // REQUIREs the event
	{
		auto e = events(name);
		REQUIRE_MESSAGE(!e.empty(), dc_ << " has no " << name);
		return e.front();
	}
	size_t count(const std::string &name) const { return events(name).size(); }
	bool has(const std::string &name) const { return count(name) > 0; }
	bool healthy() const
	{
		const json j = get("/jobs");
		return j.is_object() && j.value("total", 0) == 1 && j["jobs"][0].value("health", "") == "healthy";
	}
	json op(const std::string &name) const // null when there is none
	{
		const json ops = get("/operators");
		for (const auto &o : ops.value("operators", json::array()))
			if (o.value("name", "") == name)
				return o;
		return nullptr;
	}
	// nTuplesProcessed of an input port or nTuplesSubmitted of an output port, port 0; -1 when it cannot be read.
	PortValue port(const std::string &opName, bool input) const
	{
		const json o = op(opName);
		if (o.is_null())
			return {};
		const json m = http("GET", o[input ? "inputPorts" : "outputPorts"].get<std::string>() + "/0/metrics").j();
		for (const auto &x : m.value("metrics", json::array()))
			if (x.value("name", "") == (input ? "nTuplesProcessed" : "nTuplesSubmitted"))
				return {x["value"].get<int64_t>(), x["lastTimeRetrieved"].get<int64_t>()};
		return {};
	}
	// Stops every PE of the job through the emulator's endpoint and waits until none runs.
	void stopAllPes() const
	{
		const json pes = get("/pes"); // a named copy: iterating a temporary's member would dangle
		for (const auto &p : pes["pes"])
			CHECK(http("POST", url_ + "/emulator/pes/" + p["id"].get<std::string>() + "/stop").status == 200);
		CHECK(waitUntil([&] {
			const json now = get("/pes");
			for (const auto &x : now["pes"])
				if (x["status"] != "stopped" || x["statusReason"] != "user request" || !x["processId"].is_null())
					return false;
			return true;
		}, 3s));
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

pid_t peProcess(const json &pe)
{
	REQUIRE(pe["processId"].is_string());
	return pid_t(std::stol(pe["processId"].get<std::string>()));
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

// The failure detector's rule on one side's truth (crossdc-toolkit.md): its first remote_down falls on the
// (allowed + 1)-th Beacon tick after the last heartbeat it received, so in (allowed x interval,
// (allowed + 1) x interval] after that heartbeat. The tick's own beacon_tick line follows remote_down (and what the
// application did about it) in the log, so the log is read until that line is in.
json checkDetection(const std::string &truthPath, const std::string &who)
{
	INFO(who);
	Events ev;
	size_t down = 0;
	REQUIRE(waitUntil([&] {
		ev = readTruth(truthPath);
		down = ev.size();
		for (size_t i = 0; i < ev.size(); ++i) {
			if (down == ev.size() && ev[i]["event"] == "remote_down")
				down = i;
			else if (down < i && ev[i]["event"] == "beacon_tick")
				return true;
		}
		return false;
	}, 2s));
	size_t hb = ev.size();
	for (size_t i = down; i-- > 0 && hb == ev.size();)
		if (ev[i]["event"] == "heartbeat_received")
			hb = i;
	REQUIRE(hb < ev.size());
	const json &d = ev[down], &h = ev[hb];
	std::optional<json> tick;
	int ticks = 0;
	for (size_t i = hb + 1; i < ev.size() && !tick; ++i)
		if (ev[i]["event"] == "beacon_tick" && ++ticks == kAllowed + 1)
			tick = ev[i];
	REQUIRE(tick.has_value());
	CHECK(d["cause"] == "misses");
	CHECK(d["misses"] == kAllowed + 1);
	CHECK((*tick)["tick"] == d["tick"]);
	CHECK(std::llabs(tNs(*tick) - tNs(d)) <= kSlackNs);
	CHECK(std::llabs(d["last_heartbeat_t_ns"].get<int64_t>() - tNs(h)) <= kSlackNs);
	const int64_t dt = tNs(d) - tNs(h);
	MESSAGE(who << ": remote_down " << double(dt) / 1e6 << " ms after the last heartbeat received");
	CHECK(dt > kAllowed * kIntervalMs * 1000000LL - kSlackNs);
	CHECK(dt <= kDetectMs * 1000000LL + kSlackNs);
	return d;
}

// Events of `later` come after the first `earlier` event in one truth log (file order is time order).
bool after(const Events &ev, const std::string &earlier, const std::string &later)
{
	bool seen = false;
	for (const auto &e : ev) {
		seen = seen || e["event"] == earlier;
		if (e["event"] == later)
			return seen;
	}
	return false;
}

// The job's operators as REST lists them: the application's 5 and, unless prefix is empty (--no-toolkit), the
// composite's 11 as "<prefix>.<name>", all in the PE the truth names as the toolkit's. No metric is custom: operators
// have none, ports only system ones, each port's stamped by the last collection. Returns name -> (inputs, outputs).
std::map<std::string, std::pair<int, int>> checkListing(const Emu &e, const std::string &prefix)
{
	std::set<std::string> want(kAppOps.begin(), kAppOps.end()), got;
	for (const auto &n : kToolkitOps)
		if (!prefix.empty())
			want.insert(prefix + "." + n);
	std::map<std::string, std::pair<int, int>> out;
	const json ops = e.get("/operators"), sub = e.first("job_submitted");
	int nPorts = 0;
	for (const auto &o : ops["operators"]) {
		const std::string name = o["name"];
		INFO(name);
		got.insert(name);
		if (!prefix.empty() && name.starts_with(prefix + "."))
			CHECK(o["pe"].get<std::string>().ends_with("/pes/" + sub["toolkit_pe"].get<std::string>()));
		const json om = http("GET", o["metrics"].get<std::string>()).j();
		CHECK(om["resourceType"] == "metricList");
		CHECK(om["total"] == 0);
		for (const std::string kind : {"inputPorts", "outputPorts"}) {
			const json pl = http("GET", o[kind].get<std::string>()).j();
			(kind == "inputPorts" ? out[name].first : out[name].second) = pl.value("total", -1);
			for (const auto &p : pl[kind]) {
				const json pm = http("GET", p["metrics"].get<std::string>()).j();
				CHECK(pm["metrics"].size() >= 3);
				for (const auto &m : pm["metrics"]) {
					CHECK(m["metricType"] == "system");
					CHECK(m["lastTimeRetrieved"] == pm["metrics"][0]["lastTimeRetrieved"]);
					CHECK(m["lastTimeRetrieved"].get<int64_t>() <= realMs());
				}
				nPorts++;
			}
		}
	}
	CHECK(got == want);
	CHECK(ops["total"] == want.size());
	CHECK(nPorts == (prefix.empty() ? 11 : 38));
	CHECK((sub["toolkit_pe"] == "0") == prefix.empty());
	return out;
}

std::vector<std::string> cat(std::vector<std::string> a, const std::vector<std::string> &b)
{
	a.insert(a.end(), b.begin(), b.end());
	return a;
}

std::vector<std::string> pairArgs(const std::string &role, int peerHb, const std::string &snapDir)
{
	fs::create_directories(snapDir);
	return {"--role", role, "--peer", fmt::format("127.0.0.1:{}", peerHb), "--init-delay-ms",
		std::to_string(kIntervalMs), "--hb-interval-ms", std::to_string(kIntervalMs), "--hb-misses",
		std::to_string(kAllowed), "--snapshot-interval-ms", "1000", "--snapshot-dir", snapDir,
		"--metrics-interval-ms", "200"};
}

// dc1 active and dc2 standby, each with its snapshot directory; returns once both have heard each other and dc2
// stores dc1's snapshot.
struct Pair {
	const TempDir &dir;
	Emu dc1, dc2;
	Pair(const TempDir &d, const std::vector<std::string> &extra1 = {}, const std::vector<std::string> &extra2 = {})
		: dir(d), dc1("dc1", kRest1, kHb1, cat(pairArgs("active", kHb2, snap1()), extra1), d),
		  dc2("dc2", kRest2, kHb2, cat(pairArgs("standby", kHb1, snap2()), extra2), d)
	{
		REQUIRE(waitUntil([&] {
			return dc1.has("remote_up") && dc2.has("remote_up") && dc2.has("snapshot_written") &&
			       fs::exists(snap2() + "/dc1-0.snapshot");
		}, 5s));
	}
	std::string snap1() const { return dir.path() + "/snap-dc1"; }
	std::string snap2() const { return dir.path() + "/snap-dc2"; }
};

// Every line of every PE trace file of the job (DIR/jobs/<job>/pe<pe>.trc) as (level, line); REQUIREs the toolkit
// PE's file.
std::vector<std::pair<std::string, std::string>> traceLines(const std::string &traceDir, const Events &ev)
{
	const auto sub = named(ev, "job_submitted");
	REQUIRE(sub.size() == 1);
	const std::string jobDir = traceDir + "/jobs/" + sub[0]["job"].get<std::string>();
	REQUIRE(fs::exists(jobDir + "/pe" + sub[0]["toolkit_pe"].get<std::string>() + ".trc"));
	std::vector<std::pair<std::string, std::string>> out;
	for (const auto &f : fs::directory_iterator(jobDir)) {
		std::ifstream in(f.path());
		std::string line;
		while (std::getline(in, line)) {
			// "<time> [<pid>] <LEVEL> #splapptrc,..."
			const auto a = line.find("] "), b = line.find(' ', a + 2);
			if (a != std::string::npos && b != std::string::npos)
				out.push_back({line.substr(a + 2, b - a - 2), line});
		}
	}
	return out;
}

// The test's own nft table in the test's own namespace, rejecting connections to one TCP port; deleted in the
// destructor, so also when a check fails. Nothing runs unless the test's thread is in that namespace.
class PortCut {
public:
	explicit PortCut(int port)
	{
		made_ = gNs && gNs->current() && nft({"-f", "-"}, fmt::format("add table inet xdctest\n"
			"add chain inet xdctest out {{ type filter hook output priority 0 ; policy accept ; }}\n"
			"add rule inet xdctest out tcp dport {} reject with tcp reset\n", port));
	}
	~PortCut() { lift(); }
	bool ok() const { return made_; }
	bool lift()
	{
		if (made_ && nft({"delete", "table", "inet", "xdctest"}))
			made_ = false;
		return !made_;
	}

private:
	static bool nft(std::vector<std::string> args, const std::string &input = "")
	{
		args.insert(args.begin(), "nft");
		// The namespace is named as well: the command runs in the test's namespace whatever thread forks it.
		auto r = sys::run(args, {.netns = gNs->name(), .input = input});
		if (r && r->exitCode != 0)
			MESSAGE(sys::describe(args) << ": " << r->err);
		return r && r->exitCode == 0;
	}
	bool made_ = false;
};

} // namespace

TEST_CASE("REST shapes, paging, errors and auth")
{
	TempDir dir;
	Emu dc1("dc1", kRest1, kHb1, {}, dir);
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
	// processId is a string, as IBM's own clients declare it.
	CHECK(readComm(peProcess(pe)) == "streams-pec");
	const json pm = http("GET", pe["metrics"].get<std::string>()).j();
	CHECK(pm["resourceType"] == "metricList");
	CHECK(pm["total"] == 3);
	const json filtered = dc1.get("/pes?job.restid=" + job["id"].get<std::string>() + "&fields=id,status&bogus=1");
	CHECK(filtered["total"] == 3);
	CHECK(filtered["pes"][0].size() == 2);
	CHECK(dc1.get("/pes?job.restid=999")["total"] == 0);
	// 16 operators: 5 of the application, 11 of the toolkit's composite; paged by 5, the last page holds the 16th.
	const json allOps = dc1.get("/operators");
	CHECK(allOps["total"] == 16);
	const json lastPage = dc1.get("/operators?count=5&page=-1");
	REQUIRE(lastPage["operators"].size() == 1);
	CHECK(lastPage["operators"][0]["id"] == allOps["operators"][15]["id"]);
	// Every operator, its ports and their metrics (system only, stamped by the last collection).
	const auto ports = checkListing(dc1, "CrossDCFailover");
	CHECK(ports.at("Sink") == std::pair{1, 0});
	CHECK(ports.at("Source") == std::pair{0, 1});
	const json sink = dc1.op("Sink");
	const json sinkIn = http("GET", sink["inputPorts"].get<std::string>()).j();
	CHECK(sinkIn["resourceType"] == "operatorInputPortList");
	const json port = sinkIn["inputPorts"][0];
	CHECK(port["indexWithinOperator"] == 0);
	CHECK(port["resourceType"] == "operatorInputPort");
	CHECK(http("GET", port["self"].get<std::string>()).j()["id"] == "0");
	CHECK(http("GET", sink["inputPorts"].get<std::string>() + "/5").status == 404);
	std::set<std::string> names;
	for (const auto &x : http("GET", port["metrics"].get<std::string>()).j().value("metrics", json::array()))
		names.insert(x.value("name", ""));
	CHECK(names.count("nTuplesProcessed") == 1);
	CHECK(names.count("queueSize") == 1);
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
	CHECK(rawExchange(kRest1, "GARBAGE\r\n\r\n").find("400") != std::string::npos);
	(void)rawExchange(kRest1, std::string("GET / HTTP/1.1\r\nContent-Length: zz\r\n\r\n"));
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
	CHECK(dc1.get("/operators")["total"] == 16);
	CHECK(dc1.has("job_canceled"));
	CHECK(dc1.count("toolkit_start") == 2);
}

TEST_CASE("a SIGKILLed PE is relaunched with launchCount + 1 and a new processId")
{
	TempDir dir;
	Emu dc1("dc1", kRest1, kHb1, {"--pe-restart-delay-ms", "500"}, dir);
	REQUIRE(waitUntil([&] { return dc1.healthy(); }, 10s));
	const json pe = dc1.get("/pes?count=1&page=1")["pes"][0];
	const std::string id = pe["id"];
	const auto oldPid = peProcess(pe);
	REQUIRE(pe["launchCount"] == 1);
	REQUIRE(readComm(oldPid) == "streams-pec");
	REQUIRE(::kill(oldPid, SIGKILL) == 0);
	// The restart delay leaves time to see the PE restarting because it crashed, and the job not healthy.
	CHECK(waitUntil([&] {
		const json p = dc1.get("/pes/" + id);
		return p.value("status", "") == "restarting" && p.value("statusReason", "") == "crashed" &&
		       p["processId"].is_null();
	}, 400ms));
	CHECK(dc1.get("/jobs")["jobs"][0]["health"] == "partiallyHealthy");
	json now;
	CHECK(waitUntil([&] {
		now = dc1.get("/pes/" + id);
		return now.value("status", "") == "running" && now.value("launchCount", 0) == 2;
	}, 3s));
	const auto newPid = peProcess(now);
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
	const double gapMs = double(tNs(*launchEv) - tNs(*exitEv)) / 1e6;
	CHECK(gapMs >= 450);
	CHECK(gapMs <= 1500);
}

TEST_CASE("no custom metric anywhere; the toolkit's operators are listed under its composite instance's name")
{
	// The default prefix is checked with the REST shapes.
	for (const std::string prefix : {"App.Cdc", ""}) {
		INFO("toolkit prefix '" << prefix << "'");
		TempDir dir;
		Emu dc1("dc1", kRest1, kHb1, prefix.empty() ? std::vector<std::string>{"--no-toolkit"}
							      : std::vector<std::string>{"--toolkit-prefix", prefix}, dir);
		REQUIRE(waitUntil([&] { return dc1.healthy(); }, 10s));
		(void)checkListing(dc1, prefix);
		CHECK(http("GET", dc1.url() + "/metrics").body.find("CrossDCFailover") == std::string::npos);
		CHECK(dc1.has("toolkit_start") != prefix.empty()); // the job is healthy: every PE has started
	}
}

TEST_CASE("metrics are collected on a schedule; a relaunched PE's port counters start again from 0")
{
	TempDir dir;
	Pair pair(dir, {"--metrics-interval-ms", "500", "--pe-restart-delay-ms", "0"});
	Emu &dc1 = pair.dc1;

	// Two reads within one collection interval: the same value and lastTimeRetrieved. Aligned on a fresh
	// collection, so both reads fall well inside one interval.
	const PortValue first = dc1.port("Source", false);
	REQUIRE(first.at > 0);
	PortValue a, b, c;
	REQUIRE(waitUntil([&] { return (a = dc1.port("Source", false)).at != first.at; }, 2s));
	b = dc1.port("Source", false);
	CHECK(b.at == a.at);
	CHECK(b.value == a.value);
	// After the interval, a new collection: a new time and a new value (the source produces 50 tuples/s).
	REQUIRE(waitUntil([&] { return (c = dc1.port("Source", false)).at != a.at; }, 2s));
	MESSAGE("collections " << c.at - a.at << " ms apart");
	CHECK(c.at - a.at >= 450);
	CHECK(c.at - a.at <= 800);
	CHECK(c.value > a.value);

	// The toolkit's counters: the watchdog submitted once (first contact), the receiver counted heartbeats.
	const std::string wd = kTk + "RemoteDataCenterHeartbeatWatchdog", rx = kTk + "CrossDataCenterReceiverForHB",
			  beacon = kTk + "HeartbeatSignalGenerator";
	PortValue wdB, rxB, beaconB, wdA, rxA, beaconA; // before and after the relaunch
	const auto read = [&](PortValue &w, PortValue &r, PortValue &t) {
		w = dc1.port(wd, false), r = dc1.port(rx, false), t = dc1.port(beacon, false);
		return w.at == r.at && w.at == t.at; // all three from one collection
	};
	REQUIRE(waitUntil([&] { return read(wdB, rxB, beaconB) && wdB.value == 1 && rxB.value >= 5; }, 3s));
	// SIGKILL the PE hosting the composite (the job's last PE); it is relaunched at once.
	const json wdOp = dc1.op(wd);
	REQUIRE(wdOp.is_object());
	const json tpe = http("GET", wdOp["pe"].get<std::string>()).j();
	REQUIRE(tpe["indexWithinJob"] == 2);
	REQUIRE(tpe["launchCount"] == 1);
	REQUIRE(::kill(peProcess(tpe), SIGKILL) == 0);
	REQUIRE(waitUntil([&] {
		const json p = http("GET", tpe["self"].get<std::string>()).j();
		return p["launchCount"] == 2 && p["status"] == "running";
	}, 3s));
	int64_t launchMs = 0;
	for (const auto &e : dc1.events("pe_launch"))
		if (e["pe"] == tpe["id"] && e["launchCount"] == 2)
			launchMs = tNs(e) / 1000000;
	REQUIRE(launchMs > 0);
	// The first collection after the relaunch: the counters started again from 0.
	REQUIRE(waitUntil([&] { return read(wdA, rxA, beaconA) && wdA.at >= launchMs; }, 3s));
	MESSAGE("watchdog, receiver, beacon: " << wdB.value << ", " << rxB.value << ", " << beaconB.value
					       << " before; " << wdA.value << ", " << rxA.value << ", " << beaconA.value << " after");
	CHECK(wdA.value <= 1);
	CHECK(rxA.value < rxB.value);
	CHECK(beaconA.value < beaconB.value);
	// dc2 kept sending (the gap was shorter than a detection): the new launch makes first contact again.
	CHECK(waitUntil([&] { return dc1.port(wd, false).value == 1; }, 3s));
	const auto ups = dc1.events("remote_up");
	CHECK(ups.size() == 2);
	for (const auto &u : ups)
		CHECK(u["cause"] == "first contact");
	CHECK(dc1.count("toolkit_start") == 2);
	for (const auto &e : dc1.events("toolkit_error")) // the new launch must open its ports
		FAIL_CHECK("dc1: " << e.dump());
	CHECK_FALSE(pair.dc2.has("remote_down"));
}

TEST_CASE("detection rule: a one-way heartbeat cut, detected on the (allowed + 1)-th tick, on both sides, for good")
{
	TempDir dir;
	Pair pair(dir);
	Emu &dc1 = pair.dc1, &dc2 = pair.dc2;
	{
		PortCut cut(kHb2); // dc1 -> dc2 heartbeats only; snapshots (kHb2 + 1) and dc2 -> dc1 still flow
		REQUIRE(cut.ok());
		REQUIRE(waitUntil([&] { return dc2.has("remote_down"); }, 2s));
		const json down2 = checkDetection(dc2.truthPath(), "dc2");
		// dc2 stops sending heartbeats on its next tick, and sends none after.
		REQUIRE(waitUntil([&] { return dc2.has("heartbeats_suppressed"); }, 1s));
		const json sup = dc2.first("heartbeats_suppressed");
		CHECK(after(dc2.truth(), "remote_down", "heartbeats_suppressed"));
		CHECK(tNs(sup) - tNs(down2) <= kIntervalMs * 1000000LL + kSlackNs);
		// dc1 stops hearing dc2 and detects it the same way, one detection time later.
		REQUIRE(waitUntil([&] { return dc1.has("remote_down"); }, 2s));
		const json down1 = checkDetection(dc1.truthPath(), "dc1");
		CHECK(tNs(down1) > tNs(down2));
		for (const auto &h : dc2.events("heartbeat_sent"))
			CHECK(h["hb_cnt"].get<int64_t>() < sup["hb_cnt"].get<int64_t>());
		// The cut made dc1's heartbeat sends fail: a connection failure, so no tuple on the sender's output port.
		bool refused = false;
		for (const auto &h : dc1.events("heartbeat_sent"))
			refused = refused || (h["ok"] == false && h.contains("error"));
		CHECK(refused);
		CHECK(dc1.port(kTk + "CrossDataCenterSender1", false).value == 0);
		REQUIRE(cut.lift());
	}
	// With the link back, nobody sends heartbeats: neither side ever sees its remote up again.
	CHECK_FALSE(waitUntil([&] { return dc1.count("remote_up") > 1 || dc2.count("remote_up") > 1; }, kNever));
	CHECK_FALSE(dc1.has("heartbeats_resumed"));
	CHECK_FALSE(dc2.has("heartbeats_resumed"));
	CHECK(dc1.count("remote_down") == 1);
	CHECK(dc2.count("remote_down") == 1);
}

TEST_CASE("the standby takes over when handed the failed DC's snapshot: PEs stopped, or the job canceled")
{
	for (const bool cancel : {false, true}) {
		INFO((cancel ? "dc1's job canceled (which sends nothing)" : "dc1's PEs stopped"));
		TempDir dir;
		Pair pair(dir);
		Emu &dc1 = pair.dc1, &dc2 = pair.dc2;
		const std::string file = pair.snap2() + "/dc1-0.snapshot";
		// In contact: dc2 stores dc1's latest snapshot in its directory; only the active DC's sink counts tuples.
		CHECK(fs::file_size(file) > 0);
		CHECK(dc2.first("snapshot_written")["file"] == "dc1-0.snapshot");
		CHECK(waitUntil([&] { return dc1.port("Sink", true).value > 0; }, 3s));
		CHECK(dc2.port("Sink", true).value == 0);

		const int64_t stopMs = realMs();
		if (cancel)
			CHECK(http("DELETE", dc1.inst() + "/jobs/" + dc1.first("job_submitted")["job"].get<std::string>()).status ==
			      204);
		else
			dc1.stopAllPes();
		REQUIRE(waitUntil([&] { return dc2.has("takeover_complete"); }, 3s));
		const json down = checkDetection(dc2.truthPath(), "dc2");
		const Events ev = dc2.truth();
		CHECK(down["last_heartbeat_t_ns"].get<int64_t>() / 1000000 <= stopMs + kIntervalMs);
		// remote_down, then the stored snapshot handed to the application, then the takeover.
		const auto taken = named(ev, "snapshot_taken_over");
		REQUIRE(taken.size() == 1);
		CHECK(taken[0]["file"] == "dc1-0.snapshot");
		CHECK(taken[0]["origin"] == "dc1");
		CHECK(after(ev, "remote_down", "snapshot_taken_over"));
		CHECK(after(ev, "snapshot_taken_over", "app_remote_data"));
		CHECK(after(ev, "app_remote_data", "takeover_complete"));
		CHECK(named(ev, "takeover_complete")[0]["from"] == "dc1");
		CHECK_FALSE(fs::exists(file));
		CHECK(named(ev, "orderly_shutdown_received").empty());
		CHECK_FALSE(dc1.has("orderly_shutdown_sent"));
		// The new active DC's sink counts tuples, and keeps counting.
		PortValue s1;
		CHECK(waitUntil([&] { return (s1 = dc2.port("Sink", true)).value > 0; }, 3s));
		CHECK(waitUntil([&] { return dc2.port("Sink", true).value > s1.value; }, 3s));
	}
}

TEST_CASE("an orderly shutdown goes through the application: the state is deleted and nothing is taken over")
{
	TempDir dir;
	Pair pair(dir, {"--special-listen", fmt::format("127.0.0.1:{}", kSpecial)});
	Emu &dc1 = pair.dc1, &dc2 = pair.dc2;
	const std::string file = pair.snap2() + "/dc1-0.snapshot";
	REQUIRE(fs::exists(file));
	const std::string tool = siblingBin("XDC_SPECIAL_MESSAGE_BIN", "xdc-streams-special-message");
	auto sent = sys::run({tool, fmt::format("127.0.0.1:{}", kSpecial), "OrderlyShutdown"});
	REQUIRE(sent.ok());
	CHECK_MESSAGE(sent->exitCode == 0, sent->err);
	REQUIRE(waitUntil([&] { return dc2.has("orderly_shutdown_received"); }, 2s));
	CHECK(dc1.first("special_message")["msg"] == "OrderlyShutdown");
	CHECK(dc1.has("orderly_shutdown_sent"));
	CHECK(dc2.first("orderly_shutdown_received")["origin"] == "dc1");
	CHECK(waitUntil([&] {
		for (const auto &d : dc2.events("snapshot_deleted"))
			if (d["file"] == "dc1-0.snapshot" && d["cause"] == "orderly shutdown")
				return true;
		return false;
	}, 1s));
	CHECK_FALSE(fs::exists(file));
	// The heartbeats stopped, so dc2 still declares dc1 down; with nothing stored, nothing is handed over.
	REQUIRE(waitUntil([&] { return dc2.has("remote_down"); }, 2s));
	CHECK(after(dc2.truth(), "orderly_shutdown_received", "remote_down"));
	CHECK_FALSE(waitUntil([&] { return dc2.has("takeover_complete") || dc2.has("snapshot_taken_over"); }, kNever));
	CHECK_FALSE(dc2.has("app_remote_data"));
	CHECK(dc2.port("Sink", true).value == 0);
	// The side that shut down stops reacting: it never declares dc2 down.
	CHECK_FALSE(dc1.has("remote_down"));
}

TEST_CASE("trace files: heartbeat lines at level info only, one per heartbeat received")
{
	TempDir dir;
	const std::string t1 = dir.path() + "/trace-dc1", t2 = dir.path() + "/trace-dc2";
	// dc1 at the default level (error), dc2 raised to info.
	Pair pair(dir, {"--trace-dir", t1}, {"--trace-dir", t2, "--trace-level", "info"});
	REQUIRE(waitUntil([&] { return pair.dc2.count("heartbeat_received") >= 5 && pair.dc1.count("heartbeat_received") >= 5; }, 3s));
	// Stopped, so every line the truth has is in the files too.
	pair.dc2.stop();
	pair.dc1.stop();

	const Events ev2 = pair.dc2.truth();
	std::multiset<int64_t> truthCnt, traceCnt;
	for (const auto &h : named(ev2, "heartbeat_received")) {
		CHECK(h["type"] == 1);
		CHECK(h["origin"] == "dc1");
		truthCnt.insert(h["hb_cnt"].get<int64_t>());
	}
	const std::regex hbLine(R"(_XXXXX_ Received the heartbeat message (\d+) with no data snapshot from the data )"
				R"(center named dc1\.$)");
	int infoLines = 0;
	for (const auto &l : traceLines(t2, ev2)) {
		std::smatch m;
		if (std::regex_search(l.second, m, hbLine)) {
			CHECK(l.first == "INFO");
			CHECK(l.second.find(kTk + "RemoteDataCenterHeartbeatWatchdog") != std::string::npos);
			traceCnt.insert(std::stoll(m[1]));
		}
		infoLines += l.first == "INFO";
	}
	MESSAGE("dc2: " << truthCnt.size() << " heartbeats received, " << traceCnt.size() << " traced");
	CHECK(truthCnt.size() >= 5);
	CHECK(traceCnt == truthCnt);
	CHECK(infoLines > int(traceCnt.size()));

	// The default level: dc1 received heartbeats too, but its trace holds no info line, only ERROR ones.
	const Events ev1 = pair.dc1.truth();
	CHECK(named(ev1, "heartbeat_received").size() >= 5);
	for (const auto &l : traceLines(t1, ev1)) {
		CHECK_MESSAGE(l.first == "ERROR", l.second);
		CHECK(l.second.find("Received the heartbeat message") == std::string::npos);
	}
}

TEST_CASE("passive monitor: the active DC's failure runs the failover script")
{
	TempDir dir;
	const std::string script = dir.path() + "/failover.sh", marker = dir.path() + "/failover.ran",
			  out = dir.path() + "/monitor.out", truth = dir.path() + "/monitor.truth.jsonl";
	std::ofstream(script) << "#!/bin/sh\necho \"failover $$\" > '" << marker << "'\n";
	fs::permissions(script, fs::perms::owner_all);
	const std::vector<std::string> timing{"--init-delay-ms", std::to_string(kIntervalMs), "--hb-interval-ms",
					      std::to_string(kIntervalMs), "--hb-misses", std::to_string(kAllowed)};
	Emu dc1("dc1", kRest1, kHb1, cat({"--peer", fmt::format("127.0.0.1:{}", kHb2)}, timing), dir);
	Child monitor;
	spawnInto(monitor,
		  cat({siblingBin("XDC_MONITOR_BIN", "xdc-crossdc-monitor"), "--dc", "dc2", "--listen",
		       fmt::format("127.0.0.1:{}", kHb2), "--peer", fmt::format("127.0.0.1:{}", kHb1), "--script", script,
		       "--truth-log", truth},
		      timing),
		  out);
	const auto said = [&](const std::string &what) {
		return readFile(out).find("Received a notification about the remote data center " + what) != std::string::npos;
	};
	REQUIRE(waitUntil([&] { return !named(readTruth(truth), "remote_up").empty() && dc1.has("remote_up"); }, 5s));
	CHECK(waitUntil([&] { return said("coming up"); }, 1s));
	CHECK_FALSE(fs::exists(marker));

	dc1.stopAllPes();
	REQUIRE(waitUntil([&] {
		return said("going down") && !named(readTruth(truth), "failover_script_started").empty() && fs::exists(marker);
	}, 3s));
	checkDetection(truth, "monitor");
	const Events ev = readTruth(truth);
	CHECK(after(ev, "remote_down", "failover_script_started"));
	CHECK(named(ev, "failover_script_started")[0]["script"] == script);
	CHECK(waitUntil([&] { return readFile(marker).rfind("failover ", 0) == 0; }, 1s));
	// Passive mode: the monitor stores nothing and hands nothing over.
	CHECK(named(ev, "snapshot_taken_over").empty());
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
