// SPDX-License-Identifier: Apache-2.0
// The Jolokia client: the read request and its in-body status.
#include "controller/metrics/jolokia.h"

namespace xdc::metrics {

using nlohmann::json;

Result<json> parseJolokiaResponse(const std::string &body, Failure &f)
{
	json j;
	try {
		j = json::parse(body);
	} catch (const json::exception &) {
		f.kind = Failure::Kind::BadJson;
		f.error = "the response is not JSON";
		return makeError(Errc::Protocol, "the response is not JSON");
	}
	// A bulk request answers with an array; one read gets one object.
	if (j.is_array() && j.size() == 1)
		j = j[0];
	if (!j.is_object() || !j.contains("status") || !j["status"].is_number_integer()) {
		f.kind = Failure::Kind::BadShape;
		f.error = "no numeric `status`";
		return makeError(Errc::Protocol, "not a Jolokia response (no numeric `status`)");
	}
	const int status = j["status"].get<int>();
	if (status != 200) {
		f.kind = Failure::Kind::Server;
		f.httpStatus = f.httpStatus ? f.httpStatus : status;
		f.errorType = j.contains("error_type") && j["error_type"].is_string() ? j["error_type"].get<std::string>()
										      : "";
		f.error = j.contains("error") && j["error"].is_string() ? j["error"].get<std::string>() : "";
		const Errc code = status == 404 ? Errc::NotFound
				  : status == 400 ? Errc::Invalid
				  : status == 401 || status == 403 ? Errc::Refused
								   : Errc::Io;
		return makeError(code, "Jolokia status {}{}{}{}", status, f.errorType.empty() ? "" : " ", f.errorType,
				 f.error.empty() ? "" : ": " + f.error);
	}
	if (!j.contains("value")) {
		f.kind = Failure::Kind::BadShape;
		f.error = "status 200 without a `value`";
		return makeError(Errc::Protocol, "Jolokia status 200 without a `value`");
	}
	return j["value"];
}

JolokiaClient::JolokiaClient(HttpTarget target) : http_(metricsTarget(std::move(target), "xdc metrics (jolokia)"), "the metrics client") {}

Result<json> JolokiaClient::read(const std::string &mbean, const std::string &attribute, const std::string &path)
{
	if (mbean.empty())
		return makeError(Errc::Invalid, "an MBean name is required");
	json req = {{"type", "read"}, {"mbean", mbean}};
	if (!attribute.empty())
		req["attribute"] = attribute;
	if (!path.empty())
		req["path"] = path;
	const std::string payload = req.dump();
	// The agent URL itself takes the POST; a trailing slash is what the servlet expects.
	const std::string url = http_.urlFor("/");
	auto resp = http_.request(http::Request{"POST", url, payload, "application/json"});
	if (!resp)
		return resp.error();
	Failure f;
	f.url = url;
	f.httpStatus = static_cast<int>(resp->status);
	const std::string what = fmt::format("read {}{}{}{}", mbean, attribute.empty() ? "" : " ", attribute,
					     path.empty() ? "" : "/" + path);
	if (resp->status < 200 || resp->status > 299) {
		// A proxy or an auth layer in front of the agent: its words, if JSON from Jolokia, else the status.
		Failure inner = f;
		auto v = parseJolokiaResponse(resp->body, inner);
		if (!v && inner.kind == Failure::Kind::Server)
			return http_.fail(inner, v.error().code,
					  fmt::format("POST {}: {}: HTTP {}: {}", url, what, resp->status, v.error().message));
		f.kind = resp->status == 401 || resp->status == 403 ? Failure::Kind::Auth : Failure::Kind::Http;
		f.error = resp->body.substr(0, 300);
		return http_.fail(f, errcForStatus(resp->status),
				  fmt::format("POST {}: {}: HTTP {}{}", url, what, resp->status,
					      f.kind == Failure::Kind::Auth
						      ? " (not authorized: check the token or basic auth file)"
						      : ""));
	}
	auto v = parseJolokiaResponse(resp->body, f);
	if (!v)
		return http_.fail(f, v.error().code, fmt::format("POST {}: {}: {}", url, what, v.error().message));
	return v;
}

} // namespace xdc::metrics
