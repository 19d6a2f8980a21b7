// SPDX-License-Identifier: Apache-2.0
// libnftables wrapper.
#include "common/sys/nft.h"

#include <nftables/libnftables.h>

namespace xdc::sys {

Result<std::string> nft(const std::string &commands)
{
	nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return makeError(Errc::Io, "libnftables: cannot create a context");
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	const int rc = nft_run_cmd_from_buffer(ctx, commands.c_str());
	// Each get_*_buffer call hands over the buffer and rewinds it: call once.
	const char *o = nft_ctx_get_output_buffer(ctx);
	const char *e = nft_ctx_get_error_buffer(ctx);
	std::string out = o ? o : "", err = e ? e : "";
	nft_ctx_free(ctx);
	if (rc != 0) {
		while (!err.empty() && (err.back() == '\n' || err.back() == ' '))
			err.pop_back();
		return makeError(Errc::Io, "nft: {}", err.empty() ? "command failed" : err);
	}
	return out;
}

} // namespace xdc::sys
