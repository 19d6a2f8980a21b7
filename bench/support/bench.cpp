// SPDX-License-Identifier: Apache-2.0
// Benchmark support: namespace, children, keys, console helpers and measurements.
#include "bench/support/bench.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sched.h>
#include <sstream>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "common/clock.h"
#include "common/proto/codec.h"
#include "common/sys/process.h"
#include "controller/control/control_server.h"

namespace xdc::bench {

namespace {

// Children and the namespace path, kept in plain storage so the signal handler can reach them.
constexpr size_t kMaxChildren = 64;
std::array<std::atomic<pid_t>, kMaxChildren> gChildren{};
char gNetnsPath[128] = {0};

void registerChild(pid_t pid)
{
	for (auto &c : gChildren) {
		pid_t expected = 0;
		if (c.compare_exchange_strong(expected, pid))
			return;
	}
}

void unregisterChild(pid_t pid)
{
	for (auto &c : gChildren) {
		pid_t expected = pid;
		if (c.compare_exchange_strong(expected, 0))
			return;
	}
}

// Async-signal-safe teardown: kill the children, then do what `ip netns del` does (detach the bind mount, unlink).
void onSignal(int sig)
{
	for (auto &c : gChildren) {
		pid_t p = c.load();
		if (p > 1)
			::kill(p, SIGKILL);
	}
	if (gNetnsPath[0]) {
		::umount2(gNetnsPath, MNT_DETACH);
		::unlink(gNetnsPath);
	}
	static const char msg[] = "bench: interrupted; children stopped, namespace deleted\n";
	(void)!::write(2, msg, sizeof msg - 1);
	::_exit(128 + sig);
}

std::string env(const char *k, const char *def)
{
	const char *v = std::getenv(k);
	return v && *v ? v : def;
}

std::string readFile(const std::string &path)
{
	std::ifstream f(path);
	return std::string(std::istreambuf_iterator<char>(f), {});
}

} // namespace

Flags::Flags(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		if (a.rfind("--", 0) != 0) {
			fprintf(stderr, "unexpected argument '%s'\n", a.c_str());
			std::exit(2);
		}
		if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0)
			values_[a] = argv[++i];
		else
			values_[a] = "";
	}
}

std::string Flags::get(const std::string &name, const std::string &def) const
{
	auto it = values_.find(name);
	return it == values_.end() || it->second.empty() ? def : it->second;
}

int64_t Flags::getInt(const std::string &name, int64_t def) const
{
	auto it = values_.find(name);
	return it == values_.end() || it->second.empty() ? def : std::stoll(it->second);
}

Environment::Environment() : netns_("xdcbench" + std::to_string(::getpid())) {}

Result<void> Environment::setUp(uint64_t openFiles)
{
	if (::geteuid() != 0)
		return makeError(Errc::Refused, "benchmarks need root (network namespace)");
	rlimit rl{};
	::getrlimit(RLIMIT_NOFILE, &rl);
	// Raise the soft limit; the hard one too where allowed (a container may cap it), else up to the hard limit.
	rlimit want{std::max<rlim_t>(rl.rlim_cur, openFiles), std::max<rlim_t>(rl.rlim_max, openFiles)};
	if (::setrlimit(RLIMIT_NOFILE, &want) != 0) {
		want = {std::min<rlim_t>(std::max<rlim_t>(rl.rlim_cur, openFiles), rl.rlim_max), rl.rlim_max};
		if (::setrlimit(RLIMIT_NOFILE, &want) != 0)
			return makeError(Errc::Io, "cannot raise the open-file limit: {}", strerror(errno));
	}
	if (want.rlim_cur < openFiles)
		fprintf(stderr, "note: open-file limit is %llu (wanted %llu)\n",
			static_cast<unsigned long long>(want.rlim_cur), static_cast<unsigned long long>(openFiles));

	std::snprintf(gNetnsPath, sizeof gNetnsPath, "/run/netns/%s", netns_.c_str());
	struct sigaction sa{};
	sa.sa_handler = onSignal;
	sigemptyset(&sa.sa_mask);
	for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
		::sigaction(s, &sa, nullptr);
	::signal(SIGPIPE, SIG_IGN);

	XDC_TRY(sys::runChecked({"ip", "netns", "add", netns_}));
	nsCreated_ = true;
	XDC_TRY(sys::runChecked({"ip", "-n", netns_, "link", "set", "lo", "up"}));
	int fd = ::open(gNetnsPath, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
		if (fd >= 0)
			::close(fd);
		return makeError(Errc::Io, "cannot enter netns {}: {}", netns_, strerror(errno));
	}
	::close(fd);

	std::string tmpl = "/tmp/" + netns_ + "-XXXXXX";
	if (!::mkdtemp(tmpl.data()))
		return makeError(Errc::Io, "mkdtemp: {}", strerror(errno));
	dir_ = tmpl;
	return success();
}

Environment::~Environment()
{
	for (auto &c : gChildren) {
		pid_t p = c.exchange(0);
		if (p > 1)
			(void)sys::stopProcess(p, std::nullopt, 3000ms);
	}
	if (nsCreated_) {
		if (!sys::run({"ip", "netns", "del", netns_}).ok() && gNetnsPath[0]) {
			::umount2(gNetnsPath, MNT_DETACH);
			::unlink(gNetnsPath);
		}
		gNetnsPath[0] = 0;
	}
	if (!dir_.empty() && env("XDC_BENCH_KEEP", "").empty()) {
		std::error_code ec;
		std::filesystem::remove_all(dir_, ec);
	}
}

Result<void> Child::start(const std::vector<std::string> &argv, const std::string &logFile)
{
	stop();
	auto p = sys::spawn(argv, {.stdoutFile = logFile});
	if (!p)
		return p.error();
	pid_ = *p;
	registerChild(pid_);
	startTime_ = sys::processStartTime(pid_);
	return success();
}

void Child::stop(std::chrono::milliseconds grace)
{
	if (pid_ <= 1)
		return;
	(void)sys::stopProcess(pid_, startTime_, grace);
	unregisterChild(pid_);
	pid_ = -1;
	startTime_.reset();
}

bool Child::alive() const
{
	return pid_ > 1 && sys::processAlive(pid_, startTime_);
}

std::string xdcBin() { return env("XDC_BIN", "xdc"); }
std::string agentBin() { return env("XDC_AGENT_BIN", "xdc-agent"); }

std::string selfBin()
{
	std::error_code ec;
	auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
	return ec ? std::string() : p.string();
}

Result<Keys> makeKeys(const std::string &dir, const std::vector<std::string> &agentIds,
		      const std::vector<std::string> &files)
{
	Keys k;
	auto ck = transport::generateKeyPair();
	if (!ck)
		return ck.error();
	k.controller = *ck;
	XDC_TRY(transport::writeKeyPair(dir, "controller", k.controller, true));
	k.controllerKeyFile = dir + "/controller.key";
	k.controllerPubFile = dir + "/controller.pub";
	std::string allow;
	for (const auto &id : agentIds) {
		auto kp = transport::generateKeyPair();
		if (!kp)
			return kp.error();
		k.agents[id] = *kp;
		allow += id + " " + kp->publicKey + "\n";
	}
	for (const auto &id : files)
		XDC_TRY(transport::writeKeyPair(dir, id, k.agents.at(id), true));
	k.allowFile = dir + "/allow";
	{
		std::ofstream f(k.allowFile);
		f << allow;
	}
	::chmod(k.allowFile.c_str(), 0600);
	return k;
}

std::vector<std::string> controllerArgv(const std::string &dir, const Keys &k, const std::string &listen,
					const std::string &control)
{
	return {xdcBin(), "controller", "--listen", listen, "--control", control, "--key", k.controllerKeyFile,
		"--allow", k.allowFile, "--log-file", dir + "/controller.log"};
}

json controlCall(const std::string &control, const control::Request &req, int timeoutMs)
{
	auto r = control::request(control, req, timeoutMs);
	return r && r->is_object() ? *r : json::object();
}

int liveAgents(const std::string &control, int timeoutMs)
{
	auto r = controlCall(control, control::StatsRequest{}, timeoutMs);
	auto stats = r.value("ok", false) ? control::parseAnswer<control::StatsAnswer>(r)
					  : Result<control::StatsAnswer>(makeError(Errc::NotFound, "no answer"));
	return stats ? static_cast<int>(stats->agentsLive) : -1;
}

bool waitLive(const std::string &control, int n, std::chrono::milliseconds timeout)
{
	const auto deadline = std::chrono::steady_clock::now() + timeout;
	while (std::chrono::steady_clock::now() < deadline) {
		if (liveAgents(control) == n)
			return true;
		std::this_thread::sleep_for(20ms);
	}
	return false;
}

std::pair<size_t, size_t> pingFrameSizes(const std::string &agentId)
{
	proto::Header h;
	h.id = 123456;
	h.sender = "controller";
	h.wallNs = clk::wallNs();
	h.monoNs = clk::monoNs();
	proto::Command c;
	c.id = 1000;
	c.nonce = 0xfedcba9876543210ull;
	c.notAfterNs = clk::wallNs() + 10 * clk::kSec;
	c.name = "ping";
	c.args = proto::packBytes(proto::PingArgs{"ping"});
	const size_t cmd = proto::encode(c, h).size();
	h.sender = agentId;
	proto::CommandResult r;
	r.commandId = 1000;
	r.ok = true;
	r.data = proto::packBytes(proto::PingReply{"ping", clk::wallNs()});
	r.receivedNs = clk::wallNs();
	r.doneNs = clk::wallNs();
	return {cmd, proto::encode(r, h).size()};
}

double percentile(std::vector<double> v, double p)
{
	if (v.empty())
		return 0;
	std::sort(v.begin(), v.end());
	size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
	return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

std::optional<CpuSample> cpuOf(pid_t pid)
{
	CpuSample s;
	const std::string base = "/proc/" + std::to_string(pid);
	std::ifstream m(base + "/schedstat");
	uint64_t waitNs = 0;
	if (!(m >> s.mainThreadNs >> waitNs >> s.mainSlices))
		return std::nullopt;
	std::error_code ec;
	for (const auto &e : std::filesystem::directory_iterator(base + "/task", ec)) {
		std::ifstream t(e.path().string() + "/schedstat");
		uint64_t ns = 0, wait = 0, slices = 0;
		if (t >> ns >> wait >> slices) {
			s.allThreadsNs += ns;
			s.slices += slices;
			s.threads++;
		}
	}
	return s;
}

std::optional<uint64_t> statCpuNs(pid_t pid)
{
	// Fields after the command name, which is in parentheses and may contain spaces: state is field 3, utime 14,
	// stime 15 (proc(5)).
	const std::string st = readFile("/proc/" + std::to_string(pid) + "/stat");
	const auto close = st.rfind(')');
	if (close == std::string::npos)
		return std::nullopt;
	std::istringstream in(st.substr(close + 2));
	std::string field;
	uint64_t utime = 0, stime = 0;
	for (int i = 3; i <= 15 && in >> field; i++) {
		if (i == 14)
			utime = std::strtoull(field.c_str(), nullptr, 10);
		if (i == 15)
			stime = std::strtoull(field.c_str(), nullptr, 10);
	}
	if (!in)
		return std::nullopt;
	static const long hz = ::sysconf(_SC_CLK_TCK);
	return (utime + stime) * (1000000000ull / static_cast<uint64_t>(hz > 0 ? hz : 100));
}

std::optional<uint64_t> rssOf(pid_t pid)
{
	const std::string st = readFile("/proc/" + std::to_string(pid) + "/status");
	auto at = st.find("VmRSS:");
	if (at == std::string::npos)
		return std::nullopt;
	return std::strtoull(st.c_str() + at + 6, nullptr, 10) * 1024;
}

void row(const std::string &figure, const std::string &metric, const std::string &value, const std::string &goal,
	 const std::string &met, const std::string &note)
{
	printf("ROW|%s|%s|%s|%s|%s|%s\n", figure.c_str(), metric.c_str(), value.c_str(), goal.c_str(), met.c_str(),
	       note.c_str());
	fflush(stdout);
}

} // namespace xdc::bench
