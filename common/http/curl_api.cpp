// SPDX-License-Identifier: Apache-2.0
#include "common/http/curl_api.h"

#include <dlfcn.h>
#include <mutex>
#include <string>
#include <type_traits>

namespace xdc {

Result<const CurlApi *> curlApi(const char *user)
{
	static std::once_flag once;
	static CurlApi api{};
	static std::string error;
	std::call_once(once, [] {
		void *lib = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL); // never closed: handles outlive their users
		if (!lib) {
			const char *e = ::dlerror();
			error = fmt::format("needs libcurl (Debian package libcurl4): {}", e ? e : "dlopen failed");
			return;
		}
		auto sym = [&](auto &fn, const char *name) {
			fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
			if (!fn && error.empty())
				error = fmt::format("libcurl.so.4 has no {}", name);
		};
		sym(api.globalInit, "curl_global_init");
		sym(api.easyInit, "curl_easy_init");
		sym(api.easySetopt, "curl_easy_setopt");
		sym(api.easyPerform, "curl_easy_perform");
		sym(api.easyGetinfo, "curl_easy_getinfo");
		sym(api.easyCleanup, "curl_easy_cleanup");
		sym(api.easyStrerror, "curl_easy_strerror");
		sym(api.easyEscape, "curl_easy_escape");
		sym(api.free, "curl_free");
		sym(api.slistAppend, "curl_slist_append");
		sym(api.slistFreeAll, "curl_slist_free_all");
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
