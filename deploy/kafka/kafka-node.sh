#!/usr/bin/env bash
# kafka-node.sh: runs one Apache Kafka node in KRaft combined mode (broker + controller), on
# 127.0.0.1 unless told otherwise, in the foreground, until SIGTERM (controlled shutdown) or
# SIGKILL. The one launcher of choreo's Kafka: deploy/local/up.sh, the test fixtures
# (testing/kafka_cluster.h), the benchmark and deploy/compose (in the apache/kafka image) start
# every node through it.
#
#   kafka-node.sh --dir DIR --port PORT --controller-port CPORT
#                 [--node-id 1] [--voters 1@127.0.0.1:CPORT,2@...] [--cluster-id ID]
#                 [--heap 512m] [--fast-start] [--advertised-port APORT] [--sasl-users FILE]
#                 [--listen-host 127.0.0.1] [--advertised-host 127.0.0.1]
#
# DIR holds the node's log segments and metadata; it is formatted on the first start (with
# --cluster-id, the same for every node of a cluster) and kept after, so data survives a restart.
# A cluster of N nodes (N = number of --voters) uses replication factor min(N, 3) and
# min.insync.replicas min(N, 3) - 1 (at least 1) for its internal topics. Topics are never
# created on first use (auto.create.topics.enable=false): choreo-topics declares them.
# --fast-start trades steady-state speed for a JVM that starts sooner (tests). --advertised-port
# tells clients (and the other brokers) to connect to another port, a proxy's in front of PORT.
# --listen-host 0.0.0.0 listens on every interface, --advertised-host names the node to clients
# (a container's name). The broker's jars: KAFKA_CLASSPATH if set (an image's "/opt/kafka/libs/*"),
# else the pinned ones (classpath.sh); java: $JAVA_HOME/bin/java if JAVA_HOME is set.
# The broker's own log goes to stdout. Waiting until the node serves is the caller's part.
#
# Without --sasl-users the client listener is PLAINTEXT and nothing is authorized: anyone who
# reaches the port may do anything. With --sasl-users FILE (one `name password` a line; blank
# lines and # comments ignored; a user named admin required) the client listener is
# SASL_PLAINTEXT: a client authenticates as one of FILE's users with SCRAM-SHA-512 (credentials
# stored in the cluster metadata when DIR is formatted) or with PLAIN (checked against FILE as
# read at this start; librdkafka before 2.6.1, Debian 12's 2.0.2 included, fails SCRAM with
# Kafka 4). The StandardAuthorizer refuses whatever no ACL allows; User:admin is the only super
# user. Brokers authenticate to each other as admin with SCRAM-SHA-512, and to the controllers
# as admin with PLAIN on a SASL_PLAINTEXT CONTROLLER listener. A user added to FILE later, or a
# changed password, reaches PLAIN at the next start and SCRAM only through ConfigCommand
# (deploy/kafka/README.md). server.properties holds the passwords: it is written mode 0600.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

dir="" port="" controller_port="" node_id=1 voters="" cluster_id="" heap=512m fast_start=0
advertised_port="" sasl_users="" listen_host=127.0.0.1 advertised_host=127.0.0.1
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
    --sasl-users) sasl_users="$2"; shift 2 ;;
    --listen-host) listen_host="$2"; shift 2 ;;
    --advertised-host) advertised_host="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo pipefail$/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "kafka-node.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ -n "$dir" && -n "$port" && -n "$controller_port" ]] ||
  { echo "kafka-node.sh: --dir, --port and --controller-port are required" >&2; exit 2; }
[[ -n "$voters" ]] || voters="$node_id@$advertised_host:$controller_port"
[[ -n "$advertised_port" ]] || advertised_port="$port"
nodes=$(tr ',' '\n' <<<"$voters" | grep -c .)
replication=$((nodes < 3 ? nodes : 3))
min_insync=$((replication > 1 ? replication - 1 : 1))

# --sasl-users: FILE's users, checked before anything is written. The names and passwords go
# into JAAS options, a java @argfile and StorageTool's --add-scram syntax, none of them
# escaped, hence the character sets.
sasl_names=() sasl_passwords=() admin_password=""
if [[ -n "$sasl_users" ]]; then
  fail() { echo "kafka-node.sh: --sasl-users $sasl_users: $1" >&2; exit 2; }
  [[ -f "$sasl_users" && -r "$sasl_users" ]] || fail "not a readable file"
  line_number=0
  while IFS= read -r line || [[ -n "$line" ]]; do
    line_number=$((line_number + 1))
    line="${line%$'\r'}"
    read -r name password extra <<<"$line" || true
    [[ -z "$name" || "$name" == \#* ]] && continue
    [[ -n "$password" && -z "$extra" ]] || fail "line $line_number: expected 'name password'"
    [[ "$name" =~ ^[A-Za-z0-9_-]+$ ]] ||
      fail "line $line_number: a name is letters, digits, '_' and '-'"
    [[ "$password" =~ ^[A-Za-z0-9._~!@#%^*+:?-]+$ ]] ||
      fail "line $line_number: a password is letters, digits and . _ ~ ! @ # % ^ * + : ? -"
    for known in "${sasl_names[@]}"; do
      [[ "$known" != "$name" ]] || fail "line $line_number: $name is listed twice"
    done
    sasl_names+=("$name")
    sasl_passwords+=("$password")
    [[ "$name" != admin ]] || admin_password="$password"
  done <"$sasl_users"
  [[ -n "$admin_password" ]] ||
    fail "no user named admin (the super user the brokers and controllers authenticate as)"
  plain_users=""
  for i in "${!sasl_names[@]}"; do
    plain_users+=" user_${sasl_names[i]}=\"${sasl_passwords[i]}\""
  done
fi

classpath=${KAFKA_CLASSPATH:-$("$here/classpath.sh")}
mkdir -p "$dir"
config="$dir/server.properties"
# The client listener, named after its protocol, and the CONTROLLER listener's protocol.
client=PLAINTEXT controller_protocol=PLAINTEXT
[[ -z "$sasl_users" ]] || client=SASL_PLAINTEXT controller_protocol=SASL_PLAINTEXT
# Owner-only from the start: with --sasl-users the file holds the passwords.
rm -f "$config"
(umask 077 && : >"$config")
cat >"$config" <<PROPERTIES
process.roles=broker,controller
node.id=$node_id
controller.quorum.voters=$voters
listeners=$client://$listen_host:$port,CONTROLLER://$listen_host:$controller_port
advertised.listeners=$client://$advertised_host:$advertised_port
controller.listener.names=CONTROLLER
listener.security.protocol.map=$client:$client,CONTROLLER:$controller_protocol
inter.broker.listener.name=$client
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
if [[ -n "$sasl_users" ]]; then
  # The client listener: SCRAM-SHA-512 against the credentials in the cluster metadata (set at
  # format time), used by the brokers among themselves (as admin) and by Java clients; and PLAIN
  # against FILE as read at this start, for librdkafka before 2.6.1 (Debian 12 has 2.0.2),
  # whose SCRAM client sends a nonce Kafka 4 refuses. The CONTROLLER listener: PLAIN against a
  # static list that holds admin alone, so no connection on the controller port is
  # unauthenticated (on a PLAINTEXT controller listener every peer is User:ANONYMOUS, which
  # would then have to be a super user).
  cat >>"$config" <<PROPERTIES
sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$admin_password";
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required$plain_users;
listener.name.controller.sasl.enabled.mechanisms=PLAIN
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$admin_password" user_admin="$admin_password";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin
PROPERTIES
fi

jvm=("${JAVA_HOME:+$JAVA_HOME/bin/}java" "-Xms$heap" "-Xmx$heap" -Djava.awt.headless=true
     -Dlog4j2.configurationFile="$here/log4j2.properties")
if [[ $fast_start -eq 1 ]]; then
  jvm+=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC)
else
  jvm+=(-XX:+UseG1GC -XX:MaxGCPauseMillis=20)
fi

if [[ ! -f "$dir/data/meta.properties" ]]; then
  if [[ -z "$cluster_id" ]]; then
    # A Kafka cluster id: 16 random bytes, URL-safe base64 without padding. Like Kafka's own
    # generator, never one that starts with "-" (1 in 64 would), which reads as an option.
    cluster_id=-
    while [[ "$cluster_id" == -* ]]; do
      cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)
    done
  fi
  storage_tool=(kafka.tools.StorageTool format)
  if [[ -n "$sasl_users" ]]; then
    # One SCRAM-SHA-512 credential a user, passed in a java @argfile (owner-only, removed
    # after) so that the passwords are not in the process list. The launcher reads the main
    # class and its first arguments from the file, the rest from the command line.
    args="$dir/format.args"
    rm -f "$args"
    (umask 077 && {
      echo kafka.tools.StorageTool format
      for i in "${!sasl_names[@]}"; do
        printf -- '--add-scram "SCRAM-SHA-512=[name=%s,password=%s]"\n' \
          "${sasl_names[i]}" "${sasl_passwords[i]}"
      done
    } >"$args")
    storage_tool=("@$args")
  fi
  formatted=0
  "${jvm[@]}" -cp "$classpath" "${storage_tool[@]}" --ignore-formatted \
    "--cluster-id=$cluster_id" --config "$config" >"$dir/format.log" && formatted=1
  [[ -z "$sasl_users" ]] || rm -f "$args"
  [[ $formatted -eq 1 ]] || { cat "$dir/format.log" >&2; exit 1; }
fi
exec "${jvm[@]}" -cp "$classpath" kafka.Kafka "$config"
