#!/usr/bin/env bash
# init-secrets.sh: the compose stack's one-shot `secrets` job (choreo image, as root). Makes every
# secret of the stack once and keeps it after, like deploy/local/up.sh on a first run; a later
# run adds only what is missing and rewrites what is derived. Then gives each consumer its own
# volume holding copies of only the files it reads (as deploy/k8s mounts one Secret per
# process), and hands those and the stateful services' data directories to uid/gid 10001, the
# user every container of choreo, Kafka, Redis and Grafana runs as.
#
#   init-secrets.sh [--grafana-dir DIR] [DATA_DIR...]
#
# SECRETS (default /etc/choreo, the `secrets` volume, which only this job mounts) keeps them all:
#   tls/ca.pem, tls/<name>.pem, tls/<name>.key   gateway users order billing notification operator
#   kafka/users                                  `name password` a line: the brokers' user list
#   kafka/cluster-id                             the KRaft cluster id every broker formats with
#   kafka/<user>.properties                      librdkafka login (sasl_plaintext, PLAIN), admin too
#   redis/<user>.password, redis/users.acl        choreo-redis-acl: one ACL user per process, admin
#   jwt/users-signing-key.pem, .pub.pem           the user service's Ed25519 token key pair
# The CA's private key stays in CA_DIR (default /var/lib/choreo/ca, the `ca` volume), which only
# this job mounts: no running container can sign a certificate. Certificates are made there and
# copied to SECRETS/tls at every run.
#
# SECRET_VOLUMES (default /volumes/secrets) holds one directory per consumer: the volume
# secrets-<consumer>, which that consumer mounts read-only on /etc/choreo. Each gets exactly
# these files of SECRETS, at the same paths:
#   gateway        tls/ca.pem tls/gateway.pem tls/gateway.key kafka/gateway.properties
#                  redis/gateway.password jwt/users-signing-key.pub.pem
#   users          tls/ca.pem tls/users.pem tls/users.key kafka/users.properties
#                  redis/users.password jwt/users-signing-key.pem jwt/users-signing-key.pub.pem
#   order, billing, notification
#                  tls/ca.pem tls/<name>.pem tls/<name>.key kafka/<name>.properties
#                  redis/<name>.password
#   topics         tls/ca.pem kafka/admin.properties            (choreo-topics, as Kafka's admin)
#   kafka          kafka/users kafka/cluster-id                 (every Kafka node)
#   redis          redis/users.acl redis/admin.password         (redis-server, its healthcheck)
#   operator       tls/ca.pem tls/operator.pem tls/operator.key (grpcurl, README.md)
# Every run rewrites a copy that differs from its source (so a rotated secret reaches its
# consumers) and deletes anything else in the volume. Copies are owned by 10001:10001, mode 0440
# for certificates and the public key, 0400 for the rest; directories 0500. Each consumer's
# directory must exist (compose mounts it): a missing one is an error, not a silent mkdir.
# --grafana-dir DIR gets admin.password (Grafana's admin login, in Grafana's own data volume).
# Each DATA_DIR (and DIR) is chowned to 10001:10001, mode 0700.
set -euo pipefail

secrets=${SECRETS:-/etc/choreo}
ca_dir=${CA_DIR:-/var/lib/choreo/ca}
volumes=${SECRET_VOLUMES:-/volumes/secrets}
make_certs=${MAKE_CERTS:-/usr/local/share/choreo/make-certs.sh}
owner=10001:10001
processes=(gateway users order billing notification)

grafana_dir=""
data_dirs=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --grafana-dir) grafana_dir="$2"; data_dirs+=("$2"); shift 2 ;;
    -*) echo "init-secrets.sh: unknown flag $1" >&2; exit 2 ;;
    *) data_dirs+=("$1"); shift ;;
  esac
done

# Which files each consumer's volume holds (paths under SECRETS and under its /etc/choreo).
declare -A layout
for name in "${processes[@]}"; do
  layout[$name]="tls/ca.pem tls/$name.pem tls/$name.key kafka/$name.properties redis/$name.password"
done
layout[gateway]+=" jwt/users-signing-key.pub.pem"
layout[users]+=" jwt/users-signing-key.pem jwt/users-signing-key.pub.pem"
layout[topics]="tls/ca.pem kafka/admin.properties"
layout[kafka]="kafka/users kafka/cluster-id"
layout[redis]="redis/users.acl redis/admin.password"
layout[operator]="tls/ca.pem tls/operator.pem tls/operator.key"
consumers=("${processes[@]}" topics kafka redis operator)

# Before anything is made: every consumer's volume must be there.
for consumer in "${consumers[@]}"; do
  [[ -d "$volumes/$consumer" ]] || {
    echo "init-secrets.sh: $volumes/$consumer: no such directory (mount the secrets-$consumer volume there)" >&2
    exit 2
  }
done

umask 077
mkdir -p "$secrets"/{tls,kafka,jwt} "$ca_dir"
made=()

# A random password: 18 bytes, URL-safe base64 (24 characters, no padding): valid for Kafka's
# JAAS options (deploy/kafka/README.md) and for Redis.
random_password() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }

# mTLS: the CA and the certificates are made (once) beside the CA key, then copied out.
"$make_certs" "$ca_dir" "${processes[@]}" operator
install -m 0644 "$ca_dir/ca.pem" "$secrets/tls/ca.pem"
for name in "${processes[@]}" operator; do
  install -m 0644 "$ca_dir/$name.pem" "$secrets/tls/$name.pem"
  install -m 0600 "$ca_dir/$name.key" "$secrets/tls/$name.key"
done

# Kafka: one SASL user per process plus admin (the brokers' super user); a user missing from
# the kept list is added, existing passwords are kept.
users_file=$secrets/kafka/users
touch "$users_file"
for user in admin "${processes[@]}"; do
  if ! grep -q "^$user " "$users_file"; then
    echo "$user $(random_password)" >>"$users_file"
    made+=("kafka user $user")
  fi
done
while read -r user password; do
  [[ -n "$user" && "$user" != \#* ]] || continue
  printf '%s\n' security.protocol=sasl_plaintext sasl.mechanisms=PLAIN "sasl.username=$user" \
    "sasl.password=$password" >"$secrets/kafka/$user.properties.tmp"
  mv "$secrets/kafka/$user.properties.tmp" "$secrets/kafka/$user.properties"
done <"$users_file"
if [[ ! -s "$secrets/kafka/cluster-id" ]]; then
  # A Kafka cluster id: 16 random bytes, URL-safe base64 without padding; like Kafka's own
  # Uuid.randomUuid, never one that starts with '-' (a command line would take it for an option).
  cluster_id=-
  while [[ $cluster_id == -* ]]; do
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22)
  done
  echo "$cluster_id" >"$secrets/kafka/cluster-id"
  made+=("kafka cluster id")
fi

# Redis: passwords kept when they exist; users.acl follows the current table.
choreo-redis-acl --dir "$secrets/redis"

# The user service signs tokens with the private key, the gateway verifies with the public one.
jwt=$secrets/jwt/users-signing-key
if [[ ! -s "$jwt.pem" ]]; then
  openssl genpkey -algorithm ed25519 -out "$jwt.pem.tmp"
  mv "$jwt.pem.tmp" "$jwt.pem"
  rm -f "$jwt.pub.pem"
  made+=("token signing key")
fi
if [[ ! -s "$jwt.pub.pem" ]]; then
  openssl pkey -in "$jwt.pem" -pubout -out "$jwt.pub.pem.tmp"
  chmod 0644 "$jwt.pub.pem.tmp"
  mv "$jwt.pub.pem.tmp" "$jwt.pub.pem"
fi

if [[ -n "$grafana_dir" && ! -s "$grafana_dir/admin.password" ]]; then
  mkdir -p "$grafana_dir"
  random_password >"$grafana_dir/admin.password"
  made+=("grafana admin password")
fi

# The originals are root's: no container but this job mounts them.
chown -R 0:0 "$secrets"
find "$secrets" -type d -exec chmod 0700 {} +

# Each consumer's copies: a copy that differs from its source, or has another owner or mode, is
# replaced (a rename, so a reader never sees half a file); anything not in the layout goes.
changed=()
for consumer in "${consumers[@]}"; do
  volume=$volumes/$consumer
  read -ra files <<<"${layout[$consumer]}"
  unset keep
  declare -A keep=()
  wrote=() removed=()
  for file in "${files[@]}"; do
    keep[$file]=1
    case "$file" in
      tls/*.pem | *.pub.pem) mode=440 ;;
      *) mode=400 ;;
    esac
    source=$secrets/$file target=$volume/$file
    [[ -f "$source" ]] || { echo "init-secrets.sh: $source was not made" >&2; exit 1; }
    if [[ -f "$target" && ! -L "$target" ]] && cmp -s "$source" "$target" &&
      [[ "$(stat -c '%a %u:%g' "$target")" == "$mode $owner" ]]; then
      continue
    fi
    mkdir -p "${target%/*}"
    cp "$source" "$target.tmp"
    chown "$owner" "$target.tmp"
    chmod "$mode" "$target.tmp"
    mv -f "$target.tmp" "$target"
    wrote+=("$file")
  done
  while IFS= read -r -d '' stale; do
    [[ -n "${keep[${stale#"$volume"/}]:-}" ]] && continue
    rm -f "$stale"
    removed+=("${stale#"$volume"/}")
  done < <(find "$volume" -mindepth 1 ! -type d -print0)
  find "$volume" -mindepth 1 -depth -type d -empty -delete
  chown -R "$owner" "$volume"
  find "$volume" -type d -exec chmod 0500 {} +
  entry=""
  [[ ${#wrote[@]} -eq 0 ]] || entry="wrote ${wrote[*]}"
  [[ ${#removed[@]} -eq 0 ]] || entry="${entry:+$entry; }removed ${removed[*]}"
  [[ -z "$entry" ]] || changed+=("secrets-$consumer: $entry")
done

for dir in "${data_dirs[@]}"; do
  mkdir -p "$dir"
  chown "$owner" "$dir"
  chmod 0700 "$dir"
done
[[ -z "$grafana_dir" ]] || chown "$owner" "$grafana_dir/admin.password"

if [[ ${#made[@]} -eq 0 ]]; then
  echo "secrets: all kept in $secrets"
else
  list=$(printf '%s, ' "${made[@]}")
  echo "secrets: made ${list%, }; the rest kept in $secrets"
fi
if [[ ${#changed[@]} -eq 0 ]]; then
  echo "secrets: every consumer's volume is up to date"
else
  printf 'secrets: %s\n' "${changed[@]}"
fi
