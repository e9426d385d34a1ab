#!/usr/bin/env bash
# validate.sh: checks the compose deployment without a Docker engine.
#
#   deploy/compose/validate.sh CHECK_JSONSCHEMA PROMTOOL [DOCKER_COMPOSE]
#
# - compose.yaml against the Compose Specification's JSON schema (check-jsonschema's
#   vendor.compose-spec), and every relative bind-mount source exists;
# - prometheus.yml with `promtool check config`, its rule_files pointed at the repository's
#   deploy/prometheus/ (mounted on /etc/prometheus/rules in the stack), so the rules are checked
#   too; each rule_files entry must match a file;
# - the OpenTelemetry Collector and Grafana provisioning files parse and have their top-level
#   keys; the dashboard's `datasource` variable asks for the type of data source provisioned;
# - the scripts with shellcheck;
# - the file with Docker Compose's own loader (`docker-compose config --quiet`: undeclared
#   volumes, networks or services, variables, merges), DOCKER_COMPOSE if given, else
#   `docker compose` where installed.
# Prints a line per check; exits 1 if any failed.
set -euo pipefail

[[ $# -eq 2 || $# -eq 3 ]] ||
  { echo "usage: validate.sh CHECK_JSONSCHEMA PROMTOOL [DOCKER_COMPOSE]" >&2; exit 2; }
check_jsonschema=$1 promtool=$2 docker_compose=${3:-}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0

check() {  # description command...: runs it, prints ok or FAILED with its output
  local what=$1
  shift
  if "$@" >"$work/out" 2>&1; then
    echo "ok      $what"
  else
    echo "FAILED  $what"
    sed 's/^/        /' "$work/out"
    failed=1
  fi
}
schema() {  # name json: a schema file in $work
  printf '%s\n' "$2" >"$work/$1.schema.json"
  echo "$work/$1.schema.json"
}

check "compose.yaml: Compose Specification schema" \
  "$check_jsonschema" --builtin-schema vendor.compose-spec "$here/compose.yaml"

# The functions below run through check(), which shellcheck cannot follow.
# shellcheck disable=SC2317
bind_sources_exist() {
  local source missing=0
  while read -r source; do
    [[ -e "$here/$source" ]] || { echo "bind source $source: no such file or directory"; missing=1; }
  done < <(grep -oE 'source: \.\.?/[^ ,}]+' "$here/compose.yaml" | sed 's/^source: //' | sort -u)
  return "$missing"
}
check "compose.yaml: every bind-mount source exists" bind_sources_exist

# shellcheck disable=SC2317
prometheus_config() {
  local pattern missing=0
  sed "s|/etc/prometheus/rules/|$repo/deploy/prometheus/|" "$here/prometheus.yml" >"$work/prometheus.yml"
  # promtool takes a rule_files entry that matches no file for none: each must match one.
  while read -r pattern; do
    compgen -G "$pattern" >/dev/null || { echo "rule_files: nothing matches $pattern"; missing=1; }
  done < <(sed -n '/^rule_files:/,/^[^ ]/s/^ *- *//p' "$work/prometheus.yml")
  [[ $missing -eq 0 ]] || return 1
  "$promtool" check config "$work/prometheus.yml"
}
check "prometheus.yml with deploy/prometheus/rules.yml: promtool check config" prometheus_config

check "otel-collector.yaml: receivers, processors, exporters, service.pipelines" \
  "$check_jsonschema" --schemafile "$(schema otel '{"type": "object",
    "required": ["receivers", "processors", "exporters", "service"],
    "properties": {"service": {"type": "object", "required": ["pipelines"]}}}')" \
  "$here/otel-collector.yaml"

check "grafana/datasources.yaml: a default Prometheus data source" \
  "$check_jsonschema" --schemafile "$(schema datasources '{"type": "object",
    "required": ["apiVersion", "datasources"],
    "properties": {"datasources": {"type": "array", "contains": {"type": "object",
      "required": ["type", "isDefault", "url"],
      "properties": {"type": {"const": "prometheus"}, "isDefault": {"const": true}}}}}}')" \
  "$here/grafana/datasources.yaml"

check "grafana/dashboards.yaml: a file provider" \
  "$check_jsonschema" --schemafile "$(schema dashboards '{"type": "object",
    "required": ["apiVersion", "providers"],
    "properties": {"providers": {"type": "array", "minItems": 1, "items": {"type": "object",
      "required": ["name", "type", "options"],
      "properties": {"type": {"const": "file"},
                     "options": {"type": "object", "required": ["path"]}}}}}}')" \
  "$here/grafana/dashboards.yaml"

check "deploy/grafana/choreo-dashboard.json: its datasource variable is of type prometheus" \
  "$check_jsonschema" --schemafile "$(schema dashboard '{"type": "object",
    "required": ["uid", "panels", "templating"],
    "properties": {"templating": {"type": "object", "required": ["list"],
      "properties": {"list": {"type": "array", "contains": {"type": "object",
        "required": ["name", "type", "query"],
        "properties": {"name": {"const": "datasource"}, "type": {"const": "datasource"},
                       "query": {"const": "prometheus"}}}}}}}}')" \
  "$repo/deploy/grafana/choreo-dashboard.json"

if command -v shellcheck >/dev/null; then
  check "shellcheck: init-secrets.sh kafka-broker.sh topics.sh validate.sh" \
    shellcheck "$here/init-secrets.sh" "$here/kafka-broker.sh" "$here/topics.sh" "$here/validate.sh"
else
  echo "skipped shellcheck: not installed"
fi

if [[ -n "$docker_compose" ]]; then
  check "compose.yaml: docker-compose config (Docker Compose's loader)" \
    "$docker_compose" -f "$here/compose.yaml" config --quiet
elif docker compose version >/dev/null 2>&1; then
  check "docker compose config" docker compose -f "$here/compose.yaml" config --quiet
else
  echo "skipped docker compose config: no docker compose"
fi

exit "$failed"
