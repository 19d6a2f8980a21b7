// SPDX-License-Identifier: Apache-2.0
// Evidence ingest: how many samples per second one real `xdc controller` takes from 100 simulated agents (bench/support
// sim_fleet.h: batches every 50 ms, at most 4,000 samples beyond the ack, as the agent's outbox) before its acks fall
// behind. One recording per rate step, started and stopped through the console (record.start / record.stop) exactly
// as `xdc record` does; for each step: samples/s offered and acked, the controller's CPU (utime + stime of
// /proc/PID/stat) and RSS, how long a batch waits for its ack, the backlog left at the end, how long record.stop took
// (drain + writing the bundle), and whether meta.json accounts for every sample the agents took.
//
// The sim ignores what the specs say (it takes probe.tcp-shaped samples at --rates), but the controller parses them:
// this bench needs common/evidence/spec.cpp (record.start answers "not implemented" while it is a stub).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "bench/support/bench.h"
#include "bench/support/sim_fleet.h"

using namespace xdc;
using namespace xdc::bench;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
	int agents = 100;
	std::vector<double> rates;
	int seconds = 10;
	int warmup = 2;
	int threads = 2;
	int64_t drainMs = 60000;
	bool keep = false;
	bool all = false;
	std::string spec;
};

struct StepResult {
	double rate = 0;
	bool ran = false, sustained = false, bundleOk = false;
};

// VmHWM (peak RSS) in bytes: writing the bundle holds every sample in memory at once.
uint64_t peakRssOf(pid_t pid)
{
	std::ifstream in("/proc/" + std::to_string(pid) + "/status");
	for (std::string line; std::getline(in, line);)
		if (line.rfind("VmHWM:", 0) == 0)
			return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
	return 0;
}

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Checks the bundle: one host per agent, every host's received == last_seq == what its sampler took, no gaps,
// complete, and the total equal to what the simulated agents took. Returns the problems found.
std::vector<std::string> checkMeta(const json &meta, int agents, uint64_t fleetTaken, const std::string &sampler)
{
	std::vector<std::string> bad;
	if (!meta.is_object() || !meta.contains("hosts"))
		return {"no meta"};
	const auto &hosts = meta["hosts"];
	if (static_cast<int>(hosts.size()) != agents)
		bad.push_back(fmt::format("{} hosts in meta.json, expected {}", hosts.size(), agents));
	uint64_t total = 0, dups = 0;
	int wrong = 0;
	for (const auto &h : hosts) {
		const uint64_t received = h.value("received", uint64_t{0});
		const uint64_t last = h.value("last_seq", uint64_t{0});
		total += received;
		dups += h.value("duplicates", uint64_t{0});
		uint64_t taken = 0, got = 0;
		if (h.contains("samplers") && h["samplers"].contains(sampler)) {
			taken = h["samplers"][sampler].value("taken", uint64_t{0});
			got = h["samplers"][sampler].value("received", uint64_t{0});
		}
		if (received != last || taken != last || got != last || h.contains("stop_error")) {
			if (wrong++ < 3)
				bad.push_back(fmt::format(
					"host {}: received {}, last_seq {}, sampler taken {} received {}{}",
					h.value("host", "?"), received, last, taken, got,
					h.contains("stop_error") ? ", " + h["stop_error"].get<std::string>() : ""));
		}
	}
	if (wrong > 3)
		bad.push_back(fmt::format("... {} hosts wrong in all", wrong));
	if (total != fleetTaken)
		bad.push_back(fmt::format("meta.json counts {} samples received, the simulated agents took {}", total,
					  fleetTaken));
	if (!meta.value("complete", false))
		bad.push_back(fmt::format("complete: false, {} gaps", meta.value("gaps", json::array()).size()));
	if (dups)
		printf("  (%llu duplicates dropped by the controller)\n", static_cast<unsigned long long>(dups));
	return bad;
}

StepResult step(const std::string &dir, const std::string &ctl, pid_t ctlPid, SimFleet &fleet, const Options &o,
		double rate)
{
	StepResult res;
	res.rate = rate;
	const std::string fig = fmt::format("E ingest {}x{}/s", o.agents, rate);
	const std::string name = fmt::format("ingest{}", static_cast<int64_t>(rate));
	const std::string out = dir + "/" + name;
	fleet.setEvidenceRate(rate);
	const EvidenceCounters before = fleet.evidence();

	control::RecordStartRequest startReq;
	startReq.specs = {{o.spec, "evidence_ingest_bench"}};
	startReq.out = out;
	startReq.maxMs = (o.warmup + o.seconds) * 1000 + 600000;
	startReq.name = name;
	json rep = controlCall(ctl, startReq, 30000);
	if (!rep.value("ok", false)) {
		const std::string why = rep.contains("error") ? rep["error"].dump() : "no answer";
		fprintf(stderr, "record.start at %.0f/s: %s\n", rate, why.c_str());
		row(fig, "record.start", "refused", "ok", "NO", why);
		return res;
	}
	res.ran = true;
	std::this_thread::sleep_for(std::chrono::seconds(o.warmup));

	// The measured window.
	const EvidenceCounters c0 = fleet.evidence();
	const auto cpu0 = statCpuNs(ctlPid);
	const auto t0 = Clock::now();
	(void)fleet.takeAckLatencies();
	EvidenceCounters prev = c0;
	for (int i = 0; i < o.seconds; i++) {
		std::this_thread::sleep_until(t0 + std::chrono::seconds(i + 1));
		const EvidenceCounters c = fleet.evidence();
		printf("  %.0f/s/agent t=%2ds: offered %7llu/s acked %7llu/s backlog %8llu windowFull %llu\n", rate,
		       i + 1,
		       static_cast<unsigned long long>(c.taken - prev.taken),
		       static_cast<unsigned long long>(c.acked - prev.acked),
		       static_cast<unsigned long long>(fleet.evidenceBacklog()),
		       static_cast<unsigned long long>(c.windowFull - prev.windowFull));
		fflush(stdout);
		prev = c;
	}
	const EvidenceCounters c1 = fleet.evidence();
	const auto cpu1 = statCpuNs(ctlPid);
	const double dt = secondsSince(t0);
	const uint64_t backlog = fleet.evidenceBacklog();
	std::vector<double> lat = fleet.takeAckLatencies();
	const auto rss = rssOf(ctlPid);

	const double offered = static_cast<double>(c1.taken - c0.taken) / dt;
	const double acked = static_cast<double>(c1.acked - c0.acked) / dt;
	const double cpu = cpu0 && cpu1 ? static_cast<double>(*cpu1 - *cpu0) / 1e9 / dt * 100.0 : -1;
	const double nominal = rate * o.agents;
	const double backlogS = offered > 0 ? static_cast<double>(backlog) / offered : 0;
	// Keeping up: acks within 2 % of what is offered, and no more than half a second of samples unacked at the end
	// (a 50 ms flush plus a round trip is the floor).
	res.sustained = offered > 0 && acked >= 0.98 * offered && backlogS <= 0.5;
	// Short: a saturated controller answers late, and every second waited here is recorded, too.
	json st = controlCall(ctl, control::RecordStatusRequest{name}, 2000);
	const uint64_t ctlSamples = st.value("ok", false) ? st["status"].value("samples", uint64_t{0}) : 0;

	printf("%.0f samples/s/agent x %d agents: offered %.0f/s (nominal %.0f), acked %.0f/s, controller CPU %.1f %%, "
	       "RSS %.1f MiB, ack latency p50 %.1f ms p99 %.1f ms, backlog %llu (%.2f s), controller holds %llu\n",
	       rate, o.agents, offered, nominal, acked, cpu, rss ? static_cast<double>(*rss) / (1 << 20) : -1.0,
	       percentile(lat, 50), percentile(lat, 99), static_cast<unsigned long long>(backlog), backlogS,
	       static_cast<unsigned long long>(ctlSamples));
	row(fig, "offered / acked samples/s", fmt::format("{:.0f} / {:.0f}", offered, acked), "acked >= 98 % offered",
	    res.sustained ? "yes" : "NO",
	    fmt::format("nominal {:.0f}/s{}; backlog at end {} ({:.2f} s of samples)", nominal,
			offered < 0.95 * nominal ? " (the simulated fleet could not offer it: CPU-bound host)" : "",
			backlog, backlogS));
	row(fig, "controller CPU", fmt::format("{:.1f} %", cpu), "-", "-",
	    fmt::format("% of one core, /proc/{}/stat utime+stime over {:.1f} s; {:.2f} us per sample", ctlPid, dt,
			acked > 0 ? cpu / 100.0 / acked * 1e6 : 0.0));
	row(fig, "ack latency p50 / p99", fmt::format("{:.1f} / {:.1f} ms", percentile(lat, 50), percentile(lat, 99)),
	    "-", "-", fmt::format("batch sent -> cumulative ack covering it; {} batches", lat.size()));
	row(fig, "controller RSS", rss ? fmt::format("{:.1f} MiB", static_cast<double>(*rss) / (1 << 20)) : "?", "-",
	    "-");

	// Stop, drain, bundle.
	const auto ts = Clock::now();
	json stopRep = controlCall(ctl, control::RecordStopRequest{name, o.drainMs},
				   static_cast<int>(o.drainMs) + 300000);
	const double stopS = secondsSince(ts);
	const EvidenceCounters after = fleet.evidence();
	const uint64_t fleetTaken = after.taken - before.taken;
	if (!stopRep.value("ok", false)) {
		const std::string why = stopRep.contains("error") ? stopRep["error"].dump() : "no answer";
		fprintf(stderr, "record.stop at %.0f/s: %s\n", rate, why.c_str());
		row(fig, "record.stop", "failed", "ok", "NO", why);
		return res;
	}
	json meta;
	{
		std::ifstream mf(out + "/meta.json");
		meta = json::parse(mf, nullptr, false);
	}
	std::vector<std::string> bad = checkMeta(meta, o.agents, fleetTaken, "ingest");
	if (meta != stopRep["meta"])
		bad.push_back("meta.json on disk differs from record.stop's meta");
	res.bundleOk = bad.empty();
	for (const auto &b : bad)
		fprintf(stderr, "bundle %s: %s\n", out.c_str(), b.c_str());
	uint64_t bytes = 0;
	std::error_code ec;
	for (const auto &e : std::filesystem::recursive_directory_iterator(out, ec))
		if (e.is_regular_file(ec))
			bytes += e.file_size(ec);
	const double peak = static_cast<double>(peakRssOf(ctlPid)) / (1 << 20);
	printf("  record.stop took %.2f s; bundle %.1f MiB, %llu samples; controller peak RSS so far %.1f MiB; %s\n",
	       stopS, static_cast<double>(bytes) / (1 << 20), static_cast<unsigned long long>(fleetTaken), peak,
	       bad.empty() ? "meta.json accounts for every sample" : "meta.json WRONG");
	row(fig, "record.stop (drain + bundle)", fmt::format("{:.2f} s", stopS), "-", "-",
	    fmt::format("{} samples, bundle {:.1f} MiB; controller peak RSS (VmHWM) so far {:.1f} MiB", fleetTaken,
			static_cast<double>(bytes) / (1 << 20), peak));
	row(fig, "meta.json counts", bad.empty() ? "all samples" : bad.front(), "every sample taken, no gaps",
	    bad.empty() ? "yes" : "NO");
	if (!o.keep)
		std::filesystem::remove_all(out, ec);
	return res;
}

} // namespace

int main(int argc, char **argv)
{
	Flags f(argc, argv);
	Options o;
	o.agents = static_cast<int>(f.getInt("--agents", 100));
	o.seconds = static_cast<int>(f.getInt("--seconds", 10));
	o.warmup = static_cast<int>(f.getInt("--warmup", 2));
	o.threads = static_cast<int>(f.getInt("--threads", 2));
	o.drainMs = f.getInt("--drain-ms", 60000);
	o.keep = f.has("--keep");
	o.all = f.has("--all");
	// The sim takes samples at --rates whatever the spec says; `name: ingest` is the sampler meta.json counts
	// under.
	o.spec = f.get("--spec",
		       "{kind: probe.tcp, name: ingest, on: {dc: bench}, target: 10.2.0.2:7000, rate: 100hz}");
	std::stringstream ss(f.get("--rates", "100,500,1000"));
	for (std::string s; std::getline(ss, s, ',');)
		o.rates.push_back(std::stod(s));
	if (o.agents <= 0 || o.seconds <= 0 || o.rates.empty()) {
		fprintf(stderr, "usage: evidence_ingest_bench [--agents 100] [--rates 100,500,1000] [--seconds 10] "
				"[--warmup 2] [--threads 2] [--drain-ms 60000] [--keep] [--all] [--spec TEXT]\n");
		return 2;
	}

	Environment env;
	if (auto s = env.setUp(16384); !s) {
		fprintf(stderr, "setup: %s\n", s.error().message.c_str());
		return 1;
	}
	const std::string d = env.dir();
	std::vector<std::string> ids;
	for (int i = 0; i < o.agents; i++)
		ids.push_back(fmt::format("sim{:04d}", i));
	auto keys = makeKeys(d, ids, {});
	if (!keys) {
		fprintf(stderr, "keys: %s\n", keys.error().message.c_str());
		return 1;
	}
	const std::string ctl = d + "/ctl.sock", listen = "tcp://127.0.0.1:17820";
	Child controller;
	if (auto s = controller.start(controllerArgv(d, *keys, listen, ctl), d + "/controller.out"); !s) {
		fprintf(stderr, "controller: %s\n", s.error().message.c_str());
		return 1;
	}
	SimFleetOptions so;
	so.endpoint = listen;
	so.serverKey = keys->controller.publicKey;
	so.agents.assign(keys->agents.begin(), keys->agents.end());
	so.threads = o.threads;
	SimFleet fleet(so);
	const auto t0 = Clock::now();
	fleet.start();
	if (!waitLive(ctl, o.agents, 60s)) {
		fprintf(stderr, "only %d of %d agents live after 60 s (logs in %s)\n", liveAgents(ctl), o.agents,
			d.c_str());
		return 1;
	}
	printf("%d simulated agents live after %.2f s; controller pid %d; %d s per rate after %d s warm-up\n", o.agents,
	       secondsSince(t0), controller.pid(), o.seconds, o.warmup);
	std::this_thread::sleep_for(2s); // clock bursts after registration

	bool ok = true;
	double best = 0;
	for (double rate : o.rates) {
		StepResult r = step(d, ctl, controller.pid(), fleet, o, rate);
		ok = ok && r.ran && r.bundleOk;
		if (!r.ran)
			break;
		if (r.sustained && r.bundleOk)
			best = std::max(best, rate);
		// Past the knee every further step only records more than the controller takes, and writing that bundle
		// holds it all in memory: stop here unless --all.
		if (!r.sustained && !o.all) {
			printf("not sustained at %.0f/s/agent: higher rates skipped (--all runs them)\n", rate);
			break;
		}
		if (!controller.alive()) {
			fprintf(stderr, "the controller died (log: %s/controller.out)\n", d.c_str());
			ok = false;
			break;
		}
	}
	row("E ingest max", "max sustained rate", best > 0 ? fmt::format("{:.0f} samples/s/agent", best) : "none",
	    "-", "-",
	    fmt::format("{} agents: {:.0f} samples/s at the controller with acks keeping up and a complete bundle",
			o.agents, best * o.agents));
	printf("max sustained: %.0f samples/s/agent (%.0f samples/s in all)\n", best, best * o.agents);
	fleet.stop();
	controller.stop();
	return ok ? 0 : 1;
}
