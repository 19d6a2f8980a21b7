#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the decoder fuzzer for SECONDS from a fresh seed corpus; fails on any crash, leak or sanitizer report.
set -euo pipefail
fuzzer=$1 seeds=$2 seconds=${3:-20}
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
"$seeds" "$corpus"
"$fuzzer" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 "$corpus" 2>&1 | tail -20
