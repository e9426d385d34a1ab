#!/usr/bin/env bash
# Installs everything choreo needs on Debian 12, and nothing twice: quick when everything is
# present (one dpkg query, no apt-get, Maven, npm, pip or Go call).
#
#   install-deps.sh           to build, test and run: Debian's packages, the Apache Kafka broker
#                             (deploy/kafka/pom.xml) from Maven Central, and the test tools below
#   install-deps.sh --build   to build only: the compilers and libraries (deploy/image/Dockerfile's
#                             build stage; deploy/build.sh builds after it)
#
# The test tools, each pinned by its own lock file: the OpenAPI validator (npm,
# tests/tools/openapi), the fault matrix's TCP proxy (Go, tests/tools/toxiproxy), grpcurl and
# kustomize (Go, tests/tools/ops), Jaeger (Go, tests/tools/jaeger), Docker Compose's loader (Go,
# tests/tools/compose) and the Python tools of the deployment tests (PyPI, tests/tools/python). Uses sudo when not run as root.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

build_only=false
case "${1:-}" in
  "") ;;
  --build) build_only=true ;;
  *) echo "install-deps.sh: unknown flag '$1'; usage: install-deps.sh [--build]" >&2; exit 2 ;;
esac

packages=(
  build-essential cmake ninja-build ccache pkg-config
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev libgrpc-dev
  librdkafka-dev libhiredis-dev libabsl-dev libgtest-dev libgmock-dev libjemalloc-dev
  libsodium-dev libcurl4-openssl-dev libmicrohttpd-dev prometheus-cpp-dev
  # grpc.health.v1's .proto, compiled into every server so that reflection describes it.
  grpc-proto
)
if ! $build_only; then
  packages+=(
    redis-server kcat curl jq
    # The local CA and the processes' certificates (deploy/local/make-certs.sh).
    openssl
    # Apache Kafka runs on a JRE; Maven resolves its jars (deploy/kafka/classpath.sh).
    default-jre-headless maven
    # The timeline page's browser test: headless Chromium, and fonts for its screenshot.
    chromium fonts-dejavu-core fonts-liberation
    # The deployment tests: shell scripts' lint, Prometheus and promtool (alert rules and a
    # real scrape), and Python's venv for the PyPI tools.
    shellcheck prometheus python3-venv
  )
fi

# Node.js runs the OpenAPI validator the tests use; an installed node + npm will do, else Debian's.
$build_only || command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
# Go builds the test tools; an installed Go will do, else Debian's (1.19: enough for the TCP
# proxy, not for the deployment tests' tools, whose go.mod files need Go 1.25 or later).
go=$(command -v go || true)
[[ -n "$go" || ! -x /usr/local/go/bin/go ]] || go=/usr/local/go/bin/go
$build_only || [[ -n "$go" ]] || packages+=(golang-go)

sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
# Debian starts a package's service on install; the tests start their own servers on free ports.
stop_service() {
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$1" 2>/dev/null; then
    "${sudo[@]}" systemctl disable --now "$1" >/dev/null 2>&1 || true
  fi
  if [[ -x "/etc/init.d/$1" ]]; then "${sudo[@]}" "/etc/init.d/$1" stop >/dev/null 2>&1 || true; fi
}
missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for service in redis-server prometheus; do
    [[ " ${missing[*]} " == *" $service "* ]] && stop_service "$service"
  done
  echo "install-deps: done" >&2
fi
$build_only && exit 0

# The OpenAPI validator of the tests (tests/tools/openapi), from npm, pinned by its lock file.
validator="$root/tests/tools/openapi"
if [[ ! -f "$validator/node_modules/@apidevtools/swagger-parser/package.json" ]]; then
  echo "install-deps: npm ci in tests/tools/openapi" >&2
  npm ci --prefix "$validator" --no-audit --no-fund --loglevel=error >&2
fi

# The pinned Apache Kafka broker: resolved once, then read from the cache without the network.
"$root/deploy/kafka/classpath.sh" >/dev/null

# go_tool DIR BINARY PACKAGE: builds PACKAGE, pinned by DIR's go.mod and go.sum, into DIR/bin/,
# with a Go at least as new as go.mod's `go` line asks (else says so and fails).
go_tool() {
  if [[ ! -x "$1/bin/$2" ]]; then
    local needs have
    needs=$(sed -n -E 's/^go 1\.([0-9]+).*/\1/p' "$1/go.mod")
    have=$("${go:-go}" env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
    if [[ "$have" =~ ^[0-9]+$ && "$have" -lt "$needs" ]]; then
      echo "install-deps: $2 (${1#"$root"/}) needs Go 1.$needs or later; ${go:-go} is 1.$have:" \
        "install a newer Go (https://go.dev/doc/install)" >&2
      exit 1
    fi
    echo "install-deps: building $2 in ${1#"$root"/}" >&2
    (cd "$1" && "${go:-go}" build -o "bin/$2" "$3")
  fi
}
# The fault matrix's TCP proxy (Shopify's toxiproxy-server).
go_tool "$root/tests/tools/toxiproxy" toxiproxy-server github.com/Shopify/toxiproxy/v2/cmd/server
# The deployment tests' operator tools and tracing backend.
go_tool "$root/tests/tools/ops" grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl
go_tool "$root/tests/tools/ops" kustomize sigs.k8s.io/kustomize/kustomize/v5
go_tool "$root/tests/tools/jaeger" jaeger github.com/jaegertracing/jaeger/cmd/jaeger
go_tool "$root/tests/tools/compose" docker-compose github.com/docker/compose/v2/cmd

# The deployment tests' Python tools, in their own venv, reinstalled when the pins change.
venv="$root/tests/tools/python/.venv"
requirements="$root/tests/tools/python/requirements.txt"
if ! cmp -s "$requirements" "$venv/requirements.txt"; then
  echo "install-deps: pip install into tests/tools/python/.venv" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  cp "$requirements" "$venv/requirements.txt"
fi
