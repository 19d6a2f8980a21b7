// SPDX-License-Identifier: Apache-2.0
// Ansible inventories as topologies (spec.h loadInventory): INI or YAML, every group with hosts a DC, host vars
// labels; errors name file:line.
#include <fstream>
#include <set>
#include <sstream>

#include "common/yaml_reader.h"
#include "controller/scenario/spec.h"
#include "controller/scenario/spec_read.h"

namespace xdc::scenario {

namespace {

std::string trim(const std::string &s)
{
	const auto b = s.find_first_not_of(" \t\r");
	if (b == std::string::npos)
		return "";
	const auto e = s.find_last_not_of(" \t\r");
	return s.substr(b, e - b + 1);
}

// A host line of an INI inventory: "name key=value key=value".
Result<Host> iniHost(const std::string &line, const std::string &dc, const std::string &where)
{
	std::istringstream in(line);
	Host h;
	h.dc = dc;
	in >> h.name;
	std::string kv;
	while (in >> kv) {
		auto eq = kv.find('=');
		if (eq == std::string::npos || eq == 0)
			return makeError(Errc::Invalid, "{}: host '{}': '{}' is not a key=value host variable", where, h.name,
					 kv);
		h.labels[kv.substr(0, eq)] = kv.substr(eq + 1);
	}
	return h;
}

Result<std::vector<Host>> iniInventory(const std::string &text, const std::string &path)
{
	std::map<std::string, std::vector<Host>> groups;
	std::map<std::string, std::vector<std::string>> children;
	std::map<std::string, std::map<std::string, std::string>> groupVars;
	std::string group = "ungrouped", section = "hosts";
	std::istringstream in(text);
	std::string line;
	int no = 0;
	while (std::getline(in, line)) {
		no++;
		const std::string t = trim(line);
		if (t.empty() || t[0] == '#' || t[0] == ';')
			continue;
		const std::string where = fmt::format("{}:{}", path, no);
		if (t[0] == '[') {
			if (t.back() != ']')
				return makeError(Errc::Invalid, "{}: expected a group header like [dc1]", where);
			std::string name = t.substr(1, t.size() - 2);
			section = "hosts";
			auto colon = name.find(':');
			if (colon != std::string::npos) {
				section = name.substr(colon + 1);
				name = name.substr(0, colon);
				if (section != "vars" && section != "children")
					return makeError(Errc::Invalid, "{}: [{}:{}]: expected :vars or :children", where, name,
							 section);
			}
			group = name;
			continue;
		}
		if (section == "children") {
			children[group].push_back(t);
		} else if (section == "vars") {
			auto eq = t.find('=');
			if (eq == std::string::npos)
				return makeError(Errc::Invalid, "{}: expected key=value in [{}:vars]", where, group);
			groupVars[group][trim(t.substr(0, eq))] = trim(t.substr(eq + 1));
		} else {
			auto h = iniHost(t, group, where);
			if (!h)
				return h.error();
			groups[group].push_back(*h);
		}
	}
	std::vector<Host> out;
	std::set<std::string> seen;
	for (auto &[g, hs] : groups) {
		if (g == "all")
			continue;
		for (auto h : hs) {
			for (const auto &[k, v] : groupVars[g])
				h.labels.emplace(k, v);
			if (!seen.insert(h.name).second)
				return makeError(Errc::Invalid, "{}: host '{}' is in more than one group; each host belongs to "
						 "exactly one datacenter group", path, h.name);
			out.push_back(h);
		}
	}
	if (out.empty())
		return makeError(Errc::Invalid, "{}: no hosts in any group (groups are datacenters: [dc1] then host lines)",
				 path);
	return out;
}

Result<void> yamlGroup(const YAML::Node &g, const std::string &name, const std::string &path, std::vector<Host> &out,
		       std::set<std::string> &seen, int depth)
{
	if (depth > 8)
		return makeError(Errc::Invalid, "{}: groups nested more than 8 deep", path);
	if (!g || g.IsNull())
		return success();
	if (!g.IsMap())
		return failAt(path, g, name, "expected a group (hosts, vars, children)");
	std::map<std::string, std::string> vars;
	if (g["vars"] && g["vars"].IsMap())
		for (const auto &kv : g["vars"])
			if (kv.second.IsScalar())
				vars[kv.first.Scalar()] = kv.second.Scalar();
	if (g["hosts"] && g["hosts"].IsMap())
		for (const auto &kv : g["hosts"]) {
			Host h;
			h.name = kv.first.Scalar();
			h.dc = name;
			if (kv.second.IsMap())
				for (const auto &v : kv.second)
					if (v.second.IsScalar())
						h.labels[v.first.Scalar()] = v.second.Scalar();
			for (const auto &[k, v] : vars)
				h.labels.emplace(k, v);
			if (!seen.insert(h.name).second)
				return failAt(path, kv.first, name + ".hosts." + h.name,
					      "host is in more than one group; each host belongs to exactly one datacenter group");
			out.push_back(h);
		}
	if (g["children"] && g["children"].IsMap())
		for (const auto &kv : g["children"])
			XDC_TRY(yamlGroup(kv.second, kv.first.Scalar(), path, out, seen, depth + 1));
	return success();
}

} // namespace

Result<std::vector<Host>> loadInventory(const std::string &path)
{
	std::ifstream f(path, std::ios::binary);
	if (!f)
		return makeError(Errc::NotFound, "{}: cannot read the inventory", path);
	std::stringstream ss;
	ss << f.rdbuf();
	const std::string text = ss.str();
	const std::string first = trim(text.substr(0, text.find('\n')));
	const bool yaml = path.size() > 4 && (path.substr(path.size() - 4) == ".yml" || path.substr(path.size() - 5) == ".yaml");
	if (!yaml)
		return iniInventory(text, path);
	try {
		auto doc = parseChecked(text, path);
		if (!doc)
			return doc.error();
		std::vector<Host> out;
		std::set<std::string> seen;
		for (const auto &kv : *doc) {
			const std::string g = kv.first.Scalar();
			if (g == "all" && kv.second.IsMap() && kv.second["children"]) {
				for (const auto &c : kv.second["children"])
					XDC_TRY(yamlGroup(c.second, c.first.Scalar(), path, out, seen, 1));
			} else if (g != "all") {
				XDC_TRY(yamlGroup(kv.second, g, path, out, seen, 0));
			}
		}
		if (out.empty())
			return makeError(Errc::Invalid, "{}: no hosts in any group", path);
		(void)first;
		return out;
	} catch (const std::exception &e) {
		return makeError(Errc::Invalid, "{}: invalid inventory: {}", path, e.what());
	}
}

} // namespace xdc::scenario
