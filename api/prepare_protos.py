#!/usr/bin/env python3
"""Copies the Envoy v3 API protos causeway needs out of the pinned npm package
into the build tree, ready for protoc.

Why this script exists:
  * Only the transitive imports of a few root files are compiled (a few hundred
    of the package's ~600 protos), which keeps the build short on small machines.
  * The package bundles an old protoc-gen-validate `validate.proto` that lacks
    options newer Envoy protos use (e.g. `(validate.rules).string.well_known_regex`
    variants, `ignore_empty`...). Validation annotations are only consumed by the
    PGV code generator, which causeway does not run, so they are stripped here:
    the import of validate/validate.proto is dropped and every `(validate.*)`
    option is removed. The wire format is unchanged.

Usage: prepare_protos.py DEPS_DIR OUT_DIR ROOT.proto... ; prints the list of
copied .proto paths relative to OUT_DIR, one per line.
"""
import os
import re
import sys

IMPORT = re.compile(r'^\s*import\s+(?:public\s+)?"([^"]+)"\s*;', re.M)
SEARCH = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"]


def find(deps, rel):
    for root in SEARCH:
        path = os.path.join(deps, root, rel)
        if os.path.exists(path):
            return path
    return None


def strip_validate(text):
    text = re.sub(r'^\s*import\s+"validate/validate.proto"\s*;\s*\n', "", text, flags=re.M)
    # Message/field-level options: `option (validate.required) = true;`
    text = re.sub(r'^\s*option\s+\(validate\.[a-z_]+\)\s*=\s*[^;]*;\s*\n', "", text, flags=re.M)
    # Field options inside [...]: remove every `(validate.rules)... = value` entry,
    # where value may be a scalar or a nested {...} block.
    out = []
    i = 0
    pat = re.compile(r'\(validate\.[a-z_]+\)')
    while True:
        m = pat.search(text, i)
        if not m:
            out.append(text[i:])
            break
        # Back up over a preceding comma or the opening bracket's whitespace.
        start = m.start()
        j = m.end()
        eq = text.index("=", j)
        k = eq + 1
        while text[k].isspace():
            k += 1
        if text[k] == "{":
            depth = 0
            while True:
                if text[k] == "{":
                    depth += 1
                elif text[k] == "}":
                    depth -= 1
                    if depth == 0:
                        k += 1
                        break
                elif text[k] == '"':
                    k = text.index('"', k + 1)
                k += 1
        else:
            while text[k] not in ",]":
                if text[k] == '"':
                    k = text.index('"', k + 1)
                k += 1
        out.append(text[i:start])
        i = k
        # Drop a following comma so `[(validate.x) = 1, deprecated = true]` stays valid.
        rest = text[i:]
        stripped = rest.lstrip()
        if stripped.startswith(","):
            i += len(rest) - len(stripped) + 1
    text = "".join(out)
    # An option list may now be empty or end with a comma: `[ ]`, `[a = 1, ]`.
    text = re.sub(r',\s*\]', "]", text)
    text = re.sub(r'\[\s*\]', "", text)
    return text


def main():
    deps, out_dir, roots = sys.argv[1], sys.argv[2], sys.argv[3:]
    seen, todo = set(), list(roots)
    while todo:
        rel = todo.pop()
        if rel in seen or rel.startswith("google/protobuf/") or rel == "validate/validate.proto":
            continue
        seen.add(rel)
        src = find(deps, rel)
        if src is None:
            sys.exit(f"prepare_protos: {rel} not found under {deps}")
        with open(src, encoding="utf-8") as f:
            text = f.read()
        todo.extend(IMPORT.findall(text))
        text = strip_validate(text)
        dst = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        old = None
        if os.path.exists(dst):
            with open(dst, encoding="utf-8") as f:
                old = f.read()
        if old != text:  # keep timestamps stable so CMake does not rebuild needlessly
            with open(dst, "w", encoding="utf-8") as f:
                f.write(text)
    for rel in sorted(seen):
        print(rel)


if __name__ == "__main__":
    main()
