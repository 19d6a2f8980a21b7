// SPDX-License-Identifier: Apache-2.0
// The controller's /metrics: a small HTTP/1.1 server polled by the controller's own loop (like the control socket,
// so the page is rendered from the loop's state without locks), and a writer of Prometheus's text exposition
// format (version 0.0.4). Only GET or HEAD of /metrics is served; requests are size- and idle-limited.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"

namespace xdc::control {

// Builds one exposition page: families in the order begun, each with its HELP and TYPE once, samples after.
class Exposition {
public:
	using Labels = std::vector<std::pair<std::string, std::string>>;
	// Starts a family; type is gauge or counter.
	void family(const std::string &name, const std::string &type, const std::string &help);
	// One sample of the family begun last (its name plus an optional suffix such as _total is the family's).
	void sample(const Labels &labels, double value);
	const std::string &text() const { return out_; }

	// A label value as the format quotes it (backslash, double quote and newline escaped).
	static std::string escapeLabel(const std::string &v);
	// A value as the format writes it: integers without a fraction, NaN, +Inf, -Inf; else shortest round-trip.
	static std::string formatValue(double v);

private:
	std::string out_, name_;
};

class MetricsEndpoint {
public:
	using Render = std::function<std::string()>;

	~MetricsEndpoint();
	// Listens on ADDR: "PORT" (127.0.0.1), "HOST:PORT" or "[V6]:PORT", numeric addresses only; port 0 takes a free
	// one. Errors name the address.
	Result<void> listen(const std::string &addr, Render render);
	bool listening() const { return listenFd_ >= 0; }
	// The address actually bound ("127.0.0.1:7790").
	const std::string &address() const { return bound_; }

	// The fds to poll with the events wanted; service(fd) when one is ready. expire() closes idle connections.
	std::vector<std::pair<int, short>> pollFds() const;
	void service(int fd);
	void expire(int64_t nowMono);
	uint64_t scrapes() const { return scrapes_; }

	// Reads a port or address as listen() does: {host, port}; an error names what was wrong.
	static Result<std::pair<std::string, uint16_t>> parseAddress(const std::string &addr);

private:
	struct Client {
		std::string in, out;
		int64_t lastMono = 0;
		bool closeAfter = false;
	};
	void accept();
	void closeClient(int fd);
	void flush(int fd);
	// Queues the answer of every complete request in the buffer.
	void answer(Client &c);

	int listenFd_ = -1;
	std::string bound_;
	Render render_;
	std::map<int, Client> clients_;
	uint64_t scrapes_ = 0;
};

} // namespace xdc::control
