#!/usr/bin/env bash
# The test command (README.md): installs what is missing, configures, builds and runs every test.
#   ./tests/run.sh                 all tests
#   ./tests/run.sh -R Codec        extra arguments go to ctest
# Environment: BUILD_DIR (default build), CTEST_PARALLEL_LEVEL (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/install-deps.sh
./deploy/build.sh
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "${CTEST_PARALLEL_LEVEL:-$(nproc)}" \
  --timeout 300 "$@"
