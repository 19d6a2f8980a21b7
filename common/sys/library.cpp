// SPDX-License-Identifier: Apache-2.0
#include "common/sys/library.h"

#include <dlfcn.h>
#include <fmt/format.h>

namespace xdc::sys {

Library::Library(const char *soname, const char *what) : soname_(soname)
{
	handle_ = ::dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (!handle_) {
		const char *e = ::dlerror();
		error_ = fmt::format("needs {}: {}", what, e ? e : "dlopen failed");
	}
}

void *Library::symbol(const char *name)
{
	if (!error_.empty())
		return nullptr;
	void *p = ::dlsym(handle_, name);
	if (!p)
		error_ = fmt::format("{} has no {}", soname_, name);
	return p;
}

} // namespace xdc::sys
