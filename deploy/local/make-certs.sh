#!/usr/bin/env bash
# make-certs.sh: a private certificate authority and one certificate per choreo process, for the
# mutual TLS between them (ARCHITECTURE.md §7). Run by up.sh on the first local run and by the
# test fixtures; production mounts its own from a Secret (same file names).
#
#   make-certs.sh DIR NAME...
#
# DIR gets ca.pem and ca.key (made once, kept), and for each NAME NAME.pem and NAME.key (made once,
# kept): a certificate signed by the CA whose common name is NAME, with NAME as its DNS name, for
# both server and client use. A process's name is its identity to the others: "gateway" is the
# only caller a service takes a user's identity from; "operator" may read the services' admin
# APIs. Keys are ECDSA P-256 and written 0600. Existing files are never overwritten.
set -euo pipefail

[[ $# -ge 2 ]] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
dir="$1"; shift
mkdir -p "$dir"
umask 077

if [[ ! -f "$dir/ca.pem" ]]; then
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/ca.key.tmp"
  openssl req -x509 -new -key "$dir/ca.key.tmp" -sha256 -days 3650 -subj "/CN=choreo local CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$dir/ca.pem.tmp" 2>/dev/null
  mv "$dir/ca.key.tmp" "$dir/ca.key"
  mv "$dir/ca.pem.tmp" "$dir/ca.pem"
fi

for name in "$@"; do
  [[ "$name" =~ ^[a-z][a-z0-9-]*$ ]] || { echo "make-certs.sh: bad name '$name'" >&2; exit 2; }
  [[ -f "$dir/$name.pem" ]] && continue
  openssl ecparam -name prime256v1 -genkey -noout -out "$dir/$name.key.tmp"
  openssl req -new -key "$dir/$name.key.tmp" -subj "/CN=$name" -out "$dir/$name.csr" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -sha256 -days 825 -out "$dir/$name.pem.tmp" -extfile <(printf '%s\n' \
      "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth,clientAuth" \
      "subjectAltName=DNS:$name") 2>/dev/null
  rm -f "$dir/$name.csr"
  mv "$dir/$name.key.tmp" "$dir/$name.key"
  mv "$dir/$name.pem.tmp" "$dir/$name.pem"
done
