#!/usr/bin/env python3
"""Runs choreo-bench (its path, then its flags) with --json-out and checks what a short fixed
run must report: every saga call answered without error, every answered call's saga timed on
each of its six legs (none below zero), Redis's commands per order, and the estimate of the
least p50. Exits non-zero, naming what is missing."""

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
    expected = ["bench: due->sent", "gateway: sent->request", "order: request->created",
                "billing: created->payment", "order: payment->status", "status->answer"]
    if names != expected:
        problems.append(f"legs: {names}, expected {expected}")
    for leg in legs:
        # Every answered call's saga is timed on every leg, and no time came out below zero.
        if leg["n"] != phase["ok"] or leg["negative"] != 0:
            problems.append(f"leg {leg['leg']}: {leg['n']} sagas of {phase['ok']}, "
                            f"{leg['negative']} below zero")
    redis = report.get("redis") or {}
    if not redis.get("commands_per_order", 0) > 0:
        problems.append(f"redis: {redis}")
    least = (report.get("ratios") or {}).get("p50_least") or {}
    if not least.get("fsynced_write_ms", 0) > 0 or not least.get("ratio", 0) > 1:
        problems.append(f"the least p50's estimate: {least}")
    return problems


def main():
    bench, flags = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "run.json")
        try:
            run = subprocess.run([bench, *flags, "--json-out", out], check=False, timeout=160)
        except subprocess.TimeoutExpired:
            print("choreo-bench did not end within 160 s", file=sys.stderr)
            return 1
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
