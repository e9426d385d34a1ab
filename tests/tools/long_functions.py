#!/usr/bin/env python3
"""Lists the functions of the source tree (tests left out) longer than a limit, longest first.

STYLE.md asks for functions of about 80 lines; this shows where the code is above that. A
definition is read as text: a line at column 0 that opens a function, to the closing brace at
column 0, so a rare layout can be missed; it is a guide, not a check.

usage: long_functions.py [SOURCE_ROOT] [LIMIT=80]
"""

import os
import re
import sys

SKIP = ("build", ".git", "node_modules", "tests")
OPENS = re.compile(r"^[A-Za-z].*(\)\s*(const)?\s*(noexcept)?\s*(override)?\s*\{|[,(])$")


def long_functions(root, limit):
    found = []
    for directory, folders, names in os.walk(root):
        folders[:] = [f for f in folders if f not in ("build", ".git", "node_modules")]
        if os.path.relpath(directory, root).split(os.sep)[0] in SKIP:
            continue
        for name in names:
            if not name.endswith(".cc"):
                continue
            path = os.path.join(directory, name)
            with open(path, encoding="utf-8", errors="replace") as text:
                lines = text.read().split("\n")
            i = 0
            while i < len(lines):
                if OPENS.match(lines[i]) and not lines[i].startswith(
                        ("namespace", "struct", "class", "enum", "extern")):
                    j = i
                    while j < len(lines) and not lines[j].rstrip().endswith("{") and j - i <= 6:
                        j += 1
                    if j < len(lines) and lines[j].rstrip().endswith("{"):
                        k = j + 1
                        while k < len(lines) and lines[k] not in ("}", "};"):
                            k += 1
                        if k - i + 1 > limit:
                            found.append((k - i + 1, os.path.relpath(path, root), i + 1,
                                          lines[i][:80]))
                        i = k
                i += 1
    return sorted(found, reverse=True)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.getcwd()
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 80
    found = long_functions(root, limit)
    for length, path, line, text in found:
        print(f"{length:4d}  {path}:{line}  {text}")
    print(f"{len(found)} function(s) over {limit} lines")


if __name__ == "__main__":
    main()
