#!/usr/bin/env python3
"""Markdown tables for bench/proxy/h2_run and grpc_run.

  table.py RESULTS CLK_TCK UNIT [NOTE ...]

RESULTS is tab-separated, one line per measured run:
  tput  ROUND ROW CONTENDER RATE ERRORS CPU_TICKS DONE     (closed loop)
  lat   ROUND ROW CONTENDER P50_US P99_US P999_US ERRORS   (fixed rate)
A RATE of "-" means the contender cannot serve the row (its cell says so).
The first contender is causeway-proxy; ratios are its rate over each peer's
within a round, median over rounds. Notes are printed first, one a line.
"""
import statistics
import sys
from collections import defaultdict

NAMES = {"causeway": "causeway-proxy", "nginx": "nginx", "haproxy": "HAProxy",
         "origin": "origin alone"}


def fmt_rate(v):
    return f"{v:,.0f}"


def throughput(rows, order, clk_tck, unit):
    rates = defaultdict(dict)  # (row, name) -> {round: rate}
    cpu = defaultdict(list)
    errors = defaultdict(int)
    for rnd, row, name, rate, errs, ticks, done in rows:
        if row not in order["rows"]:
            order["rows"].append(row)
        errors[name] += int(errs)
        if rate == "-":
            rates[(row, name)] = None
            continue
        rates[(row, name)][rnd] = float(rate)
        if int(done) > 0:
            cpu[(row, name)].append(int(ticks) / clk_tck / int(done) * 1e6)
    peers = [n for n in ("nginx", "haproxy") if any((r, n) in rates for r in order["rows"])]
    head = ["row", "causeway-proxy"] + [NAMES[p] for p in peers]
    head += [f"vs {NAMES[p]}" for p in peers] + ["vs better peer", "per round vs better peer"]
    alone = any((r, "origin") in rates for r in order["rows"])
    head += ["origin alone"] if alone else []
    print(f"{unit}, median of rounds; ratios are causeway-proxy / peer within a round:\n")
    print("| " + " | ".join(head) + " |")
    print("|---|" + "---:|" * (len(head) - 2 - alone) + "---|" + "---:|" * alone)
    for row in order["rows"]:
        cells = [row]
        meds = {}
        for name in ["causeway"] + peers:
            got = rates.get((row, name))
            if got is None:
                cells.append("not supported yet" if name == "causeway" else "n/a")
            else:
                meds[name] = statistics.median(got.values())
                cells.append(fmt_rate(meds[name]))
        cw = rates.get((row, "causeway"))
        for p in peers:
            pr = rates.get((row, p))
            if cw and pr:
                ratios = [cw[r] / pr[r] for r in cw if r in pr and pr[r] > 0]
                cells.append(f"{statistics.median(ratios):.2f}" if ratios else "")
            else:
                cells.append("")
        best = [p for p in peers if rates.get((row, p))]
        if cw and best:
            per_round = []
            for r in sorted(cw):
                top = max(rates[(row, p)].get(r, 0) for p in best)
                per_round.append(cw[r] / top if top > 0 else 0)
            cells.append(f"{statistics.median(per_round):.2f}")
            cells.append(", ".join(f"{x:.2f}" for x in per_round))
        else:
            cells += ["", ""]
        if alone:
            got = rates.get((row, "origin"))
            cells.append(fmt_rate(statistics.median(got.values())) if got else "")
        print("| " + " | ".join(cells) + " |")
    print("\nCPU (user + system) of the serving process per request or message, µs, median:\n")
    print("| row | " + " | ".join(NAMES[n] for n in ["causeway"] + peers) + " |")
    print("|---|" + "---:|" * (1 + len(peers)))
    for row in order["rows"]:
        cells = [row]
        for name in ["causeway"] + peers:
            got = cpu.get((row, name))
            cells.append(f"{statistics.median(got):.1f}" if got else "")
        print("| " + " | ".join(cells) + " |")
    print("\nerrors over all runs: " + ", ".join(f"{NAMES.get(n, n)} {e}" for n, e in errors.items()))


def latency(rows):
    by = defaultdict(dict)  # (row, name) -> {round: (p50, p99, p999)}
    errors = defaultdict(int)
    rows_order, names = [], []
    for rnd, row, name, p50, p99, p999, errs in rows:
        rows_order += [row] if row not in rows_order else []
        names += [name] if name not in names else []
        errors[name] += int(errs)
        if p50 != "-":
            by[(row, name)][rnd] = (float(p50), float(p99), float(p999))
    print("\nLatency at a fixed rate (h2load --rps), µs, median over rounds; added ="
          " proxy - origin alone in the same round:\n")
    print("| row | target | p50 | p99 | p99.9 | added p50 | added p99 | added p99.9 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for row in rows_order:
        base = by.get((row, "origin"), {})
        for name in names:
            got = by.get((row, name))
            if not got:
                print(f"| {row} | {NAMES.get(name, name)} | not supported yet | | | | | |")
                continue
            med = [statistics.median(v[i] for v in got.values()) for i in range(3)]
            added = ["", "", ""]
            if name != "origin" and base:
                added = [f"{statistics.median(got[r][i] - base[r][i] for r in got if r in base):+.0f}"
                         for i in range(3)]
            print(f"| {row} | {NAMES.get(name, name)} | " + " | ".join(f"{m:.0f}" for m in med) +
                  " | " + " | ".join(added) + " |")
    print("\nlatency-run errors: " + ", ".join(f"{NAMES.get(n, n)} {e}" for n, e in errors.items()))


def main():
    if len(sys.argv) < 4:
        sys.exit("usage: table.py RESULTS CLK_TCK UNIT [NOTE ...]")
    path, clk_tck, unit = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    for note in sys.argv[4:]:
        print(f"- {note}")
    print()
    tput, lat = [], []
    with open(path) as f:
        for line in f:
            fields = line.rstrip("\n").split("\t")
            (tput if fields[0] == "tput" else lat).append(fields[1:])
    throughput(tput, {"rows": []}, clk_tck, unit)
    if lat:
        latency(lat)


if __name__ == "__main__":
    main()
