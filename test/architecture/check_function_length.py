#!/usr/bin/env python3
"""Checks that no function in the proxy's request path is over a line limit.

The request path (src/proxy/server, src/proxy/upstream, src/proxy/codec) is
kept in pieces small enough to read on one screen (src/proxy/README.md). A function's
length is the number of lines from its opening brace to its closing brace,
both included; lambdas and local classes count toward the function that
holds them.

  check_function_length.py [--max N] DIR...   exit 1 naming every function
                                              over N lines (default 80)
  check_function_length.py --self-test DIR... plant a function one line over
                                              the limit in a copy of the
                                              first DIR and check that it is
                                              caught (and that the copy is
                                              clean before)
"""

import os
import re
import shutil
import sys
import tempfile

MAX_LINES = 80
SOURCE = re.compile(r"\.(cc|h)$")
CONTROL = re.compile(r"\b(if|for|while|switch|catch|do|else|try)\s*(\(|$)")
TYPE_SCOPE = re.compile(r"^\s*(template\s*<.*>\s*)?(namespace|class|struct|union|enum)\b", re.S)
RAW_STRING = re.compile(r'R"([^(\s]*)\((.*?)\)\1"', re.S)


def strip(text):
    """Blanks comments, string and character literals, keeping newlines."""
    text = RAW_STRING.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + " " * (min(j, n) - i - 1) + (c if j < n else ""))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def is_function_header(header):
    h = header.strip()
    if not h or TYPE_SCOPE.match(h) or "(" not in h:
        return False
    if CONTROL.search(h.split("(")[0] + "(") or h.startswith("="):
        return False
    # `... ) const`, `... ) override`, `... ) -> T`, `X::X(...) : a_(b)`.
    return True


def in_initializer_list(header):
    """A `{` after `X(...) : member` is a member's brace initializer."""
    h = header.rstrip()
    return re.search(r"\)\s*:\s*[^;]*[A-Za-z0-9_>]$", h) is not None


def functions(path):
    """Yields (name, first_line, lines) for each outermost function body."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = strip(f.read())
    scopes = []  # per open brace: (start, header) for a function body, else None
    header_start = 0
    i = 0
    while i < len(text):
        c = text[i]
        in_function = any(s is not None for s in scopes)
        if c == ";" and not in_function:
            header_start = i + 1
        elif c == "{":
            header = text[header_start:i]
            if in_function:
                scopes.append(None)
            elif in_initializer_list(header):
                depth, j = 1, i + 1
                while j < len(text) and depth:
                    depth += {"{": 1, "}": -1}.get(text[j], 0)
                    j += 1
                i = j
                continue
            elif is_function_header(header):
                scopes.append((i, header))
            else:
                scopes.append(None)
                header_start = i + 1
        elif c == "}":
            top = scopes.pop() if scopes else None
            if top is not None:
                start, header = top
                first = text.count("\n", 0, start) + 1
                last = text.count("\n", 0, i) + 1
                name = re.sub(r"\s+", " ", header.split("(")[0]).strip().split(" ")[-1]
                yield name, first, last - first + 1
            if not any(s is not None for s in scopes):
                header_start = i + 1
        i += 1


def check(dirs, max_lines):
    problems = []
    for d in dirs:
        for root, _, files in os.walk(d):
            for name in sorted(files):
                if not SOURCE.search(name):
                    continue
                path = os.path.join(root, name)
                for fn, line, length in functions(path):
                    if length > max_lines:
                        problems.append(f"{path}:{line}: {fn} is {length} lines (limit {max_lines})")
    return problems


def self_test(dirs, max_lines):
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, "server")
        shutil.copytree(dirs[0], copy)
        before = check([copy], max_lines)
        if before:
            print("self-test: the copy is not clean before planting:\n" + "\n".join(before))
            return 1
        body = "".join(f"  total += {k};\n" for k in range(max_lines - 3))
        planted = os.path.join(copy, "planted_long_function.cc")
        with open(planted, "w") as f:
            f.write("namespace x {\nint Planted(int total) {\n  // { not a brace\n"
                    + body + "  return total;\n}\n}  // namespace x\n")
        found = check([copy], max_lines)
        if len(found) != 1 or "Planted" not in found[0] or f"{max_lines + 1} lines" not in found[0]:
            print("self-test: the planted function was not caught as expected:", found)
            return 1
        os.remove(planted)
        with open(planted, "w") as f:
            f.write("namespace x {\nint Planted(int total) {\n" + body[body.index("\n") + 1:]
                    + "  return total;\n}\n}  // namespace x\n")
        if check([copy], max_lines):
            print("self-test: a function of exactly the limit was refused")
            return 1
    print(f"self-test passed: a function of {max_lines + 1} lines is caught, one of {max_lines} is not")
    return 0


def main(argv):
    max_lines = MAX_LINES
    selftest = False
    dirs = []
    args = iter(argv)
    for a in args:
        if a == "--max":
            max_lines = int(next(args))
        elif a == "--self-test":
            selftest = True
        else:
            dirs.append(a)
    if not dirs:
        print(__doc__)
        return 2
    if selftest:
        return self_test(dirs, max_lines)
    problems = check(dirs, max_lines)
    for p in problems:
        print(p)
    if problems:
        return 1
    count = sum(1 for d in dirs for r, _, fs in os.walk(d) for f in fs if SOURCE.search(f))
    print(f"{count} files: no function over {max_lines} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
