#!/usr/bin/env bash
# kafka-broker.sh: the entrypoint of a compose Kafka node (the apache/kafka image, run as uid
# 10001): deploy/kafka/kafka-node.sh, the launcher every choreo Kafka node runs through (mounted
# at /etc/choreo-kafka), with the image's jars, listening on every interface of the container
# and advertised under its name. One KRaft node, broker and controller in one JVM, in the
# foreground until SIGTERM (controlled shutdown); SASL (SCRAM between brokers, PLAIN for
# clients), the StandardAuthorizer and admin as the only super user, as kafka-node.sh says.
#
#   kafka-broker.sh --node-id N --voters 1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093
#                   [--advertised-host kafka-N] [--heap 512m]
#
# Reads from its secrets volume, secrets-kafka (deploy/compose/init-secrets.sh), which holds
# these two files alone: /etc/choreo/kafka/users (`name password` a line) and
# /etc/choreo/kafka/cluster-id. Data, and server.properties (mode 0600: it holds the
# passwords), in /var/lib/kafka/data, formatted on the first start.
set -euo pipefail

node_id="" voters="" advertised_host="" heap=512m
while [[ $# -gt 0 ]]; do
  case "$1" in
    --node-id) node_id="$2"; shift 2 ;;
    --voters) voters="$2"; shift 2 ;;
    --advertised-host) advertised_host="$2"; shift 2 ;;
    --heap) heap="$2"; shift 2 ;;
    *) echo "kafka-broker.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n "$node_id" && -n "$voters" ]] ||
  { echo "kafka-broker.sh: --node-id and --voters are required" >&2; exit 2; }
[[ -n "$advertised_host" ]] || advertised_host=$(hostname)
secrets=/etc/choreo/kafka
[[ -r "$secrets/users" && -r "$secrets/cluster-id" ]] ||
  { echo "kafka-broker.sh: $secrets/users or cluster-id not readable (has the secrets job run?)" >&2
    exit 2; }

export KAFKA_CLASSPATH="${KAFKA_HOME:-/opt/kafka}/libs/*"
exec bash /etc/choreo-kafka/kafka-node.sh --dir /var/lib/kafka/data --port 9092 \
  --controller-port 9093 --listen-host 0.0.0.0 --advertised-host "$advertised_host" \
  --node-id "$node_id" --voters "$voters" --cluster-id "$(cat "$secrets/cluster-id")" \
  --heap "$heap" --sasl-users "$secrets/users"
