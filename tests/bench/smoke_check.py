#!/usr/bin/env python3
"""Runs choreo-bench (its path, then its flags) with --json-out and checks what a short fixed
run must report: every saga call answered without error, the saga's five legs each timed, Redis's
commands per order, and the ratio line's bound. Exits non-zero, naming what is missing."""

import json
import os
import subprocess
import sys
import tempfile


def check(report):
    problems = []
    saga = report.get("saga") or []
    if not saga:
        return ["no saga phase"]
    phase = saga[0]
    if phase["sent"] <= 0 or phase["ok"] != phase["sent"]:
        problems.append(f"saga: {phase['ok']} of {phase['sent']} calls answered")
    if phase["errors"]:
        problems.append(f"saga errors: {phase['errors']}")
    legs = report.get("legs_ms") or []
    names = [leg["leg"] for leg in legs]
    expected = ["gateway: call->request", "order: request->created", "billing: created->payment",
                "order: payment->status", "status->answer"]
    if names != expected:
        problems.append(f"legs: {names}, expected {expected}")
    for leg in legs:
        if leg["n"] <= 0 or leg["p50"] < 0:
            problems.append(f"leg {leg['leg']}: n {leg['n']}, p50 {leg['p50']}")
    redis = report.get("redis") or {}
    if not redis.get("commands_per_order", 0) > 0:
        problems.append(f"redis: {redis}")
    ratios = report.get("ratios") or {}
    bound = ratios.get("p50_bound")
    if bound is None or bound < 1:
        problems.append(f"ratios: {ratios}")
    return problems


def main():
    bench, flags = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "run.json")
        run = subprocess.run([bench, *flags, "--json-out", out], check=False)
        if run.returncode != 0:
            print(f"choreo-bench exited {run.returncode}", file=sys.stderr)
            return 1
        with open(out, encoding="utf-8") as f:
            report = json.load(f)
    problems = check(report)
    for problem in problems:
        print(f"smoke check: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
