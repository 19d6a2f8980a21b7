// SPDX-License-Identifier: Apache-2.0
// Reading and atomically writing lab.json, keeping keys this version does not know.
#include "controller/lab/lab_state.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/mount.h>
#include <unistd.h>

#include "controller/lab/topology.h"

namespace xdc::lab {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The raw object when there is one, so that unknown keys come back out; known keys are overwritten after.
json base(const json &raw) { return raw.is_object() ? raw : json::object(); }

json hostToJson(const HostInfo &h)
{
	json j = base(h.raw);
	j["name"] = h.name;
	j["dc"] = h.dc;
	j["index"] = h.index;
	j["netns"] = h.netns;
	j["data4"] = h.data4;
	j["data6"] = h.data6;
	j["mgmt4"] = h.mgmt4;
	return j;
}

HostInfo hostFromJson(const json &j)
{
	HostInfo h;
	h.name = j.value("name", "");
	h.dc = j.value("dc", 0);
	h.index = j.value("index", 0);
	h.netns = j.value("netns", "");
	h.data4 = j.value("data4", "");
	h.data6 = j.value("data6", "");
	h.mgmt4 = j.value("mgmt4", "");
	h.raw = j;
	return h;
}

json processToJson(const ProcessInfo &p)
{
	json j = base(p.raw);
	j["pid"] = p.pid;
	j["startTime"] = p.startTime;
	j["role"] = p.role;
	j["name"] = p.name;
	return j;
}

ProcessInfo processFromJson(const json &j)
{
	ProcessInfo p;
	p.pid = j.value("pid", 0);
	p.startTime = j.value("startTime", uint64_t{0});
	p.role = j.value("role", "");
	p.name = j.value("name", "");
	p.raw = j;
	return p;
}

// The only durable-write path of the lab: a reader sees the old file or the new one, never a torn one, even
// across a crash, because the rename is atomic and both data and directory entry are fsynced.
Result<void> writeFileAtomic(const std::string &path, const std::string &data)
{
	const std::string tmp = fmt::format("{}.tmp.{}", path, ::getpid());
	int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return makeError(Errc::Io, "cannot create {}: {}", tmp, strerror(errno));
	size_t done = 0;
	while (done < data.size()) {
		ssize_t n = ::write(fd, data.data() + done, data.size() - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			::close(fd);
			::unlink(tmp.c_str());
			return makeError(Errc::Io, "cannot write {}: {}", tmp, strerror(err));
		}
		done += static_cast<size_t>(n);
	}
	if (::fsync(fd) != 0 || ::close(fd) != 0) {
		int err = errno;
		::unlink(tmp.c_str());
		return makeError(Errc::Io, "cannot sync {}: {}", tmp, strerror(err));
	}
	if (::rename(tmp.c_str(), path.c_str()) != 0) {
		int err = errno;
		::unlink(tmp.c_str());
		return makeError(Errc::Io, "cannot rename {} to {}: {}", tmp, path, strerror(err));
	}
	const std::string dir = fs::path(path).parent_path().string();
	int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		::fsync(dfd);
		::close(dfd);
	}
	return success();
}

} // namespace

json toJson(const LabState &s)
{
	json j = base(s.raw);
	j["name"] = s.name;
	j["subnet"] = s.subnet;
	j["dcs"] = s.dcs;
	j["hostsPerDc"] = s.hostsPerDc;
	j["hosts"] = json::array();
	for (const auto &h : s.hosts)
		j["hosts"].push_back(hostToJson(h));
	j["namespaces"] = s.namespaces;
	j["hostVeth"] = s.hostVeth;
	j["created"] = s.created;
	j["processes"] = json::array();
	for (const auto &p : s.processes)
		j["processes"].push_back(processToJson(p));
	j["files"] = s.files;
	if (!s.hostRoot.empty())
		j["hostRoot"] = s.hostRoot;
	return j;
}

Result<LabState> fromJson(const json &doc)
{
	if (!doc.is_object())
		return makeError(Errc::Invalid, "lab record is not a JSON object");
	try {
		LabState s;
		s.name = doc.value("name", "");
		s.subnet = doc.value("subnet", 0);
		s.dcs = doc.value("dcs", 0);
		s.hostsPerDc = doc.value("hostsPerDc", 0);
		if (doc.contains("hosts"))
			for (const auto &h : doc.at("hosts"))
				s.hosts.push_back(hostFromJson(h));
		s.namespaces = doc.value("namespaces", std::vector<std::string>{});
		s.hostVeth = doc.value("hostVeth", "");
		s.created = doc.value("created", "");
		if (doc.contains("processes"))
			for (const auto &p : doc.at("processes"))
				s.processes.push_back(processFromJson(p));
		s.files = doc.value("files", std::vector<std::string>{});
		s.hostRoot = doc.value("hostRoot", "");
		s.raw = doc;
		XDC_TRY(validateLabName(s.name));
		return s;
	} catch (const json::exception &e) {
		return makeError(Errc::Invalid, "malformed lab record: {}", e.what());
	}
}

Result<void> LabState::save() const
{
	XDC_TRY(validateLabName(name));
	std::error_code ec;
	fs::create_directories(stateDir(name), ec);
	if (ec)
		return makeError(Errc::Io, "cannot create {}: {}", stateDir(name), ec.message());
	return writeFileAtomic(statePath(name), toJson(*this).dump(1, '\t') + "\n");
}

std::string stateRoot()
{
	const char *root = std::getenv("XDC_LAB_ROOT");
	return root && *root ? root : "/run/xdc/lab";
}

std::string stateDir(const std::string &name) { return (fs::path(stateRoot()) / name).string(); }

std::string statePath(const std::string &name) { return (fs::path(stateDir(name)) / "lab.json").string(); }

Result<LabState> loadLab(const std::string &name)
{
	XDC_TRY(validateLabName(name));
	const std::string path = statePath(name);
	std::ifstream in(path);
	if (!in)
		return makeError(Errc::NotFound, "no lab named '{}' ({} does not exist)", name, path);
	std::stringstream text;
	text << in.rdbuf();
	json doc = json::parse(text.str(), nullptr, false);
	if (doc.is_discarded())
		return makeError(Errc::Invalid, "{} is not valid JSON", path);
	auto state = fromJson(doc);
	if (!state)
		return state.error().context(path);
	if (state->name != name)
		return makeError(Errc::Invalid, "{} records lab '{}'", path, state->name);
	return state;
}

std::vector<std::string> listLabs()
{
	std::vector<std::string> names;
	std::error_code ec;
	for (const auto &entry : fs::directory_iterator(stateRoot(), ec)) {
		const std::string name = entry.path().filename().string();
		if (validateLabName(name).ok() && fs::exists(entry.path() / "lab.json", ec))
			names.push_back(name);
	}
	std::sort(names.begin(), names.end());
	return names;
}

std::string hostRootPath(const std::string &name, const std::string &host)
{
	return (fs::path(stateDir(name)) / "roots" / host / "root").string();
}

namespace {

// Mount points from /proc/self/mountinfo (field 5, with the kernel's octal escapes of space, tab, newline and \).
std::vector<std::string> mountPoints()
{
	std::vector<std::string> out;
	std::ifstream in("/proc/self/mountinfo");
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream fields(line);
		std::string id, parent, dev, root, point;
		if (!(fields >> id >> parent >> dev >> root >> point))
			continue;
		std::string unescaped;
		for (size_t i = 0; i < point.size(); i++) {
			if (point[i] == '\\' && i + 3 < point.size()) {
				unescaped += static_cast<char>(std::stoi(point.substr(i + 1, 3), nullptr, 8));
				i += 3;
			} else {
				unescaped += point[i];
			}
		}
		out.push_back(unescaped);
	}
	return out;
}

std::vector<std::string> mountsUnder(const std::string &dir)
{
	const std::string prefix = fs::path(dir).lexically_normal().string() + "/";
	std::vector<std::string> under;
	for (const auto &m : mountPoints())
		if (m.rfind(prefix, 0) == 0)
			under.push_back(m);
	// Deepest first: a host root's /proc before the root itself.
	std::sort(under.begin(), under.end(), [](const std::string &a, const std::string &b) { return a.size() > b.size(); });
	return under;
}

} // namespace

Result<void> unmountUnder(const std::string &dir)
{
	for (const auto &m : mountsUnder(dir))
		if (::umount2(m.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT)
			return makeError(Errc::Io, "cannot unmount {}: {}", m, std::strerror(errno));
	if (auto left = mountsUnder(dir); !left.empty())
		return makeError(Errc::Io, "{} is still mounted", left.front());
	return success();
}

Result<void> removeLabState(const std::string &name)
{
	// Validated so that a bad name can never make this remove something outside the state root.
	XDC_TRY(validateLabName(name));
	// Never walk into a mounted host root (its /proc, its lower layer).
	XDC_TRY(unmountUnder(stateDir(name)));
	std::error_code ec;
	fs::remove_all(stateDir(name), ec);
	if (ec)
		return makeError(Errc::Io, "cannot remove {}: {}", stateDir(name), ec.message());
	return success();
}

} // namespace xdc::lab
