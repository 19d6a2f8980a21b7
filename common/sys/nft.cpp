// SPDX-License-Identifier: Apache-2.0
// libnftables, loaded on first use (see nft.h).
#include "common/sys/nft.h"

#include <mutex>
#include <string>

#include <nftables/libnftables.h>

#include "common/sys/library.h"

namespace xdc::sys {

namespace {

// The libnftables functions used; their signatures are those of libnftables.so.1 since nftables 0.9.1 (RHEL 8's
// 0.9.3 included).
struct NftApi {
	decltype(&::nft_ctx_new) ctxNew;
	decltype(&::nft_ctx_free) ctxFree;
	decltype(&::nft_ctx_buffer_output) bufferOutput;
	decltype(&::nft_ctx_buffer_error) bufferError;
	decltype(&::nft_run_cmd_from_buffer) runCmd;
	decltype(&::nft_ctx_get_output_buffer) outputBuffer;
	decltype(&::nft_ctx_get_error_buffer) errorBuffer;
};

Result<const NftApi *> nftApi()
{
	static std::once_flag once;
	static NftApi api{};
	static std::string error;
	std::call_once(once, [] {
		sys::Library lib("libnftables.so.1", "libnftables.so.1 (package nftables on RHEL, libnftables1 on Debian)");
		lib.resolve(api.ctxNew, "nft_ctx_new");
		lib.resolve(api.ctxFree, "nft_ctx_free");
		lib.resolve(api.bufferOutput, "nft_ctx_buffer_output");
		lib.resolve(api.bufferError, "nft_ctx_buffer_error");
		lib.resolve(api.runCmd, "nft_run_cmd_from_buffer");
		lib.resolve(api.outputBuffer, "nft_ctx_get_output_buffer");
		lib.resolve(api.errorBuffer, "nft_ctx_get_error_buffer");
		error = lib.error();
	});
	if (!error.empty())
		return makeError(Errc::Unsupported, "nft: {}", error);
	return &api;
}

} // namespace

Result<std::string> nft(const std::string &commands)
{
	auto loaded = nftApi();
	if (!loaded)
		return loaded.error();
	const NftApi &api = **loaded;
	nft_ctx *ctx = api.ctxNew(NFT_CTX_DEFAULT);
	if (!ctx)
		return makeError(Errc::Io, "libnftables: cannot create a context");
	api.bufferOutput(ctx);
	api.bufferError(ctx);
	const int rc = api.runCmd(ctx, commands.c_str());
	// Each get_*_buffer call hands over the buffer and rewinds it: call once.
	const char *o = api.outputBuffer(ctx);
	const char *e = api.errorBuffer(ctx);
	std::string out = o ? o : "", err = e ? e : "";
	api.ctxFree(ctx);
	if (rc != 0) {
		while (!err.empty() && (err.back() == '\n' || err.back() == ' '))
			err.pop_back();
		return makeError(Errc::Io, "nft: {}", err.empty() ? "command failed" : err);
	}
	return out;
}

} // namespace xdc::sys
