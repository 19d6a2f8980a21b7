#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs the agent with exactly the capabilities of packaging/xdc-agent.service (its CapabilityBoundingSet, as root:
# the permitted and effective sets become that bounding set) and no new privileges, as systemd would. The fault
# suites run their agents through it (XDC_AGENT_BIN=this, XDC_UNIT_AGENT_BIN=the real binary) to show that the
# unit's capabilities are enough for every fault kind (Estate #23, acceptance 5).
set -eu
unit="${XDC_SOURCE_ROOT:-$(dirname "$0")/../..}/packaging/xdc-agent.service"
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ \{1,\}/,/g')
[ -n "$caps" ] || { echo "agent-as-unit: no CapabilityBoundingSet in $unit" >&2; exit 2; }
exec setpriv --bounding-set "-all,$caps" --inh-caps -all --no-new-privs -- "${XDC_UNIT_AGENT_BIN:?the real agent binary}" "$@"
