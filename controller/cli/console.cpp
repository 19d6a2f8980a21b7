// SPDX-License-Identifier: Apache-2.0
// `xdc console`: an interactive shell over the same subcommands, with history, completion and a live fleet view.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <poll.h>
#include <sstream>
#include <unistd.h>

#include "common/clock.h"
#include "controller/cli/cli.h"
#include "controller/control/control_server.h"
#include "xdc_config.h"

#if XDC_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

namespace xdc::cli {

std::vector<std::string> subcommandNames();

namespace {

std::vector<std::string> splitWords(const std::string &line)
{
	// Whitespace-separated words with simple single/double quoting.
	std::vector<std::string> out;
	std::string cur;
	char quote = 0;
	bool any = false;
	for (char c : line) {
		if (quote) {
			if (c == quote)
				quote = 0;
			else
				cur += c;
		} else if (c == '\'' || c == '"') {
			quote = c;
			any = true;
		} else if (std::isspace(static_cast<unsigned char>(c))) {
			if (any || !cur.empty())
				out.push_back(cur);
			cur.clear();
			any = false;
		} else {
			cur += c;
		}
	}
	if (any || !cur.empty())
		out.push_back(cur);
	return out;
}

#if XDC_HAVE_LIBEDIT
char *completionGenerator(const char *text, int state)
{
	static std::vector<std::string> matches;
	static size_t idx;
	if (state == 0) {
		matches.clear();
		idx = 0;
		auto names = subcommandNames();
		names.insert(names.end(), {"watch", "quit", "help"});
		for (const auto &n : names)
			if (n.rfind(text, 0) == 0)
				matches.push_back(n);
	}
	if (idx < matches.size())
		return strdup(matches[idx++].c_str());
	return nullptr;
}
#endif

bool readLine(const std::string &prompt, std::string &line)
{
#if XDC_HAVE_LIBEDIT
	if (isatty(0)) {
		char *l = readline(prompt.c_str());
		if (!l)
			return false;
		line = l;
		if (!line.empty())
			add_history(l);
		free(l);
		return true;
	}
#endif
	if (isatty(0)) {
		fputs(prompt.c_str(), stdout);
		fflush(stdout);
	}
	return static_cast<bool>(std::getline(std::cin, line));
}

// Live fleet view: redraws `agents` every second until Enter (or EOF) on stdin.
void watch(const std::vector<std::string> &ctlArgs)
{
	auto a = parseArgs(ctlArgs, controlFlags());
	if (!a)
		return;
	while (true) {
		auto r = control::request(controlPath(*a), control::AgentsRequest{}, 5000);
		if (isatty(1))
			fputs("\033[H\033[2J", stdout);
		auto agents = r && r->value("ok", false) ? control::parseAnswer<control::AgentsAnswer>(*r)
							  : Result<control::AgentsAnswer>(Error{Errc::Protocol, "error"});
		if (agents)
			fputs(agentsTable(*agents).c_str(), stdout);
		else
			printf("controller unreachable: %s\n", r ? "error" : r.error().message.c_str());
		printf("\n(live view, refreshed every second; press Enter to stop)\n");
		fflush(stdout);
		pollfd p{0, POLLIN, 0};
		if (::poll(&p, 1, 1000) > 0) {
			std::string discard;
			std::getline(std::cin, discard);
			return;
		}
	}
}

} // namespace

int cmdConsole(const std::vector<std::string> &argv)
{
	auto specs = controlFlags();
	auto a = parseArgs(argv, specs);
	if (!a) {
		fprintf(stderr, "xdc console: %s\n", a.error().message.c_str());
		return kUsage;
	}
	if (a->has("--help")) {
		printf("Usage: xdc console [--lab NAME | --control PATH]\n\nAn interactive console: type any xdc "
		       "command without the leading 'xdc' (agents, stats,\nping '*', lab status, ...), 'watch' for a live "
		       "fleet view, 'quit' to leave.\nTab completes command names; history is kept in ~/.xdc_history. The exit code is that of the\nlast command run, so `printf 'ping dc1-h1\\n' | xdc console` works in scripts.\n");
		return kOk;
	}
	// Pass the controller selection on to every command typed.
	std::vector<std::string> ctl;
	if (a->has("--lab"))
		ctl = {"--lab", a->get("--lab")};
	if (a->has("--control"))
		ctl = {"--control", a->get("--control")};
	std::string histFile;
	if (const char *home = std::getenv("HOME"))
		histFile = std::string(home) + "/.xdc_history";
#if XDC_HAVE_LIBEDIT
	rl_completion_entry_function = completionGenerator;
	if (!histFile.empty())
		read_history(histFile.c_str());
#endif
	if (isatty(0))
		printf("xdc console %s: talking to %s. 'help' lists commands, 'quit' leaves.\n", XDC_VERSION,
		       controlPath(*a).c_str());
	int last = kOk;
	std::string line;
	while (readLine("xdc> ", line)) {
		auto words = splitWords(line);
		if (words.empty())
			continue;
		if (words[0] == "quit" || words[0] == "exit")
			break;
		if (words[0] == "watch") {
			watch(ctl);
			continue;
		}
		if (words[0] == "console") {
			printf("already in the console\n");
			continue;
		}
		if (words[0] == "controller") {
			printf("start the controller from a shell: xdc controller --config FILE\n");
			continue;
		}
		bool isLab = words[0] == "lab";
		if (!isLab && words[0] != "keys" && words[0] != "help" && words[0] != "version")
			words.insert(words.end(), ctl.begin(), ctl.end());
		last = dispatch(words);
		fflush(stdout);
		if (last != kOk && !isatty(0))
			fprintf(stderr, "(exit %d)\n", last);
	}
#if XDC_HAVE_LIBEDIT
	if (!histFile.empty())
		write_history(histFile.c_str());
#endif
	return last;
}

} // namespace xdc::cli
