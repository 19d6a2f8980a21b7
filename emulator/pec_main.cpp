// SPDX-License-Identifier: Apache-2.0
// streams-pec: a stand-in PE process. It only has to exist, with the product's process name, until it is told to go.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sys/prctl.h>
#include <unistd.h>

namespace {

volatile sig_atomic_t gStop = 0;

void onTerm(int)
{
	gStop = 1;
}

} // namespace

int main(int argc, char **argv)
{
	const char *pe = nullptr, *job = nullptr, *dc = nullptr;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!std::strcmp(argv[i], "--pe-id"))
			pe = argv[i + 1];
		else if (!std::strcmp(argv[i], "--job-id"))
			job = argv[i + 1];
		else if (!std::strcmp(argv[i], "--dc"))
			dc = argv[i + 1];
		else {
			std::fprintf(stderr, "streams-pec: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (!pe || !job || !dc) {
		std::fprintf(stderr, "usage: streams-pec --pe-id N --job-id J --dc D\n");
		return 2;
	}
	// The emulator also sets this before exec; setting it again covers a PE started by hand from a shell.
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	struct sigaction sa {};
	sa.sa_handler = onTerm;
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGINT, &sa, nullptr);
	// SIGTERM stays blocked except inside sigsuspend(), so one arriving between the check and the wait is not lost.
	sigset_t term, none;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	sigaddset(&term, SIGINT);
	sigprocmask(SIG_SETMASK, &term, nullptr);
	sigemptyset(&none);
	while (!gStop)
		sigsuspend(&none);
	return 0;
}
