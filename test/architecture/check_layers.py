#!/usr/bin/env python3
"""Checks that causeway's modules depend only on modules below them.

A module is a folder under src/. Each has a rank (LAYERS below, the order
docs/architecture.md explains); a file of a module may include, and a library
of a module may link, only its own module and modules of a lower rank. Two
modules of the same rank (hub, discovery, proxy, cli) never use each other.

  check_layers.py [SRC_DIR]     check the tree; exit 1 naming every violation
  check_layers.py --self-test   plant an upward include and an upward CMake
                                dependency in a copy of src/ and check that
                                both are caught (and that the copy is clean
                                before they are planted)
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

# Rank of each module: lower ranks know nothing of higher ones.
LAYERS = {
    "common": 0,     # status, time, logging, strings
    "net": 1,        # HTTP server, router, client
    "model": 1,      # objects, validation, YAML/JSON documents
    "store": 2,      # the Store interface; SQLite and PostgreSQL
    "catalog": 3,    # every object in memory, the one write path
    "xds": 4,        # translation to Envoy resources; the ADS server
    "hub": 5,        # REST API and auth
    "discovery": 5,  # collectors, agent, relay
    "proxy": 5,      # the data plane
    "cli": 5,        # the command-line verbs
    "serve": 6,      # `causeway serve`: composes hub, xds, discovery
    "laptop": 6,     # `causeway intercept`: the CLI's hub client and the proxy's tunnel
    "exe": 7,        # main() files
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')
CMAKE_CALL = re.compile(r"causeway_(?:library|test)\(\s*([A-Za-z0-9_]+)(.*?)\)", re.S)
TARGET_LINK = re.compile(r"target_link_libraries\(\s*([A-Za-z0-9_-]+)(.*?)\)", re.S)
DEPS_WORD = re.compile(r"\b(causeway_[A-Za-z0-9_]+)\b")


def module_of(src, path):
    rel = os.path.relpath(path, src)
    return rel.split(os.sep)[0]


def check_includes(src):
    problems = []
    for root, _, files in os.walk(src):
        for name in sorted(files):
            if not name.endswith((".h", ".cc")):
                continue
            path = os.path.join(root, name)
            module = module_of(src, path)
            if module not in LAYERS:
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                for number, line in enumerate(f, 1):
                    match = INCLUDE.match(line)
                    if not match:
                        continue
                    target = match.group(1)
                    if target not in LAYERS or target == module:
                        continue
                    if LAYERS[target] >= LAYERS[module]:
                        problems.append(
                            f"{os.path.relpath(path, src)}:{number}: {module} (rank "
                            f"{LAYERS[module]}) includes {target}/ (rank {LAYERS[target]})")
    return problems


def cmake_files(src):
    """Yields (path, module, text) for each module's CMakeLists.txt."""
    for root, _, files in os.walk(src):
        if "CMakeLists.txt" not in files or root == src:
            continue
        path = os.path.join(root, "CMakeLists.txt")
        with open(path, encoding="utf-8") as f:
            yield path, module_of(src, path), f.read()


def libraries(src):
    """Maps each causeway_* library defined under src/ to its module."""
    return {match.group(1): module
            for _, module, text in cmake_files(src)
            for match in CMAKE_CALL.finditer(text)}


def check_cmake(src):
    problems = []
    owner = libraries(src)
    for path, module, text in cmake_files(src):
        if module not in LAYERS:
            continue
        calls = [(m.group(1), m.group(2)) for m in CMAKE_CALL.finditer(text)]
        calls += [(m.group(1), m.group(2)) for m in TARGET_LINK.finditer(text)]
        for name, body in calls:
            deps = body.split("DEPS", 1)[1] if "DEPS" in body else body
            for dep in DEPS_WORD.findall(deps):
                target = owner.get(dep)
                if target is None or target == module or target not in LAYERS:
                    continue
                if LAYERS[target] >= LAYERS[module]:
                    problems.append(
                        f"{os.path.relpath(path, src)}: {name} ({module}, rank "
                        f"{LAYERS[module]}) links {dep} ({target}, rank {LAYERS[target]})")
    return problems


def check(src):
    unknown = sorted(
        d for d in os.listdir(src)
        if os.path.isdir(os.path.join(src, d)) and d not in LAYERS)
    problems = [f"src/{d}: a module with no rank; add it to LAYERS in {__file__}"
                for d in unknown]
    return problems + check_includes(src) + check_cmake(src)


def self_test(src):
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "src")
        shutil.copytree(src, copy)
        clean = check(copy)
        if clean:
            print("self-test: the copy was not clean to begin with:\n" + "\n".join(clean))
            return 1
        with open(os.path.join(copy, "common", "status.h"), "a", encoding="utf-8") as f:
            f.write('\n#include "serve/hub_server.h"\n')
        with open(os.path.join(copy, "model", "CMakeLists.txt"), "a", encoding="utf-8") as f:
            f.write("\ncauseway_library(causeway_planted SOURCES objects.cc DEPS causeway_catalog)\n")
        found = check(copy)
        wanted = ["common/status.h", "causeway_planted (model, rank 1) links causeway_catalog"]
        missing = [w for w in wanted if not any(w in p for p in found)]
        if missing:
            print("self-test: not caught: " + ", ".join(missing) + "\nfound:\n" + "\n".join(found))
            return 1
        # The script run as a program on the planted copy fails too.
        run = subprocess.run([sys.executable, __file__, copy], capture_output=True, text=True)
        if run.returncode != 1:
            print(f"self-test: exit status {run.returncode} on the planted copy, wanted 1")
            return 1
        print("self-test: the planted upward include and link were both caught:")
        print("\n".join(found))
        return 0


def main():
    args = sys.argv[1:]
    here = os.path.dirname(os.path.abspath(__file__))
    default_src = os.path.normpath(os.path.join(here, "..", "..", "src"))
    if args and args[0] == "--self-test":
        return self_test(args[1] if len(args) > 1 else default_src)
    src = args[0] if args else default_src
    problems = check(src)
    if problems:
        print("layering: dependencies that point up (see docs/architecture.md):")
        print("\n".join(problems))
        return 1
    print(f"layering: {len(LAYERS)} modules, every include and link points down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
