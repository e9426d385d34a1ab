#!/usr/bin/env bash
# secrets.sh: the real Secrets that base/secrets.yaml names, as manifests on stdout, from a
# directory laid out like up.sh's .run/ (README.md, Secrets, says how to make one for production):
#
#   tls/ca.pem, tls/NAME.pem, tls/NAME.key    deploy/local/make-certs.sh DIR/tls NAME...
#   kafka-auth/NAME.properties                 librdkafka properties: NAME's SASL login
#   kafka-auth/admin.properties                Kafka's super user, for the choreo-topics Job
#   redis-auth/NAME.password                   choreo-redis-acl --dir DIR/redis-auth
#   keys/users-signing-key.pem, .pub.pem       the token signing key pair (Ed25519)
#
# for NAME in gateway, order, billing, users, notification. Prints nothing unless every file is
# readable, so a pipe into kubectl applies all or none:
#
#   deploy/k8s/secrets.sh .run | kubectl apply -n choreo-dev -f -
set -euo pipefail
shopt -s inherit_errexit

if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
  sed -n '2,/^set -euo pipefail$/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi
dir=$1

# secret NAME KEY=FILE...: an Opaque Secret holding each FILE (relative to DIR) under KEY.
secret() {
  local name=$1 pair file
  shift
  printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n' "$name"
  printf '  labels:\n    app.kubernetes.io/part-of: choreo\ntype: Opaque\ndata:\n'
  for pair in "$@"; do
    file=$dir/${pair#*=}
    [[ -r $file ]] || { echo "secrets.sh: cannot read $file" >&2; return 1; }
    printf '  %s: %s\n' "${pair%%=*}" "$(base64 -w0 <"$file")"
  done
}

all() {
  local name
  secret choreo-ca ca.pem=tls/ca.pem
  for name in gateway order billing users notification; do
    secret "$name-credentials" "$name.pem=tls/$name.pem" "$name.key=tls/$name.key" \
      "$name.properties=kafka-auth/$name.properties" "$name.password=redis-auth/$name.password"
  done
  secret choreo-jwt-signing-key users-signing-key.pem=keys/users-signing-key.pem \
    users-signing-key.pub.pem=keys/users-signing-key.pub.pem
  secret choreo-jwt-verifying-key users-signing-key.pub.pem=keys/users-signing-key.pub.pem
  secret choreo-topics-credentials admin.properties=kafka-auth/admin.properties
}

manifests=$(all)
printf '%s\n' "$manifests"
