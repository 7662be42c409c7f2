#!/usr/bin/env bash
# Checks that every command-line flag and every CAUSEWAY_* environment
# variable used in deploy/** exists in the binaries: each `--flag` given to
# `causeway serve`, `causeway agent`, a CLI verb or `causeway-proxy` must be
# listed by that command's --help, and each CAUSEWAY_* variable given to a
# container, unit or env file must be one its binary reads (CLI11 prints
# "(Env:CAUSEWAY_X)"). Fails naming the file, the flag and the binary.
#
#   CAUSEWAY_BIN=build/release/src/exe test/deploy/check_flags.sh [DEPLOY_DIR]
#
# What is read where:
#   *.yaml      containers (command/args/entrypoint, env, envFrom ConfigMaps),
#               compose services (command, environment), comments as shell
#   Dockerfile  CMD/ENTRYPOINT, ENV, RUN and comments as shell
#   *.service   ExecStart=, Environment=, comments as shell
#   *.env       KEY=VALUE, for the unit whose EnvironmentFile= names the file
#   *.sh, *.md  shell lines (Markdown: code blocks and `code spans`)
# Flags of other programs (kubectl, docker, apt-get, …) are not checked.
# Exit 77 (skipped) when PyYAML is missing. CHECK_FLAGS_VERBOSE=1 lists every check.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
deploy_dir=${1:-$here/../../deploy}
: "${CAUSEWAY_BIN:?set CAUSEWAY_BIN to the directory holding causeway and causeway-proxy}"
for exe in causeway causeway-proxy; do
  if [ ! -x "$CAUSEWAY_BIN/$exe" ]; then
    echo "check_flags: $CAUSEWAY_BIN/$exe is missing (build it first)" >&2
    exit 1
  fi
done
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "check_flags: SKIPPED: python3 with PyYAML (Debian: python3-yaml) is needed" >&2
  exit 77
fi
exec python3 - "$CAUSEWAY_BIN" "$deploy_dir" <<'PY'
import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys

import yaml

BIN, DEPLOY = sys.argv[1], os.path.realpath(sys.argv[2])
PROGRAMS = ("causeway", "causeway-proxy")
FLAG = re.compile(r"(?<![\w-])--[A-Za-z0-9][\w-]*")
ENVVAR = re.compile(r"\bCAUSEWAY_[A-Z0-9_]+\b")
SEPARATORS = {"&&", "||", ";", "|", "&", ";;", "(", ")", "\n"}
PREFIXES = {"exec", "sudo", "nohup", "time", "command", "env", "-", "$"}

errors = []
checked = {"flags": 0, "envs": 0}
used_commands = set()
help_cache = {}


def verbose(line):
    if os.environ.get("CHECK_FLAGS_VERBOSE"):
        print(line)


def rel(path):
    return os.path.relpath(path, os.path.dirname(DEPLOY))


def run_help(words):
    key = tuple(words)
    if key not in help_cache:
        argv = [os.path.join(BIN, words[0])] + list(words[1:]) + ["--help"]
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=20)
            ok, text = p.returncode == 0, p.stdout + p.stderr
        except (OSError, subprocess.TimeoutExpired) as e:
            ok, text = False, str(e)
        help_cache[key] = (ok, set(FLAG.findall(text)) if ok else set(),
                           set(re.findall(r"Env:(CAUSEWAY_\w+)", text)) |
                           set(re.findall(r"\$(CAUSEWAY_\w+)", text)) if ok else set())
    return help_cache[key]


def resolve(program, words):
    """The longest `program words...` whose --help succeeds: the command."""
    words = [w for w in words if re.fullmatch(r"[a-z][a-z0-9-]*", w)][:3]
    for k in range(len(words), -1, -1):
        cmd = (program,) + tuple(words[:k])
        if run_help(cmd)[0]:
            return cmd
    return None


def name_of(cmd):
    return " ".join(cmd)


def known_envs():
    envs = set()
    for cmd in [("causeway", "serve"), ("causeway", "agent"), ("causeway-proxy",), ("causeway", "get")]:
        envs |= run_help(cmd)[2]
    return envs


def check_argv(path, argv):
    """Checks one command line (a list of words); returns the causeway command
    it runs, if any. Words holding a shell script (bash -c '…') are read too."""
    found = None
    i, n = 0, len(argv)
    at_command = True
    while i < n:
        w = argv[i]
        if w in SEPARATORS:
            at_command = True
            i += 1
            continue
        if at_command and (w in PREFIXES or re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", w)):
            i += 1
            continue
        base = os.path.basename(w)
        if at_command and base in PROGRAMS:
            j = i + 1
            words = []
            while j < n and argv[j] not in SEPARATORS and not argv[j].startswith("-"):
                words.append(argv[j])
                j += 1
            cmd = resolve(base, words)
            if cmd is None:
                errors.append(f"{rel(path)}: `{base} {' '.join(words)}` is not a command of {base}")
            while j < n and argv[j] not in SEPARATORS:
                a = argv[j]
                if a.startswith("--") and len(a) > 2 and cmd is not None:
                    flag = a.split("=", 1)[0]
                    checked["flags"] += 1
                    verbose(f"{rel(path)}: {name_of(cmd)} {flag}")
                    used_commands.add(cmd[:2] if cmd[0] == "causeway" and cmd[1:2] in (("serve",), ("agent",)) else cmd[:1])
                    if flag not in run_help(cmd)[1]:
                        errors.append(f"{rel(path)}: {flag} is not an option of `{name_of(cmd)}` "
                                      f"(not in `{name_of(cmd)} --help`)")
                elif " " in a or "\n" in a:
                    check_shell(path, a)
                j += 1
            found = found or cmd
            i = j
            continue
        if " " in w or "\n" in w:
            found = check_shell(path, w) or found
        # `kubectl exec POD -- causeway …`, `docker run IMAGE:TAG causeway …`
        at_command = w == "--" or bool(re.fullmatch(r"[\w./-]*causeway[\w./-]*:[\w.-]+", w))
        i += 1
    return found


def shell_lines(text):
    text = re.sub(r"\\\r?\n", " ", text)
    return text.split("\n")


def tokenize(line):
    line = re.sub(r"^\s*\$ ", "", line)
    try:
        lex = shlex.shlex(line, posix=True, punctuation_chars=";&|()<>")
        lex.whitespace_split = True
        lex.commenters = "#"
        return list(lex)
    except ValueError:  # prose with an odd quote
        return line.split()


def check_shell(path, text):
    found = None
    for line in shell_lines(text):
        if any(p in line for p in PROGRAMS):
            found = check_argv(path, tokenize(line)) or found
    return found


def check_env(path, names, cmd, where):
    if cmd is None:
        return
    envs = run_help(cmd)[2]
    for name in names:
        if not name.startswith("CAUSEWAY_"):
            continue
        checked["envs"] += 1
        verbose(f"{rel(path)}: {name_of(cmd)} env {name}")
        if name not in envs:
            errors.append(f"{rel(path)}: {where}{name} is not read by `{name_of(cmd)}` "
                          f"(no Env:{name} in `{name_of(cmd)} --help`)")


def check_loose_envs(path, text):
    """Every CAUSEWAY_* named anywhere must be read by some binary."""
    envs = known_envs()
    for name in sorted(set(ENVVAR.findall(text))):
        if name not in envs:
            errors.append(f"{rel(path)}: {name} is read by none of causeway serve, causeway agent, "
                          f"the CLI, causeway-proxy")


def comment_text(text):
    out = []
    for line in text.split("\n"):
        m = re.match(r"\s*#\s?(.*)$", line)
        out.append(m.group(1) if m else "")
    return "\n".join(out)


def as_words(value):
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return tokenize(str(value))


def image_command(image):
    image = str(image or "")
    if "causeway-proxy" in image:
        return ("causeway-proxy",)
    if re.search(r"(^|/)causeway([:@]|$)", image):
        return resolve("causeway", ["get"])  # scripts in the image: the CLI's variables
    return None


# ---- files
def yaml_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


configmaps = {}
for root, _, files in os.walk(DEPLOY):
    for fn in files:
        if fn.endswith((".yaml", ".yml")):
            try:
                for d in yaml_docs(os.path.join(root, fn)):
                    if isinstance(d, dict) and d.get("kind") == "ConfigMap":
                        configmaps[d["metadata"]["name"]] = list((d.get("data") or {}).keys())
            except yaml.YAMLError:
                pass


def walk_containers(node, out):
    if isinstance(node, dict):
        if ("image" in node or "build" in node) and any(k in node for k in ("command", "args", "entrypoint", "env", "environment", "envFrom")) or (
                "image" in node and "name" in node):
            out.append(node)
        for v in node.values():
            walk_containers(v, out)
    elif isinstance(node, list):
        for v in node:
            walk_containers(v, out)


def check_yaml(path, text):
    check_shell(path, comment_text(text))
    try:
        docs = yaml_docs(path)
    except yaml.YAMLError as e:
        errors.append(f"{rel(path)}: not YAML: {e}")
        return
    for doc in docs:
        if isinstance(doc, dict) and isinstance(doc.get("services"), dict):
            for key, svc in doc["services"].items():  # compose: name errors by service
                if isinstance(svc, dict):
                    svc.setdefault("name", key)
        containers = []
        walk_containers(doc, containers)
        for c in containers:
            argv = as_words(c.get("entrypoint")) + as_words(c.get("command")) + as_words(c.get("args"))
            cmd = check_argv(path, argv) if argv else None
            cmd = cmd or image_command(c.get("image"))
            label = f"container {c.get('name') or c.get('image')}: "
            names = []
            env = c.get("env") or c.get("environment") or []
            if isinstance(env, dict):
                names += list(env.keys())
            else:
                for e in env:
                    names.append(e.get("name", "") if isinstance(e, dict) else str(e).split("=", 1)[0])
            for ref in c.get("envFrom") or []:
                cm = (ref.get("configMapRef") or {}).get("name")
                if cm in configmaps:
                    names += configmaps[cm]
            if cmd is None and any(x.startswith("CAUSEWAY_") for x in names):
                errors.append(f"{rel(path)}: {label}sets CAUSEWAY_* variables but runs neither causeway "
                              f"nor causeway-proxy")
            check_env(path, names, cmd, label)
        # compose: healthcheck tests etc. may hold commands too
        if isinstance(doc, dict):
            for svc in (doc.get("services") or {}).values():
                hc = (svc or {}).get("healthcheck", {}).get("test") if isinstance(svc, dict) else None
                if isinstance(hc, list):
                    check_argv(path, [w for w in hc if w not in ("CMD", "CMD-SHELL")])


def check_dockerfile(path, text):
    check_shell(path, comment_text(text))
    joined = re.sub(r"\\\r?\n", " ", text)
    cmd = None
    envs = []
    for line in joined.split("\n"):
        m = re.match(r"\s*(CMD|ENTRYPOINT|RUN|ENV)\s+(.*)$", line)
        if not m:
            continue
        kw, rest = m.groups()
        if kw in ("CMD", "ENTRYPOINT"):
            try:
                argv = json.loads(rest)
            except ValueError:
                argv = tokenize(rest)
            cmd = check_argv(path, argv) or cmd
        elif kw == "RUN":
            check_shell(path, rest)
        else:
            envs += [w.split("=", 1)[0] for w in tokenize(rest)]
    if cmd is None and any(e.startswith("CAUSEWAY_") for e in envs):
        errors.append(f"{rel(path)}: ENV sets CAUSEWAY_* variables but the image runs neither causeway nor causeway-proxy")
    check_env(path, envs, cmd, "ENV ")


unit_env_files = []  # (pattern, command)


def check_unit(path, text):
    check_shell(path, comment_text(text))
    joined = re.sub(r"\\\r?\n", " ", text)
    cmd = None
    envs = []
    env_files = []
    for line in joined.split("\n"):
        m = re.match(r"\s*(ExecStart|ExecStartPre|ExecStartPost|ExecReload|Environment|EnvironmentFile)=(.*)$", line)
        if not m:
            continue
        key, value = m.groups()
        if key.startswith("Exec"):
            value = value.lstrip("-@:+!")
            c = check_argv(path, tokenize(value))
            if key == "ExecStart":
                cmd = c or cmd
        elif key == "Environment":
            envs += [w.split("=", 1)[0] for w in tokenize(value)]
        else:
            env_files.append(os.path.basename(value.lstrip("-")).replace("%i", "*").replace("%I", "*"))
    check_env(path, envs, cmd, "Environment= ")
    for pattern in env_files:
        unit_env_files.append((pattern, cmd, rel(path)))


def check_env_file(path, text):
    names = [m.group(1) for m in re.finditer(r"^\s*#?\s*([A-Z][A-Z0-9_]*)=", text, re.M)]
    owners = [(cmd, unit) for pattern, cmd, unit in unit_env_files
              if fnmatch.fnmatch(os.path.basename(path), pattern)]
    for cmd, unit in owners:
        check_env(path, names, cmd, f"(EnvironmentFile of {unit}) ")


def check_markdown(path, text):
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S)
    for b in blocks:
        check_shell(path, b)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.M | re.S)
    for span in re.findall(r"`([^`\n]+)`", prose):
        check_shell(path, span)


paths = []
for root, dirs, files in os.walk(DEPLOY):
    dirs.sort()
    for fn in sorted(files):
        paths.append(os.path.join(root, fn))
env_files = []
for path in paths:
    with open(path, errors="replace") as f:
        text = f.read()
    fn = os.path.basename(path)
    check_loose_envs(path, text)
    if fn.endswith((".yaml", ".yml")):
        check_yaml(path, text)
    elif fn.endswith("Dockerfile") or fn.startswith("Dockerfile"):
        check_dockerfile(path, text)
    elif fn.endswith((".service", ".socket", ".timer")):
        check_unit(path, text)
    elif fn.endswith(".env"):
        env_files.append((path, text))
    elif fn.endswith(".md"):
        check_markdown(path, text)
    elif fn.endswith(".sh") or text.startswith("#!"):
        check_shell(path, text)
for path, text in env_files:
    check_env_file(path, text)

missing = [name_of(r) for r in [("causeway", "serve"), ("causeway", "agent")] if r not in used_commands]
if checked["envs"] == 0 or missing:
    errors.append(f"check_flags: found no uses of {', '.join(missing) or 'CAUSEWAY_* variables'} in "
                  f"{rel(DEPLOY)}: is the checker still reading the files?")

print(f"check_flags: {len(paths)} files, {checked['flags']} flags and {checked['envs']} environment "
      f"variables checked against {len(help_cache)} --help outputs")
for e in errors:
    print(f"FAIL {e}")
sys.exit(1 if errors else 0)
PY
