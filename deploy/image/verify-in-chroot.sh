#!/usr/bin/env bash
# Runs deploy/image/Dockerfile's two stages without a container engine, in Debian 12 chroots made
# by debootstrap (root only, a few minutes, Debian's mirror): for machines with no Docker, and to
# check a change to the image's recipe before a registry builds it.
#
#   deploy/image/verify-in-chroot.sh [WORK_DIR]     (default: a temporary directory, removed)
#
# 1. build stage: a minimal bookworm (as small as debian:12-slim, so nothing the build needs is
#    there by chance), the checkout's HEAD copied in (git archive: what a clone holds), then the
#    Dockerfile's steps: deploy/install-deps.sh --build and deploy/build.sh --install /opt/choreo;
# 2. runtime stage: another minimal bookworm with runtime-packages.txt and user 10001, the
#    install prefix copied to /usr/local;
# 3. in it, as 10001: every binary's --help, make-certs.sh, and choreo-order started against a
#    redis-server and the dev broker on the host's loopback, until its gRPC probe (its
#    --health-listen) answers SERVING for readiness and liveness, then stopped with SIGTERM.
# Exits non-zero at the first failure, saying which step.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
[[ $(id -u) -eq 0 ]] || { echo "verify-in-chroot.sh: run as root (debootstrap, chroot)" >&2; exit 2; }
for tool in debootstrap redis-server curl; do
  command -v "$tool" >/dev/null || { echo "verify-in-chroot.sh: needs $tool" >&2; exit 2; }
done
devbroker="$repo/${BUILD_DIR:-build}/tools/devbroker/choreo-devbroker"
[[ -x "$devbroker" ]] || { echo "verify-in-chroot.sh: build choreo-devbroker first" >&2; exit 2; }

work=${1:-$(mktemp -d /tmp/choreo-image-XXXXXX)}
keep=${1:+yes}
build=$work/build runtime=$work/runtime
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for root in "$build" "$runtime"; do umount "$root/proc" 2>/dev/null || true; done
  [[ -n "$keep" ]] || rm -rf "$work"
}
trap cleanup EXIT
step() { echo "== $*"; }

bootstrap() {  # DIR: a minimal bookworm with name resolution and /proc (process substitution)
  debootstrap --variant=minbase bookworm "$1" http://deb.debian.org/debian >"$1.log" 2>&1 ||
    { tail -5 "$1.log"; echo "verify-in-chroot.sh: debootstrap $1 failed" >&2; exit 1; }
  cp /etc/resolv.conf "$1/etc/"
  mount -t proc proc "$1/proc"
}

step "build stage: debootstrap, install-deps.sh --build, build.sh --install /opt/choreo"
mkdir -p "$work"
bootstrap "$build"
mkdir -p "$build/src"
git -C "$repo" archive HEAD | tar -x -C "$build/src"
chroot "$build" /bin/bash -c "cd /src && deploy/install-deps.sh --build &&
  BUILD_DIR=/tmp/build BUILD_TYPE=Release deploy/build.sh --install /opt/choreo" \
  >"$work/build-stage.log" 2>&1 ||
  { tail -20 "$work/build-stage.log"; echo "verify-in-chroot.sh: the build stage failed" >&2; exit 1; }
tail -1 "$work/build-stage.log"

step "runtime stage: debootstrap, runtime-packages.txt, user 10001, the prefix in /usr/local"
bootstrap "$runtime"
cp "$repo/deploy/image/runtime-packages.txt" "$runtime/tmp/"
chroot "$runtime" /bin/bash -c "apt-get update -qq &&
  grep -v '^#' /tmp/runtime-packages.txt | xargs apt-get install -y -qq --no-install-recommends &&
  groupadd --gid 10001 choreo &&
  useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin choreo" \
  >"$work/runtime-stage.log" 2>&1 ||
  { tail -20 "$work/runtime-stage.log"; echo "verify-in-chroot.sh: the runtime stage failed" >&2; exit 1; }
cp -a "$build/opt/choreo/." "$runtime/usr/local/"
as_choreo() { chroot --userspec=10001:10001 "$runtime" "$@"; }

step "every binary's --help as uid 10001"
for binary in "$runtime"/usr/local/bin/*; do
  as_choreo "/usr/local/bin/${binary##*/}" --help >/dev/null ||
    { echo "verify-in-chroot.sh: ${binary##*/} --help failed" >&2; exit 1; }
  echo "ok ${binary##*/}"
done
as_choreo /usr/local/share/choreo/make-certs.sh /tmp/tls order operator
made=("$runtime"/tmp/tls/*)
echo "ok make-certs.sh: ${made[*]##*/}"

step "choreo-order in the runtime stage, against the host's redis-server and dev broker"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
redis_port=$(port) health_port=$(port) admin_port=$(port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" &
pids+=($!)
"$devbroker" --partitions 2 --address-file "$work/kafka.address" >"$work/devbroker.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -s "$work/kafka.address" ]] && break; sleep 0.1; done
# chroot itself, not a function in a subshell: $! must be the process (chroot execs it).
chroot --userspec=10001:10001 "$runtime" /usr/local/bin/choreo-order --kafka-brokers "$(cat "$work/kafka.address")" \
  --redis "127.0.0.1:$redis_port" --grpc-listen 127.0.0.1:0 \
  --health-listen "127.0.0.1:$health_port" --admin-listen "127.0.0.1:$admin_port" \
  >"$work/order.log" 2>&1 &
order=$!
pids+=("$order")
ready=""
for _ in $(seq 300); do
  ready=$(curl -fsS "http://127.0.0.1:$admin_port/readyz" 2>/dev/null || true)
  [[ "$ready" == *'"ready":true'* ]] && break
  sleep 0.1
done
[[ "$ready" == *'"ready":true'* ]] ||
  { tail -5 "$work/order.log"; echo "verify-in-chroot.sh: choreo-order never ready" >&2; exit 1; }
echo "ok /readyz: $ready"
grpcurl="$repo/tests/tools/ops/bin/grpcurl"
if [[ -x "$grpcurl" ]]; then
  for service in "" liveness; do
    "$grpcurl" -plaintext -d "{\"service\":\"$service\"}" "127.0.0.1:$health_port" \
      grpc.health.v1.Health/Check | grep -q '"SERVING"' ||
      { echo "verify-in-chroot.sh: the probe of '$service' is not SERVING" >&2; exit 1; }
    echo "ok gRPC probe '$service': SERVING"
  done
fi
kill -TERM "$order"
wait "$order" ||
  { tail -5 "$work/order.log"; echo "verify-in-chroot.sh: choreo-order's stop failed" >&2; exit 1; }
echo "ok choreo-order stopped on SIGTERM: $(tail -1 "$work/order.log")"
echo "the image's two stages work: built from HEAD, run as uid 10001"
