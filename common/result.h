// SPDX-License-Identifier: Apache-2.0
// Result<T>: a value or an Error, the way every expected failure travels through xdc.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace xdc {

// Broad classes of failure; the message carries the detail.
enum class Errc {
	Invalid,     // bad input from a user, file or the wire
	NotFound,
	Exists,
	Io,          // system call or subprocess failure
	Timeout,
	Refused,     // a peer or policy said no
	Unsupported, // the host or kernel cannot do it
	Protocol,
	Internal,
};

const char *errcName(Errc code);

struct Error {
	Errc code = Errc::Internal;
	std::string message;

	// Prefixes context, Mesos style: "Failed to X: <inner message>".
	Error context(std::string_view what) const
	{
		return Error{code, fmt::format("{}: {}", what, message)};
	}
};

template<typename... Args>
Error makeError(Errc code, fmt::format_string<Args...> f, Args &&...args)
{
	return Error{code, fmt::format(f, std::forward<Args>(args)...)};
}

template<typename T>
class [[nodiscard]] Result {
public:
	Result(T value) : v_(std::move(value)) {}
	Result(Error error) : v_(std::move(error)) {}

	bool ok() const { return v_.index() == 0; }
	explicit operator bool() const { return ok(); }

	T &value() & { assert(ok()); return std::get<0>(v_); }
	const T &value() const & { assert(ok()); return std::get<0>(v_); }
	T &&value() && { assert(ok()); return std::get<0>(std::move(v_)); }
	T &operator*() & { return value(); }
	const T &operator*() const & { return value(); }
	T *operator->() { return &value(); }
	const T *operator->() const { return &value(); }

	const Error &error() const { assert(!ok()); return std::get<1>(v_); }
	T valueOr(T other) const { return ok() ? std::get<0>(v_) : std::move(other); }

private:
	std::variant<T, Error> v_;
};

template<>
class [[nodiscard]] Result<void> {
public:
	Result() = default;
	Result(Error error) : err_(std::move(error)), ok_(false) {}

	bool ok() const { return ok_; }
	explicit operator bool() const { return ok_; }
	const Error &error() const { assert(!ok_); return err_; }

private:
	Error err_;
	bool ok_ = true;
};

inline Result<void> success() { return {}; }

} // namespace xdc

// Propagates an error out of the enclosing function returning a Result.
#define XDC_TRY(expr)                                 \
	do {                                          \
		auto xdc_try_r_ = (expr);             \
		if (!xdc_try_r_.ok())                 \
			return xdc_try_r_.error();    \
	} while (0)
