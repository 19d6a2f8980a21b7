// SPDX-License-Identifier: Apache-2.0
// The on-disk record of one lab (lab.json): its network, and the processes and files that belong to it.
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace xdc::lab {

// One simulated host: a network namespace with a data and a management interface.
struct HostInfo {
	std::string name;  // "dc<d>-h<h>"
	int dc = 0;        // 1-based datacenter number
	int index = 0;     // running 1-based host number across the lab; picks the mgmt address
	std::string netns; // "<lab>_<name>"
	std::string data4; // eth0 address without prefix length, e.g. "10.200.1.11"
	std::string data6; // eth0 address without prefix length, e.g. "fd78:c8:1::11"
	std::string mgmt4; // mgmt0 address without prefix length, e.g. "10.200.0.11"
	nlohmann::json raw; // the object as loaded, so keys this version does not know survive a save
};

// A process started for the lab (filled by the process side, not by the network code).
struct ProcessInfo {
	pid_t pid = 0;
	uint64_t startTime = 0; // sys::processStartTime(); guards against pid reuse
	std::string role;       // e.g. "controller", "agent"
	std::string name;       // e.g. the host it runs on
	nlohmann::json raw;
};

struct LabState {
	std::string name;
	int subnet = 0;  // B: the lab uses 10.B.0.0/16 and fd78:<B hex>::/32
	int dcs = 0;
	int hostsPerDc = 0;
	std::vector<HostInfo> hosts;         // all planned hosts, in dc then host order
	std::vector<std::string> namespaces; // netns actually created, in creation order
	std::string hostVeth;                // host-namespace veth, once created; empty before
	std::string created;                 // ISO 8601 UTC
	std::vector<ProcessInfo> processes;
	std::vector<std::string> files;      // paths the lab created outside its state dir
	std::string hostRoot;                // `up --host-root DIR`: the lower layer of every host's own root; empty
					     // when the hosts share this machine's filesystem
	nlohmann::json raw;                  // the document as loaded; unknown keys are written back

	// Writes stateDir(name)/lab.json atomically (temp file, fsync, rename, fsync of the directory), creating
	// the directory. After it returns success a crash leaves either this record or the previous one, whole.
	Result<void> save() const;
};

nlohmann::json toJson(const LabState &state);
Result<LabState> fromJson(const nlohmann::json &doc);

// $XDC_LAB_ROOT if set, else /run/xdc/lab.
std::string stateRoot();
// stateRoot()/<name>; does not check the name.
std::string stateDir(const std::string &name);
// stateDir(name)/lab.json
std::string statePath(const std::string &name);

// Reads a lab's record. NotFound when there is none, Invalid when it does not parse.
Result<LabState> loadLab(const std::string &name);
// Names of the labs with a record under stateRoot(), sorted. Records alone: the labs may be partly or not up.
std::vector<std::string> listLabs();
// stateDir(name)/roots/HOST/root: the host's own root filesystem when the lab has host roots.
std::string hostRootPath(const std::string &name, const std::string &host);
// Detaches every mount whose mount point lies under DIR (deepest first), from /proc/self/mountinfo, so that a
// record lost in a crash cannot leave one behind. Io when one stays.
Result<void> unmountUnder(const std::string &dir);
// Removes stateDir(name) and everything in it, after unmountUnder() (a host root's overlay and /proc are never
// walked into); missing is not an error. Call last in `lab down`, after the
// processes are stopped and destroyNetwork() succeeded, since the record is what finds them.
Result<void> removeLabState(const std::string &name);

} // namespace xdc::lab
