#!/usr/bin/env bash
# kafka-node.sh: runs one Apache Kafka node in KRaft combined mode (broker + controller) on
# 127.0.0.1, in the foreground, until SIGTERM (controlled shutdown) or SIGKILL. The one launcher
# of choreo's Kafka: deploy/local/up.sh, the test fixtures (testing/kafka_cluster.h) and the
# benchmark start every node through it.
#
#   kafka-node.sh --dir DIR --port PORT --controller-port CPORT
#                 [--node-id 1] [--voters 1@127.0.0.1:CPORT,2@...] [--cluster-id ID]
#                 [--heap 512m] [--fast-start] [--advertised-port APORT]
#
# DIR holds the node's log segments and metadata; it is formatted on the first start (with
# --cluster-id, the same for every node of a cluster) and kept after, so data survives a restart.
# A cluster of N nodes (N = number of --voters) uses replication factor min(N, 3) and
# min.insync.replicas min(N, 3) - 1 (at least 1) for its internal topics. Topics are never
# created on first use (auto.create.topics.enable=false): choreo-topics declares them.
# --fast-start trades steady-state speed for a JVM that starts sooner (tests). --advertised-port
# tells clients (and the other brokers) to connect to another port, a proxy's in front of PORT.
# The broker's own log goes to stdout. Waiting until the node serves is the caller's part.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

dir="" port="" controller_port="" node_id=1 voters="" cluster_id="" heap=512m fast_start=0
advertised_port=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dir) dir="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --controller-port) controller_port="$2"; shift 2 ;;
    --node-id) node_id="$2"; shift 2 ;;
    --voters) voters="$2"; shift 2 ;;
    --cluster-id) cluster_id="$2"; shift 2 ;;
    --heap) heap="$2"; shift 2 ;;
    --fast-start) fast_start=1; shift ;;
    --advertised-port) advertised_port="$2"; shift 2 ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "kafka-node.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$dir" && -n "$port" && -n "$controller_port" ]] ||
  { echo "kafka-node.sh: --dir, --port and --controller-port are required" >&2; exit 2; }
[[ -n "$voters" ]] || voters="$node_id@127.0.0.1:$controller_port"
[[ -n "$advertised_port" ]] || advertised_port="$port"
nodes=$(tr ',' '\n' <<<"$voters" | grep -c .)
replication=$((nodes < 3 ? nodes : 3))
min_insync=$((replication > 1 ? replication - 1 : 1))

classpath=$("$here/classpath.sh")
mkdir -p "$dir"
config="$dir/server.properties"
cat >"$config" <<PROPERTIES
process.roles=broker,controller
node.id=$node_id
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$advertised_port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
auto.create.topics.enable=false
default.replication.factor=$replication
min.insync.replicas=$min_insync
offsets.topic.replication.factor=$replication
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=$replication
transaction.state.log.min.isr=$min_insync
transaction.state.log.num.partitions=8
share.coordinator.state.topic.replication.factor=$replication
share.coordinator.state.topic.min.isr=$min_insync
group.initial.rebalance.delay.ms=0
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
num.network.threads=2
num.io.threads=4
PROPERTIES

jvm=(java "-Xms$heap" "-Xmx$heap" -Djava.awt.headless=true
     -Dlog4j2.configurationFile="$here/log4j2.properties")
if [[ $fast_start -eq 1 ]]; then
  jvm+=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
else
  jvm+=(-XX:+UseG1GC -XX:MaxGCPauseMillis=20)
fi

if [[ ! -f "$dir/data/meta.properties" ]]; then
  if [[ -z "$cluster_id" ]]; then
    # A Kafka cluster id: 16 random bytes, URL-safe base64 without padding.
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)
  fi
  "${jvm[@]}" -cp "$classpath" kafka.tools.StorageTool format --ignore-formatted \
    --cluster-id "$cluster_id" --config "$config" >"$dir/format.log" ||
    { cat "$dir/format.log" >&2; exit 1; }
fi
exec "${jvm[@]}" -cp "$classpath" kafka.Kafka "$config"
