// SPDX-License-Identifier: Apache-2.0
// Shared CLI plumbing and the small subcommands.
#include "controller/cli/cli.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/clock.h"
#include "common/transport/curve.h"
#include "common/yaml_reader.h"
#include "controller/control/control_server.h"
#include "controller/daemon/controller.h"
#include "controller/lab/lab_state.h"
#include "xdc_config.h"

namespace xdc::cli {

const std::vector<std::string> &Args::all(const std::string &f) const
{
	static const std::vector<std::string> none;
	auto it = flags.find(f);
	return it == flags.end() ? none : it->second;
}

Result<Args> parseArgs(const std::vector<std::string> &argv, const std::vector<FlagSpec> &specs)
{
	Args a;
	bool flagsDone = false;
	for (size_t i = 0; i < argv.size(); i++) {
		const std::string &s = argv[i];
		if (flagsDone || s.size() < 2 || s[0] != '-' || s == "-") {
			a.positional.push_back(s);
			continue;
		}
		if (s == "--") {
			flagsDone = true;
			continue;
		}
		std::string name = s, value;
		bool inlineValue = false;
		if (auto eq = s.find('='); eq != std::string::npos && s.rfind("--", 0) == 0) {
			name = s.substr(0, eq);
			value = s.substr(eq + 1);
			inlineValue = true;
		}
		const FlagSpec *spec = nullptr;
		for (const auto &f : specs)
			if (f.name == name)
				spec = &f;
		if (!spec) {
			std::vector<std::string> names;
			for (const auto &f : specs)
				names.push_back(f.name);
			std::string hint = didYouMean(name, names);
			return makeError(Errc::Invalid, "unknown option '{}'{}", name,
					 hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
		}
		if (spec->takesValue && !inlineValue) {
			if (i + 1 >= argv.size())
				return makeError(Errc::Invalid, "option '{}' needs a value", name);
			value = argv[++i];
		} else if (!spec->takesValue && inlineValue) {
			return makeError(Errc::Invalid, "option '{}' takes no value", name);
		}
		a.flags[name].push_back(value);
	}
	return a;
}

std::string labControlPath(const std::string &lab)
{
	if (lab == "xdc")
		return controller::kDefaultControlPath;
	return lab::stateDir(lab) + "/control.sock";
}

Result<std::string> chosenLab(const Args &a)
{
	if (a.has("--lab"))
		return a.get("--lab");
	if (const char *l = std::getenv("XDC_LAB"); l && *l)
		return std::string(l);
	const auto labs = lab::listLabs();
	if (labs.empty())
		return std::string();
	if (labs.size() > 1)
		return makeError(Errc::Invalid, "several labs are up ({}): name one with --lab (or $XDC_LAB)",
				 fmt::join(labs, ", "));
	static bool said = false;
	if (!said)
		fprintf(stderr, "xdc: using lab %s (the only one up; --lab NAME to choose)\n", labs[0].c_str());
	said = true;
	return labs[0];
}

Result<std::string> controlPathFor(const Args &a)
{
	if (a.has("--control"))
		return a.get("--control");
	if (a.has("--lab"))
		return labControlPath(a.get("--lab"));
	if (const char *c = std::getenv("XDC_CONTROL"); c && *c)
		return std::string(c);
	if (const char *l = std::getenv("XDC_LAB"); l && *l)
		return labControlPath(l);
	// A controller at the default socket (a deployment's, or the default lab's) wins over finding a lab.
	struct stat st{};
	if (::stat(controller::kDefaultControlPath, &st) == 0)
		return std::string(controller::kDefaultControlPath);
	auto lab = chosenLab(a);
	if (!lab)
		return lab.error();
	return lab->empty() ? std::string(controller::kDefaultControlPath) : labControlPath(*lab);
}

std::string controlPath(const Args &a)
{
	auto p = controlPathFor(a);
	return p ? *p : std::string(controller::kDefaultControlPath);
}

std::vector<FlagSpec> controlFlags()
{
	return {{"--json", false, "machine-readable output"},
		{"--lab", true, "talk to the controller of lab NAME"},
		{"--control", true, "talk to the controller at this socket"},
		{"--help", false, "show help"}};
}

std::optional<json> callController(const Args &a, const control::Request &req, int &exitCode, int timeoutMs)
{
	// With --json a failure is JSON on stdout too ({"ok": false, "error": {code, message}}, the controller's own
	// answer when there is one), so a script reads one document whatever the exit code.
	const bool js = a.has("--json");
	auto path = controlPathFor(a);
	if (!path) {
		fprintf(stderr, "xdc: %s\n", path.error().message.c_str());
		if (js)
			printf("%s\n", control::errorJson("invalid", path.error().message).dump(2).c_str());
		exitCode = kUsage;
		return std::nullopt;
	}
	auto r = control::request(*path, req, timeoutMs);
	if (!r) {
		fprintf(stderr, "xdc: %s\n", r.error().message.c_str());
		if (js)
			printf("%s\n", control::errorJson("unreachable", r.error().message).dump(2).c_str());
		exitCode = kUnreachable;
		return std::nullopt;
	}
	if (!r->value("ok", false)) {
		std::string msg = (*r)["error"].value("message", "unknown error");
		fprintf(stderr, "xdc: %s\n", msg.c_str());
		if (js)
			printf("%s\n", r->dump(2).c_str());
		exitCode = (*r)["error"].value("code", "") == "invalid" ? kUsage : kFailed;
		return std::nullopt;
	}
	exitCode = kOk;
	return std::move(*r);
}

namespace {

int usageError(const std::string &cmd, const Error &e)
{
	fprintf(stderr, "xdc %s: %s (see xdc %s --help)\n", cmd.c_str(), e.message.c_str(), cmd.c_str());
	return kUsage;
}

void printHelp(const char *text, const std::vector<FlagSpec> &specs)
{
	fputs(text, stdout);
	if (!specs.empty())
		printf("\nOptions:\n");
	for (const auto &f : specs)
		printf("  %-22s %s\n", (f.name + (f.takesValue ? " VALUE" : "")).c_str(), f.help.c_str());
}

std::string fmtMs(double ms)
{
	if (ms < 1)
		return fmt::format("{:.3f}ms", ms);
	return fmt::format("{:.1f}ms", ms);
}

} // namespace

namespace {

// The whole seconds of a wall-clock time in ns, in UTC, through strftime's format.
std::string utcSeconds(int64_t ns, const char *format)
{
	time_t s = ns / 1000000000;
	tm t{};
	gmtime_r(&s, &t);
	char buf[32];
	strftime(buf, sizeof buf, format, &t);
	return buf;
}

} // namespace

std::string clockTimeMs(int64_t ns)
{
	return fmt::format("{}.{:03d}Z", utcSeconds(ns, "%H:%M:%S"), static_cast<int>((ns / 1000000) % 1000));
}

std::string dateTimeUtc(int64_t ns) { return utcSeconds(ns, "%Y-%m-%d %H:%M:%SZ"); }

std::string agentsTable(const control::AgentsAnswer &agents)
{
	std::vector<std::vector<std::string>> rows;
	rows.push_back({"ID", "HOST", "DC", "LABELS", "VERSION", "STATE", "HB-AGE", "CLOCK OFFSET", "CAPABILITIES"});
	for (const auto &a : agents.agents) {
		std::string labels;
		for (const auto &[k, v] : a.labels)
			labels += (labels.empty() ? "" : ",") + k + "=" + v;
		std::string clock = "-";
		if (a.clock)
			clock = fmt::format("{:+.3f}ms ±{}", a.clock->offsetMs, fmtMs(a.clock->boundMs));
		std::string caps;
		for (const char *k : {"root", "nft", "iptables", "nfqueue", "qdisc.htb", "qdisc.tbf", "qdisc.netem", "ifb",
				      "ipv6"}) {
			auto it = a.capabilities.find(k);
			const std::string v = it == a.capabilities.end() ? "no" : it->second;
			std::string name = k;
			if (name.rfind("qdisc.", 0) == 0)
				name = name.substr(6);
			caps += (caps.empty() ? "" : " ") + (v == "yes" ? name : "!" + name);
		}
		rows.push_back({a.id, a.host, a.dc, labels.empty() ? "-" : labels, a.version,
				a.state.empty() ? "?" : a.state,
				fmt::format("{:.1f}s", static_cast<double>(a.lastHeartbeatAgeMs) / 1000.0), clock, caps});
	}
	std::vector<size_t> w(rows[0].size(), 0);
	for (const auto &r : rows)
		for (size_t i = 0; i < r.size(); i++)
			w[i] = std::max(w[i], r[i].size());
	std::string out;
	for (const auto &r : rows) {
		for (size_t i = 0; i < r.size(); i++)
			out += r[i] + (i + 1 < r.size() ? std::string(w[i] - r[i].size() + 2, ' ') : "");
		out += "\n";
	}
	out += "(!name: capability missing)\n";
	return out;
}

int cmdAgents(const std::vector<std::string> &argv)
{
	auto specs = controlFlags();
	auto a = parseArgs(argv, specs);
	if (!a)
		return usageError("agents", a.error());
	if (a->has("--help")) {
		printHelp("Usage: xdc agents [--json]\n\nOne row per agent the controller knows: id, host, dc, labels, "
			  "version, state\n(live | lost), age of the last heartbeat, clock offset ± bound, capabilities.\n"
			  "--json prints the full records as an array: indented on a terminal, one line\notherwise "
			  "(as the controller wrote it; fast for a large fleet).\n",
			  specs);
		return kOk;
	}
	// --json for a script (stdout not a terminal): the controller's array as it wrote it, one line, without reading
	// it into objects and printing it again (for 10,000 agents that took most of the command's time). On a
	// terminal, or when the answer is not the expected shape (an error), the path below.
	if (a->has("--json") && !::isatty(STDOUT_FILENO)) {
		if (auto path = controlPathFor(*a)) {
			auto text = control::requestText(*path, control::toJson(control::Request{control::AgentsRequest{}}),
							 15000);
			static constexpr std::string_view kHead = "{\"agents\":", kTail = ",\"ok\":true}";
			if (text && text->size() >= kHead.size() + kTail.size() && text->starts_with(kHead) &&
			    text->ends_with(kTail)) {
				fwrite(text->data() + kHead.size(), 1, text->size() - kHead.size() - kTail.size(), stdout);
				fputc('\n', stdout);
				return kOk;
			}
		}
	}
	int rc = 0;
	auto r = callController(*a, control::AgentsRequest{}, rc);
	if (!r)
		return rc;
	if (a->has("--json")) {
		printf("%s\n", (*r)["agents"].dump(2).c_str());
		return kOk;
	}
	auto agents = control::parseAnswer<control::AgentsAnswer>(*r);
	if (!agents) {
		fprintf(stderr, "xdc: %s\n", agents.error().message.c_str());
		return kFailed;
	}
	fputs(agentsTable(*agents).c_str(), stdout);
	return kOk;
}

int cmdStats(const std::vector<std::string> &argv)
{
	auto specs = controlFlags();
	auto a = parseArgs(argv, specs);
	if (!a)
		return usageError("stats", a.error());
	if (a->has("--help")) {
		printHelp("Usage: xdc stats [--json]\n\nController status: id, version, endpoints, agents, dropped frames "
			  "by category, transport\nevents (handshake failures, ...) and ZAP decisions.\n", specs);
		return kOk;
	}
	int rc = 0;
	auto r = callController(*a, control::StatsRequest{}, rc);
	if (!r)
		return rc;
	auto s = control::parseAnswer<control::StatsAnswer>(*r);
	if (!s) {
		fprintf(stderr, "xdc: %s\n", s.error().message.c_str());
		return kFailed;
	}
	if (a->has("--json")) {
		printf("%s\n", (*r)["stats"].dump(2).c_str());
		return kOk;
	}
	printf("controller %s (pid %d), version %s, protocol %d..%d, %s\n", s->controllerId.c_str(), s->pid,
	       s->version.c_str(), s->protocolMin, s->protocolMax, s->secure ? "CURVE + allow-list" : "INSECURE");
	printf("agents endpoint %s, console %s, up %.1f s\n", s->listen.c_str(), s->control.c_str(),
	       static_cast<double>(s->uptimeMs) / 1000.0);
	printf("agents: %llu known, %llu live; ZAP accepted %llu, refused %llu; %llu commands pending\n",
	       static_cast<unsigned long long>(s->agentsKnown), static_cast<unsigned long long>(s->agentsLive),
	       static_cast<unsigned long long>(s->zapAccepted), static_cast<unsigned long long>(s->zapRefused),
	       static_cast<unsigned long long>(s->pendingCommands));
	printf("dropped frames:");
	for (const auto &[k, v] : s->drops)
		printf(" %s=%llu", k.c_str(), static_cast<unsigned long long>(v));
	printf("\ntransport events:");
	for (const auto &[k, v] : s->transport)
		printf(" %s=%llu", k.c_str(), static_cast<unsigned long long>(v));
	printf("\n");
	return kOk;
}

int cmdPing(const std::vector<std::string> &argv)
{
	auto specs = controlFlags();
	specs.push_back({"--text", true, "payload to echo"});
	auto a = parseArgs(argv, specs);
	if (!a)
		return usageError("ping", a.error());
	if (a->has("--help") || a->positional.empty()) {
		printHelp("Usage: xdc ping AGENT... | xdc ping '*'\n\nRuns the 'ping' command on agents through the "
			  "control channel and prints each round trip.\nExit 1 if any agent did not answer.\n", specs);
		return a->has("--help") ? kOk : kUsage;
	}
	int rc = 0;
	auto r = callController(*a, control::PingRequest{a->positional, a->get("--text", "ping")}, rc, 30000);
	if (!r)
		return rc;
	auto ping = control::parseAnswer<control::PingAnswer>(*r);
	if (!ping) {
		fprintf(stderr, "xdc: %s\n", ping.error().message.c_str());
		return kFailed;
	}
	bool allOk = true;
	for (const auto &[id, e] : ping->results)
		allOk &= e.ok;
	if (a->has("--json")) {
		printf("%s\n", (*r)["results"].dump(2).c_str());
	} else {
		for (const auto &[id, e] : ping->results)
			printf("%-20s %s\n", id.c_str(),
			       e.ok ? fmt::format("ok {:.3f} ms", static_cast<double>(e.rttUs) / 1000.0).c_str()
				    : ("FAILED: " + e.error).c_str());
	}
	return allOk ? kOk : kFailed;
}

int cmdShutdown(const std::vector<std::string> &argv)
{
	auto specs = controlFlags();
	auto a = parseArgs(argv, specs);
	if (!a)
		return usageError("shutdown", a.error());
	if (a->has("--help")) {
		printHelp("Usage: xdc shutdown\n\nAsks the controller to stop.\n", specs);
		return kOk;
	}
	int rc = 0;
	auto r = callController(*a, control::ShutdownRequest{}, rc);
	if (r)
		printf(a->has("--json") ? "{\"ok\": true}\n" : "controller is stopping\n");
	return r ? kOk : rc;
}

int cmdReload(const std::vector<std::string> &argv)
{
	auto specs = controlFlags();
	auto a = parseArgs(argv, specs);
	if (!a)
		return usageError("reload", a.error());
	if (a->has("--help")) {
		printHelp("Usage: xdc reload\n\nAsks the controller to re-read its agent allow-list (the same as SIGHUP).\n"
			  "New keys work at the next handshake; agents whose key was removed are dropped and marked lost.\n"
			  "On a bad file the old list stays in force and the exit code is 1.\n", specs);
		return kOk;
	}
	int rc = 0;
	auto r = callController(*a, control::ReloadRequest{}, rc);
	if (!r)
		return rc;
	auto j = control::parseAnswer<control::ReloadAnswer>(*r);
	if (!j) {
		fprintf(stderr, "xdc: %s\n", j.error().message.c_str());
		return kFailed;
	}
	if (a->has("--json")) {
		printf("%s\n", (*r)["reload"].dump(2).c_str());
		return kOk;
	}
	auto list = [](const std::vector<std::string> &ids) {
		return ids.empty() ? std::string("-") : fmt::format("{}", fmt::join(ids, ","));
	};
	printf("allow-list %s: %llu keys; added %s; removed %s\n", j->file.c_str(),
	       static_cast<unsigned long long>(j->allowed), list(j->added).c_str(), list(j->removed).c_str());
	return kOk;
}

int cmdKeys(const std::vector<std::string> &argv)
{
	std::vector<FlagSpec> specs = {{"--out", true, "directory for the key files (default: .)"},
				       {"--force", false, "replace existing files"},
				       {"--json", false, "print the public key and paths as JSON"},
				       {"--help", false, "show help"}};
	auto a = parseArgs(argv, specs);
	if (!a)
		return usageError("keys", a.error());
	if (a->has("--help") || a->positional.empty() || a->positional[0] != "generate" || a->positional.size() != 2) {
		printHelp("Usage: xdc keys generate NAME [--out DIR] [--force]\n\nWrites a CurveZMQ key pair: DIR/NAME.key "
			  "(public + secret, mode 0600) and DIR/NAME.pub.\nAdd an agent to the controller's allow-list "
			  "with a line 'AGENT-ID PUBLIC-KEY'.\n", specs);
		return a->has("--help") ? kOk : kUsage;
	}
	const std::string name = a->positional[1], dir = a->get("--out", ".");
	if (name.empty() || name.find('/') != std::string::npos)
		return usageError("keys", makeError(Errc::Invalid, "NAME must be a plain file name"));
	auto kp = transport::generateKeyPair();
	if (!kp)
		return usageError("keys", kp.error());
	if (auto w = transport::writeKeyPair(dir, name, *kp, a->has("--force")); !w) {
		fprintf(stderr, "xdc keys: %s\n", w.error().message.c_str());
		return kFailed;
	}
	if (a->has("--json"))
		printf("%s\n", json{{"name", name},
				    {"public", kp->publicKey},
				    {"fingerprint", transport::fingerprint(kp->publicKey)},
				    {"key_file", dir + "/" + name + ".key"},
				    {"pub_file", dir + "/" + name + ".pub"}}
				       .dump(2)
				       .c_str());
	else
		printf("wrote %s/%s.key (0600) and %s/%s.pub\npublic key %s (fingerprint %s)\n", dir.c_str(),
		       name.c_str(), dir.c_str(), name.c_str(), kp->publicKey.c_str(),
		       transport::fingerprint(kp->publicKey).c_str());
	return kOk;
}

namespace {
std::atomic<int> gStopSignals{0};
void onStopSignalCount(int) { gStopSignals.fetch_add(1); }
} // namespace

const std::atomic<int> &catchStopSignals()
{
	gStopSignals.store(0); // counts from this command's start: a Ctrl-C of an earlier console command is spent
	struct sigaction sa{};
	sa.sa_handler = onStopSignalCount;
	sigemptyset(&sa.sa_mask);
	::sigaction(SIGINT, &sa, nullptr);
	::sigaction(SIGTERM, &sa, nullptr);
	return gStopSignals;
}

namespace {
controller::Controller *gController = nullptr;
void onStopSignal(int)
{
	if (gController)
		gController->stop();
}
void onReloadSignal(int)
{
	if (gController)
		gController->requestReload();
}
} // namespace

int cmdController(const std::vector<std::string> &argv)
{
	std::vector<FlagSpec> specs = {
		{"--config", true, "YAML config file (docs/USER_GUIDE.md lists every key and default)"},
		{"--listen", true, "agent endpoint, e.g. tcp://10.0.0.1:7700 (default tcp://127.0.0.1:7700)"},
		{"--control", true, "console socket path (default /run/xdc/control.sock)"},
		{"--key", true, "controller key pair file (xdc keys generate)"},
		{"--allow", true, "agent allow-list file: 'AGENT-ID PUBLIC-KEY' per line"},
		{"--max-frame", true, "largest accepted frame, e.g. 4MiB (default)"},
		{"--metrics-listen", true, "serve Prometheus /metrics on PORT (127.0.0.1), HOST:PORT or [V6]:PORT "
					   "(default: off)"},
		{"--insecure", false, "turn CURVE and the allow-list off (warned about on every start)"},
		{"--log-level", true, "trace, debug, info, warn, error"},
		{"--log-format", true, "text or json"},
		{"--log-file", true, "log here instead of stderr"},
		{"--help", false, "show help"}};
	auto a = parseArgs(argv, specs);
	if (!a)
		return usageError("controller", a.error());
	if (a->has("--help")) {
		printHelp("Usage: xdc controller [--config FILE] [options]\n\nRuns the controller daemon in the "
			  "foreground until SIGTERM/SIGINT or `xdc shutdown`.\nExit codes: 0 stopped, 1 runtime failure, "
			  "2 bad configuration.\n", specs);
		return kOk;
	}
	auto cfg = controller::loadControllerConfig(a->get("--config"));
	if (!cfg) {
		fprintf(stderr, "xdc controller: %s\n", cfg.error().message.c_str());
		return kUsage;
	}
	if (a->has("--listen")) cfg->listen = a->get("--listen");
	if (a->has("--control")) cfg->control = a->get("--control");
	if (a->has("--key")) cfg->keyFile = a->get("--key");
	if (a->has("--allow")) cfg->allowFile = a->get("--allow");
	if (a->has("--insecure")) cfg->insecure = true;
	if (a->has("--metrics-listen")) cfg->metricsListen = a->get("--metrics-listen");
	if (a->has("--log-level")) cfg->log.level = a->get("--log-level");
	if (a->has("--log-format")) cfg->log.format = a->get("--log-format");
	if (a->has("--log-file")) cfg->log.file = a->get("--log-file");
	if (a->has("--max-frame")) {
		auto s = parseSize(a->get("--max-frame"));
		if (!s)
			return usageError("controller", s.error());
		cfg->maxFrame = *s;
	}
	if (auto v = controller::validateControllerConfig(*cfg); !v) {
		fprintf(stderr, "xdc controller: %s\n", v.error().message.c_str());
		return kUsage;
	}
	if (auto l = log::init(cfg->log); !l) {
		fprintf(stderr, "xdc controller: %s\n", l.error().message.c_str());
		return kUsage;
	}
	controller::Controller c(*cfg);
	if (auto s = c.start(); !s) {
		log::get("controller")->error("{}", s.error().message);
		return kFailed;
	}
	gController = &c;
	struct sigaction sa{};
	sa.sa_handler = onStopSignal;
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGINT, &sa, nullptr);
	struct sigaction hup{};
	hup.sa_handler = onReloadSignal;
	sigaction(SIGHUP, &hup, nullptr);
	signal(SIGPIPE, SIG_IGN);
	int rc = c.run();
	gController = nullptr;
	return rc;
}

} // namespace xdc::cli
