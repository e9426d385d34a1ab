#!/usr/bin/env bash
# Runs choreo locally on one machine: installs what is missing, builds, starts redis-server, a
# Kafka broker, the user, order, billing and notification services and the gateway on free
# loopback ports, prints the endpoints and runs a demo with choreoctl. Ctrl-C stops everything.
#
#   ./deploy/local/up.sh [--check] [--fresh] [--dev-broker]
#
#   (no flag)      run until Ctrl-C, on Apache Kafka (one KRaft node, deploy/kafka/kafka-node.sh)
#   --check        start, run the demo, stop (the exit status tells whether it all worked)
#   --fresh        start empty: wipe the kept data first (.run/kafka, .run/redis, the demo's
#                  users and .run/notifications.jsonl)
#   --dev-broker   the embedded dev broker (librdkafka's in-memory mock cluster) instead of
#                  Kafka: nothing is kept, Redis (.run/dev/) starts empty on every run
#   -h, --help     this text
#
# On Apache Kafka the data is kept across runs: the node's log and metadata in .run/kafka/,
# Redis's AOF in .run/redis/ (users, balances, orders), so a restart of up.sh finds them again;
# every run registers its own demo user (alice-<date>-<time>) and shows the first run's.
# Topics are never created on first use there: choreo-topics creates or verifies them before
# the services start. The first start resolves the broker's jars from Maven Central (java, mvn).
# Endpoints are also written to .run/ (*.address) for other tools; logs go to .run/logs/. The
# token signing key pair is made on the first run and kept in .run/keys/ (the user service signs
# with the private key, the gateway verifies with the public one); notifications sent through the
# file channel are appended to .run/notifications.jsonl (.run/dev/ with --dev-broker). The
# processes talk gRPC over mutual TLS: a local CA and one certificate per process (and one for
# "operator", to call the services' admin APIs with grpcurl) are made on the first run and kept
# in .run/tls/ (deploy/local/make-certs.sh). On Apache Kafka every process logs in (SASL) as its
# own Kafka user and may touch only its own topics and groups (choreo-topics --acls); the users
# and their passwords are made on the first run and kept in .run/kafka-auth/ (admin.properties
# there is the login for kcat -F and the Kafka tools).
# Every process also serves /metrics, /healthz and /readyz on its own admin port (.run/*.admin.address).
# Ctrl-C (and the end of --check) stops the processes in the reverse order of their start,
# gateway first and Redis last, each with SIGTERM and SIGKILL after a few seconds: within 10 s.
# Environment: BUILD_DIR (default build), CHOREO_PARTITIONS (default 4; on kept Kafka data a
# different count is drift: --fresh), CHOREO_KAFKA_HEAP (default 512m), CHOREO_OTLP_ENDPOINT (an
# OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces of a local Jaeger: every process
# exports its spans there), CHOREO_LOG_LEVEL (default info).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

usage() { sed -n '2,/^set -euo pipefail$/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
check_only=false fresh=false dev_broker=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --check) check_only=true ;;
    --fresh) fresh=true ;;
    --dev-broker) dev_broker=true ;;
    -h | --help) usage; exit 0 ;;
    *) echo "up.sh: unknown flag '$1'; usage: up.sh [--check] [--fresh] [--dev-broker] (--help)" >&2
       exit 2 ;;
  esac
  shift
done

./deploy/install-deps.sh
build_dir=${BUILD_DIR:-build}
partitions=${CHOREO_PARTITIONS:-4}
./deploy/build.sh installed choreo-devbroker

kafka_version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' deploy/kafka/pom.xml)
if ! $dev_broker; then
  command -v java >/dev/null ||
    { echo "up.sh: Apache Kafka needs java (apt-get install openjdk-17-jre-headless maven), or use --dev-broker" >&2; exit 1; }
  # Resolves the broker's jars the first time (Maven Central), then reads a cached list.
  deploy/kafka/classpath.sh >/dev/null
fi

run_dir=$root/.run
mkdir -p "$run_dir"
# One up.sh per checkout: two would share the kept data. Started processes inherit the lock.
exec 9>"$run_dir/up.lock"
flock -n 9 || { echo "up.sh: another up.sh runs from $root (.run/up.lock)" >&2; exit 1; }
demo_users=$run_dir/demo-users  # the demo user of every run on the kept data, oldest first
if $fresh; then
  rm -rf "$run_dir/kafka" "$run_dir/redis" "$demo_users" "$run_dir/notifications.jsonl"
fi
rm -f "$run_dir"/*.address "$run_dir"/*.port
if $dev_broker; then
  # The dev broker keeps nothing across runs, so neither does its Redis: every run starts empty.
  # Its own directory, so that the data kept for Kafka stays whole.
  rm -rf "${run_dir:?}/dev"
  redis_dir=$run_dir/dev/redis notifications=$run_dir/dev/notifications.jsonl
else
  redis_dir=$run_dir/redis notifications=$run_dir/notifications.jsonl
  # The demo users live in Redis: without its data their list means nothing.
  [[ -d "$redis_dir" ]] || rm -f "$demo_users"
fi
mkdir -p "$run_dir/logs" "$run_dir/keys" "$redis_dir"
deploy/local/make-certs.sh "$run_dir/tls" gateway users order billing notification operator
tls() { echo --tls-ca "$run_dir/tls/ca.pem" --tls-cert "$run_dir/tls/$1.pem" --tls-key "$run_dir/tls/$1.key"; }

# The processes started, in order: Ctrl-C or the end stops them in reverse.
names=() pids=()
launch() {  # name command...: in its own session, so a terminal's Ctrl-C reaches up.sh alone
  local name=$1
  shift
  setsid "$@" >"$run_dir/logs/$name.log" 2>&1 &
  names+=("$name")
  pids+=($!)
}
now_ms() { local t=${EPOCHREALTIME//[.,]/}; echo $((t / 1000)); }
seconds() { printf '%d.%d s' $(($1 / 1000)) $(($1 % 1000 / 100)); }
# SIGTERM, one process at a time, newest first; SIGKILL when one takes longer than its share of a
# 9.5 s budget (a few seconds, keeping 0.5 s for each one still to stop).
# shellcheck disable=SC2317  # run by the EXIT trap
stop_all() {
  local rc=$?
  trap '' INT TERM HUP
  trap - EXIT
  if [[ ${#pids[@]} -gt 0 ]]; then
    echo
    local start i pid name t0 grace left budget=9500
    start=$(now_ms)
    echo -n "stopping:"
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
      pid=${pids[i]} name=${names[i]}
      case "$name" in
        kafka) grace=5000 ;;
        redis) grace=2000 ;;
        *) grace=3000 ;;
      esac
      t0=$(now_ms)
      left=$((start + budget - 500 * i - t0))
      if ((left < grace)); then grace=$((left > 100 ? left : 100)); fi
      kill -TERM "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null && (($(now_ms) - t0 < grace)); do sleep 0.05; done
      if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        name+=" (SIGKILL)"
      fi
      wait "$pid" 2>/dev/null || true
      echo -n " $name $(seconds $(($(now_ms) - t0)))"
    done
    echo
    echo "stopped ${#pids[@]} process(es) in $(seconds $(($(now_ms) - start)))"
  fi
  rm -f "$run_dir"/*.address "$run_dir"/*.port
  exit "$rc"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# A loopback port nothing listens on right now, below the kernel's ephemeral range: outgoing
# connections take those at any moment, and the broker binds its ports seconds after the choice.
free_port() {
  local port low=0 high
  read -r low high </proc/sys/net/ipv4/ip_local_port_range || true
  if ((low >= 12000)); then high=$low low=10000; else low=20000 high=60000; fi
  for _ in $(seq 1 100); do
    port=$((low + (RANDOM * 32768 + RANDOM) % (high - low)))
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
# Every process logs in to Redis as its own ACL user, allowed only its own keys; up.sh and
# operators log in as admin. Passwords are made once and kept in .run/redis-auth (mode 0600).
redis_auth=$run_dir/redis-auth
"$build_dir/tools/redisacl/choreo-redis-acl" --dir "$redis_auth"
redis_login() { echo --redis-user "$1" --redis-password-file "$redis_auth/$1.password"; }
# Its AOF holds users, balances and orders: readable by its owner only.
old_umask=$(umask)
umask 077
launch redis redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$redis_dir" \
  --appendonly yes --appendfsync always --save "" --rdbcompression no --daemonize no \
  --aclfile "$redis_auth/users.acl"
umask "$old_umask"
wait_for redis-cli -p "$redis_port" --user admin --pass "$(cat "$redis_auth/admin.password")" \
  --no-auth-warning ping
echo "127.0.0.1:$redis_port" >"$run_dir/redis.address"

# The Kafka login of up.sh's kcat, and a process's --kafka-properties (none on the dev broker).
kcat_login=()
kafka_login() { :; }
if $dev_broker; then
  launch devbroker "$build_dir/tools/devbroker/choreo-devbroker" --partitions "$partitions" \
    --address-file "$run_dir/kafka.address"
  wait_for test -s "$run_dir/kafka.address"
  kafka=$(cat "$run_dir/kafka.address")
  broker="the dev broker (librdkafka's in-memory mock cluster: nothing kept)"
  topics_line="created by the dev broker"
  # Tuned for the mock, which holds an empty fetch for the whole fetch.wait.max.ms.
  fetch_flags=(--fetch-wait-max-ms 1)
else
  # New ports every run: kafka-node.sh writes the listeners and the (one-voter) quorum anew.
  kafka_port=$(free_port)
  controller_port=$(free_port)
  while [[ $controller_port == "$kafka_port" ]]; do controller_port=$(free_port); done
  kafka=127.0.0.1:$kafka_port
  [[ -f "$run_dir/kafka/data/meta.properties" ]] && kept=kept || kept=new
  # Every process logs in as its own Kafka user and may touch only its own topics and groups
  # (choreo-topics --acls); up.sh's own kcat and choreo-topics log in as admin.
  auth_dir=$run_dir/kafka-auth
  if [[ ! -f "$auth_dir/users" ]]; then
    mkdir -p "$auth_dir"
    (umask 077
     for user in admin gateway users order billing notification; do
       echo "$user $(head -c 18 /dev/urandom | base64 | tr '+/' '-_')"
     done >"$auth_dir/users.tmp")
    mv "$auth_dir/users.tmp" "$auth_dir/users"
  fi
  while read -r user password; do
    (umask 077
     printf '%s\n' security.protocol=sasl_plaintext sasl.mechanisms=PLAIN "sasl.username=$user" \
       "sasl.password=$password" >"$auth_dir/$user.properties")
  done <"$auth_dir/users"
  kcat_login=(-F "$auth_dir/admin.properties")
  echo "Apache Kafka $kafka_version: starting one node on $kafka ($kept data in .run/kafka)..."
  launch kafka deploy/kafka/kafka-node.sh --dir "$run_dir/kafka" --port "$kafka_port" \
    --controller-port "$controller_port" --heap "${CHOREO_KAFKA_HEAP:-512m}" \
    --sasl-users "$auth_dir/users"
  kafka_pid=${pids[-1]}
  kafka_started=$(now_ms)
  # A JVM: seconds, more on the first start (it formats the storage too). At most 120 s.
  until kcat "${kcat_login[@]}" -L -b "$kafka" -m 1 >/dev/null 2>&1; do
    if ! kill -0 "$kafka_pid" 2>/dev/null || (($(now_ms) - kafka_started > 120000)); then
      echo "up.sh: Apache Kafka did not start (.run/logs/kafka.log):" >&2
      tail -n 20 "$run_dir/logs/kafka.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "$kafka" >"$run_dir/kafka.address"
  echo "Apache Kafka serves on $kafka after $(seconds $(($(now_ms) - kafka_started)))"
  # Never created on first use here: choreo-topics creates what is missing, verifies the rest.
  if ! topics_out=$("$build_dir/tools/topicsctl/choreo-topics" --kafka-brokers "$kafka" \
        --kafka-properties "$auth_dir/admin.properties" --acls \
        --partitions "$partitions" --replication-factor 1 2>"$run_dir/logs/topics.log"); then
    echo "$topics_out" >&2
    echo "up.sh: choreo-topics failed (.run/logs/topics.log); existing topics are never altered: --fresh starts over" >&2
    exit 1
  fi
  topics_line="choreo-topics: $(grep 'topics declared' <<<"$topics_out")"
  broker="Apache Kafka $kafka_version (KRaft, 1 node, data in .run/kafka)"
  kafka_login() { echo --kafka-properties "$auth_dir/$1.properties"; }
  # Kafka answers a long-poll fetch as soon as data arrives: the services' default stands.
  fetch_flags=()
fi

common=(--kafka-brokers "$kafka" --redis "127.0.0.1:$redis_port" "${fetch_flags[@]}"
        --log-level "${CHOREO_LOG_LEVEL:-info}")
[[ -n "${CHOREO_OTLP_ENDPOINT:-}" ]] && common+=(--otlp-endpoint "$CHOREO_OTLP_ENDPOINT")
service_flags=(--session-timeout-ms 6000 --max-poll-interval-ms 10000)
start_service() {  # name binary args...
  local name=$1 binary=$2
  shift 2
  # shellcheck disable=SC2046 # these print flags and file paths without spaces
  launch "$name" "$build_dir/$binary" "$@" $(tls "$name") $(kafka_login "$name") $(redis_login "$name") \
    --port-file "$run_dir/$name.port" \
    --admin-port-file "$run_dir/$name.admin.port"
}
keys=(--jwt-public-key "$run_dir/keys/users-signing-key.pub.pem")
start_service users services/users/choreo-users "${common[@]}" "${service_flags[@]}" "${keys[@]}" \
  --jwt-private-key "$run_dir/keys/users-signing-key.pem"
start_service order services/order/choreo-order "${common[@]}" "${service_flags[@]}"
start_service billing services/billing/choreo-billing "${common[@]}" "${service_flags[@]}"
start_service notification services/notification/choreo-notification "${common[@]}" \
  "${service_flags[@]}" --notification-file "$notifications" --webhook-allow-private
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
# On kept Kafka data, a consumer group that a process of an earlier run left without a clean stop
# (SIGKILL) can assign partitions to the new member at once, then take them back to wait until the
# old member's session times out (up to 10 s): so ready twice, 1.5 s apart; at most 90 s.
ready_started=$(now_ms)
rounds=(first again)
$dev_broker && rounds=(first)
for round in "${rounds[@]}"; do
  [[ $round == first ]] || sleep 1.5
  for name in "${processes[@]}"; do
    told=false
    until curl -sf "$(admin "$name")/readyz" >/dev/null 2>&1; do
      waited=$(($(now_ms) - ready_started))
      if ! $told && ((waited > 5000)); then
        echo "waiting for $name: $(curl -s "$(admin "$name")/readyz")"
        told=true
      fi
      if ((waited > 90000)); then
        echo "up.sh: $name is not ready after 90 s (.run/logs/$name.log)" >&2
        exit 1
      fi
      sleep 0.05
    done
  done
done
if $dev_broker; then
  redis_line="(in .run/dev/redis, emptied every run)"
else
  redis_line="(AOF in .run/redis, kept across runs; --fresh empties it)"
fi

cat <<EOT

choreo is running locally
  gateway (gRPC, public API)  $gateway
  gateway (HTTP/JSON)         $http   (OpenAPI: $http/openapi.json)
  user service (gRPC)         $(cat "$run_dir/users.address")
  order service (gRPC)        $(cat "$run_dir/order.address")
  billing service (gRPC)      $(cat "$run_dir/billing.address")
  notification service (gRPC) $(cat "$run_dir/notification.address")
    (mutual TLS: grpcurl -cacert .run/tls/ca.pem -cert .run/tls/operator.pem
     -key .run/tls/operator.key -authority order ADDRESS list)
  Kafka                       $kafka   $broker
  Redis                       127.0.0.1:$redis_port   $redis_line
    (ACL user per process: redis-cli -p $redis_port --user admin
     --pass "\$(cat .run/redis-auth/admin.password)")
  saga timeline (web page)    $http/timeline   (JSON: $http/v1/sagas, .../v1/orders/<id>/timeline)
  admin: /metrics /healthz /readyz
$(for name in "${processes[@]}"; do printf '    %-24s  %s\n' "$name" "$(admin "$name")"; done)
  Grafana dashboard           deploy/grafana/choreo-dashboard.json
  logs (JSON lines)           $run_dir/logs/

Topics ($topics_line; kcat ${kcat_login[*]} -L -b $kafka):
EOT
kcat "${kcat_login[@]}" -L -b "$kafka" | grep -E '^  topic ' | tr -s ' ' | cut -d' ' -f3 | tr -d '"' | grep -v '^__' |
  paste -sd' ' | fold -s -w 96 | sed 's/^/  /'

ctl() { "$build_dir/gateway/choreoctl/choreoctl" "$1" --gateway "$gateway" "${@:2}"; }
password="correct horse battery"
echo
echo "Demo (choreoctl --gateway $gateway ...):"
# Kept data: the first run's user is still there, with its balance and orders.
if ! $dev_broker && [[ -s "$demo_users" ]]; then
  first=$(head -n 1 "$demo_users")
  echo "Kept from $(wc -l <"$demo_users") earlier run(s) (.run/kafka, .run/redis); the first run's user:"
  echo "\$ choreoctl login --user $first --password '...'"
  if ! first_token=$(ctl login --user "$first" --password "$password" 2>&1); then
    echo "  $first_token"
    echo "demo: the first run's user $first is gone: the kept data did not survive (--fresh starts over)" >&2
    exit 1
  fi
  echo "\$ choreoctl balance --token \$first_token"
  ctl balance --token "$first_token" | sed 's/^/  /'
  echo "\$ choreoctl list --token \$first_token"
  ctl list --token "$first_token" | sed 's/^/  /'
  echo "\$ kcat ${kcat_login[*]} -C -b $kafka -t orders.status -e -q | wc -l     (order status events of the earlier runs)"
  echo "  $(kcat "${kcat_login[@]}" -C -b "$kafka" -t orders.status -o beginning -e -q -f '\n' | wc -l)"
  echo
fi
echo "\$ choreoctl catalog"
ctl catalog | sed 's/^/  /'
# A new user per run: on Kafka the users of earlier runs are still there (.run/demo-users).
user=alice-$(date +%m%d-%H%M%S)
who=(--user "$user" --password "$password")
echo "\$ choreoctl register --user $user --password '...'"
ctl register "${who[@]}" --email "$user@example.com" | sed 's/^/  /'
$dev_broker || echo "$user" >>"$demo_users"
echo "\$ choreoctl login --user $user --password '...'"
token=$(ctl login "${who[@]}")
echo "  ${token:0:40}...   (an EdDSA-signed JWT; pass it as --token or CHOREO_TOKEN)"
echo "\$ choreoctl deposit --token \$token --amount 5000"
ctl deposit --token "$token" --amount 5000 | sed 's/^/  /'
echo "\$ choreoctl order --token \$token --items BOOK-001:1,MUG-002:1     (32.49 USD: paid)"
paid=$(ctl order --token "$token" --items BOOK-001:1,MUG-002:1)
echo "  $paid"
paid_id=$(awk '{print $2}' <<<"$paid")
echo "\$ choreoctl cancel --token \$token --order-id $paid_id --reason 'ordered twice'   (refunded)"
cancelled=$(ctl cancel --token "$token" --order-id "$paid_id" --reason 'ordered twice')
echo "  $cancelled"
echo "\$ choreoctl order --token \$token --items CHAIR-006:1              (149.00 USD: more than the 50.00)"
refused=$(ctl order --token "$token" --items CHAIR-006:1)
echo "  $refused"
echo "\$ choreoctl balance --token \$token"
ctl balance --token "$token" | sed 's/^/  /'
echo "\$ choreoctl notifications --token \$token      (paid, refunded, insufficient funds: through the file channel)"
notified() { [[ $(ctl notifications --token "$token" | wc -l) -ge 3 ]]; }
wait_for notified || true
ctl notifications --token "$token" | sed 's/^/  /'
echo "  (and as JSON lines in $notifications)"
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
# shellcheck disable=SC2317  # run by wait_for
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
# The order views are a projection of orders.snapshots: rebuilt online, from the log.
echo "\$ choreo-views --view orders ... --redis-user gateway     (deploy/views.md)"
# shellcheck disable=SC2046 # these print flags and file paths without spaces
views_out=$("$build_dir/tools/views/choreo-views" --view orders --kafka-brokers "$kafka" \
  $(kafka_login gateway) --redis "127.0.0.1:$redis_port" $(redis_login gateway) 2>&1) || {
  echo "demo: rebuilding the order views failed: $views_out" >&2
  exit 1
}
tail -2 <<<"$views_out" | sed 's/^/  /'
[[ "$timeline" == *NotificationSent* ]] || {
  echo "demo: the order's timeline is incomplete: ${timeline:0:300}" >&2
  exit 1
}

[[ "$http_order" == *'"status":"ORDER_STATUS_PAID"'* ]] || {
  echo "demo: the HTTP order did not end PAID: $http_order" >&2
  exit 1
}
if [[ "$paid" != *" PAID "* || "$cancelled" != *" REFUNDED "* ||
      "$refused" != *" INSUFFICIENT_FUNDS "* ]] || ! notified; then
  echo "demo: unexpected outcome (logs in $run_dir/logs/)" >&2
  exit 1
fi

if $check_only; then
  exit 0
fi
echo
echo "Try: $build_dir/gateway/choreoctl/choreoctl register --gateway $gateway --user bob --password 'a long passphrase'"
echo "  or: curl -s -X POST $http/v1/accounts -d '{\"username\": \"bob\", \"password\": \"a long passphrase\"}'"
echo "Press Ctrl-C to stop."
# Until Ctrl-C, or until a process ends by itself: then everything stops.
wait -n "${pids[@]}" || true
for i in "${!pids[@]}"; do
  kill -0 "${pids[i]}" 2>/dev/null ||
    echo "up.sh: ${names[i]} exited (.run/logs/${names[i]}.log): stopping" >&2
done
exit 1
