// SPDX-License-Identifier: Apache-2.0
// campaign.json and campaign.html from a campaign's runs (controller/scenario/campaign_report.h).
#include <doctest/doctest.h>

#include "controller/scenario/campaign_report.h"

using namespace xdc::scenario;

TEST_CASE("campaign report: figures for people")
{
	CHECK(figureText("fault.1.window_ms", 2012.3456) == "2012 ms");
	CHECK(figureText("streams.detection_ms", 12.345) == "12.3 ms");
	CHECK(figureText("fault.1.spread_ms", 0.4567) == "0.457 ms");
	CHECK(figureText("phase.observe.ms", 22754) == "22.8 s");
	CHECK(figureText("data.rpo_s", 1.5) == "1500 ms");
	CHECK(figureText("data.rpo_s", 12.5) == "12.5 s");
	CHECK(figureText("data.lost", 42) == "42");
	CHECK(figureText("steady.before.ratio", 0.98765) == "0.988");
}

TEST_CASE("campaign report: per cell the runs, the pass rate and each figure's distribution with every run's value")
{
	CampaignRecord c{.scenario = "s", .file = "/x/s.yaml", .dir = "/out", .seed = 7, .repeat = 3, .exitCode = 1};
	CampaignCell cell{.params = {{"partition", "2s"}}, .dir = "/out/partition=2s", .runs = {}};
	const double w[] = {2001.5, 1999.25, 2010.0};
	for (int i = 0; i < 3; i++)
		cell.runs.push_back({.runId = "r-" + std::to_string(i + 1),
				     .dir = "/out/partition=2s/rep-" + std::to_string(i + 1),
				     .verdict = i == 1 ? "failed" : "passed",
				     .reason = "",
				     .exitCode = i == 1 ? 1 : 0,
				     .seed = 7u + static_cast<uint64_t>(i),
				     .figures = {{"fault.1.window_ms", w[i]}, {"data.lost", i}}});
	c.cells.push_back(cell);
	const json j = campaignJson(c);
	CHECK(j["passed"] == 2);
	CHECK(j["total"] == 3);
	const json &jc = j["cells"][0];
	CHECK(jc["dir"] == "partition=2s");
	CHECK(jc["runs"][2]["dir"] == "partition=2s/rep-3");
	CHECK(jc["pass_rate"].get<double>() == doctest::Approx(2.0 / 3));
	const json &st = jc["statistics"]["fault.1.window_ms"];
	CHECK(st["n"] == 3);
	CHECK(st["min"] == 1999.25);
	CHECK(st["median"] == 2001.5);
	CHECK(st["max"] == 2010.0);
	REQUIRE(st["values"].size() == 3);
	CHECK(st["values"][1] == json({{"run_id", "r-2"}, {"value", 1999.25}}));

	const std::string html = campaignHtml(j);
	CHECK(html.find("2 of 3 passed") != std::string::npos);
	CHECK(html.find("<circle class=\"run-value\" data-run=\"r-2\" data-value=\"1999.25\"") != std::string::npos);
	CHECK(html.find("<a href=\"partition=2s/rep-3/report.html\">") != std::string::npos);
	CHECK(html.find("data-figure=\"fault.1.window_ms\" data-n=\"3\" data-min=\"1999.25\" data-p50=\"2001.5\"") !=
	      std::string::npos);
	// The embedded copy is campaign.json's object, and cannot end its script element early.
	const auto at = html.find("<script type=\"application/json\" id=\"campaign-data\">");
	REQUIRE(at != std::string::npos);
	CHECK(html.find("</script>", at) == html.rfind("</script>"));
}
