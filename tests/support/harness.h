// SPDX-License-Identifier: Apache-2.0
// Integration test support: the built binaries, root checks, condition waits with deadlines, and a lab fixture that
// tears down in its destructor even when a check fails.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/sys/process.h"
#include "controller/lab/lab_state.h"

namespace xdc::test {

using nlohmann::json;
using namespace std::chrono_literals;

std::string xdcBin();
std::string agentBin();
std::string sourceRoot();

// Integration tests need root. Outside CI they skip (exit 77); with CI=true a skip is a failure.
void requireRoot();

// Polls pred every `every` until it holds or timeout passes; returns whether it held, never sleeps past the deadline.
bool waitUntil(const std::function<bool()> &pred, std::chrono::milliseconds timeout,
	       std::chrono::milliseconds every = 10ms);

// Runs the xdc binary with args; returns its output (fails the test if it cannot start).
sys::RunOutput xdc(const std::vector<std::string> &args, std::chrono::milliseconds timeout = 60s);

// A short unique lab name with the given prefix (prefix + pid), valid as a lab name.
std::string uniqueName(const std::string &prefix);

double secondsSince(std::chrono::steady_clock::time_point t0);

// Headless Chromium (Debian's chromium; the test fails without it) on a local page, in a 1280 x 1000 window, each
// with a profile of its own: the DOM once the page has loaded and its scripts have run; a PDF of it (print to PDF);
// a PNG screenshot of the first `height` pixels.
std::string chromiumDom(const std::string &htmlFile);
void chromiumPdf(const std::string &htmlFile, const std::string &pdfFile);
void chromiumScreenshot(const std::string &htmlFile, const std::string &pngFile, int height = 1000);

// A lab brought up in the constructor and taken down in the destructor.
class LabFixture {
public:
	explicit LabFixture(const std::string &prefix, std::vector<std::string> extraArgs = {});
	~LabFixture();
	LabFixture(const LabFixture &) = delete;
	LabFixture &operator=(const LabFixture &) = delete;

	const std::string &name() const { return name_; }
	bool up() const { return up_; }
	double upSeconds() const { return upSeconds_; }
	const std::string &upOutput() const { return upOutput_; }
	lab::LabState state() const;
	std::string stateDir() const { return lab::stateDir(name_); }
	std::string netns(const std::string &host) const;

	// `xdc agents --json` for this lab; empty array if the controller does not answer.
	json agents() const;
	std::optional<json> agent(const std::string &id) const;
	std::string agentState(const std::string &id) const;
	// True when exactly n agents are known and every one is live.
	bool allLive(size_t n) const;
	// `xdc stats --json`.
	json stats() const;
	// The pid of the agent process currently serving host (from the controller's view).
	int agentPid(const std::string &host) const;
	// Starts the lab's agent for host again with its lab config; returns the pid.
	int startAgent(const std::string &host) const;
	// Starts the lab's controller again with its lab config; returns the pid.
	int startController() const;
	int controllerPid() const;

private:
	std::string name_;
	bool up_ = false;
	double upSeconds_ = 0;
	std::string upOutput_;
};

// A temporary directory removed (recursively) in the destructor.
class TempDir {
public:
	TempDir();
	~TempDir();
	const std::string &path() const { return path_; }

private:
	std::string path_;
};

} // namespace xdc::test
