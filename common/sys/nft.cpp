// SPDX-License-Identifier: Apache-2.0
// libnftables, loaded on first use (see nft.h).
#include "common/sys/nft.h"

#include <mutex>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

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

// One context per thread, kept while the thread stays in the process and network namespace it was made in. Closing
// a context's netlink socket after a transaction that deleted a hooked chain makes the kernel wait out an RCU grace
// period (about 11 ms under the lab's load, against 0.5 ms for the delete itself: docs/PERFORMANCE.md), so a
// context per call made every revert that slow. A forked child (the capability probe, which then enters a network
// namespace of its own) and a thread that changed its namespace get a new context: a context's socket belongs to
// the namespace it was opened in.
class Context {
public:
	~Context()
	{
		if (ctx_ && pid_ == ::getpid())
			api_->ctxFree(ctx_);
	}
	nft_ctx *get(const NftApi &api)
	{
		struct stat st {};
		if (::stat("/proc/thread-self/ns/net", &st) != 0)
			st = {};
		const pid_t pid = ::getpid();
		if (ctx_ && pid_ == pid && netns_ == st.st_ino && netnsDev_ == st.st_dev)
			return ctx_;
		if (ctx_ && pid_ == pid)
			api.ctxFree(ctx_); // a forked child leaves its parent's copy alone
		ctx_ = api.ctxNew(NFT_CTX_DEFAULT);
		if (!ctx_)
			return nullptr;
		api.bufferOutput(ctx_);
		api.bufferError(ctx_);
		api_ = &api;
		pid_ = pid;
		netns_ = st.st_ino;
		netnsDev_ = st.st_dev;
		return ctx_;
	}

private:
	const NftApi *api_ = nullptr;
	nft_ctx *ctx_ = nullptr;
	pid_t pid_ = 0;
	ino_t netns_ = 0;
	dev_t netnsDev_ = 0;
};

} // namespace

Result<std::string> nft(const std::string &commands)
{
	auto loaded = nftApi();
	if (!loaded)
		return loaded.error();
	const NftApi &api = **loaded;
	thread_local Context context;
	nft_ctx *ctx = context.get(api);
	if (!ctx)
		return makeError(Errc::Io, "libnftables: cannot create a context");
	const int rc = api.runCmd(ctx, commands.c_str());
	// Each get_*_buffer call hands over the buffer and rewinds it: call once per command.
	const char *o = api.outputBuffer(ctx);
	const char *e = api.errorBuffer(ctx);
	std::string out = o ? o : "", err = e ? e : "";
	if (rc != 0) {
		while (!err.empty() && (err.back() == '\n' || err.back() == ' '))
			err.pop_back();
		return makeError(Errc::Io, "nft: {}", err.empty() ? "command failed" : err);
	}
	return out;
}

} // namespace xdc::sys
