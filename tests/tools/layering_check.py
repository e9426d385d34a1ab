#!/usr/bin/env python3
"""Checks that no #include in the source tree runs back up the layers of README.md ("Layout").

Each source folder has a rank; a file may include only files of its own folder or of a folder
with a lower rank (generated protos, "choreo/...", are the lowest). Applications are peers:
no service includes another service or the gateway, and the gateway includes no service.
Prints every offending include and exits 1; exits 0 when there is none.

usage: layering_check.py [SOURCE_ROOT]
"""

import os
import re
import sys

# Longest matching prefix wins. Equal ranks may include each other (none do across folders today).
RANKS = [
    ("choreo/", 0),  # generated from proto/
    ("platform/json/", 10), ("platform/ids/", 10), ("platform/proto_time/", 10),
    ("platform/record/", 10), ("platform/config/", 11), ("platform/process/", 11),
    ("platform/logging/", 12), ("platform/tracing/", 13), ("platform/metrics/", 13),
    ("contracts/", 20),
    ("credentials/", 25),
    ("edges/kafka/", 30), ("edges/redis/", 30), ("edges/http/", 30), ("edges/kafka_mock/", 31),
    ("saga/reaction/", 40), ("saga/codec/", 40),
    ("saga/publish/", 41), ("saga/consume/", 41), ("saga/store/", 41),
    ("saga/dlq/", 42), ("saga/runtime/", 43), ("saga/telemetry/", 44), ("saga/service/", 45),
    ("transcoding/", 50),
    ("services/", 60), ("gateway/", 60),
    ("tools/", 70),
    ("testing/", 80),
]
SOURCE_FOLDERS = ["platform", "contracts", "credentials", "edges", "saga", "transcoding",
                  "services", "gateway", "tools", "testing"]
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def rank_of(path):
    best = None
    for prefix, rank in RANKS:
        if path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, rank)
    return best


def app_of(path):
    """The application a file belongs to (services/<name>, gateway), or None."""
    parts = path.split("/")
    if parts[0] == "services" and len(parts) > 2:
        return "services/" + parts[1]
    if parts[0] == "gateway":
        return "gateway"
    return None


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.getcwd()
    problems = []
    files = 0
    for folder in SOURCE_FOLDERS:
        for directory, _, names in os.walk(os.path.join(root, folder)):
            for name in names:
                if not name.endswith((".h", ".cc")):
                    continue
                path = os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/")
                own = rank_of(path)
                if own is None:
                    problems.append(f"{path}: in no layer (add its folder to RANKS)")
                    continue
                files += 1
                with open(os.path.join(root, path), encoding="utf-8", errors="replace") as text:
                    for number, line in enumerate(text, 1):
                        match = INCLUDE.match(line)
                        if not match:
                            continue
                        target = match.group(1)
                        theirs = rank_of(target)
                        if theirs is None:
                            continue  # not ours (a generated file beside the source, a system one)
                        same_folder = os.path.dirname(target).startswith(os.path.dirname(path))
                        if theirs[1] > own[1] and not same_folder:
                            problems.append(f"{path}:{number}: includes {target}, a layer above "
                                            f"({own[0]} -> {theirs[0]})")
                        elif app_of(path) and app_of(target) and app_of(path) != app_of(target):
                            problems.append(f"{path}:{number}: includes {target}, another "
                                            f"application ({app_of(path)} -> {app_of(target)})")
    for problem in problems:
        print(problem)
    print(f"{files} files checked, {len(problems)} include(s) against the layers")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
