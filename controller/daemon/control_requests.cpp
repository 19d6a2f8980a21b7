// SPDX-License-Identifier: Apache-2.0
// The console's requests on the control socket (docs/PROTOCOL.md): one handler per command, found in one table.
#include "controller/daemon/controller.h"

#include <fmt/ranges.h>

#include "common/clock.h"
#include "common/log.h"
#include "controller/control/answers.h"

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
	control::DataGenerateStopAnswer a;
	a.agent = agent;
	a.offsetNs = off;
	a.boundNs = bound;
	a.generated = rep->generated;
	a.accepted = rep->accepted;
	a.refusedBatches = rep->refusedBatches;
	a.failedBatches = rep->failedBatches;
	a.uncertain = rep->uncertain;
	a.backlog = rep->backlog;
	a.switches = rep->switches;
	a.fellBehind = rep->fellBehind;
	a.expired = rep->expired;
	a.perSource = std::move(rep->perSource);
	a.unwritten = std::move(rep->unwritten);
	for (size_t i = 0; i < rep->changeNs.size() && i < rep->changeSource.size(); i++)
		a.sourceChanges.push_back({rep->changeNs[i] - off, rep->changeSource[i]});
	a.lastError = std::move(rep->lastError);
	a.sentPerKey = std::move(rep->sentPerKey);
	// Delta-encoded as the agent sent them: the first is the agent's wall clock (offset_ns says how far it is from
	// the controller's).
	a.sendTimesDelta = std::move(rep->sendTimes);
	a.timesOmitted = rep->timesOmitted;
	a.startedNs = rep->startedNs - off;
	a.stoppedNs = rep->stoppedNs - off;
	a.agentStartedNs = rep->startedNs;
	a.agentStoppedNs = rep->stoppedNs;
	return control::toJson(a);
}

} // namespace

void Controller::onControl(const control::Peer &peer, const json &line)
{
	// The one place a request is read (controller/control/requests.cpp): a handler gets its typed request.
	auto req = control::parseRequest(line);
	if (!req)
		return control_.reply(peer.id, errorJson(errcName(req.error().code), req.error().message));
	log::get("control")->debug("console request '{}' from {} (pid {})", control::commandName(*req), peer.user,
				   peer.pid);
	std::visit([&](const auto &r) { handle(peer, r); }, *req);
}

void Controller::handle(const control::Peer &peer, const control::AgentsRequest &)
{
	control_.replyLine(peer.id, control::agentsLine(agentsAnswer()));
}

void Controller::handle(const control::Peer &peer, const control::StatsRequest &)
{
	control_.reply(peer.id, control::toJson(statsAnswer()));
}

void Controller::handle(const control::Peer &peer, const control::ShutdownRequest &)
{
	log::get("control")->info("shutdown requested by {} (pid {})", peer.user, peer.pid);
	control_.reply(peer.id, {{"ok", true}});
	stop();
}

void Controller::handle(const control::Peer &peer, const control::HaltRequest &)
{
	log::get("control")->warn("halt requested by {} (pid {})", peer.user, peer.pid);
	onFaultRevert(peer.id, "*", true);
}

void Controller::handle(const control::Peer &peer, const control::FaultRevertRequest &r)
{
	onFaultRevert(peer.id, r.id, false);
}

void Controller::handle(const control::Peer &peer, const control::FaultListRequest &)
{
	pruneFaults();
	control_.reply(peer.id, control::toJson(faultList()));
}

// Re-reads the allow-list (as SIGHUP does).
void Controller::handle(const control::Peer &peer, const control::ReloadRequest &)
{
	auto lg = log::get("control");
	lg->info("allow-list reload requested by {} (pid {})", peer.user, peer.pid);
	auto r = reloadAllowList();
	if (r)
		control_.reply(peer.id, control::toJson(*r));
	else
		control_.reply(peer.id, {{"ok", false}, {"error", {{"code", "failed"}, {"message", r.error().message}}}});
}

// What of ours every live agent still has (tables, chains, qdiscs, IFB links, fill files, stopped
// processes), beside the faults it runs: the scenario runner's check after teardown.
void Controller::handle(const control::Peer &peer, const control::ResidueRequest &)
{
	std::vector<std::pair<std::string, proto::Bytes>> calls;
	for (const auto &[aid, a] : agents_)
		if (a.live)
			calls.push_back({aid, {}});
	const uint64_t pid = peer.id;
	fanOut(calls, "fault.residue", [this, pid](json results) {
		control::ResidueAnswer out;
		for (auto &[agent, r] : results.items()) {
			auto &e = out.agents[agent];
			e.ok = r["ok"].get<bool>();
			if (e.ok) {
				auto rep = proto::unpackBytes<proto::FaultResidueReply>(r["data_bytes"].get<proto::Bytes>());
				if (rep) {
					e.detailed = true;
					e.objects = std::move(rep->objects);
					e.running = std::move(rep->running);
				}
			} else {
				e.error = r.value("error", "");
			}
		}
		control_.reply(pid, control::toJson(out));
	});
}

// Ping one agent, several, or "*" (all live): replies once every ack is in or timed out.
void Controller::handle(const control::Peer &peer, const control::PingRequest &req)
{
	std::vector<std::string> targets;
	for (const auto &t : req.agents) {
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
		control::PingAnswer answer;
		size_t left = 0;
		int64_t startMono = 0;
	};
	auto g = std::make_shared<Gather>();
	g->left = targets.size();
	g->startMono = clk::monoNs();
	const std::string text = req.text;
	const uint64_t pid = peer.id;
	auto finish = [this, g, pid](const std::string &agent, Result<CommandResult> r) {
		auto &e = g->answer.results[agent];
		e.rttUs = (clk::monoNs() - g->startMono) / 1000;
		e.ok = r && r->ok;
		if (!e.ok)
			e.error = r ? r->message : r.error().message;
		if (--g->left == 0)
			control_.reply(pid, control::toJson(g->answer));
	};
	for (const auto &t : targets) {
		auto s = sendCommand(t, "ping", packBytes(PingArgs{text}), finish);
		if (!s)
			finish(t, s.error());
	}
}

// Stop or restart one Streams PE through streamtool on the agent of a Streams host (the agent's fixed
// command; it checks the verb and the id again).
void Controller::handle(const control::Peer &peer, const control::StreamsPeRequest &req)
{
	forwardToAgent(peer.id, req.host, std::string(req.kCmd), packBytes(StreamsPeArgs{req.verb, req.pe}),
		       renderStreamsRun("streamtool"));
}

// The site's orderly-shutdown hook on the agent of a Streams host (its config holds the argv; the request
// carries at most a job id, which the agent checks again). An agent older than this command answers
// unknown_command.
void Controller::handle(const control::Peer &peer, const control::StreamsOrderlyShutdownRequest &req)
{
	forwardToAgent(peer.id, req.host, std::string(req.kCmd), packBytes(StreamsOrderlyShutdownArgs{req.job}),
		       renderStreamsRun("the orderly-shutdown hook"));
}

// The test-tuple generator on a lab or Streams host (its agent checks every argument again).
void Controller::handle(const control::Peer &peer, const control::DataGenerateStopRequest &req)
{
	forwardToAgent(peer.id, req.host, std::string(req.kCmd), packBytes(DataGenerateStopArgs{req.runId}),
		       renderGenerateStop);
}

void Controller::handle(const control::Peer &peer, const control::DataGenerateStartRequest &req)
{
	forwardToAgent(peer.id, req.host, std::string(req.kCmd), packBytes(req.args),
		       [](const std::string &agent, const Bytes &data, int64_t off, int64_t bound) -> Result<json> {
			       auto rep = unpackBytes<DataGenerateStartReply>(data);
			       if (!rep)
				       return rep.error();
			       return control::toJson(
				       control::DataGenerateStartAnswer{agent, rep->startedNs - off, off, bound});
		       });
}

// Complete lines of a sink file on a lab or Streams host, by the name its agent's data.sinks gives it (the
// agent resolves the name; no path crosses the wire).
void Controller::handle(const control::Peer &peer, const control::DataTailRequest &req)
{
	DataTailArgs args;
	args.sink = req.sink;
	args.offset = req.offset;
	args.inode = req.inode;
	args.maxBytes = req.max;
	args.fromEnd = req.fromEnd;
	forwardToAgent(peer.id, req.host, std::string(req.kCmd), packBytes(args),
		       [](const std::string &agent, const Bytes &data, int64_t, int64_t) -> Result<json> {
			       auto rep = unpackBytes<DataTailReply>(data);
			       if (!rep)
				       return rep.error();
			       return control::toJson(control::DataTailAnswer{agent, std::move(rep->data), rep->offset,
									      rep->nextOffset, rep->size, rep->inode,
									      rep->restarted, rep->readNs});
		       });
}

// A file of tuple lines into a drop directory the agent's data.drops names (no path crosses the wire).
void Controller::handle(const control::Peer &peer, const control::DataDropRequest &req)
{
	DataDropArgs args;
	args.drop = req.drop;
	args.data = req.data;
	args.lines = req.lines;
	forwardToAgent(peer.id, req.host, std::string(req.kCmd), packBytes(args),
		       [](const std::string &agent, const Bytes &data, int64_t off, int64_t) -> Result<json> {
			       auto rep = unpackBytes<DataDropReply>(data);
			       if (!rep)
				       return rep.error();
			       return control::toJson(
				       control::DataDropAnswer{agent, rep->file, rep->bytes, rep->droppedNs - off});
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
		control::StreamsRunAnswer a;
		a.ok = rep->exitCode == 0;
		if (!a.ok)
			a.error = {"failed", fmt::format("{} exited {}: {}", what, rep->exitCode, rep->output)};
		a.ran = true;
		a.agent = agent;
		a.argv = std::move(rep->argv);
		a.exitCode = rep->exitCode;
		a.output = std::move(rep->output);
		a.startedNs = rep->startedNs - off;
		a.endedNs = rep->endedNs - off;
		a.boundNs = bound;
		return control::toJson(a);
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
