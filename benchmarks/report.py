#!/usr/bin/env python3
"""report.py: turn one benchmarks/run.sh run into latest.json, latest.md and the plots.

  report.py --out DIR --machine machine.json --runners runners.tsv --results results.jsonl
            --failures failures.tsv [--skipped skipped.tsv]
  report.py --out DIR --from-json DIR/latest.json     (redraw the table and plots of a past run)
  ... --readme README.md    also put the table and plots between README.md's benchmark markers

results.jsonl has one measurement a line: {"runner":ID,"round":N,"bench":NAME,...} with either
"ns_per_op" (a time) or "value" and "unit" (e.g. KiB). A row of the table is a bench name plus the
fields that qualify it (resident_mib, touched_pct, ...); a cell is the median over the rounds.
Writes DIR/latest.json, DIR/latest.md, DIR/latest.png and .svg (time ÷ native, log scale) and
DIR/fork_cow.png and .svg (fork of a 512 MiB process vs pages touched), the plots with gnuplot.
skipped.tsv names the benchmarks run.sh could not run here (NAME<TAB>WHY); the table says so.
Exits 0, or 1 when gnuplot or the README update failed (the JSON and the table come first).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

# Fields that are measurements or bookkeeping, not part of a row's identity (nor is any *_kib or
# *_ns field).
NOT_KEY = {"runner", "round", "bench", "iters", "runs", "ns_per_op", "min_ns", "max_ns",
           "touched_pages", "unit", "value"}

# bench name -> (section, label). Rows keep the order of first appearance within a section.
SECTIONS = ["Microbenchmarks (time per operation, inside the sandbox)",
            "Workloads (wall-clock time of the whole command, sandbox start-up included)",
            "fork of a 512 MiB resident process (copy-on-write)",
            "Memory of an idle `sleep 60` sandbox"]
LABELS = {
    "getpid": (0, "getpid"),
    "getpid_syscall": (0, "getpid through syscall(2) (a site patching cannot rewrite)"),
    "clock_gettime": (0, "clock_gettime (vDSO where there is one)"),
    "open_close": (0, "open + close /etc/passwd"),
    "stat": (0, "stat /etc/passwd"),
    "read_4k": (0, "read 4 KiB from a file"),
    "write_devnull": (0, "write 4 KiB to /dev/null"),
    "pipe_pingpong": (0, "pipe ping-pong between two processes (round trip)"),
    "mmap_touch": (0, "mmap + touch + munmap of a page"),
    "fork_wait": (0, "fork + exit + wait"),
    "fork_exec": (0, "fork + exec /bin/true + wait"),
    "thread_create": (0, "thread create + join"),
    "compute_syscall": (0, "~1 ms of work over 4 MiB, then getppid"),
    "true": (1, "`/bin/true` (start-up)"),
    "python3": (1, "`python3 -c pass`"),
    "busybox_sh": (1, "busybox sh script"),
    "find": (1, "`find /usr -name '*.h' | wc -l`"),
    "sha256sum": (1, "`sha256sum` of a 100 MB file"),
    "python_mix": (1, "Python script (tests/workloads/runtimes/python_mix.py)"),
    "gcc": (1, "`gcc` compiles and links a small C file, runs it"),
    "git": (1, "git init, commit, diff, merge, gc, clone, push, stash (tests/workloads/toolchain/git_seq.sh)"),
    "node_http": (1, "node: 220 http requests to itself over loopback"),
    "fork_exit": (2, None),
    "fork_cow": (2, None),
    "idle_rss_all": (3, "RSS of all processes (the sleep included)"),
    "idle_rss_runtime": (3, "RSS of the runtime's processes (below)"),
}


def row_key(rec):
    quals = tuple(sorted((k, rec[k]) for k in rec
                         if k not in NOT_KEY and not k.endswith(("_kib", "_ns"))))
    return (rec["bench"], quals)


def row_label(key):
    bench, quals = key
    q = dict(quals)
    if bench == "fork_exit":
        return f"fork + exit, {q.get('resident_mib', '?')} MiB resident"
    if bench == "fork_cow":
        return f"fork + child writes {q.get('touched_pct', '?')}% of the 512 MiB + exit"
    label = LABELS.get(bench, (0, f"`{bench}`"))[1]
    if quals:
        label += " (" + ", ".join(f"{k}={v}" for k, v in quals) + ")"
    return label


def section(key):
    return LABELS.get(key[0], (0, None))[0]


def human(v, unit):
    if unit == "KiB":
        return f"{v / 1024:.1f} MiB" if v >= 1024 else f"{v:.0f} KiB"
    if v < 1e3:
        return f"{v:.0f} ns"
    if v < 1e6:
        return f"{v / 1e3:.1f} µs"
    if v < 1e9:
        return f"{v / 1e6:.1f} ms"
    return f"{v / 1e9:.2f} s"


def ratio_text(r):
    # Two decimals below 2x, where the targets are (1.3x reads as 1.27x or 1.34x), one up to
    # 10x, none beyond.
    if r < 2:
        return f"{r:.2f}×"
    return f"{r:.1f}×" if r < 10 else f"{r:.0f}×"


def read_tsv(path, ncols):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= ncols:
                rows.append(parts[:ncols])
    return rows


def load(args):
    machine = json.load(open(args.machine, encoding="utf-8"))
    runners = [{"id": i, "label": l, "command": c, "status": s}
               for i, l, c, s in read_tsv(args.runners, 4)]
    results = []
    with open(args.results, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                print(f"report: skipping a malformed line: {line[:80]}", file=sys.stderr)
                continue
            if "bench" in rec and ("ns_per_op" in rec or "value" in rec):
                results.append(rec)
    failures = [{"runner": r, "bench": b, "round": int(n), "reason": why}
                for r, b, n, why in read_tsv(args.failures, 4)]
    return machine, runners, results, failures


def summarize(results):
    """Returns (ordered row keys, {key: unit}, {(key, runner): median})."""
    keys, units, vals = [], {}, {}
    for rec in results:
        key = row_key(rec)
        if key not in units:
            keys.append(key)
            units[key] = rec.get("unit", "ns")
        v = rec["value"] if "value" in rec else rec["ns_per_op"]
        vals.setdefault((key, rec["runner"]), []).append(float(v))
    keys.sort(key=section)  # stable: first appearance within a section
    med = {k: statistics.median(v) for k, v in vals.items()}
    return keys, units, med


def markdown(machine, runners, keys, units, med, failures, where=""):
    """The results as markdown, without a title; where: the results directory as seen from the
    file the text goes into ("" for latest.md itself)."""
    ran = [r for r in runners if r["status"] == "ok"]
    rounds = lambda n: f"{n} round" + ("" if n == 1 else "s")
    commit = machine.get("commit") or "?"
    out = [f"`make bench` on {machine['date'][:10]}, runsc-c at {commit}: {machine['cpu']}, "
           f"{machine['nproc']} CPUs, {machine['mem_total_kib'] // 1024} MiB, "
           f"Linux {machine['kernel']}, {machine['os']}.", ""]
    out.append(f"Each cell is the median over {rounds(machine['rounds'])} (find and fork: "
               f"{rounds(machine['heavy_rounds'])}; memory: {rounds(machine['mem_rounds'])}), "
               "the runners interleaved round-robin; in parentheses, the ratio to native. Every "
               f"measurement is in [latest.json]({where}latest.json); each benchmark is described "
               "atop its source in benchmarks/.")
    if "loadavg_start" in machine:
        out[-1] += (f" The run took {machine['seconds']} s; the load average was "
                    f"{machine['loadavg_start']} at its start and {machine['loadavg_end']} at its "
                    "end (other work on the machine slows the sandboxes most).")
    out.append("")
    out.append("Runners: " + "; ".join(
        f"**{r['label']}**: `{r['command'] or '(the program itself)'}`" for r in ran) + ".")
    skipped = [r for r in runners if r["status"] != "ok"]
    if skipped:
        out.append("Not run: " + "; ".join(f"{r['label']} ({r['status'][len('skipped: '):]})"
                                           for r in skipped) + ".")
    if machine.get("skipped"):
        out.append("Benchmarks not run: " + "; ".join(f"{b['bench']} ({b['reason']})"
                                                      for b in machine["skipped"]) + ".")
    out.append("")
    out.append("| Benchmark | " + " | ".join(r["label"] for r in ran) + " |")
    out.append("|---|" + "---:|" * len(ran))
    cur = None
    for key in keys:
        if section(key) != cur:
            cur = section(key)
            out.append(f"| **{SECTIONS[cur]}** |" + " |" * len(ran))
        unit = units[key]
        nat = med.get((key, "native"))
        cells = []
        for r in ran:
            v = med.get((key, r["id"]))
            if v is None:
                failed = any(f["runner"] == r["id"] and f["bench"] in (key[0], _item_of(key))
                             for f in failures)
                cells.append("failed" if failed else "–")
            elif r["id"] == "native" or not nat:
                cells.append(human(v, unit))
            else:
                cells.append(f"{human(v, unit)} ({ratio_text(v / nat)})")
        name = row_label(key).replace("|", "\\|")  # a pipe would end the cell
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    if any(k[0] == "idle_rss_runtime" for k in keys):
        out += ["", "The runtime's processes: runsc-c's Sentry, gofer and stubs; gVisor's sandbox, "
                "gofer and stubs; proot's and bwrap's own processes. Pss (shared pages split "
                "between the processes that map them) and each part are in latest.json."]
    if failures:
        out += ["", "Failed runs:", ""]
        seen = set()
        for f in failures:
            if (f["runner"], f["bench"], f["reason"]) in seen:
                continue
            seen.add((f["runner"], f["bench"], f["reason"]))
            out.append(f"- {f['runner']}, {f['bench']} (round {f['round']}): {f['reason']}")
    # The plots that plot_ratios and plot_fork_cow draw.
    if len(ran) > 1 and any(section(k) in (0, 1) for k in keys):
        out += ["", f"![time ÷ native, log scale]({where}latest.png)"]
    if any(section(k) == 2 for k in keys):
        out += ["", f"![fork + exit + wait of a process with 512 MiB resident]({where}fork_cow.png)"]
    return "\n".join(out) + "\n"


README_BEGIN = "<!-- benchmarks:begin (benchmarks/report.py --readme writes this part) -->"
README_END = "<!-- benchmarks:end -->"


def update_readme(path, text):
    """Replace what lies between README_BEGIN and README_END in path with text. Returns False,
    after saying why, when the markers are missing."""
    with open(path, encoding="utf-8") as f:
        old = f.read()
    b, e = old.find(README_BEGIN), old.find(README_END)
    if b < 0 or e < b:
        print(f"report: {path} has no {README_BEGIN} ... {README_END} markers", file=sys.stderr)
        return False
    new = old[:b + len(README_BEGIN)] + "\n" + text + old[e:]
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)
    return True


def _item_of(key):
    """The run.sh item that produced a row (failures are recorded per item)."""
    if key[0] in ("fork_exit", "fork_cow"):
        return "fork_cow"
    if key[0].startswith("idle_rss"):
        return "idle_memory"
    return key[0]


def gnuplot(script, workdir):
    exe = shutil.which("gnuplot")
    if not exe:
        print("report: gnuplot is not installed (make bench-deps): no plots", file=sys.stderr)
        return False
    r = subprocess.run([exe], input=script.encode(), cwd=workdir, capture_output=True)
    if r.returncode != 0 or r.stdout:
        print(f"report: gnuplot failed: {r.stderr.decode(errors='replace').strip()}",
              file=sys.stderr)
        return False
    return True


def gp_quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def plot_ratios(out_dir, machine, runners, keys, units, med, tmpdir):
    """Bar chart: per time benchmark (not fork_cow, not memory), each runner's ratio to native."""
    ran = [r for r in runners if r["status"] == "ok" and r["id"] != "native"]
    rows = [k for k in keys if section(k) in (0, 1) and med.get((k, "native"))]
    if not ran or not rows:
        return True
    data = os.path.join(tmpdir, "ratios.dat")
    lo = 1.0
    with open(data, "w", encoding="utf-8") as f:
        f.write("bench " + " ".join(gp_quote(r["label"]) for r in ran) + "\n")
        for k in rows:
            nat = med[(k, "native")]
            cells = []
            for r in ran:
                v = med.get((k, r["id"]))
                if v is None:
                    cells.append("?")
                else:
                    cells.append(f"{v / nat:.4g}")
                    lo = min(lo, v / nat)
            name = k[0] if not k[1] else k[0] + " " + " ".join(f"{a}={b}" for a, b in k[1])
            f.write(gp_quote(name) + " " + " ".join(cells) + "\n")
    title = (f"time ÷ native (log scale): {machine['cpu']}, {machine['nproc']} CPUs, "
             f"Linux {machine['kernel']}, {machine['date'][:10]}")
    width = max(1000, min(1600, 60 * len(rows) + 40 * len(rows) * len(ran) // 3))
    script = f"""
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set logscale y
set yrange [{min(0.5, lo / 1.5):.3g}:*]
set ylabel "time ÷ native"
set title {gp_quote(title)} noenhanced
set xtics rotate by -30 nomirror noenhanced
set key above horizontal noenhanced
set grid ytics mytics
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2 lw 1.5 lc rgb "black" front
set bmargin 6
plot for [i=2:{len(ran) + 1}] {gp_quote(data)} using i:xtic(1) title columnheader(i)
"""
    ok = True
    for term, ext in (("pngcairo size %d,640 font 'sans,10'" % width, "png"),
                      ("svg size %d,640 font 'sans,10' dynamic" % width, "svg")):
        path = os.path.join(out_dir, "latest." + ext)
        ok &= gnuplot(f"set terminal {term}\nset output {gp_quote(path)}\n" + script, tmpdir)
    return ok


def plot_fork_cow(out_dir, machine, runners, keys, med, tmpdir):
    """Bar chart of the fork rows: ms per fork for native and the runsc-c platforms."""
    rows = [k for k in keys if section(k) == 2]
    ran = [r for r in runners if r["status"] == "ok" and any((k, r["id"]) in med for k in rows)]
    if not rows or not ran:
        return True
    data = os.path.join(tmpdir, "fork_cow.dat")
    with open(data, "w", encoding="utf-8") as f:
        f.write("case " + " ".join(gp_quote(r["label"]) for r in ran) + "\n")
        for k in rows:
            q = dict(k[1])
            if k[0] == "fork_exit":
                name = f"{q.get('resident_mib')} MiB"
            else:
                name = f"{q.get('resident_mib')} MiB, {q.get('touched_pct')}%"
            cells = [f"{med[(k, r['id'])] / 1e6:.4g}" if (k, r["id"]) in med else "?"
                     for r in ran]
            f.write(gp_quote(name) + " " + " ".join(cells) + "\n")
    title = (f"fork + exit + wait: {machine['cpu']}, {machine['nproc']} CPUs, "
             f"{machine['date'][:10]}")
    script = f"""
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set logscale y
set ylabel "ms per fork (log scale)"
set xlabel "M MiB resident, N% of the pages written by the child"
set title {gp_quote(title)} noenhanced
set xtics nomirror noenhanced
set key top left noenhanced
set grid ytics mytics
plot for [i=2:{len(ran) + 1}] {gp_quote(data)} using i:xtic(1) title columnheader(i)
"""
    ok = True
    for term, ext in (("pngcairo size 900,480 font 'sans,10'", "png"),
                      ("svg size 900,480 font 'sans,10' dynamic", "svg")):
        path = os.path.join(out_dir, "fork_cow." + ext)
        ok &= gnuplot(f"set terminal {term}\nset output {gp_quote(path)}\n" + script, tmpdir)
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--from-json")
    ap.add_argument("--readme")
    for a in ("machine", "runners", "results", "failures", "skipped"):
        ap.add_argument("--" + a)
    args = ap.parse_args()
    args.out = os.path.abspath(args.out)  # gnuplot runs in a temporary directory
    if args.from_json:
        with open(args.from_json, encoding="utf-8") as f:
            old = json.load(f)
        machine, runners, results, failures = (old["machine"], old["runners"], old["results"],
                                               old["failures"])
    elif args.machine and args.runners and args.results and args.failures:
        machine, runners, results, failures = load(args)
        if args.skipped:
            machine["skipped"] = [{"bench": b, "reason": why}
                                  for b, why in read_tsv(args.skipped, 2)]
    else:
        ap.error("needs --from-json, or --machine, --runners, --results and --failures")
    keys, units, med = summarize(results)
    os.makedirs(args.out, exist_ok=True)

    summary = [{"bench": k[0], **dict(k[1]), "label": row_label(k), "unit": units[k],
                "median": {r: med[(k, r)] for r in (x["id"] for x in runners) if (k, r) in med}}
               for k in keys]
    doc = {"machine": machine, "runners": runners, "summary": summary, "results": results,
           "failures": failures}
    with open(os.path.join(args.out, "latest.json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(args.out, "latest.md"), "w", encoding="utf-8") as f:
        f.write("# Benchmark results\n\n" + markdown(machine, runners, keys, units, med, failures))
    ok = True
    if args.readme:
        where = os.path.relpath(args.out, os.path.dirname(os.path.abspath(args.readme))) + "/"
        ok = update_readme(args.readme, markdown(machine, runners, keys, units, med, failures,
                                                 where))
    for stale in ("latest.png", "latest.svg", "fork_cow.png", "fork_cow.svg"):
        try:
            os.unlink(os.path.join(args.out, stale))
        except FileNotFoundError:
            pass
    with tempfile.TemporaryDirectory() as tmpdir:
        ok &= plot_ratios(args.out, machine, runners, keys, units, med, tmpdir)
        ok &= plot_fork_cow(args.out, machine, runners, keys, med, tmpdir)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
