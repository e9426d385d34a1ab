#!/usr/bin/env bash
# Runs choreo locally on one machine: installs what is missing, builds, starts redis-server, the
# embedded dev broker (librdkafka's in-memory mock cluster: development only), the user, order,
# billing and notification services and the gateway on free loopback ports, prints the endpoints
# and runs a demo with choreoctl. Ctrl-C stops everything.
#
#   ./deploy/local/up.sh            run until Ctrl-C
#   ./deploy/local/up.sh --check    start, demo, stop (exit status tells whether it worked)
#
# Endpoints are also written to .run/ (*.address) for other tools; logs go to .run/logs/. The
# token signing key pair is made on the first run and kept in .run/keys/ (the user service signs
# with the private key, the gateway verifies with the public one); notifications sent through the
# file channel are appended to .run/notifications.jsonl.
# Every process also serves /metrics, /healthz and /readyz on its own admin port (.run/*.admin.address).
# Environment: BUILD_DIR (default build), CHOREO_PARTITIONS (default 4), CHOREO_OTLP_ENDPOINT (an
# OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces of a local Jaeger: every process
# exports its spans there), CHOREO_LOG_LEVEL (default info).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

check_only=false
[[ "${1:-}" == "--check" ]] && check_only=true

./deploy/install-deps.sh
build_dir=${BUILD_DIR:-build}
# Paths relative to the checkout, so that ccache hits across clones of the repository.
export CCACHE_BASEDIR="$PWD"
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" --target choreo-devbroker choreo-order choreo-billing choreo-users \
  choreo-notification choreo-gateway choreoctl choreo-dlq

run_dir=$root/.run
# The dev broker keeps nothing across runs, so neither does Redis: every run starts empty.
rm -rf "$run_dir/redis" "$run_dir"/*.address "$run_dir"/*.port "$run_dir/notifications.jsonl"
mkdir -p "$run_dir/logs" "$run_dir/redis" "$run_dir/keys"

pids=()
stop_all() {
  trap - INT TERM EXIT
  if [[ ${#pids[@]} -gt 0 ]]; then
    echo "stopping ${#pids[@]} process(es)..."
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  rm -f "$run_dir"/*.address "$run_dir"/*.port
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

# Services: Kafka-protocol clients tuned for the dev broker (fetch.wait.max.ms=1).
common=(--kafka-brokers "$kafka" --redis "127.0.0.1:$redis_port" --fetch-wait-max-ms 1
        --log-level "${CHOREO_LOG_LEVEL:-info}")
[[ -n "${CHOREO_OTLP_ENDPOINT:-}" ]] && common+=(--otlp-endpoint "$CHOREO_OTLP_ENDPOINT")
service_flags=(--session-timeout-ms 6000 --max-poll-interval-ms 10000)
start_service() {  # name binary args...
  local name=$1 binary=$2
  shift 2
  "$build_dir/$binary" "$@" --port-file "$run_dir/$name.port" \
    --admin-port-file "$run_dir/$name.admin.port" >"$run_dir/logs/$name.log" 2>&1 &
  pids+=($!)
}
keys=(--jwt-public-key "$run_dir/keys/users-signing-key.pub.pem")
start_service users services/users/choreo-users "${common[@]}" "${service_flags[@]}" "${keys[@]}" \
  --jwt-private-key "$run_dir/keys/users-signing-key.pem"
start_service order services/order/choreo-order "${common[@]}" "${service_flags[@]}"
start_service billing services/billing/choreo-billing "${common[@]}" "${service_flags[@]}"
start_service notification services/notification/choreo-notification "${common[@]}" \
  "${service_flags[@]}" --notification-file "$run_dir/notifications.jsonl" --webhook-allow-private
for name in users order billing notification; do
  wait_for test -s "$run_dir/$name.port"
  echo "127.0.0.1:$(cat "$run_dir/$name.port")" >"$run_dir/$name.address"
done
start_service gateway gateway/choreo-gateway "${common[@]}" "${keys[@]}" \
  --order-address "$(cat "$run_dir/order.address")" \
  --billing-address "$(cat "$run_dir/billing.address")" \
  --users-address "$(cat "$run_dir/users.address")" \
  --notification-address "$(cat "$run_dir/notification.address")" \
  --http-port-file "$run_dir/gateway.http.port"
wait_for test -s "$run_dir/gateway.port"
gateway=127.0.0.1:$(cat "$run_dir/gateway.port")
echo "$gateway" >"$run_dir/gateway.address"
wait_for test -s "$run_dir/gateway.http.port"
http=http://127.0.0.1:$(cat "$run_dir/gateway.http.port")
echo "$http" >"$run_dir/gateway.http.address"
processes=(gateway users order billing notification)
for name in "${processes[@]}"; do
  echo "http://127.0.0.1:$(cat "$run_dir/$name.admin.port")" >"$run_dir/$name.admin.address"
done
admin() { cat "$run_dir/$1.admin.address"; }
# Ready: every consumer assigned, Kafka and Redis reachable (grpc.health.v1 says SERVING too).
for name in "${processes[@]}"; do
  wait_for curl -sf "$(admin "$name")/readyz"
done

cat <<EOT

choreo is running locally
  gateway (gRPC, public API)  $gateway
  gateway (HTTP/JSON)         $http   (OpenAPI: $http/openapi.json)
  user service (gRPC)         $(cat "$run_dir/users.address")
  order service (gRPC)        $(cat "$run_dir/order.address")
  billing service (gRPC)      $(cat "$run_dir/billing.address")
  notification service (gRPC) $(cat "$run_dir/notification.address")
  Kafka (dev broker)          $kafka
  Redis                       127.0.0.1:$redis_port
  saga timeline (web page)    $http/timeline   (JSON: $http/v1/sagas, .../v1/orders/<id>/timeline)
  admin: /metrics /healthz /readyz
$(for name in "${processes[@]}"; do printf '    %-24s  %s\n' "$name" "$(admin "$name")"; done)
  Grafana dashboard           deploy/grafana/choreo-dashboard.json
  logs (JSON lines)           $run_dir/logs/

Topics on the dev broker (kcat -L -b $kafka):
EOT
kcat -L -b "$kafka" | grep -E '^  topic ' | tr -s ' ' | cut -d' ' -f3 | tr -d '"' | paste -sd' ' | fold -s -w 96 | sed 's/^/  /'

ctl() { "$build_dir/gateway/choreoctl/choreoctl" "$1" --gateway "$gateway" "${@:2}"; }
echo
echo "Demo (choreoctl --gateway $gateway ...):"
echo "\$ choreoctl catalog"
ctl catalog | sed 's/^/  /'
# A fresh user per run: the user service keeps users in Redis, which every run empties anyway.
who=(--user alice --password "correct horse battery")
echo "\$ choreoctl register --user alice --password '...'"
ctl register "${who[@]}" --email alice@example.com | sed 's/^/  /'
echo "\$ choreoctl login --user alice --password '...'"
token=$(ctl login "${who[@]}")
echo "  ${token:0:40}...   (an EdDSA-signed JWT; pass it as --token or CHOREO_TOKEN)"
echo "\$ choreoctl deposit --token \$token --amount 5000"
ctl deposit --token "$token" --amount 5000 | sed 's/^/  /'
echo "\$ choreoctl order --token \$token --items BOOK-001:1,MUG-002:1     (32.49 USD: paid)"
paid=$(ctl order --token "$token" --items BOOK-001:1,MUG-002:1)
echo "  $paid"
echo "\$ choreoctl order --token \$token --items CHAIR-006:1              (149.00 USD: more than is left)"
refused=$(ctl order --token "$token" --items CHAIR-006:1)
echo "  $refused"
echo "\$ choreoctl balance --token \$token"
ctl balance --token "$token" | sed 's/^/  /'
echo "\$ choreoctl notifications --token \$token      (one per order, through the file channel)"
notified() { [[ $(ctl notifications --token "$token" | wc -l) -ge 2 ]]; }
wait_for notified || true
ctl notifications --token "$token" | sed 's/^/  /'
echo "  (and as JSON lines in $run_dir/notifications.jsonl)"
echo "\$ choreoctl balance     (no token)"
ctl balance 2>&1 | sed 's/^/  /' || true

# The same API over HTTP/JSON (the google.api.http annotations of gateway.proto).
echo
echo "The same API over HTTP/JSON:"
echo "\$ curl -s -X POST $http/v1/orders -H \"Authorization: Bearer \$token\" -d '{\"requestId\": \"curl-1\", \"items\": [{\"sku\": \"PEN-004\", \"quantity\": 2}], ...}'"
order_json='{"requestId": "curl-1", "items": [{"sku": "PEN-004", "quantity": 2}],
  "deliveryAddress": {"recipient": "Alice", "line1": "1 Main St", "city": "Springfield", "country": "US"},
  "paymentMethod": "PAYMENT_METHOD_ACCOUNT_BALANCE"}'
http_order=$(curl -sS -X POST "$http/v1/orders" -H "Authorization: Bearer $token" -d "$order_json")
echo "  ${http_order:0:160}..."
http_order_id=$(sed -E 's/.*"orderId":"([^"]+)".*/\1/' <<<"$http_order")
echo "\$ curl -s $http/v1/orders/$http_order_id:watch -H \"Authorization: Bearer \$token\"     (newline-delimited JSON)"
curl -sS "$http/v1/orders/$http_order_id:watch" -H "Authorization: Bearer $token" | cut -c1-160 | sed 's/^/  /'
echo "\$ curl -s $http/v1/account/balance     (no token: 401)"
curl -sS -w '  (HTTP %{http_code})\n' "$http/v1/account/balance" | sed 's/^/  /'

# Following the order: its saga timeline (JSON and the live web page) and every process's metrics.
echo
echo "Observability:"
timeline_complete() {
  curl -sf "$http/v1/orders/$http_order_id/timeline" -H "Authorization: Bearer $token" |
    grep -q NotificationSent
}
wait_for timeline_complete || true
echo "\$ curl -s $http/v1/orders/$http_order_id/timeline -H \"Authorization: Bearer \$token\" | jq ...     (a line per hop)"
timeline=$(curl -sS "$http/v1/orders/$http_order_id/timeline" -H "Authorization: Bearer $token")
jq -r '.hops[] | [.service, (.eventType | split(".") | last), "\(.topic)[\(.partition)]@\(.offset)",
                  "+\(.sinceCause)", .status] | @tsv' <<<"$timeline" |
  awk -F'\t' '{ printf "  %-13s %-23s %-30s %-14s %s\n", $1, $2, $3, $4, $5 }'
echo "  the same as a live waterfall: $http/timeline?order_id=$http_order_id#token=\$token"
for name in "${processes[@]}"; do
  echo "\$ curl -s $(admin "$name")/metrics | grep -E '^(choreo_events_consumed_total|choreo_sagas_completed_total|grpc_server_handled_total)' | head -3"
  curl -sS "$(admin "$name")/metrics" |
    grep -E '^(choreo_events_consumed_total|choreo_sagas_completed_total|grpc_server_handled_total)' |
    head -3 | cut -c1-150 | sed 's/^/  /'
done
echo "\$ curl -s $(admin order)/readyz"
curl -sS "$(admin order)/readyz" | sed 's/^/  /'
[[ "$timeline" == *NotificationSent* ]] || {
  echo "demo: the order's timeline is incomplete: ${timeline:0:300}" >&2
  exit 1
}

[[ "$http_order" == *'"status":"ORDER_STATUS_PAID"'* ]] || {
  echo "demo: the HTTP order did not end PAID: $http_order" >&2
  exit 1
}
[[ "$paid" == *" PAID "* && "$refused" == *" INSUFFICIENT_FUNDS "* ]] && notified || {
  echo "demo: unexpected outcome (logs in $run_dir/logs/)" >&2
  exit 1
}

if $check_only; then
  exit 0
fi
echo
echo "Try: $build_dir/gateway/choreoctl/choreoctl register --gateway $gateway --user bob --password 'a long passphrase'"
echo "  or: curl -s -X POST $http/v1/accounts -d '{\"username\": \"bob\", \"password\": \"a long passphrase\"}'"
echo "Press Ctrl-C to stop."
wait "${pids[@]}"
