// SPDX-License-Identifier: Apache-2.0
#include "common/http/curl_api.h"

#include <mutex>
#include <string>

#include "common/sys/library.h"

namespace xdc {

Result<const CurlApi *> curlApi(const char *user)
{
	static std::once_flag once;
	static CurlApi api{};
	static std::string error;
	std::call_once(once, [] {
		sys::Library lib("libcurl.so.4", "libcurl (Debian package libcurl4)");
		lib.resolve(api.globalInit, "curl_global_init");
		lib.resolve(api.easyInit, "curl_easy_init");
		lib.resolve(api.easySetopt, "curl_easy_setopt");
		lib.resolve(api.easyPerform, "curl_easy_perform");
		lib.resolve(api.easyGetinfo, "curl_easy_getinfo");
		lib.resolve(api.easyCleanup, "curl_easy_cleanup");
		lib.resolve(api.easyStrerror, "curl_easy_strerror");
		lib.resolve(api.easyEscape, "curl_easy_escape");
		lib.resolve(api.free, "curl_free");
		lib.resolve(api.slistAppend, "curl_slist_append");
		lib.resolve(api.slistFreeAll, "curl_slist_free_all");
		error = lib.error();
		if (!error.empty())
			return;
		// Once per process, before the first handle; thread-safe in this libcurl (>= 7.84).
		if (const CURLcode rc = api.globalInit(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
			error = fmt::format("libcurl init failed: {}", api.easyStrerror(rc));
	});
	if (!error.empty())
		return makeError(Errc::Unsupported, "{}: {}", user, error);
	return &api;
}

} // namespace xdc
