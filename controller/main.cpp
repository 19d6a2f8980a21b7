// SPDX-License-Identifier: Apache-2.0
// xdc: the controller daemon and its console. Every console command is a subcommand here.
#include <string>
#include <vector>

#include "controller/cli/cli.h"

int main(int argc, char **argv)
{
	std::vector<std::string> args(argv + 1, argv + argc);
	return xdc::cli::dispatch(args);
}
