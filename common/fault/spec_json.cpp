// SPDX-License-Identifier: Apache-2.0
// The JSON form of a fault spec, derived from the key declarations (keys.cpp): each key's printer writes its YAML
// value, which becomes a JSON value; a JSON object becomes a YAML node that the one parser reads with each key's
// reader. There is no second list of keys and no second set of checks to keep in step.
#include "common/fault/spec_json.h"

#include "common/fault/spec_parser.h"

namespace xdc::fault {

using nlohmann::json;

namespace {

// A printed scalar as JSON: a number when the text is exactly how JSON spells that number (so the value reads back
// as the same text), a string otherwise. Quoted scalars stay strings.
json scalarJson(const YAML::Node &n)
{
	const std::string &text = n.Scalar();
	if (n.Tag() == "!" || text.empty())
		return text;
	json num = json::parse(text, nullptr, false);
	if (!num.is_discarded() && num.is_number() && num.dump() == text)
		return num;
	return text;
}

json nodeJson(const YAML::Node &n)
{
	switch (n.Type()) {
	case YAML::NodeType::Map: {
		json o = json::object();
		for (const auto &kv : n)
			o[kv.first.Scalar()] = nodeJson(kv.second);
		return o;
	}
	case YAML::NodeType::Sequence: {
		json a = json::array();
		for (const auto &e : n)
			a.push_back(nodeJson(e));
		return a;
	}
	case YAML::NodeType::Scalar:
		return scalarJson(n);
	default:
		return nullptr;
	}
}

// Builds the YAML node the parser reads. Depth and size are bounded here already (the parser checks the shape
// again with its own limits and messages), so a hostile object cannot make this recursion deep.
Result<YAML::Node> jsonNode(const json &j, const std::string &origin, int depth, size_t &count)
{
	if (depth > detail::kMaxDepth || ++count > detail::kMaxNodes)
		return makeError(Errc::Invalid, "{}: (top level): the fault spec is nested deeper than {} or has more than "
				 "{} values", origin, detail::kMaxDepth, detail::kMaxNodes);
	switch (j.type()) {
	case json::value_t::object: {
		YAML::Node m(YAML::NodeType::Map);
		for (const auto &[k, v] : j.items()) {
			auto child = jsonNode(v, origin, depth + 1, count);
			XDC_TRY(child);
			m[k] = *child;
		}
		return m;
	}
	case json::value_t::array: {
		YAML::Node s(YAML::NodeType::Sequence);
		for (const auto &v : j) {
			auto child = jsonNode(v, origin, depth + 1, count);
			XDC_TRY(child);
			s.push_back(*child);
		}
		return s;
	}
	case json::value_t::string:
		return YAML::Node(j.get<std::string>());
	case json::value_t::null:
		return YAML::Node(YAML::NodeType::Null);
	default: // numbers and booleans: their JSON spelling, which is also YAML's
		return YAML::Node(j.dump());
	}
}

} // namespace

json toJson(const FaultSpec &spec)
{
	json out = json::object();
	for (const auto &d : detail::keyDecls()) {
		if (!(d.kinds & detail::bit(spec.kind)))
			continue;
		YAML::Emitter e;
		e << YAML::Flow << YAML::BeginMap;
		d.print(e, spec);
		e << YAML::EndMap;
		const YAML::Node printed = YAML::Load(e.c_str());
		for (const auto &kv : printed)
			out[kv.first.Scalar()] = nodeJson(kv.second);
	}
	return out;
}

Result<FaultSpec> parseSpecJson(const json &object, const std::string &origin, const Limits &limits)
{
	if (!object.is_object())
		return makeError(Errc::Invalid, "{}: (top level): a fault spec must be a mapping (a JSON object)", origin);
	try {
		size_t count = 0;
		auto node = jsonNode(object, origin, 0, count);
		XDC_TRY(node);
		return parseSpec(*node, origin, "", limits);
	} catch (const std::exception &e) {
		return makeError(Errc::Invalid, "{}: (top level): invalid fault spec: {}", origin, e.what());
	}
}

} // namespace xdc::fault
