#!/usr/bin/env bash
# The README's second Quick start command, and CI's main gate: installs the
# Debian packages, configures and builds leadlog (Release), and runs the whole
# test suite with ctest.
#
#   bash scripts/test.sh [CTEST ARGS...]     e.g. bash scripts/test.sh -R Import
#
# Environment: LEADLOG_BUILD_DIR (default: build/ in the repository),
# LEADLOG_JOBS (build jobs, default: all cores), LEADLOG_TEST_JOBS (ctest
# jobs, default 2: every test works in its own temporary directory).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${LEADLOG_BUILD_DIR:-$root/build}
jobs=${LEADLOG_JOBS:-$(nproc)}

bash "$root/scripts/install-deps.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j"$jobs"
ctest --test-dir "$build" --output-on-failure -j"${LEADLOG_TEST_JOBS:-2}" "$@"
