// SPDX-License-Identifier: Apache-2.0
// xdc-agent: the daemon on every Streams host. Parses flags, loads its config and runs the Agent.
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <cerrno>
#include <malloc.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/capabilities.h"
#include "agent/faults/guard.h"
#include "common/clock.h"
#include "common/proto/codec.h"
#include "common/transport/curve.h"
#include "xdc_config.h"

using namespace xdc;

namespace {

agent::Agent *gAgent = nullptr;

void onSignal(int) { if (gAgent) gAgent->stop(); }

const char *kUsage = R"(Usage: xdc-agent [--config FILE] [options]

The xdc agent: connects out to the xdc controller over CurveZMQ, registers this host, heartbeats, answers clock
pings and runs the typed commands of its fixed table. Flags override the config file.

Options:
  --config FILE            YAML config; every key and default is in docs/USER_GUIDE.md (flags below win)
  --controller ENDPOINT    controller endpoint, e.g. tcp://10.0.0.1:7700
  --controller-key KEY     controller public key: 40 Z85 characters, or a .pub/.key file
  --key FILE               this agent's key pair file (xdc keys generate); must be mode 0600
  --id ID                  agent id (default: the host name); must match the allow-list entry of the key
  --host NAME              host name to report (default: the system host name)
  --dc DC                  datacenter of this host (required)
  --label K=V              a label (repeatable), e.g. --label role=streams
  --state-dir DIR          the agent's own directory, created 0700 at start (default /var/lib/xdc-agent)
  --insecure               no CURVE (experiments only; warned about on every start)
  --log-level LEVEL        trace, debug, info (default), warn, error
  --log-format FMT         text (default) or json
  --log-file FILE          log here instead of stderr
  --test-clock-skew MS     test only: shift this agent's wall clock by MS (needs test_features: true)
  --test-proto-version N   test only: register with protocol version N (needs test_features: true)
  --probe                  print the capability probe as key=value lines and exit
  --cleanup                revert whatever an earlier run of this agent left (its journal, leftovers named after
                           its id), then exit 0; refused (exit 2) while the agent runs. For uninstalling.
  --gen-key FILE           create this agent's key pair FILE (0600) and FILE's .pub if FILE does not exist, then
                           print 'created ID PUBLIC-KEY' or 'exists ID PUBLIC-KEY' (the allow-list line) and exit
  --version, --help

Exit codes: 0 stopped by SIGTERM/SIGINT, 1 runtime failure, 2 bad configuration.
)";

// --gen-key: idempotent, for deployment tools (ansible/): an existing valid key is kept, never replaced.
int genKey(const std::string &file, std::string id)
{
	const size_t slash = file.rfind('/');
	const std::string dir = slash == std::string::npos ? "." : file.substr(0, slash);
	std::string name = slash == std::string::npos ? file : file.substr(slash + 1);
	if (name.size() < 5 || name.compare(name.size() - 4, 4, ".key") != 0) {
		fprintf(stderr, "xdc-agent: --gen-key '%s': the file name must end in .key\n", file.c_str());
		return 2;
	}
	name.resize(name.size() - 4);
	if (id.empty())
		id = name;
	if (::access(file.c_str(), F_OK) == 0) {
		auto kp = transport::loadKeyPair(file);
		if (!kp) {
			fprintf(stderr, "xdc-agent: --gen-key: %s (not replaced)\n", kp.error().message.c_str());
			return 1;
		}
		printf("exists %s %s\n", id.c_str(), kp->publicKey.c_str());
		return 0;
	}
	auto kp = transport::generateKeyPair();
	if (!kp) {
		fprintf(stderr, "xdc-agent: --gen-key: %s\n", kp.error().message.c_str());
		return 1;
	}
	if (auto w = transport::writeKeyPair(dir, name, *kp); !w) {
		fprintf(stderr, "xdc-agent: --gen-key: %s\n", w.error().message.c_str());
		return 1;
	}
	printf("created %s %s\n", id.c_str(), kp->publicKey.c_str());
	return 0;
}

} // namespace

int main(int argc, char **argv)
{
	std::string configFile;
	for (int i = 1; i < argc; i++)
		if (std::string(argv[i]) == "--config" && i + 1 < argc)
			configFile = argv[i + 1];
	for (int i = 1; i < argc; i++)
		if (std::string(argv[i]) == "--gen-key") {
			if (i + 1 >= argc) {
				fprintf(stderr, "xdc-agent: --gen-key needs a file\n");
				return 2;
			}
			std::string id;
			for (int j = 1; j + 1 < argc; j++)
				if (std::string(argv[j]) == "--id")
					id = argv[j + 1];
			return genKey(argv[i + 1], id);
		}
	auto loaded = agent::loadAgentConfig(configFile);
	if (!loaded) {
		fprintf(stderr, "xdc-agent: %s\n", loaded.error().message.c_str());
		return 2;
	}
	agent::AgentConfig cfg = *loaded;
	bool probeOnly = false;
	for (int i = 1; i < argc; i++) {
		std::string a = argv[i];
		auto need = [&](const char *what) -> std::string {
			if (i + 1 >= argc) {
				fprintf(stderr, "xdc-agent: %s needs %s\n", a.c_str(), what);
				exit(2);
			}
			return argv[++i];
		};
		if (a == "--help" || a == "-h") {
			fputs(kUsage, stdout);
			return 0;
		} else if (a == "--version") {
			printf("xdc-agent %s (protocol %d..%d)\n", XDC_VERSION, proto::kMinVersion, proto::kVersion);
			return 0;
		} else if (a == "--config") {
			i++;
		} else if (a == "--controller") {
			cfg.controller = need("an endpoint");
		} else if (a == "--controller-key") {
			cfg.controllerKey = need("a key or file");
		} else if (a == "--key") {
			cfg.keyFile = need("a file");
		} else if (a == "--id") {
			cfg.id = need("an id");
		} else if (a == "--host") {
			cfg.host = need("a name");
		} else if (a == "--dc") {
			cfg.dc = need("a datacenter name");
		} else if (a == "--label") {
			std::string kv = need("K=V");
			auto eq = kv.find('=');
			if (eq == std::string::npos || eq == 0) {
				fprintf(stderr, "xdc-agent: --label '%s': expected K=V\n", kv.c_str());
				return 2;
			}
			cfg.labels[kv.substr(0, eq)] = kv.substr(eq + 1);
		} else if (a == "--state-dir") {
			cfg.stateDir = need("a directory");
		} else if (a == "--insecure") {
			cfg.insecure = true;
		} else if (a == "--log-level") {
			cfg.log.level = need("a level");
		} else if (a == "--log-format") {
			cfg.log.format = need("text or json");
		} else if (a == "--log-file") {
			cfg.log.file = need("a file");
		} else if (a == "--test-clock-skew") {
			try {
				cfg.testClockSkewMs = std::stoll(need("milliseconds"));
			} catch (...) {
				fprintf(stderr, "xdc-agent: --test-clock-skew: expected an integer number of ms\n");
				return 2;
			}
		} else if (a == "--test-proto-version") {
			try {
				cfg.testProtoVersion = std::stoi(need("a version"));
			} catch (...) {
				fprintf(stderr, "xdc-agent: --test-proto-version: expected an integer\n");
				return 2;
			}
		} else if (a == "--probe") {
			probeOnly = true;
		} else if (a == "--cleanup") {
			cfg.cleanupOnly = true;
		} else {
			fprintf(stderr, "xdc-agent: unknown option '%s' (see --help)\n", a.c_str());
			return 2;
		}
	}
	if (probeOnly) {
		for (const auto &[k, v] : agent::probeCapabilities())
			printf("%s=%s\n", k.c_str(), v.c_str());
		return 0;
	}
	if (cfg.host.empty()) {
		char hn[256] = {};
		::gethostname(hn, sizeof hn - 1);
		cfg.host = hn;
	}
	if (cfg.id.empty())
		cfg.id = cfg.host;
	if (auto v = agent::validateAgentConfig(cfg); !v) {
		fprintf(stderr, "xdc-agent: %s\n", v.error().message.c_str());
		return 2;
	}
	if ((cfg.testClockSkewMs || cfg.testProtoVersion) && !XDC_TEST_FEATURES) {
		fprintf(stderr, "xdc-agent: this build has test features disabled (meson -Dtest_features=false)\n");
		return 2;
	}
	if (auto r = log::init(cfg.log); !r) {
		fprintf(stderr, "xdc-agent: %s\n", r.error().message.c_str());
		return 2;
	}
	if (cfg.testClockSkewMs) {
		clk::setTestSkew(cfg.testClockSkewMs * clk::kMs);
		log::get("agent")->warn("TEST FEATURE: wall clock skewed by {} ms", cfg.testClockSkewMs);
	}
	// Probe and start the guard before any thread exists: both fork.
	auto caps = agent::probeCapabilities();
	if (::mkdir(cfg.stateDir.c_str(), 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "xdc-agent: state_dir '%s': %s\n", cfg.stateDir.c_str(), strerror(errno));
		return 2;
	}
	// Timers fire on time rather than up to 50 us late: a synchronised fault start sleeps to its instant.
	::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	auto lock = agent::lockStateDir(cfg.stateDir);
	if (!lock) {
		fprintf(stderr, "xdc-agent: %s\n", lock.error().message.c_str());
		return 2;
	}
	// --cleanup: the lock above refuses it while an agent runs; it reverts leftovers and exits, no guard needed.
	if (cfg.cleanupOnly) {
		agent::Agent ag(cfg, caps);
		return ag.run();
	}
	// The guard closes its copy of the lock descriptor, so the lock is the agent's alone and is released when the
	// agent dies, which is how the guard tells a restarted agent from none.
	auto guard = agent::startGuard(cfg.stateDir);
	if (!guard) {
		fprintf(stderr, "xdc-agent: cannot start the guard: %s\n", guard.error().message.c_str());
		return 1;
	}
	// A small daemon: threads share one malloc arena besides the main one instead of one each (every arena keeps
	// its own freed memory resident).
	::mallopt(M_ARENA_MAX, 2);
	agent::Agent ag(cfg, caps);
	ag.addCommand("ping", [](const proto::Bytes &args) -> Result<proto::Bytes> {
		auto a = proto::unpackBytes<proto::PingArgs>(args);
		if (!a)
			return a.error();
		proto::PingReply r{a->text, clk::wallNs()};
		return proto::packBytes(r);
	});
	gAgent = &ag;
	struct sigaction sa{};
	sa.sa_handler = onSignal;
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGINT, &sa, nullptr);
	signal(SIGPIPE, SIG_IGN);
	int rc = ag.run();
	gAgent = nullptr;
	return rc;
}
