// SPDX-License-Identifier: Apache-2.0
// The console's requests on the control socket (docs/PROTOCOL.md): one handler per command, found in one table.
#include "controller/daemon/controller.h"

#include <fmt/ranges.h>

#include "common/clock.h"
#include "common/log.h"

namespace xdc::controller {

using namespace xdc::proto;
using control::errorJson;

namespace {

// data.generate.stop's reply for the control peer: the generator's figures, times on the controller's timeline.
Result<json> renderGenerateStop(const std::string &agent, const Bytes &data, int64_t off, int64_t bound)
{
	auto rep = unpackBytes<DataGenerateStopReply>(data);
	if (!rep)
		return rep.error();
	json changes = json::array();
	for (size_t i = 0; i < rep->changeNs.size() && i < rep->changeSource.size(); i++)
		changes.push_back({{"t_ns", rep->changeNs[i] - off}, {"source", rep->changeSource[i]}});
	json sent = json::object(), times = json::object();
	for (const auto &kv : rep->sentPerKey)
		sent[std::to_string(kv.first)] = kv.second;
	// Delta-encoded as the agent sent them: the first is the agent's wall clock (offset_ns says how far it is from
	// the controller's).
	for (const auto &kv : rep->sendTimes)
		times[std::to_string(kv.first)] = kv.second;
	return json{{"ok", true}, {"agent", agent}, {"offset_ns", off}, {"bound_ns", bound},
		    {"generated", rep->generated}, {"accepted", rep->accepted},
		    {"refused_batches", rep->refusedBatches}, {"failed_batches", rep->failedBatches},
		    {"uncertain", rep->uncertain}, {"backlog", rep->backlog}, {"switches", rep->switches},
		    {"fell_behind", rep->fellBehind}, {"expired", rep->expired}, {"per_source", rep->perSource},
		    {"unwritten", rep->unwritten},
		    {"source_changes", changes}, {"last_error", rep->lastError}, {"sent_per_key", sent},
		    {"send_times_delta", times}, {"times_omitted", rep->timesOmitted},
		    {"started_ns", rep->startedNs - off}, {"stopped_ns", rep->stoppedNs - off},
		    {"agent_started_ns", rep->startedNs}, {"agent_stopped_ns", rep->stoppedNs}};
}

} // namespace

void Controller::onControl(const control::Peer &peer, const json &req)
{
	// A member handler, or a lambda for a request answered in a line or two.
	using Handler = std::function<void(Controller &, const control::Peer &, const std::string &cmd, const json &req)>;
	static const std::map<std::string, Handler, std::less<>> kHandlers = {
		{"agents", [](Controller &c, const control::Peer &p, const std::string &, const json &) {
			 c.control_.reply(p.id, {{"ok", true}, {"agents", c.agentsJson()}});
		 }},
		{"stats", &Controller::onStats},
		{"status", &Controller::onStats},
		{"reload", &Controller::onReload},
		{"shutdown", [](Controller &c, const control::Peer &p, const std::string &, const json &) {
			 log::get("control")->info("shutdown requested by {} (pid {})", p.user, p.pid);
			 c.control_.reply(p.id, {{"ok", true}});
			 c.stop();
		 }},
		{"fault.apply", [](Controller &c, const control::Peer &p, const std::string &, const json &r) {
			 c.onFaultApply(p.id, r);
		 }},
		{"fault.revert", [](Controller &c, const control::Peer &p, const std::string &, const json &r) {
			 c.onFaultRevert(p.id, r, false);
		 }},
		{"halt", [](Controller &c, const control::Peer &p, const std::string &, const json &r) {
			 log::get("control")->warn("halt requested by {} (pid {})", p.user, p.pid);
			 c.onFaultRevert(p.id, r, true);
		 }},
		{"record.start", [](Controller &c, const control::Peer &p, const std::string &, const json &r) {
			 c.onRecordStart(p.id, r);
		 }},
		{"record.stop", [](Controller &c, const control::Peer &p, const std::string &, const json &r) {
			 c.onRecordStop(p.id, r);
		 }},
		{"record.status", [](Controller &c, const control::Peer &p, const std::string &, const json &r) {
			 c.onRecordStatus(p.id, r);
		 }},
		{"fault.list", [](Controller &c, const control::Peer &p, const std::string &, const json &) {
			 c.pruneFaults();
			 c.control_.reply(p.id, {{"ok", true}, {"faults", c.faultsJson()}});
		 }},
		{"residue", &Controller::onResidue},
		{"ping", &Controller::onPing},
		{"streams.pe", &Controller::onStreamsPe},
		{"streams.orderly_shutdown", &Controller::onStreamsOrderlyShutdown},
		{"data.generate.start", &Controller::onDataGenerate},
		{"data.generate.stop", &Controller::onDataGenerate},
		{"data.tail", &Controller::onDataTail},
		{"data.drop", &Controller::onDataDrop},
	};
	const std::string cmd = req.value("cmd", "");
	auto lg = log::get("control");
	lg->debug("console request '{}' from {} (pid {})", cmd, peer.user, peer.pid);
	auto h = kHandlers.find(cmd);
	if (h == kHandlers.end())
		return control_.reply(peer.id, errorJson("invalid", fmt::format("unknown command '{}'", cmd)));
	h->second(*this, peer, cmd, req);
}


void Controller::onStats(const control::Peer &peer, const std::string &, const json &)
{
	control_.reply(peer.id, {{"ok", true}, {"stats", statsJson()}});
}

// Re-reads the allow-list (as SIGHUP does).
void Controller::onReload(const control::Peer &peer, const std::string &, const json &)
{
	auto lg = log::get("control");
	lg->info("allow-list reload requested by {} (pid {})", peer.user, peer.pid);
	auto r = reloadAllowList();
	if (r)
		control_.reply(peer.id, {{"ok", true}, {"reload", *r}});
	else
		control_.reply(peer.id, {{"ok", false}, {"error", {{"code", "failed"}, {"message", r.error().message}}}});
}

// What of ours every live agent still has (tables, chains, qdiscs, IFB links, fill files, stopped
// processes), beside the faults it runs: the scenario runner's check after teardown.
void Controller::onResidue(const control::Peer &peer, const std::string &, const json &)
{
	std::vector<std::pair<std::string, proto::Bytes>> calls;
	for (const auto &[aid, a] : agents_)
		if (a.live)
			calls.push_back({aid, {}});
	const uint64_t pid = peer.id;
	fanOut(calls, "fault.residue", [this, pid](json results) {
		json out = json::object();
		for (auto &[agent, r] : results.items()) {
			json e = {{"ok", r["ok"]}};
			if (r["ok"].get<bool>()) {
				auto rep = proto::unpackBytes<proto::FaultResidueReply>(r["data_bytes"].get<proto::Bytes>());
				if (rep) {
					e["objects"] = rep->objects;
					e["running"] = rep->running;
				}
			} else {
				e["error"] = r["error"];
			}
			out[agent] = e;
		}
		control_.reply(pid, {{"ok", true}, {"agents", out}});
	});
}

// Ping one agent, several, or "*" (all live): replies once every ack is in or timed out.
void Controller::onPing(const control::Peer &peer, const std::string &, const json &req)
{
	std::vector<std::string> targets;
	auto list = req.value("agents", json::array());
	if (!list.is_array())
		return control_.reply(peer.id, errorJson("invalid", "'agents' must be a list of agent ids"));
	for (const auto &t : list) {
		if (!t.is_string())
			return control_.reply(peer.id, errorJson("invalid", "'agents' must be a list of agent ids"));
		if (t == "*") {
			for (const auto &[id, a] : agents_)
				if (a.live)
					targets.push_back(id);
		} else {
			targets.push_back(t);
		}
	}
	if (targets.empty())
		return control_.reply(peer.id, errorJson("invalid", "no agents to ping"));
	struct Gather {
		json results = json::object();
		size_t left = 0;
		int64_t startMono = 0;
	};
	auto g = std::make_shared<Gather>();
	g->left = targets.size();
	g->startMono = clk::monoNs();
	const std::string text = req.value("text", "ping");
	const uint64_t pid = peer.id;
	auto finish = [this, g, pid](const std::string &agent, Result<CommandResult> r) {
		json e;
		e["rtt_us"] = (clk::monoNs() - g->startMono) / 1000;
		if (!r) {
			e["ok"] = false;
			e["error"] = r.error().message;
		} else {
			e["ok"] = r->ok;
			if (!r->ok)
				e["error"] = r->message;
		}
		g->results[agent] = e;
		if (--g->left == 0)
			control_.reply(pid, {{"ok", true}, {"results", g->results}});
	};
	for (const auto &t : targets) {
		auto s = sendCommand(t, "ping", packBytes(PingArgs{text}), finish);
		if (!s)
			finish(t, s.error());
	}
}

// Stop or restart one Streams PE through streamtool on the agent of a Streams host (the agent's fixed
// command; it checks the verb and the id again).
void Controller::onStreamsPe(const control::Peer &peer, const std::string &cmd, const json &req)
{
	const std::string host = req.value("host", ""), verb = req.value("verb", ""), pe = req.value("pe", "");
	if (host.empty() || (verb != "stop" && verb != "restart") || pe.empty())
		return control_.reply(peer.id, errorJson("invalid", "streams.pe needs host, verb (stop|restart) and pe"));
	forwardToAgent(peer.id, host, cmd, packBytes(StreamsPeArgs{verb, pe}), renderStreamsRun("streamtool"));
}

// The site's orderly-shutdown hook on the agent of a Streams host (its config holds the argv; the request
// carries at most a job id, which the agent checks again). An agent older than this command answers
// unknown_command.
void Controller::onStreamsOrderlyShutdown(const control::Peer &peer, const std::string &cmd, const json &req)
{
	const std::string host = req.value("host", "");
	const json job = req.value("job", json(""));
	if (host.empty() || !job.is_string())
		return control_.reply(peer.id, errorJson("invalid", "streams.orderly_shutdown needs host (and job, "
									"if given, as a string of digits)"));
	forwardToAgent(peer.id, host, cmd, packBytes(StreamsOrderlyShutdownArgs{job.get<std::string>()}),
		       renderStreamsRun("the orderly-shutdown hook"));
}

// The test-tuple generator on a lab or Streams host (its agent checks every argument again).
void Controller::onDataGenerate(const control::Peer &peer, const std::string &cmd, const json &req)
{
	const std::string host = req.value("host", ""), runId = req.value("run_id", "");
	if (host.empty() || runId.empty())
		return control_.reply(peer.id, errorJson("invalid", cmd + " needs host and run_id"));
	if (cmd == "data.generate.stop") {
		forwardToAgent(peer.id, host, cmd, packBytes(DataGenerateStopArgs{runId}), renderGenerateStop);
		return;
	}
	DataGenerateStartArgs a;
	try {
		a.runId = runId;
		a.seed = req.value("seed", uint64_t{0});
		a.rate = req.value("rate", 200.0);
		a.rampFrom = req.value("ramp_from", -1.0);
		a.rampNs = req.value("ramp_ns", int64_t{0});
		a.burstEveryNs = req.value("burst_every_ns", int64_t{0});
		a.burstForNs = req.value("burst_for_ns", int64_t{0});
		a.burstFactor = req.value("burst_factor", 1.0);
		a.keys = req.value("keys", uint32_t{16});
		a.payload = req.value("payload", uint64_t{16});
		a.maxDurationMs = req.value("max_duration_ms", int64_t{0});
		for (const auto &src : req.value("sources", json::array())) {
			DataGenSource d;
			d.name = src.value("name", "");
			d.kind = src.value("kind", "");
			d.url = src.value("url", "");
			d.host = src.value("host", "");
			d.port = src.value("port", 0);
			d.user = src.value("user", "");
			d.password = src.value("password", "");
			d.caFile = src.value("ca_file", "");
			d.insecure = src.value("insecure", false);
			a.sources.push_back(std::move(d));
		}
	} catch (const std::exception &e) {
		return control_.reply(peer.id, errorJson("invalid", fmt::format("{}: {}", cmd, e.what())));
	}
	forwardToAgent(peer.id, host, cmd, packBytes(a),
		       [](const std::string &agent, const Bytes &data, int64_t off, int64_t bound) -> Result<json> {
			       auto rep = unpackBytes<DataGenerateStartReply>(data);
			       if (!rep)
				       return rep.error();
			       return json{{"ok", true}, {"agent", agent}, {"offset_ns", off}, {"bound_ns", bound},
					   {"started_ns", rep->startedNs - off}};
		       });
}

// Complete lines of a sink file on a lab or Streams host, by the name its agent's data.sinks gives it (the
// agent resolves the name; no path crosses the wire).
void Controller::onDataTail(const control::Peer &peer, const std::string &cmd, const json &req)
{
	const std::string host = req.value("host", ""), sink = req.value("sink", "");
	const int64_t offset = req.value("offset", int64_t{0}), inode = req.value("inode", int64_t{0});
	const int64_t max = req.value("max", int64_t{0});
	if (host.empty() || sink.empty() || offset < 0 || inode < 0 || max < 0)
		return control_.reply(peer.id, errorJson("invalid", "data.tail needs host, sink and offset, inode, "
									"max >= 0"));
	DataTailArgs args;
	args.sink = sink;
	args.offset = static_cast<uint64_t>(offset);
	args.inode = static_cast<uint64_t>(inode);
	args.maxBytes = static_cast<uint64_t>(max);
	args.fromEnd = req.value("from_end", false);
	forwardToAgent(peer.id, host, cmd, packBytes(args),
		       [](const std::string &agent, const Bytes &data, int64_t, int64_t) -> Result<json> {
			       auto rep = unpackBytes<DataTailReply>(data);
			       if (!rep)
				       return rep.error();
			       return json{{"ok", true}, {"agent", agent}, {"data", std::move(rep->data)},
					   {"offset", rep->offset}, {"next_offset", rep->nextOffset}, {"size", rep->size},
					   {"inode", rep->inode}, {"restarted", rep->restarted}, {"read_ns", rep->readNs}};
		       });
}

// A file of tuple lines into a drop directory the agent's data.drops names (no path crosses the wire).
void Controller::onDataDrop(const control::Peer &peer, const std::string &cmd, const json &req)
{
	const std::string host = req.value("host", ""), drop = req.value("drop", "");
	if (host.empty() || drop.empty() || !req.contains("data") || !req["data"].is_string())
		return control_.reply(peer.id, errorJson("invalid", "data.drop needs host, drop and data"));
	DataDropArgs args;
	args.drop = drop;
	args.data = req["data"].get<std::string>();
	args.lines = req.value("lines", uint64_t{0});
	forwardToAgent(peer.id, host, cmd, packBytes(args),
		       [](const std::string &agent, const Bytes &data, int64_t off, int64_t) -> Result<json> {
			       auto rep = unpackBytes<DataDropReply>(data);
			       if (!rep)
				       return rep.error();
			       return json{{"ok", true}, {"agent", agent}, {"file", rep->file}, {"bytes", rep->bytes},
					   {"dropped_ns", rep->droppedNs - off}};
		       });
}

// The reply of a program an agent ran for a Streams command (StreamsPeReply): ok when it exited 0, times on the
// controller's timeline.
Controller::RenderReply Controller::renderStreamsRun(std::string what)
{
	return [what = std::move(what)](const std::string &agent, const Bytes &data, int64_t off,
					 int64_t bound) -> Result<json> {
		auto rep = unpackBytes<StreamsPeReply>(data);
		if (!rep)
			return rep.error();
		json j = {{"ok", rep->exitCode == 0}, {"agent", agent}, {"argv", rep->argv}, {"exit_code", rep->exitCode},
			  {"output", rep->output}, {"bound_ns", bound}, {"started_ns", rep->startedNs - off},
			  {"ended_ns", rep->endedNs - off}};
		if (rep->exitCode != 0)
			j["error"] = {{"code", "failed"},
				      {"message", fmt::format("{} exited {}: {}", what, rep->exitCode, rep->output)}};
		return j;
	};
}

void Controller::forwardToAgent(uint64_t peer, const std::string &host, const std::string &name, Bytes args,
				RenderReply render)
{
	auto it = agents_.find(host);
	if (it == agents_.end() || !it->second.live)
		return control_.reply(peer, errorJson("not_found", fmt::format("no live agent '{}'", host)));
	auto finish = [this, peer, render = std::move(render)](const std::string &agent, Result<CommandResult> r) {
		if (!r)
			return control_.reply(peer, errorJson("failed", r.error().message));
		if (!r->ok)
			return control_.reply(peer, errorJson(r->code.empty() ? "failed" : r->code, r->message));
		int64_t off = 0, bound = -1;
		if (auto a = agents_.find(agent); a != agents_.end()) {
			const auto est = a->second.clock.estimate(clk::monoNs());
			if (est.valid) {
				off = est.offsetNs;
				bound = est.boundNs;
			}
		}
		auto j = render(agent, r->data, off, bound);
		if (!j)
			return control_.reply(peer, errorJson("protocol", j.error().message));
		control_.reply(peer, *j);
	};
	auto s = sendCommand(host, name, std::move(args), finish);
	if (!s)
		finish(host, s.error());
}

} // namespace xdc::controller
