// SPDX-License-Identifier: Apache-2.0
// Linked only into the shipped executables (-Dship_agent=true). The static libstdc++ of Debian 12's GCC calls
// arc4random (std::random_device), which glibc has only since 2.36; defining it here binds those calls to this
// definition instead of to glibc's GLIBC_2.36 version, so the agent keeps to the RHEL 9 floor (GLIBC_2.34,
// scripts/check-agent-abi.sh). Same contract: uniformly random 32 bits from the kernel's CSPRNG, never failing.
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <sys/random.h>

extern "C" uint32_t arc4random(void)
{
	uint32_t v = 0;
	auto *p = reinterpret_cast<unsigned char *>(&v);
	size_t got = 0;
	while (got < sizeof v) {
		const ssize_t n = ::getrandom(p + got, sizeof v - got, 0);
		if (n > 0)
			got += static_cast<size_t>(n);
		else if (n < 0 && errno != EINTR)
			std::abort(); // glibc's arc4random also aborts when the kernel cannot supply randomness
	}
	return v;
}
