// SPDX-License-Identifier: Apache-2.0
// resource.disk_fill: one file that takes a number of bytes (or all but a percentage) of a file system.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/faults/fault.h"

namespace xdc::agent {

struct DiskFillParams {
	std::string path;            // the directory to fill, as the spec gives it
	uint64_t bytes = 0;          // the file size, or 0 with freePercent
	double freePercent = -1;     // >= 0: fill until the file system has this % free
	std::vector<std::string> allow; // directories the fill may go under (agent config faults.disk_fill_allow)
	uint64_t maxBytes = 0;       // agent config faults.disk_fill_max
};

// The file <realpath(path)>/xdc-fill-<id>, allocated with fallocate (written with zeros where the file system has
// no fallocate) and fsynced. Revert (and the guard, from the journal) unlinks it.
class ResourceDiskFill : public Fault {
public:
	ResourceDiskFill(std::string id, DiskFillParams p);

	std::string_view kind() const override { return "resource.disk_fill"; }
	std::string mechanism() const override;
	std::vector<std::string> plan() const override;
	Result<void> prepare() override;
	Undo undo() const override;
	Result<std::string> apply() override;
	Result<void> revert() override;

	const std::string &file() const { return file_; }

private:
	std::string id_;
	DiskFillParams p_;
	std::string dir_;   // realpath of p_.path, fixed by prepare()
	std::string file_;
	uint64_t size_ = 0; // the size apply() allocates, fixed by prepare()
};

} // namespace xdc::agent
