// SPDX-License-Identifier: Apache-2.0
// A run's data sources (controller/data/ingest.h).
#include "controller/data/ingest.h"

#include <fmt/format.h>

#include "controller/data/agent_drop.h"

namespace xdc::data {

Result<IngestSet> makeIngest(const std::vector<streams::Endpoint> &eps, const std::string &shape,
			     control::Caller call)
{
	IngestSet out;
	for (const auto &ep : eps) {
		if (shape == "http_json") {
			if (ep.ingest.httpJson.empty())
				return makeError(Errc::Invalid, "DC {}: the streams config gives no ingest.http_json (the URL of the "
								"application's HTTPJSONInjection inject path)", ep.dc);
			HttpEndpointOptions o;
			o.name = ep.dc;
			o.url = ep.ingest.httpJson;
			o.user = ep.user;
			o.password = ep.password;
			o.caFile = ep.caFile;
			o.insecure = ep.insecure;
			out.sources.push_back(makeHttpJsonSource(o));
			out.remote.push_back({.name = ep.dc, .kind = "http_json", .url = o.url, .host = "", .port = 0,
					      .user = o.user, .password = o.password, .caFile = o.caFile, .insecure = o.insecure});
		} else if (shape == "tcp") {
			const auto colon = ep.ingest.tcp.rfind(':');
			if (ep.ingest.tcp.empty() || colon == std::string::npos)
				return makeError(Errc::Invalid, "DC {}: the streams config gives no ingest.tcp (ADDRESS:PORT of the "
								"application's TCPSource)", ep.dc);
			std::string host = ep.ingest.tcp.substr(0, colon);
			if (host.size() > 2 && host.front() == '[' && host.back() == ']')
				host = host.substr(1, host.size() - 2);
			int port = 0;
			try {
				port = std::stoi(ep.ingest.tcp.substr(colon + 1));
			} catch (...) {
			}
			if (port < 1 || port > 65535)
				return makeError(Errc::Invalid, "DC {}: ingest.tcp '{}': no valid port", ep.dc, ep.ingest.tcp);
			out.sources.push_back(makeTcpLineSource(ep.dc, host, port, 2000));
			out.remote.push_back({.name = ep.dc, .kind = "tcp", .url = "", .host = host, .port = port, .user = "",
					      .password = "", .caFile = "", .insecure = false});
		} else if (shape == "file") {
			if (ep.ingest.file.empty() || ep.host.empty())
				return makeError(Errc::Invalid, "DC {}: the streams config gives no ingest.file (the name of the "
								"application's DirectoryScan directory in the agent's data.drops) or "
								"no host: (the Streams host whose agent drops the files)", ep.dc);
			out.sources.push_back(makeAgentDropSource(
				{.name = ep.dc, .host = ep.host, .drop = ep.ingest.file, .timeoutMs = 5000, .call = call}));
		} else {
			return makeError(Errc::Invalid, "'{}' is not an ingest shape (http_json, tcp or file)", shape);
		}
		out.how.push_back(out.sources.back()->how());
	}
	return out;
}

} // namespace xdc::data
