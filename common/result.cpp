// SPDX-License-Identifier: Apache-2.0
// Names of the error classes, for logs and JSON output.
#include "common/result.h"

namespace xdc {

const char *errcName(Errc code)
{
	switch (code) {
	case Errc::Invalid: return "invalid";
	case Errc::NotFound: return "not_found";
	case Errc::Exists: return "exists";
	case Errc::Io: return "io";
	case Errc::Timeout: return "timeout";
	case Errc::Refused: return "refused";
	case Errc::Unsupported: return "unsupported";
	case Errc::Protocol: return "protocol";
	case Errc::Internal: return "internal";
	}
	return "unknown";
}

} // namespace xdc
