// SPDX-License-Identifier: Apache-2.0
// libcurl loaded with dlopen on first use instead of linked: libcurl pulls in about 30 shared libraries (TLS, GSSAPI,
// LDAP, ...), whose loading made every `xdc` command and the agent start several milliseconds slower and bigger,
// although only Streams REST calls (controller) and HTTP probes (agent) need it.
#pragma once
#include <curl/curl.h>

#include "common/result.h"

namespace xdc {

// The libcurl functions xdc uses. Each pointer is set once the library loaded.
struct CurlApi {
	CURLcode (*globalInit)(long);
	CURL *(*easyInit)();
	CURLcode (*easySetopt)(CURL *, CURLoption, ...);
	CURLcode (*easyPerform)(CURL *);
	CURLcode (*easyGetinfo)(CURL *, CURLINFO, ...);
	void (*easyCleanup)(CURL *);
	const char *(*easyStrerror)(CURLcode);
	char *(*easyEscape)(CURL *, const char *, int);
	void (*free)(void *);
	curl_slist *(*slistAppend)(curl_slist *, const char *);
	void (*slistFreeAll)(curl_slist *);
};

// Loads libcurl.so.4 and runs curl_global_init once per process (thread-safe); later calls return the same table.
// Fails with Unsupported, naming the Debian package, when the library or a symbol is missing. `user` names the
// feature in that message (e.g. "probe.http").
Result<const CurlApi *> curlApi(const char *user);

} // namespace xdc
