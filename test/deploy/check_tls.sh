#!/usr/bin/env bash
# Checks that every deployment file runs the hub and its clients the way a
# hub reached from other machines needs: TLS and xDS tokens.
#   - every hub (`causeway serve` in a container, a Dockerfile's CMD or a
#     unit's ExecStart) has --tls-cert and --tls-key and no --xds-auth none,
#     and its Kubernetes HTTP probes use scheme HTTPS;
#   - every causeway-proxy given a control plane (CAUSEWAY_XDS) dials it over
#     TLS (CAUSEWAY_XDS_CA or CAUSEWAY_XDS_TLS) with a token
#     (CAUSEWAY_XDS_TOKEN_FILE or CAUSEWAY_XDS_TOKEN);
#   - every CAUSEWAY_HUB (containers, ConfigMaps, env files) is https://.
# Environment comes from a container's env/environment and envFrom
# ConfigMaps, or from a unit's Environment= and each env file its
# EnvironmentFile= names. Comments and Markdown are not read: examples may
# show a loopback hub without TLS.
#
#   test/deploy/check_tls.sh [DEPLOY_DIR]
#   test/deploy/check_tls.sh --self-test   # plants a mistake of each kind
#
# Exit 77 (skipped) when PyYAML is missing.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "check_tls: SKIPPED: python3 with PyYAML (Debian: python3-yaml) is needed" >&2
  exit 77
fi

# check DEPLOY_DIR: prints one line per problem, returns 1 if there was any.
check() {
  python3 - "$1" <<'PY'
import fnmatch
import json
import os
import re
import shlex
import sys

import yaml

DEPLOY = os.path.realpath(sys.argv[1])
errors = []
counts = {"hubs": 0, "proxies": 0, "hub_urls": 0}


def rel(path):
    return os.path.relpath(path, os.path.dirname(DEPLOY))


def words(value):
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return shlex.split(str(value), comments=True)


def flag_value(argv, flag):
    """The value of --flag (as `--flag V` or `--flag=V`), or None."""
    for i, w in enumerate(argv):
        if w == flag and i + 1 < len(argv):
            return argv[i + 1]
        if w.startswith(flag + "="):
            return w.split("=", 1)[1]
    return None


def is_hub(argv):
    return any(os.path.basename(w) == "causeway" and argv[i + 1:i + 2] == ["serve"]
               for i, w in enumerate(argv))


def check_hub(where, argv):
    counts["hubs"] += 1
    for flag in ("--tls-cert", "--tls-key"):
        if not flag_value(argv, flag):
            errors.append(f"{where}: the hub runs without {flag} (REST and xDS in cleartext)")
    if flag_value(argv, "--xds-auth") == "none":
        errors.append(f"{where}: the hub runs with --xds-auth none (xDS streams without a token)")


def check_proxy(where, env):
    if not env.get("CAUSEWAY_XDS"):
        return  # static mode (--config), no control plane
    counts["proxies"] += 1
    if not (env.get("CAUSEWAY_XDS_CA") or env.get("CAUSEWAY_XDS_TLS")):
        errors.append(f"{where}: causeway-proxy dials CAUSEWAY_XDS without TLS "
                      f"(neither CAUSEWAY_XDS_CA nor CAUSEWAY_XDS_TLS)")
    if not (env.get("CAUSEWAY_XDS_TOKEN_FILE") or env.get("CAUSEWAY_XDS_TOKEN")):
        errors.append(f"{where}: causeway-proxy dials CAUSEWAY_XDS without a token "
                      f"(neither CAUSEWAY_XDS_TOKEN_FILE nor CAUSEWAY_XDS_TOKEN)")


def check_hub_urls(where, env):
    url = env.get("CAUSEWAY_HUB")
    if url is None:
        return
    counts["hub_urls"] += 1
    if not str(url).startswith("https://"):
        errors.append(f"{where}: CAUSEWAY_HUB={url} is not https://")


def yaml_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if isinstance(d, dict)]


def walk_containers(node, out):
    if isinstance(node, dict):
        if "image" in node or "build" in node:
            out.append(node)
        for v in node.values():
            walk_containers(v, out)
    elif isinstance(node, list):
        for v in node:
            walk_containers(v, out)


def container_env(c, configmaps):
    env = {}
    for ref in c.get("envFrom") or []:
        env.update(configmaps.get((ref.get("configMapRef") or {}).get("name"), {}))
    raw = c.get("env") or c.get("environment") or {}
    if isinstance(raw, dict):
        env.update({k: v for k, v in raw.items()})
    else:
        for e in raw:
            if isinstance(e, dict):  # valueFrom counts as set
                env[e.get("name", "")] = e.get("value", e.get("valueFrom", ""))
            else:
                k, _, v = str(e).partition("=")
                env[k] = v
    return env


def check_yaml(path, configmaps):
    for doc in yaml_docs(path):
        if doc.get("kind") == "ConfigMap":
            check_hub_urls(f"{rel(path)}: ConfigMap {doc['metadata']['name']}", doc.get("data") or {})
        services = doc.get("services") if isinstance(doc.get("services"), dict) else {}
        for key, svc in services.items():
            if isinstance(svc, dict):
                svc.setdefault("name", key)
        containers = []
        walk_containers(doc, containers)
        for c in containers:
            where = f"{rel(path)}: container {c.get('name') or c.get('image')}"
            argv = words(c.get("entrypoint")) + words(c.get("command")) + words(c.get("args"))
            env = container_env(c, configmaps)
            check_hub_urls(where, env)
            if is_hub(argv):
                check_hub(where, argv)
                for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
                    get = (c.get(probe) or {}).get("httpGet")
                    if get is not None and get.get("scheme") != "HTTPS":
                        errors.append(f"{where}: {probe} is plain HTTP against a TLS port "
                                      f"(httpGet scheme HTTPS)")
            image = str(c.get("image") or "")
            if "causeway-proxy" in image or (argv and os.path.basename(argv[0]) == "causeway-proxy"):
                check_proxy(where, env)


def check_dockerfile(path, text):
    joined = re.sub(r"\\\r?\n", " ", text)
    for line in joined.split("\n"):
        m = re.match(r"\s*CMD\s+(.*)$", line)
        if not m:
            continue
        try:
            argv = json.loads(m.group(1))
        except ValueError:
            argv = words(m.group(1))
        if is_hub(argv):
            check_hub(f"{rel(path)}: CMD", argv)


def env_file(path):
    env = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
            if m:
                env[m.group(1)] = m.group(2).strip().strip('"')
    return env


def check_unit(path, text, env_paths):
    joined = re.sub(r"\\\r?\n", " ", text)
    base_env, files, exec_start = {}, [], []
    for line in joined.split("\n"):
        m = re.match(r"\s*(ExecStart|Environment|EnvironmentFile)=(.*)$", line)
        if not m:
            continue
        key, value = m.groups()
        if key == "ExecStart":
            exec_start = words(value.lstrip("-@:+!"))
        elif key == "Environment":
            base_env.update(dict(w.split("=", 1) for w in words(value) if "=" in w))
        else:
            files.append(os.path.basename(value.lstrip("-")).replace("%i", "*").replace("%I", "*"))
    matched = [p for p in env_paths if any(fnmatch.fnmatch(os.path.basename(p), f) for f in files)]
    # Each env file is one configuration of the unit (one instance of a template).
    for env_path in matched or [None]:
        env = dict(base_env)
        where = rel(path)
        if env_path:
            env.update(env_file(env_path))
            where += f" with {os.path.basename(env_path)}"
        argv = [re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), w) for w in exec_start]
        if is_hub(argv):
            check_hub(where, argv)
        if argv and os.path.basename(argv[0]) == "causeway-proxy":
            check_proxy(where, env)
        check_hub_urls(where, env)


paths = []
for root, dirs, files in os.walk(DEPLOY):
    dirs.sort()
    paths += [os.path.join(root, fn) for fn in sorted(files)]
configmaps = {}
for path in paths:
    if path.endswith((".yaml", ".yml")):
        try:
            for d in yaml_docs(path):
                if d.get("kind") == "ConfigMap":
                    configmaps[d["metadata"]["name"]] = d.get("data") or {}
        except yaml.YAMLError as e:
            errors.append(f"{rel(path)}: not YAML: {e}")
env_paths = [p for p in paths if p.endswith(".env")]
for path in paths:
    fn = os.path.basename(path)
    with open(path, errors="replace") as f:
        text = f.read()
    if fn.endswith((".yaml", ".yml")):
        try:
            check_yaml(path, configmaps)
        except yaml.YAMLError:
            pass  # reported above
    elif fn.endswith("Dockerfile"):
        check_dockerfile(path, text)
    elif fn.endswith(".service"):
        check_unit(path, text, env_paths)
for path in env_paths:  # env files of no unit still must not name an http:// hub
    check_hub_urls(rel(path), env_file(path))

if counts["hubs"] == 0 or counts["proxies"] == 0 or counts["hub_urls"] == 0:
    errors.append(f"check_tls: found {counts['hubs']} hubs, {counts['proxies']} proxies and "
                  f"{counts['hub_urls']} hub URLs in {rel(DEPLOY)}: is the checker still reading the files?")
print(f"check_tls: {counts['hubs']} hubs, {counts['proxies']} proxies, {counts['hub_urls']} hub URLs checked")
for e in errors:
    print(f"FAIL {e}")
sys.exit(1 if errors else 0)
PY
}

if [ "${1:-}" = "--self-test" ]; then
  copy=$(mktemp -d)
  trap 'rm -rf "$copy"' EXIT
  cp -r "$here/../../deploy/." "$copy/"
  # Planted: a hub without its key, a hub probed over plain HTTP, a proxy
  # without a token, a proxy without TLS, an agent calling http://.
  sed -i '/--tls-key=/d' "$copy/kubernetes/hub/statefulset.yaml"
  python3 - "$copy/kubernetes/hub/postgres/deployment.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
i = s.index("scheme: HTTPS")
open(p, "w").write(s[:i] + "scheme: HTTP" + s[i + len("scheme: HTTPS"):])
PY
  sed -i '/CAUSEWAY_XDS_TOKEN_FILE: \/run\/causeway-proxy-tokens\/dev-proxy/d' "$copy/compose/docker-compose.yaml"
  sed -i '/^CAUSEWAY_XDS_CA=/d' "$copy/systemd/proxy-testbed-proxy.env"
  sed -i 's|^CAUSEWAY_HUB=https://|CAUSEWAY_HUB=http://|' "$copy/systemd/agent.env"
  if out=$(check "$copy"); then
    echo "check_tls self-test: the planted mistakes were not noticed" >&2
    exit 1
  fi
  for want in "statefulset.yaml: container hub: the hub runs without --tls-key" \
              "deployment.yaml: container hub: readinessProbe is plain HTTP" \
              "docker-compose.yaml: container dev-proxy: causeway-proxy dials CAUSEWAY_XDS without a token" \
              "with proxy-testbed-proxy.env: causeway-proxy dials CAUSEWAY_XDS without TLS" \
              "agent.env: CAUSEWAY_HUB=http://hub.internal:8380 is not https://"; do
    if ! grep -qF "$want" <<<"$out"; then
      echo "check_tls self-test: no report naming '$want' in:" >&2
      echo "$out" >&2
      exit 1
    fi
  done
  if grep -q "dev-proxy.env\|front-proxy.yaml\|causeway.Dockerfile" <<<"$out"; then
    echo "check_tls self-test: a file without a planted mistake was reported:" >&2
    echo "$out" >&2
    exit 1
  fi
  echo "check_tls self-test: the planted mistakes were reported"
  exit 0
fi

deploy_dir=${1:-$here/../../deploy}
if out=$(check "$deploy_dir"); then
  echo "$out"
else
  echo "$out" >&2
  exit 1
fi
