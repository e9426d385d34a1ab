#!/usr/bin/env bash
# Every shell script of the repository passes shellcheck (Debian's), warnings included.
# Usage: tests/deploy/shellcheck.sh REPO
set -euo pipefail
cd "$1"
mapfile -t scripts < <(find . -name '*.sh' -not -path './build*' -not -path '*/node_modules/*' \
  -not -path './.run/*' -not -path './tests/tools/*/bin/*' | sort)
shellcheck --version | sed -n 2p
shellcheck "${scripts[@]}"
echo "shellcheck: ${#scripts[@]} scripts clean"
