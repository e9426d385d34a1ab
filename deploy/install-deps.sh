#!/usr/bin/env bash
# Installs everything choreo needs to build, test and run on Debian 12: Debian's packages, and the
# Apache Kafka broker (deploy/kafka/pom.xml) from Maven Central into Maven's local repository.
# Idempotent, and quick when everything is present (one dpkg query, no apt-get or Maven call).
# Uses sudo when not run as root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev libgrpc-dev
  librdkafka-dev libhiredis-dev libabsl-dev libgtest-dev libgmock-dev
  libsodium-dev libcurl4-openssl-dev libmicrohttpd-dev prometheus-cpp-dev
  redis-server kcat grpc-proto curl jq
  # The local CA and the processes' certificates (deploy/local/make-certs.sh).
  openssl
  # Apache Kafka runs on a JRE; Maven resolves its jars (deploy/kafka/classpath.sh).
  default-jre-headless maven
  # The timeline page's browser test: headless Chromium, and fonts for its screenshot.
  chromium fonts-dejavu-core fonts-liberation
)

# Node.js runs the OpenAPI validator the tests use; an installed node + npm will do, else Debian's.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
# Go builds the TCP proxy the fault matrix slows links with; an installed Go will do, else Debian's.
go=$(command -v go || true)
[[ -n "$go" || ! -x /usr/local/go/bin/go ]] || go=/usr/local/go/bin/go
[[ -n "$go" ]] || packages+=(golang-go)

missing=()
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "install-deps: installing ${missing[*]}" >&2
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The test fixtures start their own redis-server; the distribution's service is not needed.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet redis-server 2>/dev/null; then
    "${sudo[@]}" systemctl disable --now redis-server >/dev/null 2>&1 || true
  fi
  echo "install-deps: done" >&2
fi

# The OpenAPI validator of the tests (tests/tools/openapi), from npm, pinned by its lock file.
validator="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/tools/openapi"
if [[ ! -f "$validator/node_modules/@apidevtools/swagger-parser/package.json" ]]; then
  echo "install-deps: npm ci in tests/tools/openapi" >&2
  npm ci --prefix "$validator" --no-audit --no-fund --loglevel=error >&2
fi

# The pinned Apache Kafka broker: resolved once, then read from the cache without the network.
"$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/kafka/classpath.sh" >/dev/null

# The fault matrix's TCP proxy (tests/tools/toxiproxy), from the Go module proxy, pinned by go.sum.
proxy="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tests/tools/toxiproxy"
if [[ ! -x "$proxy/bin/toxiproxy-server" ]]; then
  echo "install-deps: building toxiproxy-server in tests/tools/toxiproxy" >&2
  (cd "$proxy" && "${go:-go}" build -o bin/toxiproxy-server \
    github.com/Shopify/toxiproxy/v2/cmd/server)
fi
