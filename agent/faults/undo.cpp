// SPDX-License-Identifier: Apache-2.0
// Undo step executor.
#include "agent/faults/undo.h"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <unistd.h>

#include "agent/faults/process_match.h"
#include "common/clock.h"
#include "common/sys/nft.h"
#include "common/sys/process.h"

namespace xdc::agent {

namespace {

Result<void> undoNftTable(const std::string &name, int64_t *changedNs = nullptr)
{
	(void)sys::nft(fmt::format("delete table inet {}", name));
	if (changedNs)
		*changedNs = clk::wallNs();
	auto check = sys::nft(fmt::format("list table inet {}", name));
	if (check)
		return makeError(Errc::Io, "table inet {} is still there after delete", name);
	return success();
}

Result<void> undoIptChain(const nlohmann::json &s, int64_t *changedNs = nullptr)
{
	const std::string table = s.value("table", "filter"), chain = s.at("chain").get<std::string>();
	std::vector<std::string> tools = {"iptables"};
	if (s.value("v6", false))
		tools.push_back("ip6tables");
	std::vector<std::string> left;
	for (const auto &tool : tools) {
		for (const auto &hook : s.value("hooks", std::vector<std::string>{})) {
			// Every jump to our chain from this hook, however many times it was added.
			for (int i = 0; i < 16; i++) {
				auto r = sys::run({tool, "-w", "-t", table, "-D", hook, "-j", chain});
				if (!r || !r->ok())
					break;
			}
		}
		(void)sys::run({tool, "-w", "-t", table, "-F", chain});
		(void)sys::run({tool, "-w", "-t", table, "-X", chain});
		if (changedNs)
			*changedNs = clk::wallNs();
		auto check = sys::run({tool, "-w", "-t", table, "-n", "-L", chain});
		if (check && check->ok())
			left.push_back(tool + " -t " + table + " " + chain);
	}
	if (!left.empty())
		return makeError(Errc::Io, "chain still there after delete: {}", fmt::join(left, ", "));
	return success();
}

Result<void> undoQdisc(const nlohmann::json &s, int64_t *changedNs = nullptr)
{
	const std::string dev = s.at("dev").get<std::string>(), parent = s.value("parent", "root"),
			  handle = s.value("handle", "");
	auto show = sys::run({"tc", "qdisc", "show", "dev", dev});
	if (!show || !show->ok())
		return success(); // the device is gone, and its qdiscs with it
	auto ours = [&](const std::string &text) {
		if (parent == "ingress")
			return text.find("qdisc ingress ffff:") != std::string::npos;
		return text.find(" " + handle + " root") != std::string::npos;
	};
	if (!ours(show->out))
		return success();
	(void)sys::run({"tc", "qdisc", "del", "dev", dev, parent});
	if (changedNs)
		*changedNs = clk::wallNs();
	auto again = sys::run({"tc", "qdisc", "show", "dev", dev});
	if (again && again->ok() && ours(again->out))
		return makeError(Errc::Io, "qdisc {} {} on {} is still there after delete", parent, handle, dev);
	return success();
}

Result<void> undoLink(const std::string &name, int64_t *changedNs = nullptr)
{
	auto show = sys::run({"ip", "link", "show", "dev", name});
	if (!show || !show->ok())
		return success();
	(void)sys::run({"ip", "link", "del", "dev", name});
	if (changedNs)
		*changedNs = clk::wallNs();
	auto again = sys::run({"ip", "link", "show", "dev", name});
	if (again && again->ok())
		return makeError(Errc::Io, "link {} is still there after delete", name);
	return success();
}

std::vector<std::pair<int, uint64_t>> pidsOf(const nlohmann::json &s)
{
	std::vector<std::pair<int, uint64_t>> out;
	for (const auto &p : s.value("pids", nlohmann::json::array()))
		if (p.is_array() && p.size() == 2)
			out.emplace_back(p[0].get<int>(), p[1].get<uint64_t>());
	return out;
}

char procState(int pid)
{
	FILE *f = ::fopen(fmt::format("/proc/{}/stat", pid).c_str(), "re");
	if (!f)
		return 0;
	char buf[512];
	size_t n = ::fread(buf, 1, sizeof buf - 1, f);
	::fclose(f);
	buf[n] = 0;
	const char *rp = ::strrchr(buf, ')');
	return rp && rp[1] == ' ' ? rp[2] : 0;
}

Result<void> undoCont(const nlohmann::json &s, int64_t *changedNs = nullptr)
{
	std::vector<std::string> still;
	for (const auto &[pid, start] : pidsOf(s)) {
		if (pid <= 1 || !sys::processAlive(pid, start))
			continue;
		::kill(pid, SIGCONT);
		if (changedNs)
			*changedNs = clk::wallNs();
		// SIGCONT takes effect at once for the target's threads; the state is read back to be sure.
		const int64_t deadline = clk::monoNs() + 500 * clk::kMs;
		while (procState(pid) == 'T' && clk::monoNs() < deadline)
			::usleep(1000);
		if (procState(pid) == 'T')
			still.push_back(std::to_string(pid));
	}
	if (!still.empty())
		return makeError(Errc::Io, "still stopped after SIGCONT: pid {}", fmt::join(still, ", "));
	return success();
}

Result<void> undoKill(const nlohmann::json &s, int64_t *changedNs = nullptr)
{
	std::vector<std::string> still;
	for (const auto &[pid, start] : pidsOf(s)) {
		if (pid <= 1 || !sys::processAlive(pid, start))
			continue;
		// Reaped here if it is our child; otherwise (the guard) its parent or init reaps it.
		if (!sys::stopProcess(pid, start, std::chrono::milliseconds(0)))
			still.push_back(std::to_string(pid));
		if (changedNs)
			*changedNs = clk::wallNs();
	}
	if (!still.empty())
		return makeError(Errc::Io, "still running after SIGKILL: pid {}", fmt::join(still, ", "));
	return success();
}

Result<void> undoUnlink(const std::string &path, int64_t *changedNs = nullptr)
{
	if (::unlink(path.c_str()) != 0 && errno != ENOENT)
		return makeError(Errc::Io, "cannot remove {}: {}", path, strerror(errno));
	if (changedNs)
		*changedNs = clk::wallNs();
	if (::access(path.c_str(), F_OK) == 0)
		return makeError(Errc::Io, "{} is still there after unlink", path);
	return success();
}

// changedNs: set to the wall time the step's kernel change was made, before its read-back (untouched if there was
// nothing to remove).
Result<void> runStep(const nlohmann::json &s, int64_t &changedNs)
{
	try {
		const std::string op = s.at("op").get<std::string>();
		if (op == "nft_table")
			return undoNftTable(s.at("name").get<std::string>(), &changedNs);
		if (op == "ipt_chain")
			return undoIptChain(s, &changedNs);
		if (op == "tc_qdisc")
			return undoQdisc(s, &changedNs);
		if (op == "link")
			return undoLink(s.at("name").get<std::string>(), &changedNs);
		if (op == "cont")
			return undoCont(s, &changedNs);
		if (op == "kill")
			return undoKill(s, &changedNs);
		if (op == "unlink")
			return undoUnlink(s.at("path").get<std::string>(), &changedNs);
		return makeError(Errc::Invalid, "unknown undo op '{}'", op);
	} catch (const std::exception &e) {
		return makeError(Errc::Invalid, "malformed undo step {}: {}", s.dump(), e.what());
	}
}

} // namespace

Result<void> runUndo(const Undo &steps, int64_t *effectiveNs)
{
	if (!steps.is_array())
		return makeError(Errc::Invalid, "undo steps: not an array");
	std::vector<std::string> errors;
	int64_t last = 0;
	for (const auto &s : steps) {
		int64_t changed = 0;
		if (auto r = runStep(s, changed); !r)
			errors.push_back(r.error().message);
		last = std::max(last, changed);
	}
	if (effectiveNs)
		*effectiveNs = last;
	if (!errors.empty())
		return makeError(Errc::Io, "{}", fmt::join(errors, "; "));
	return success();
}

Undo pidList(const std::vector<std::pair<int, uint64_t>> &pids)
{
	nlohmann::json a = nlohmann::json::array();
	for (const auto &[p, s] : pids)
		a.push_back({p, s});
	return a;
}

namespace {

// Our kernel objects, removed (remove = true) or only listed.
std::vector<std::string> ownObjects(bool remove)
{
	std::vector<std::string> cleaned;
	if (auto r = sys::nft("list tables"); r) {
		std::istringstream in(*r);
		std::string word, family, name;
		while (in >> word >> family >> name)
			if (word == "table" && family == "inet" && name.rfind("xdc_", 0) == 0 && (!remove || undoNftTable(name)))
				cleaned.push_back("nft table inet " + name);
	}
	for (const std::string tool : {"iptables", "ip6tables"}) {
		for (const std::string table : {"mangle", "filter"}) {
			auto r = sys::run({tool, "-w", "-t", table, "-S"});
			if (!r || !r->ok())
				continue;
			std::istringstream in(r->out);
			std::string line;
			while (std::getline(in, line)) {
				if (line.rfind("-N XDC_", 0) != 0)
					continue;
				const std::string chain = line.substr(3);
				nlohmann::json s = {{"op", "ipt_chain"}, {"table", table}, {"chain", chain},
						    {"hooks", {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING", "FORWARD"}}};
				(void)tool;
				if (tool == "ip6tables")
					s["v6"] = true;
				if (!remove || undoIptChain(s))
					cleaned.push_back(tool + " -t " + table + " " + chain);
			}
		}
	}
	if (auto r = sys::run({"ip", "-o", "link", "show"}); r && r->ok()) {
		std::istringstream in(r->out);
		std::string line;
		while (std::getline(in, line)) {
			// "3: eth0@if4: <...>": the name is the second field, before any '@'.
			std::istringstream l(line);
			std::string idx, name;
			l >> idx >> name;
			if (!name.empty() && name.back() == ':')
				name.pop_back();
			name = name.substr(0, name.find('@'));
			auto q = sys::run({"tc", "qdisc", "show", "dev", name});
			if (q && q->ok() && q->out.find(" dc01: root") != std::string::npos &&
			    (!remove || undoQdisc({{"dev", name}, {"parent", "root"}, {"handle", "dc01:"}})))
				cleaned.push_back("qdisc dc01: on " + name);
			if (q && q->ok() && q->out.find("qdisc ingress ffff:") != std::string::npos) {
				// Ours only if its filters redirect to one of our IFB devices.
				auto f = sys::run({"tc", "filter", "show", "dev", name, "ingress"});
				if (f && f->ok() && f->out.find("xdcifb") != std::string::npos &&
				    (!remove || undoQdisc({{"dev", name}, {"parent", "ingress"}})))
					cleaned.push_back("ingress qdisc on " + name);
			}
			if (name.rfind("xdcifb", 0) == 0 && (!remove || undoLink(name)))
				cleaned.push_back("link " + name);
		}
	}
	return cleaned;
}

} // namespace

std::vector<std::string> sweepOwnObjects() { return ownObjects(true); }

std::vector<std::string> findOwnObjects(const FaultEnv &env)
{
	std::vector<std::string> found = ownObjects(false);
	// Fill files of resource.disk_fill, in the directories it may fill.
	std::error_code ec;
	for (const auto &dir : env.diskFillAllow)
		for (const auto &e : std::filesystem::directory_iterator(dir, ec))
			if (e.path().filename().string().rfind("xdc-fill-", 0) == 0)
				found.push_back("fill file " + e.path().string());
	// Stopped processes (process.pause) in this network namespace: SIGCONT was not delivered, or not ours.
	const ProcContext ctx = ProcContext::forThisProcess(env);
	for (const auto &p : listProcesses(ctx.procRoot))
		if (p.state == 'T' && p.netns == ctx.selfNetns && !p.kernelThread())
			found.push_back(fmt::format("stopped process {} ({})", p.pid, p.comm));
	return found;
}

} // namespace xdc::agent
