// SPDX-License-Identifier: Apache-2.0
// Network checks from inside lab namespaces.
#include "tests/support/netprobe.h"

#include <arpa/inet.h>
#include <csignal>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace xdc::test {

bool enter(const std::string &netns)
{
	int fd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = ::setns(fd, CLONE_NEWNET) == 0;
	::close(fd);
	return ok;
}

Listener::Listener(const std::string &netns, int port)
	{
		pid = ::fork();
		if (pid == 0) {
			if (!enter(netns))
				_exit(1);
			int s = ::socket(AF_INET6, SOCK_STREAM, 0);
			int zero = 0, one = 1;
			::setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
			::setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
			sockaddr_in6 a{};
			a.sin6_family = AF_INET6;
			a.sin6_port = htons(static_cast<uint16_t>(port));
			a.sin6_addr = in6addr_any;
			if (::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a) || ::listen(s, 128))
				_exit(1);
			while (true) {
				int c = ::accept(s, nullptr, nullptr);
				if (c >= 0)
					::close(c);
			}
		}
	}
Listener::~Listener()
{
		if (pid > 0) {
			::kill(pid, SIGKILL);
			::waitpid(pid, nullptr, 0);
		}
}

bool tcpConnect(const std::string &netns, const std::string &addr, int timeoutMs, int port)
{
	pid_t pid = ::fork();
	if (pid == 0) {
		if (!enter(netns))
			_exit(2);
		const bool v6 = addr.find(':') != std::string::npos;
		int s = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		sockaddr_storage ss{};
		socklen_t len;
		if (v6) {
			auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
			a->sin6_family = AF_INET6;
			a->sin6_port = htons(static_cast<uint16_t>(port));
			inet_pton(AF_INET6, addr.c_str(), &a->sin6_addr);
			len = sizeof *a;
		} else {
			auto *a = reinterpret_cast<sockaddr_in *>(&ss);
			a->sin_family = AF_INET;
			a->sin_port = htons(static_cast<uint16_t>(port));
			inet_pton(AF_INET, addr.c_str(), &a->sin_addr);
			len = sizeof *a;
		}
		if (::connect(s, reinterpret_cast<sockaddr *>(&ss), len) == 0)
			_exit(0);
		pollfd p{s, POLLOUT, 0};
		if (::poll(&p, 1, timeoutMs) != 1)
			_exit(1);
		int err = 0;
		socklen_t el = sizeof err;
		::getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
		_exit(err == 0 ? 0 : 1);
	}
	int st = 0;
	::waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

bool noFaultTables(const LabFixture &lab)
{
	for (const auto &h : lab.state().hosts) {
		auto r = sys::run({"nft", "list", "tables"}, {.netns = h.netns});
		if (!r || r->out.find("xdc_") != std::string::npos)
			return false;
	}
	return true;
}


} // namespace xdc::test
