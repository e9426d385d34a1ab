#!/usr/bin/env bash
# The test command (README.md): installs what is missing, configures, builds and runs every test.
#   ./tests/run.sh                 all tests
#   ./tests/run.sh -R Codec        extra arguments go to ctest
# Environment: BUILD_DIR (default build), CTEST_PARALLEL_LEVEL (default: number of cores).
set -euo pipefail
cd "$(dirname "$0")/.."

./deploy/install-deps.sh
build_dir=${BUILD_DIR:-build}
# Paths relative to the checkout, and the working directory left out of the hash (debug info
# would otherwise carry it), so that ccache hits across clones of the repository.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir"
ctest --test-dir "$build_dir" --output-on-failure -j "${CTEST_PARALLEL_LEVEL:-$(nproc)}" \
  --timeout 300 "$@"
