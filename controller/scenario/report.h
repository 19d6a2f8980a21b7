// SPDX-License-Identifier: Apache-2.0
// Run reports, next to the evidence bundle in the run's directory (schema in docs/SCENARIOS.md):
//   report.json  the versioned report ("schema": "xdc.report/3"), everything the other formats show
//   junit.xml    one testsuite per run, one testcase per phase and per assertion (Jenkins / GitLab readers)
//   report.html  one self-contained page: verdict, assertions, a timeline per host with fault windows, probe
//                outcome bands and events, each time with its uncertainty
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "controller/scenario/run_report.h"

namespace xdc::scenario {

using nlohmann::json;

std::string junitXml(const RunReport &report);
// bundleDir: the run's evidence bundle (its timeline feeds the probe bands); may be missing. printed is
// toJson(report), which the page embeds for scripts (writeReports prints it once for both).
std::string reportHtml(const RunReport &report, const json &printed, const std::string &bundleDir);

// Writes report.json (printed once, by toJson), junit.xml and report.html into dir (each atomically: temp file,
// then rename).
Result<void> writeReports(const RunReport &report, const std::string &dir);

// Writes text to path through a temporary file and a rename, so a reader never sees half of it.
Result<void> writeAtomic(const std::string &path, const std::string &text);

// XML text escaping (&, <, >, ", ') with control characters other than tab/newline dropped.
std::string xmlEscape(const std::string &s);

} // namespace xdc::scenario
