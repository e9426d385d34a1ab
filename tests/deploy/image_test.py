"""The container image's recipe, checked without a container engine:

1. deploy/image/Dockerfile, read by dockerfile-parse (PyPI): a Debian 12 build stage that runs
   exactly deploy/install-deps.sh --build and deploy/build.sh --install (the scripts CI runs, so
   the image's build cannot drift from the tested one), and a debian:12-slim runtime stage that
   copies only the install prefix and runs as a non-root numeric user.
2. `cmake --install` of the tested build into a temporary prefix (what the build stage copies):
   every binary the image promises is there, and `--help` runs.
3. Every shared library those binaries load (ldd) comes from a package of
   deploy/image/runtime-packages.txt or from one that debian:12-slim already has (Essential and
   Priority required, with their dependencies): dpkg -S answers which, on this Debian 12 machine.

  python image_test.py REPO BUILD_DIR
"""

import os
import re
import subprocess
import sys
import tempfile

from dockerfile_parse import DockerfileParser

PROMISED = ["choreo-gateway", "choreo-order", "choreo-billing", "choreo-users",
            "choreo-notification", "choreo-topics", "choreo-redis-acl", "choreo-dlq",
            "choreo-views", "choreoctl"]


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def check_dockerfile(repo):
    parser = DockerfileParser(path=os.path.join(repo, "deploy/image/Dockerfile"))
    stages, current = [], None
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            current = {"from": instruction["value"], "run": [], "copy": [], "user": None}
            stages.append(current)
        elif instruction["instruction"] == "RUN":
            current["run"].append(instruction["value"])
        elif instruction["instruction"] == "COPY":
            current["copy"].append(instruction["value"])
        elif instruction["instruction"] == "USER":
            current["user"] = instruction["value"]
    if len(stages) != 2:
        fail("two stages expected, found %d" % len(stages))
    build, runtime = stages
    if not build["from"].startswith("debian:12 "):
        fail("the build stage is not FROM debian:12: " + build["from"])
    if build["run"] != ["deploy/install-deps.sh --build",
                        "BUILD_DIR=/tmp/build BUILD_TYPE=Release deploy/build.sh --install /opt/choreo"]:
        fail("the build stage runs something else than the scripts CI runs: %s" % build["run"])
    if runtime["from"] != "debian:12-slim":
        fail("the runtime stage is not FROM debian:12-slim: " + runtime["from"])
    if not any(copy.startswith("--from=build /opt/choreo/ ") for copy in runtime["copy"]):
        fail("the runtime stage does not copy the install prefix: %s" % runtime["copy"])
    user = runtime["user"] or "root"
    if not re.fullmatch(r"[1-9][0-9]*:[1-9][0-9]*", user):
        fail("the runtime stage does not run as a numeric non-root user:group: " + user)
    if not any("runtime-packages.txt" in run for run in runtime["run"]):
        fail("the runtime stage does not install runtime-packages.txt")
    print("Dockerfile: build stage = install-deps.sh --build + build.sh --install; "
          "runtime stage debian:12-slim as %s" % user)


def dpkg_package_of(path):
    for candidate in (path, os.path.realpath(path)):
        # /lib is a link to /usr/lib on Debian 12: dpkg knows a file by either name.
        names = {candidate, candidate.replace("/usr/lib/", "/lib/", 1),
                 candidate.replace("/lib/", "/usr/lib/", 1)}
        for name in names:
            result = subprocess.run(["dpkg", "-S", name], capture_output=True, text=True)
            if result.returncode == 0:
                return result.stdout.split(":")[0].strip()
    return None


def installed_dependencies():
    """Each installed package's dependencies (first alternative, as apt would pick when none is
    installed) and the roots of debian:12-slim: its Essential and Priority required packages."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package}\t${Priority}\t${Essential}\t${Pre-Depends}, ${Depends}\n"],
        capture_output=True, text=True, check=True).stdout
    depends, roots = {}, []
    for line in out.splitlines():
        package, priority, essential, deps = line.split("\t")
        names = []
        for dep in deps.split(","):
            # "a (>= 1) | b": any alternative that is installed will do; take the first name.
            name = dep.split("|")[0].split("(")[0].split(":")[0].strip()
            if name:
                names.append(name)
        depends[package] = names
        if priority == "required" or essential == "yes":
            roots.append(package)
    return depends, roots


def closure(depends, packages):
    """`packages` and everything they depend on, as installed here."""
    seen, todo = set(), list(packages)
    while todo:
        package = todo.pop()
        if package in seen or package not in depends:
            continue
        seen.add(package)
        todo.extend(depends[package])
    return seen


def check_runtime(repo, build_dir):
    listed = set()
    with open(os.path.join(repo, "deploy/image/runtime-packages.txt")) as f:
        for line in f:
            line = line.split("#")[0].strip()
            if line:
                listed.add(line)
    depends, roots = installed_dependencies()
    # What the runtime stage holds: debian:12-slim, the listed packages and what apt adds.
    image = closure(depends, roots + sorted(listed))
    with tempfile.TemporaryDirectory(prefix="choreo-image-") as prefix:
        subprocess.run(["cmake", "--install", build_dir, "--prefix", prefix, "--strip"],
                       check=True, capture_output=True)
        installed = sorted(os.listdir(os.path.join(prefix, "bin")))
        if installed != sorted(PROMISED):
            fail("installed %s, the image promises %s" % (installed, sorted(PROMISED)))
        if not os.access(os.path.join(prefix, "share/choreo/make-certs.sh"), os.X_OK):
            fail("share/choreo/make-certs.sh is not installed")
        needed = {}
        for binary in installed:
            path = os.path.join(prefix, "bin", binary)
            helped = subprocess.run([path, "--help"], capture_output=True, text=True)
            if helped.returncode != 0:
                fail("%s --help exits %d: %s" % (binary, helped.returncode, helped.stderr[-500:]))
            for line in subprocess.run(["ldd", path], capture_output=True, text=True,
                                       check=True).stdout.splitlines():
                match = re.search(r"=> (/\S+)", line) or re.match(r"\s*(/\S+)", line)
                if not match:
                    if "not found" in line:
                        fail("%s: %s" % (binary, line.strip()))
                    continue
                needed.setdefault(match.group(1), set()).add(binary)
        missing = {}
        for library, users in sorted(needed.items()):
            package = dpkg_package_of(library)
            if package is None:
                fail("no Debian package holds %s (needed by %s)" % (library, sorted(users)))
            package = package.split(",")[0]
            if package not in image:
                missing.setdefault(package, set()).add(os.path.basename(library))
        if missing:
            fail("runtime-packages.txt lacks %s" % {p: sorted(l) for p, l in missing.items()})
        loaded = {dpkg_package_of(library).split(",")[0] for library in needed}
        unused = listed - loaded - {"ca-certificates", "openssl", "curl"}
        if unused:
            fail("runtime-packages.txt lists packages no binary loads: %s" % sorted(unused))
        print("runtime: %d binaries load %d libraries, all in the image (%d listed packages, "
              "%d with their dependencies and debian:12-slim)"
              % (len(installed), len(needed), len(listed), len(image)))


def main():
    repo, build_dir = sys.argv[1], sys.argv[2]
    check_dockerfile(repo)
    check_runtime(repo, build_dir)
    print("OK")


if __name__ == "__main__":
    main()
