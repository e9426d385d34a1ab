#!/usr/bin/env bash
# Runs choreo locally on one machine: installs what is missing, builds, starts redis-server and
# the embedded dev broker (librdkafka's in-memory mock cluster: development only) on free
# loopback ports, prints the endpoints and shows them working. Ctrl-C stops everything.
#
#   ./deploy/local/up.sh            run until Ctrl-C
#   ./deploy/local/up.sh --check    start, show, stop (exit status tells whether it worked)
#
# Endpoints are also written to .run/ (kafka.address, redis.address) for other tools; logs go
# to .run/logs/. Environment: BUILD_DIR (default build), CHOREO_PARTITIONS (default 4).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

check_only=false
[[ "${1:-}" == "--check" ]] && check_only=true

./deploy/install-deps.sh
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" --target choreo-devbroker

run_dir=$root/.run
# The dev broker keeps nothing across runs, so neither does Redis: every run starts empty.
rm -rf "$run_dir/redis" "$run_dir"/*.address
mkdir -p "$run_dir/logs" "$run_dir/redis"

pids=()
stop_all() {
  trap - INT TERM EXIT
  if [[ ${#pids[@]} -gt 0 ]]; then
    echo "stopping ${#pids[@]} process(es)..."
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  rm -f "$run_dir"/*.address
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# A loopback port nothing listens on right now.
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

# Polls `$@` every 50 ms until it succeeds, for at most 30 s.
wait_for() {
  for _ in $(seq 1 600); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "timed out waiting for: $*" >&2
  return 1
}

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$run_dir/redis" \
  --appendonly yes --appendfsync always --save "" --daemonize no \
  >"$run_dir/logs/redis.log" 2>&1 &
pids+=($!)
wait_for redis-cli -p "$redis_port" ping
echo "127.0.0.1:$redis_port" >"$run_dir/redis.address"

"$build_dir/saga/devbroker/choreo-devbroker" --partitions "${CHOREO_PARTITIONS:-4}" \
  --address-file "$run_dir/kafka.address" >"$run_dir/logs/devbroker.log" 2>&1 &
pids+=($!)
wait_for test -s "$run_dir/kafka.address"
kafka=$(cat "$run_dir/kafka.address")

cat <<EOT

choreo is running locally
  Kafka (dev broker)  $kafka        --kafka-brokers $kafka
  Redis               127.0.0.1:$redis_port   --redis 127.0.0.1:$redis_port
  logs                $run_dir/logs/

Topics on the dev broker (kcat -L -b $kafka):
EOT
kcat -L -b "$kafka" | grep -E '^  topic ' | sed 's/^  /  /'
echo
echo "Redis: $(redis-cli -p "$redis_port" ping), appendonly $(redis-cli -p "$redis_port" config get appendonly | tail -1)"

if $check_only; then
  exit 0
fi
echo
echo "Press Ctrl-C to stop."
wait "${pids[@]}"
