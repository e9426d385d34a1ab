#!/usr/bin/env bash
# Configures and builds choreo with CMake and Ninja (ccache when present): the one build recipe of
# tests/run.sh, deploy/local/up.sh and the image's build stage (deploy/image/Dockerfile).
#
#   build.sh [TARGET...]              builds TARGETs (default: everything, the tests included)
#   build.sh --install PREFIX         builds what is installed (the services, the gateway and
#                                     the operators' commands) and installs it, stripped, into
#                                     PREFIX/bin and PREFIX/share/choreo
#
# Environment: BUILD_DIR (default build), BUILD_TYPE (default RelWithDebInfo).
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=""
if [[ "${1:-}" == "--install" ]]; then
  [[ $# -eq 2 ]] || { echo "build.sh: usage: build.sh --install PREFIX" >&2; exit 2; }
  prefix="$2"
  set -- installed
fi
build_dir=${BUILD_DIR:-build}
# Paths relative to the checkout, and the working directory left out of the hash (debug info
# would otherwise carry it), so that ccache hits across clones of the repository.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" >/dev/null
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build "$build_dir" "${targets[@]}"
if [[ -n "$prefix" ]]; then
  cmake --install "$build_dir" --prefix "$prefix" --strip >/dev/null
  installed=("$prefix"/bin/*)
  echo "build.sh: installed into $prefix: ${installed[*]##*/}"
fi
