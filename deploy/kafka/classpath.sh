#!/usr/bin/env bash
# Prints the class path of the pinned Apache Kafka broker (deploy/kafka/pom.xml), resolving it
# from Maven Central into Maven's local repository (~/.m2) the first time. Later runs read the
# cached list (under ${XDG_CACHE_HOME:-~/.cache}/choreo) and touch no network.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
cache="${XDG_CACHE_HOME:-$HOME/.cache}/choreo/kafka-$version"
list="$cache/classpath"
# The list is keyed by the pom's content, so editing the pom resolves again.
stamp="$cache/pom.sha256"

cached_list_is_whole() {
  [[ -f "$list" && -f "$stamp" ]] || return 1
  [[ "$(sha256sum <"$here/pom.xml")" == "$(cat "$stamp")" ]] || return 1
  local jar
  while IFS= read -r -d: jar || [[ -n "$jar" ]]; do
    [[ -f "$jar" ]] || return 1
  done <"$list"
}

if ! cached_list_is_whole; then
  mkdir -p "$cache"
  echo "kafka: resolving Apache Kafka $version from Maven Central" >&2
  mvn -B -q -Dstyle.color=never -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$list.tmp" >&2
  mv "$list.tmp" "$list"
  sha256sum <"$here/pom.xml" >"$stamp"
fi
cat "$list"
