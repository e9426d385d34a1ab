#!/usr/bin/env bash
# topics.sh: the compose stack's one-shot `topics` job (choreo image). Runs
# `choreo-topics "$@"` (create the missing topics, verify the others, then the ACLs) until it
# succeeds, 3 s between attempts: exit 2 (no broker reached) at most 20 times; exit 1 at most 4
# times, because it is also what a broker that has just started gives for a moment (a topic
# refused for lack of brokers to hold its replicas), while drift or a refused ACL stays.
# choreo-topics is idempotent and never alters a topic, so a retry after a partial run is
# harmless. Exits with choreo-topics' last status; its output is printed for every attempt.
set -euo pipefail

unreachable=0 refused=0
while true; do
  status=0
  choreo-topics "$@" || status=$?
  case $status in
    0) exit 0 ;;
    2) unreachable=$((unreachable + 1)); ((unreachable < 20)) || break ;;
    *) refused=$((refused + 1)); ((refused < 4)) || break ;;
  esac
  echo "topics: choreo-topics exited $status; again in 3 s" >&2
  sleep 3
done
echo "topics: choreo-topics exited $status, giving up (existing topics are never altered: drift needs an operator)" >&2
exit "$status"
