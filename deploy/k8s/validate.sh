#!/usr/bin/env bash
# validate.sh: renders the base and every overlay of deploy/k8s with kustomize, validates every
# resource against the schemas of Kubernetes 1.31 (strict: an unknown field fails), and checks what
# each overlay must hold:
# - the five processes' Deployments, each with gRPC startup, liveness ("liveness") and readiness
#   ("") probes on the health port 50052, CPU and memory requests and limits, a grace period
#   longer than its preStop pause plus --stop-timeout, and the restricted security settings;
# - a PodDisruptionBudget and a HorizontalPodAutoscaler for each, no service's HPA above the
#   topics' partitions (CHOREO_PARTITIONS: idle consumers beyond them; the gateway is not bound:
#   each gateway reads the status feed in a group of its own);
# - the NetworkPolicies: every choreo pod denied by default, the services' gRPC from the gateway;
# - the choreo-topics Job; every Secret key a pod mounts named in base/secrets.yaml, every file
#   a variable names under /etc/choreo/ mounted.
#
#   validate.sh KUSTOMIZE KUBERNETES_VALIDATE PYTHON
#
# PYTHON is a python3 with PyYAML. Prints one line per overlay; exits non-zero on any error.
set -euo pipefail

if [[ $# -ne 3 ]]; then
  sed -n '2,/^set -euo pipefail$/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi
kustomize=$1 kubernetes_validate=$2 python=$3
k8s_version=1.31.0
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# render NAME DIR: DIR's resources in $work/NAME.yaml, validated against the schemas.
render() {
  "$kustomize" build "$2" >"$work/$1.yaml"
  "$kubernetes_validate" --strict --quiet --kubernetes-version "$k8s_version" "$work/$1.yaml"
}

render base "$here/base"
for overlay in "$here"/overlays/*/; do
  name=overlays/$(basename "$overlay")
  render "${name//\//-}" "$overlay"
  count=$("$python" - "$name" "$work/${name//\//-}.yaml" "$work/base.yaml" <<'PY'
import sys, yaml

docs = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d]
declared = {(d["metadata"]["name"], key)
            for d in yaml.safe_load_all(open(sys.argv[3])) if d and d["kind"] == "Secret"
            for key in d.get("stringData", {})}
errors = []
def of(kind): return [d for d in docs if d["kind"] == kind]
def check(ok, what):
    if not ok: errors.append(what)
def seconds(text): return int(text.rstrip("s"))

config = of("ConfigMap")[0]["data"]
deployments = {d["metadata"]["name"]: d for d in of("Deployment")}
check(set(deployments) == {"gateway", "order", "billing", "users", "notification"},
      f"Deployments: {sorted(deployments)}")
for name, deployment in deployments.items():
    pod = deployment["spec"]["template"]["spec"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    (container,) = pod["containers"]
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    probes = {p: container.get(p, {}).get("grpc", {}) for p in
              ("startupProbe", "livenessProbe", "readinessProbe")}
    check(all(g.get("port") == 50052 for g in probes.values()), f"{name}: gRPC probes on 50052")
    check(probes["livenessProbe"].get("service") == "liveness", f"{name}: liveness service")
    check(probes["readinessProbe"].get("service", "") == "", f"{name}: readiness service \"\"")
    check(env.get("CHOREO_HEALTH_LISTEN") == "0.0.0.0:50052", f"{name}: --health-listen")
    resources = container.get("resources", {})
    check(all(set(resources.get(k, {})) >= {"cpu", "memory"} for k in ("requests", "limits")),
          f"{name}: cpu and memory requests and limits")
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    check(pod["terminationGracePeriodSeconds"] > pause + seconds(env["CHOREO_STOP_TIMEOUT"]),
          f"{name}: grace period > preStop + --stop-timeout")
    security = container["securityContext"]
    check(pod["securityContext"].get("runAsNonRoot") and security.get("readOnlyRootFilesystem")
          and security["capabilities"]["drop"] == ["ALL"]
          and security["allowPrivilegeEscalation"] is False
          and pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
          and pod["automountServiceAccountToken"] is False, f"{name}: security settings")
    check(any(set(p["spec"]["selector"]["matchLabels"].items()) <= set(labels.items())
              for p in of("PodDisruptionBudget")), f"{name}: no PodDisruptionBudget")
    hpas = [h for h in of("HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == name]
    check(len(hpas) == 1, f"{name}: no HorizontalPodAutoscaler")
    for h in hpas:
        check(1 <= h["spec"]["minReplicas"] <= h["spec"]["maxReplicas"], f"{name}: HPA range")
        check(name == "gateway" or h["spec"]["maxReplicas"] <= int(config["CHOREO_PARTITIONS"]),
              f"{name}: HPA range within the partitions")
    mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
    files = set()
    for volume in pod.get("volumes", []):
        for source in volume.get("projected", {}).get("sources", []):
            for item in source["secret"]["items"]:
                check((source["secret"]["name"], item["key"]) in declared,
                      f"{name}: Secret {source['secret']['name']} key {item['key']} not declared")
                files.add(f"{mounts.get(volume['name'])}/{item['path']}")
    for variable, value in env.items():
        check(not (value or "").startswith("/etc/choreo/") or value in files,
              f"{name}: {variable}={value} is no mounted Secret file")

policies = of("NetworkPolicy")
check(any(p["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/part-of": "choreo"}}
          and p["spec"]["policyTypes"] == ["Ingress"] and not p["spec"].get("ingress")
          for p in policies), "no default-deny NetworkPolicy for choreo's pods")
from_gateway = [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}],
                 "ports": [{"protocol": "TCP", "port": 50051}]}]
check(any(p["spec"]["podSelector"] == {"matchLabels": {"app.kubernetes.io/component": "service"}}
          and p["spec"]["ingress"] == from_gateway for p in policies),
      "no NetworkPolicy admitting only the gateway to the services' gRPC")
check([j["metadata"]["name"] for j in of("Job")] == ["choreo-topics"], "no choreo-topics Job")
for error in errors:
    print(f"{sys.argv[1]}: {error}", file=sys.stderr)
print(len(docs))
sys.exit(1 if errors else 0)
PY
  )
  echo "$name: $count resources, valid for Kubernetes $k8s_version (strict), checks passed"
done
