// SPDX-License-Identifier: Apache-2.0
// A shared library loaded on first use (dlopen) instead of linked, and its functions looked up by name: how libcurl
// (common/http/curl_api.cpp) and libnftables (common/sys/nft.cpp) are used, so that the shipped agent needs neither
// at start-up and says which package is missing when a feature needs one.
#pragma once

#include <string>
#include <type_traits>

namespace xdc::sys {

class Library {
public:
	// Opens `soname` (RTLD_NOW | RTLD_LOCAL; never closed, so the functions outlive every user). On failure error()
	// reads "needs WHAT: <the loader's reason>"; `what` names the library and the package that has it.
	Library(const char *soname, const char *what);

	// Sets `fn` to the function `name`, or leaves it null and, for the first one missing, sets error() to
	// "SONAME has no NAME". Does nothing once an error is set.
	template<typename Fn>
	void resolve(Fn &fn, const char *name)
	{
		fn = reinterpret_cast<std::remove_reference_t<Fn>>(symbol(name));
	}

	// Empty while the library is loaded and every function resolved.
	const std::string &error() const { return error_; }

private:
	void *symbol(const char *name);

	const char *soname_;
	void *handle_ = nullptr;
	std::string error_;
};

} // namespace xdc::sys
