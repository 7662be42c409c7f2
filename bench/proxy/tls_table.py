#!/usr/bin/env python3
"""Markdown tables of bench/proxy/tls_run's results.

tls_table.py RESULTS CLK_TCK INFO...: RESULTS has one line per wrk run,
tab-separated: tput, round, mode (clear, tls, hs, orig), path, proxy, req/s,
errors, CPU ticks of the serving process, requests completed, handshakes
counted by the proxy (empty where it does not count them). Each INFO is
printed as a bullet above the tables.
"""
import statistics
import sys
from collections import defaultdict

NAMES = {"causeway": "causeway-proxy", "nginx": "nginx", "haproxy": "HAProxy"}
PEERS = ["nginx", "haproxy"]
RUNS = [("clear", "/100b", "keep-alive, clear text"), ("clear", "/16k", "keep-alive, clear text"),
        ("tls", "/100b", "keep-alive, TLS"), ("tls", "/16k", "keep-alive, TLS"),
        ("hs", "/100b", "new TLS connection per request"),
        ("orig", "/100b", "clear in, TLS to origin")]
SIZE = {"/100b": "100 B", "/16k": "16 KiB"}


def med(xs):
    xs = list(xs)
    return statistics.median(xs) if xs else float("nan")


def main():
    rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
    tck = int(sys.argv[2])
    rps, cpu_us, hs_per_req = defaultdict(dict), defaultdict(list), defaultdict(list)
    errors = defaultdict(int)
    for _, rnd, mode, path, name, r, errs, ticks, served, hs in rows:
        rps[(mode, path, name)][rnd] = float(r)
        errors[name] += int(errs)
        if int(served):
            cpu_us[(mode, path, name)].append(int(ticks) * 1e6 / tck / int(served))
            if mode == "hs" and hs:
                hs_per_req[name].append(int(hs) / int(served))
    rounds = sorted({r[1] for r in rows}, key=int)
    ran = [run for run in RUNS if (run[0], run[1], "causeway") in rps]  # RUNS may pick some

    print("## TLS: causeway-proxy vs nginx vs HAProxy (HTTP/1.1, loopback)")
    print()
    for info in sys.argv[3:]:
        print(f"- {info}")
    print()
    print(f"### Requests per second, wrk -t1 -c50, median of {len(rounds)} rounds")
    print()
    print("| run | payload | causeway-proxy | nginx | HAProxy | vs nginx | vs HAProxy |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for mode, path, label in ran:
        m = {n: med(rps[(mode, path, n)].values()) for n in NAMES}
        ratios = [med(rps[(mode, path, "causeway")][r] / rps[(mode, path, p)][r] for r in rounds)
                  for p in PEERS]
        print(f"| {label} | {SIZE[path]} | " + " | ".join(f"{m[n]:,.0f}" for n in NAMES)
              + " | " + " | ".join(f"{x:.2f}" for x in ratios) + " |")
    print()
    print("Ratios: causeway-proxy / peer within each round, median over rounds. Per round:")
    print()
    print("| run | payload | vs nginx | vs HAProxy |")
    print("|---|---|---|---|")
    for mode, path, label in ran:
        cells = [", ".join(f"{rps[(mode, path, 'causeway')][r] / rps[(mode, path, p)][r]:.2f}"
                           for r in rounds) for p in PEERS]
        print(f"| {label} | {SIZE[path]} | " + " | ".join(cells) + " |")
    print()
    print("### What TLS costs: keep-alive TLS req/s / clear-text req/s (same round, median)")
    print()
    print("| payload | causeway-proxy | nginx | HAProxy |")
    print("|---|---:|---:|---:|")
    for path in ["/100b", "/16k"]:
        if ("tls", path, "causeway") not in rps or ("clear", path, "causeway") not in rps:
            continue
        cells = [med(rps[("tls", path, n)][r] / rps[("clear", path, n)][r] for r in rounds)
                 for n in NAMES]
        print(f"| {SIZE[path]} | " + " | ".join(f"{x:.2f}" for x in cells) + " |")
    print()
    print("### CPU of the serving process per request, µs (user + system, median)")
    print()
    print("| run | payload | causeway-proxy | nginx | HAProxy |")
    print("|---|---|---:|---:|---:|")
    for mode, path, label in ran:
        print(f"| {label} | {SIZE[path]} | "
              + " | ".join(f"{med(cpu_us[(mode, path, n)]):.1f}" for n in NAMES) + " |")
    print()
    if hs_per_req:
        checks = ", ".join(f"{NAMES[n]} {min(v):.3f}-{max(v):.3f}" for n, v in hs_per_req.items())
        print(f"Handshakes counted by the proxy per request wrk completed, new-connection runs: {checks}.")
    print("errors (wrk socket errors and non-2xx): "
          + ", ".join(f"{NAMES[n]} {errors[n]}" for n in NAMES))


if __name__ == "__main__":
    main()
