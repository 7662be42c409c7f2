#!/usr/bin/env python3
"""The tables of bench/tunnel/run from its results file (tab-separated):

  tput  ROUND TARGET REQ/S ERRORS SERVED "PROCESS=TICKS ..."
  lat   ROUND TARGET "target=... p50_us=... p99_us=... ..." (a loadgen line)
  intercept LAPTOP FALLBACK   (front-b's counters over the run)
  slice "NAME thread=us ..."  (bench/tunnel/thread_slices.py)
  latcpu "PROCESS=TICKS ..."  (CPU of each process over the latency phase)

Targets: origin (C, the origin alone), proxy (A, one causeway-proxy hop),
tunnel (B, the key route, the holder, the tunnel and the laptop's command).
"""
import argparse
import statistics
from collections import defaultdict

NAMES = {"origin": "C origin alone", "proxy": "A one proxy hop", "tunnel": "B tunnel path"}
PROCESSES = ["front-a", "front-b", "holder", "laptop", "origin"]


def med(xs):
    xs = list(xs)
    return statistics.median(xs) if xs else float("nan")


def ratio(a, b):
    return f"{a / b:.2f}" if b > 0 else "n/a"


def throughput(rows, clk_tck):
    tput = defaultdict(list)
    errors = defaultdict(int)
    cpu = defaultdict(lambda: defaultdict(list))  # target -> process -> µs/req per round
    for _, _, name, rps, errs, served, ticks in rows:
        tput[name].append(float(rps))
        errors[name] += int(errs)
        for field in ticks.split():
            proc, t = field.split("=")
            if int(served):
                cpu[name][proc].append(int(t) / clk_tck * 1e6 / int(served))
    rounds = len(tput["origin"])
    print(f"### Throughput, 100 B, wrk -t1 -c50 (closed loop), median of {rounds} rounds")
    print()
    print("| target | req/s | vs origin alone | CPU µs per request, by process on the path |")
    print("|---|---:|---:|---|")
    for name in ["origin", "proxy", "tunnel"]:
        m = med(tput[name])
        procs = ", ".join(f"{p} {med(cpu[name][p]):.1f}" for p in PROCESSES if cpu[name][p])
        total = sum(med(cpu[name][p]) for p in PROCESSES if cpu[name][p])
        print(f"| {NAMES[name]} | {m:.0f} | {ratio(m, med(tput['origin']))} | {procs} (total {total:.1f}) |")
    print()
    per_round = [b / a for a, b in zip(tput["proxy"], tput["tunnel"]) if a]
    print(f"Tunnel path over one proxy hop, req/s: {ratio(med(tput['tunnel']), med(tput['proxy']))} "
          f"(per round: {', '.join(f'{x:.2f}' for x in per_round)}). wrk errors (non-2xx + socket): "
          + ", ".join(f"{n} {errors[n]}" for n in ["origin", "proxy", "tunnel"]))
    print()


def latency(rows, rate, keep_awake, note=""):
    lat = defaultdict(dict)  # round -> target -> {field: value}
    fails = defaultdict(int)
    for _, rnd, name, line in rows:
        kv = dict(f.split("=") for f in line.split())
        lat[rnd][name] = kv
        fails[name] += int(kv["errors"])
    rounds = sorted(lat, key=int)
    print(f"### Latency, 100 B, {rate} req/s per target, the three at once, open loop "
          "(causeway_bench_loadgen), 16 connections each" + (", CPUs kept awake" if keep_awake else "") + note)
    print()
    print(f"Added = target's percentile minus the origin alone's in the same round; median over "
          f"{len(rounds)} rounds. Microseconds.")
    print()
    print("| target | p50 | p99 | p99.9 | added p50 | added p99 | added p99.9 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    qs = ["p50_us", "p99_us", "p999_us"]
    added = defaultdict(list)  # (target, q) -> per round
    for name in ["origin", "proxy", "tunnel"]:
        cells = [f"{med(float(lat[r][name][q]) for r in rounds):.0f}" for q in qs]
        for q in qs:
            for r in rounds:
                added[(name, q)].append(float(lat[r][name][q]) - float(lat[r]["origin"][q]))
        extra = ["", "", ""] if name == "origin" else [f"{med(added[(name, q)]):+.0f}" for q in qs]
        print(f"| {NAMES[name]} | " + " | ".join(cells + extra) + " |")
    print()
    # The tunnel hop is what B adds beyond A's one hop (the holder, the tunnel
    # and the laptop's command in place of a direct connection to the
    # origin); the whole path is B over the origin alone.
    for r in rounds:
        for q in qs:
            added[("hop", q)].append(float(lat[r]["tunnel"][q]) - float(lat[r]["proxy"][q]))
    print("Against one proxy hop's added latency (A - C), the goal being at most 2x: the tunnel hop")
    print("(B - A: the holder, the tunnel and the laptop's command) and the whole tunnel path (B - C).")
    print("Ratio of the medians; per round, the median of the rounds' ratios and the rounds within 2x.")
    print()
    print("| percentile | proxy hop A - C | tunnel hop B - A | ratio | per round | within 2x "
          "| whole path B - C | ratio | per round | within 2x |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    verdict = {}
    for q, label in [("p50_us", "p50"), ("p99_us", "p99")]:
        a = added[("proxy", q)]
        cells = [f"{med(a):+.0f}"]
        for kind in ["hop", "tunnel"]:
            b = added[(kind, q)]
            per_round = [y / x for x, y in zip(a, b) if x > 0]
            within = sum(y <= 2 * x for x, y in zip(a, b))
            r = med(b) / med(a) if med(a) > 0 else float("nan")
            verdict[(kind, label)] = r
            cells += [f"{med(b):+.0f}", f"{r:.2f}", f"{med(per_round):.2f}", f"{within} of {len(a)}"]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()
    print("loadgen errors: " + ", ".join(f"{n} {fails[n]}" for n in ["origin", "proxy", "tunnel"]))
    print()
    for kind, what in [("hop", "the tunnel hop (B - A)"), ("tunnel", "the whole tunnel path (B - C)")]:
        ratios = [verdict[(kind, p)] for p in ["p50", "p99"]]
        if any(r != r for r in ratios):  # nan: the proxy hop added nothing measurable
            outcome = "cannot be judged (the proxy hop's added latency was not above 0)"
        else:
            outcome = "met" if all(r <= 2 for r in ratios) else "NOT met"
        print(f"Goal, {what} at most 2x one proxy hop's added p50 and p99: {outcome} in this run "
              f"(p50 {verdict[(kind, 'p50')]:.2f}x, p99 {verdict[(kind, 'p99')]:.2f}x).")
        print()


def latency_cpu(lat_rows, latcpu, clk_tck, lat_seconds):
    """CPU per request of each process over the latency phase: at a low rate
    a request pays for every wake-up, which a saturated run shares out."""
    if not lat_rows or not latcpu:
        return
    sent = defaultdict(float)
    for _, _, name, line in lat_rows:
        kv = dict(f.split("=") for f in line.split())
        sent[name] += int(kv["sent"]) * (lat_seconds + 2) / lat_seconds  # the warm-up too
    serves = {"front-a": ["proxy"], "front-b": ["tunnel"], "holder": ["tunnel"], "laptop": ["tunnel"],
              "origin": ["origin", "proxy", "tunnel"]}
    ticks = dict(f.split("=") for f in latcpu[0].split())
    cells = []
    for proc in PROCESSES:
        n = sum(sent[t] for t in serves[proc])
        if proc in ticks and n:
            cells.append(f"{proc} {int(ticks[proc]) / clk_tck * 1e6 / n:.1f}")
    print("CPU (user + system) per request over the latency runs, µs: " + ", ".join(cells))
    print()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    for flag in ["--date", "--machine", "--versions", "--command", "--load", "--rate"]:
        ap.add_argument(flag, required=True)
    ap.add_argument("--clk-tck", type=int, required=True)
    ap.add_argument("--keep-awake", default="1")
    ap.add_argument("--lat-seconds", type=float, default=8)
    o = ap.parse_args()
    rows = [line.rstrip("\n").split("\t") for line in open(o.results)]
    print("## The tunnel hop of two-way routing vs a plain proxy hop (loopback)")
    print()
    print(f"- date: {o.date}")
    print(f"- machine: {o.machine}")
    print(f"- versions: {o.versions}")
    print(f"- command: `{o.command}`")
    print(f"- load average before/after: {o.load}")
    print("- compare within this run only: the machine is shared, absolute numbers move between runs")
    print()
    tput = [r for r in rows if r[0] == "tput"]
    if tput:
        throughput(tput, o.clk_tck)
    lat = [r for r in rows if r[0] == "lat"]
    short = [r for r in rows if r[0] == "lat-short"]
    if lat:
        latency(lat, o.rate, o.keep_awake == "1",
                "; the holder's and the laptop's threads with their own slice" if short else "")
    if short:
        latency(short, o.rate, o.keep_awake == "1",
                "; the same rounds, the holder's and the laptop's threads given a 100 µs slice")
    latency_cpu([r for r in rows if r[0] in ("lat", "lat-short")],
                [r[1] for r in rows if r[0] == "latcpu"], o.clk_tck, o.lat_seconds)
    slices = [r[1] for r in rows if r[0] == "slice"]
    if slices:
        def summary(line):
            name, *threads = line.split()
            counts = defaultdict(int)
            for t in threads:
                counts[int(t.rsplit("=", 1)[1])] += 1
            return f"{name} " + ", ".join(f"{n}x {us} µs" for us, n in sorted(counts.items()))
        print("Scheduling slices of the threads (as started): " + "; ".join(summary(s) for s in slices))
        print()
    for r in rows:
        if r[0] == "intercept":
            print(f"front-b's key-routed requests over the run: {r[1]} answered by the laptop, "
                  f"{r[2]} fell back to staging" + ("" if r[2] == "0" else " (the tunnel path's numbers "
                                                                           "include staging answers)"))


if __name__ == "__main__":
    main()
