// SPDX-License-Identifier: Apache-2.0
// xdc-streams-special-message HOST:PORT MESSAGE: writes one line to the emulated application's SpecialMessage port
// (a TCPSource), as the toolkit's sample expects an operator to do with telnet or nc. The lab configures it as the
// agents' `streams.orderly_shutdown` hook. Exit 0 when the line was written, 1 otherwise, 2 for bad usage.
#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const bool help = argc == 2 && std::string(argv[1]) == "--help";
	if (argc != 3 || help) {
		std::fprintf(help ? stdout : stderr,
			     "usage: xdc-streams-special-message HOST:PORT MESSAGE\n"
			     "Writes MESSAGE (e.g. OrderlyShutdown) as one line to the application's SpecialMessage port.\n");
		return help ? 0 : 2;
	}
	const std::string at = argv[1];
	const auto colon = at.rfind(':');
	sockaddr_in sa{};
	sa.sin_family = AF_INET;
	int port = 0;
	try {
		port = colon == std::string::npos ? 0 : std::stoi(at.substr(colon + 1));
	} catch (...) {
	}
	if (port < 1 || port > 65535 || ::inet_pton(AF_INET, at.substr(0, colon).c_str(), &sa.sin_addr) != 1) {
		std::fprintf(stderr, "xdc-streams-special-message: '%s' is not IPv4-ADDRESS:PORT\n", at.c_str());
		return 2;
	}
	sa.sin_port = htons(static_cast<uint16_t>(port));
	const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) != 0) {
		std::fprintf(stderr, "xdc-streams-special-message: cannot connect to %s: %s\n", at.c_str(), std::strerror(errno));
		return 1;
	}
	const std::string line = std::string(argv[2]) + "\n";
	if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
		std::fprintf(stderr, "xdc-streams-special-message: cannot write to %s: %s\n", at.c_str(), std::strerror(errno));
		::close(fd);
		return 1;
	}
	::shutdown(fd, SHUT_WR);
	char buf[64];
	while (::recv(fd, buf, sizeof buf, 0) > 0) {
	}
	::close(fd);
	std::printf("sent %s to %s\n", argv[2], at.c_str());
	return 0;
}
