// SPDX-License-Identifier: Apache-2.0
// Victim processes for integration tests: a copy of sleep under a distinctive name, victims started in lab host
// namespaces and reaped however a test ends, and a supervisor that relaunches its victim whenever it ends (the way
// Streams relaunches a PE).
#pragma once

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <doctest/doctest.h>

#include "tests/support/harness.h"

namespace xdc::test {

// A copy of sleep under a distinctive name (comm is the file name), so matches can only hit our victims.
class VictimBinary {
public:
	explicit VictimBinary(const std::string &stem)
	{
		name_ = stem + std::to_string(::getpid() % 100000);
		path_ = dir_.path() + "/" + name_;
		std::filesystem::copy_file("/usr/bin/sleep", path_);
		std::filesystem::permissions(path_, std::filesystem::perms::owner_all);
	}
	const std::string &name() const { return name_; }
	const std::string &path() const { return path_; }

private:
	TempDir dir_;
	std::string name_, path_;
};

// Victims started in lab namespaces: continued, killed and reaped in the destructor whatever happened.
class Victims {
public:
	Victims() = default;
	Victims(const Victims &) = delete;
	Victims &operator=(const Victims &) = delete;
	~Victims()
	{
		for (pid_t p : pids_) {
			::kill(p, SIGCONT);
			::kill(p, SIGKILL);
			::waitpid(p, nullptr, 0);
		}
	}
	pid_t start(const VictimBinary &bin, const std::string &netns)
	{
		auto pid = sys::spawn({bin.path(), "1000"}, {.netns = netns});
		REQUIRE_MESSAGE(pid.ok(), (pid.ok() ? "" : pid.error().message));
		pids_.push_back(*pid);
		return *pid;
	}
	// Waits for pid (our child) to end and reaps it; returns the signal that ended it, 0 if it did not end in time.
	int reapedBy(pid_t pid, std::chrono::milliseconds timeout)
	{
		int st = 0, sig = 0;
		const bool ended = waitUntil([&] { return ::waitpid(pid, &st, WNOHANG) == pid; }, timeout);
		if (!ended)
			return 0;
		// Reaped: its pid may be reused, so the destructor must not signal it.
		pids_.erase(std::remove(pids_.begin(), pids_.end(), pid), pids_.end());
		sig = WIFSIGNALED(st) ? WTERMSIG(st) : -1;
		return sig;
	}

private:
	std::vector<pid_t> pids_;
};

// Keeps one victim running in a namespace: relaunches it whenever it ends, and counts how it ended.
class Supervisor {
public:
	Supervisor(const VictimBinary &bin, std::string netns) : bin_(bin), netns_(std::move(netns))
	{
		{
			std::lock_guard<std::mutex> l(mu_);
			launch();
		}
		thread_ = std::thread([this] { loop(); });
	}
	Supervisor(const Supervisor &) = delete;
	Supervisor &operator=(const Supervisor &) = delete;
	~Supervisor()
	{
		{
			std::lock_guard<std::mutex> l(mu_);
			stop_ = true;
			// Under the lock the current victim is alive or an unreaped zombie, never a reused pid.
			if (current_ > 0) {
				::kill(current_, SIGCONT);
				::kill(current_, SIGKILL);
			}
		}
		thread_.join();
	}
	pid_t current() const
	{
		std::lock_guard<std::mutex> l(mu_);
		return current_;
	}
	int killedBySigkill() const { return sigkills_.load(); }
	int launches() const { return launches_.load(); }
	std::vector<pid_t> pids() const
	{
		std::lock_guard<std::mutex> l(mu_);
		return all_;
	}

private:
	// Under mu_.
	void launch()
	{
		current_ = -1;
		if (stop_)
			return;
		auto pid = sys::spawn({bin_.path(), "1000"}, {.netns = netns_});
		if (pid.ok()) {
			current_ = *pid;
			all_.push_back(*pid);
			launches_++;
		}
	}
	void loop()
	{
		while (true) {
			const pid_t p = current();
			if (p <= 0)
				return;
			// Wait for the end without reaping, then reap and relaunch under the lock: the destructor never
			// signals a pid that was already reaped.
			siginfo_t si{};
			while (::waitid(P_PID, static_cast<id_t>(p), &si, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
			}
			std::lock_guard<std::mutex> l(mu_);
			int st = 0;
			::waitpid(p, &st, 0);
			if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
				sigkills_++;
			launch();
		}
	}

	const VictimBinary &bin_;
	std::string netns_;
	mutable std::mutex mu_;
	pid_t current_ = -1;
	std::vector<pid_t> all_;
	bool stop_ = false; // under mu_
	std::atomic<int> sigkills_{0}, launches_{0};
	std::thread thread_;
};

} // namespace xdc::test
