"""deploy/flags.md against the binaries: every flag a binary's --help lists is documented in
that binary's part of deploy/flags.md (its own section, and the shared sections "Every process"
and "Every service" for the processes they name), and every flag a binary's own part documents
is one the binary has. A flag added or removed without its documentation fails here.

  python flags_doc_test.py REPO BUILD_DIR
"""

import os
import re
import subprocess
import sys

PROCESSES = ["choreo-gateway", "choreo-order", "choreo-billing", "choreo-users",
             "choreo-notification"]
SERVICES = PROCESSES[1:]
COMMANDS = ["choreo-topics", "choreo-dlq", "choreo-views", "choreo-redis-acl", "choreoctl",
            "choreo-devbroker"]
FLAG = re.compile(r"`--([a-z0-9-]+)`")


def sections(text):
    """The text of each '## ' section, and of each operator command's '**name**' paragraph."""
    parts, title = {}, None
    for line in text.splitlines():
        if line.startswith("## "):
            title = line[3:].strip()
            parts[title] = ""
        elif title is not None:
            parts[title] += line + "\n"
    for paragraph in re.split(r"\n\s*\n", parts.get("Operators' commands", "")):
        named = re.match(r"\*\*([a-z-]+)\*\*", paragraph.strip())
        if named:
            parts[named.group(1)] = paragraph
    return parts


def own_part(binary, parts):
    """What flags.md says of `binary` alone (its section or its paragraph)."""
    if binary not in parts:
        sys.exit("FAIL: deploy/flags.md has no section or paragraph for %s" % binary)
    return parts[binary]


def documented(binary, parts):
    text = own_part(binary, parts)
    if binary in PROCESSES:
        text += parts["Every process (gateway, order, billing, users, notification)"]
    if binary in SERVICES:
        text += parts["Every service (order, billing, users, notification; not the gateway)"]
    return set(FLAG.findall(text))


def flags_of(path):
    # choreoctl's flags follow a command: every command shares one flag set.
    command = ["order"] if os.path.basename(path) == "choreoctl" else []
    helped = subprocess.run([path] + command + ["--help"], capture_output=True, text=True,
                            check=True)
    flags = set(re.findall(r"^  --([a-z0-9-]+)$", helped.stdout, re.MULTILINE))
    flags.discard("help")
    if not flags:
        sys.exit("FAIL: %s --help lists no flag:\n%s" % (path, helped.stdout[:500]))
    return flags


def find_binaries(build_dir, names):
    """The path of each of `names` under `build_dir`, in one walk of the build tree."""
    found = {}
    for directory, _, files in os.walk(build_dir):
        for name in set(names).intersection(files) - found.keys():
            if os.access(os.path.join(directory, name), os.X_OK):
                found[name] = os.path.join(directory, name)
    missing = sorted(set(names) - found.keys())
    if missing:
        sys.exit("FAIL: not built under %s: %s" % (build_dir, ", ".join(missing)))
    return found


def main():
    repo, build_dir = sys.argv[1], sys.argv[2]
    with open(os.path.join(repo, "deploy/flags.md")) as doc:
        parts = sections(doc.read())
    problems, total = [], 0
    paths = find_binaries(build_dir, PROCESSES + COMMANDS)
    for binary in PROCESSES + COMMANDS:
        has = flags_of(paths[binary])
        total += len(has)
        undocumented = has - documented(binary, parts)
        if undocumented:
            problems.append("%s: not in deploy/flags.md: %s" % (
                binary, ", ".join("--" + f for f in sorted(undocumented))))
        stale = set(FLAG.findall(own_part(binary, parts))) - has
        if stale:
            problems.append("%s: deploy/flags.md documents flags it does not have: %s" % (
                binary, ", ".join("--" + f for f in sorted(stale))))
    if problems:
        sys.exit("FAIL:\n" + "\n".join(problems))
    print("OK: %d flags of %d binaries, each documented in deploy/flags.md"
          % (total, len(PROCESSES + COMMANDS)))


if __name__ == "__main__":
    main()
