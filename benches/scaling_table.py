#!/usr/bin/env python3
"""The tables of benches/scaling.sh (standard library only, so it runs without the PyPSA venv).

    scaling_table.py WORK_DIR                      markdown tables from WORK_DIR/runs.tsv,
                                                   checks.tsv and machine.txt, on stdout
    scaling_table.py --check SUMMARY_JSON PYPSA_OUT  exits 1 when the two objectives differ by more
                                                   than 1e-6 (relative), printing both
"""

import json
import sys
from pathlib import Path

TOLERANCE = 1e-6

# The absolute targets for capplan, end to end on 2 cores: (wall seconds, peak MB) per
# size and variant; N-1 may take twice the plain case's. None: no absolute target, only the ratio.
PLAIN_TARGETS = {"3x12": None, "8x64": (3.0, None), "16x192": (10.0, 1024.0)}
RATIO_TARGET = 50.0


def target_of(size: str, variant: str):
    plain = PLAIN_TARGETS.get(size)
    if plain is None:
        return None
    seconds, mb = plain
    if variant.startswith("n1"):
        return seconds * 2, (mb * 2 if mb else None)
    return seconds, mb


def capplan_objective(summary: Path) -> float | None:
    try:
        return float(json.loads(summary.read_text())["objective"])
    except (OSError, ValueError, KeyError):
        return None


def pypsa_result(out: Path) -> dict | None:
    """The JSON line pypsa_hourly.py prints last on stdout, or None when it did not finish."""
    try:
        lines = out.read_text().strip().splitlines()
        return json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        return None


def relative(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


def check(summary: str, pypsa_out: str) -> int:
    a = capplan_objective(Path(summary))
    result = pypsa_result(Path(pypsa_out))
    if a is None or result is None:
        print(f"check: missing objective (capplan {a}, PyPSA {result})", file=sys.stderr)
        return 1
    b = float(result["objective"])
    rel = relative(a, b)
    print(f"check: capplan {a:.6f}, PyPSA {b:.6f}, relative difference {rel:.1e}", file=sys.stderr)
    return 0 if rel <= TOLERANCE else 1


def seconds_span(runs) -> str:
    walls = [r["wall"] for r in runs]
    text = f"{min(walls):.2f}" if len(walls) == 1 else f"{min(walls):.2f}–{max(walls):.2f}"
    return text


def tables(work: Path) -> None:
    machine = dict(line.split("=", 1) for line in (work / "machine.txt").read_text().splitlines() if "=" in line)
    runs: dict[tuple[str, str], list[dict]] = {}
    for line in (work / "runs.tsv").read_text().splitlines():
        label, tool, status, wall, cpu, rss, load, prefix, *why = line.split("\t")
        runs.setdefault((label, tool), []).append({
            "status": status, "wall": float(wall), "cpu": float(cpu), "rss": float(rss),
            "load": load, "prefix": Path(prefix), "why": why[0] if why else "",
        })
    labels = list(dict.fromkeys(label for label, _ in runs))

    print(f"Measured {machine['date']} on {machine['cpu']}, `nproc` = {machine['nproc']}, "
          f"{machine['memory']}; capplan {machine['commit']}, {machine['rustc']}.")
    print(f"Load: `{machine['uptime_start'].strip()}` at the start, `{machine.get('uptime_end', '?').strip()}` "
          f"at the end. {machine['periods']} hourly periods; {machine['reps']} run(s) of each tool per case, "
          f"alternating; timeouts {machine['capplan_timeout']} s (capplan) and {machine['pypsa_timeout']} s "
          f"(PyPSA), PyPSA's address space limited to {machine['pypsa_memory_mb']} MB (0 = no limit).")
    if machine.get("capplan_args") or machine.get("pypsa_args"):
        print(f"capplan arguments: `{machine.get('capplan_args') or '(none)'}`; "
              f"PyPSA arguments: `{machine.get('pypsa_args') or '(none)'}`.")
    print()

    checks = work / "checks.tsv"
    if checks.exists():
        print("Objectives checked before timing, on short versions of the same cases:\n")
        print("| case | capplan objective $ | PyPSA + HiGHS objective $ | relative difference |")
        print("|---|---:|---:|---:|")
        for line in checks.read_text().splitlines():
            label, summary, out = line.split("\t")
            a, result = capplan_objective(Path(summary)), pypsa_result(Path(out))
            b = float(result["objective"]) if result else None
            rel = f"{relative(a, b):.1e}" if a is not None and b is not None else "n/a"
            print(f"| {label} | {a:,.2f} | {b:,.2f} | {rel} |")
        print()

    skip_pypsa = machine.get("skip_pypsa") == "1"
    if skip_pypsa:
        print("| case | capplan wall s | capplan CPU s | capplan peak MB | objective $ | load at start |")
        print("|---|---:|---:|---:|---:|---|")
    else:
        print("| case | capplan wall s | capplan peak MB | PyPSA + HiGHS wall s | PyPSA peak MB | ratio (wall) "
              "| objective difference | HiGHS method | load at start (capplan / PyPSA) |")
        print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    verdicts = []
    failures = []
    for label in labels:
        size, variant = label.split(" ", 1)
        cap = runs.get((label, "capplan"), [])
        py = runs.get((label, "pypsa"), [])
        cap_ok = [r for r in cap if r["status"] == "ok"]
        py_ok = [r for r in py if r["status"] == "ok"]

        def shown(tool_runs, ok_runs, limit_key):
            if ok_runs:
                return seconds_span(ok_runs)
            if any(r["status"] == "timeout" for r in tool_runs):
                return f"> {machine[limit_key]} s (timeout)"
            for r in tool_runs:
                failures.append(f"{label}, {r['prefix'].name.split('-')[0]}: failed after {r['wall']:.0f} s "
                                f"at {r['rss']:.0f} MB ({r['why']})")
            return f"failed ({len(failures)})" if tool_runs else "—"

        cap_wall = shown(cap, cap_ok, "capplan_timeout")
        py_wall = shown(py, py_ok, "pypsa_timeout")
        cap_mb = f"{max(r['rss'] for r in cap):.0f}" if cap else "—"
        py_mb = f"{max(r['rss'] for r in py):.0f}" if py else "—"
        if any(r["status"] != "ok" for r in py):
            py_mb = f"≥ {py_mb}"
        ratio = "—"
        objective_diff = "—"
        method = "—"
        cap_best = min((r["wall"] for r in cap_ok), default=None)
        if cap_best and py_ok:
            ratio = f"{min(r['wall'] for r in py_ok) / cap_best:.1f}×"
        elif cap_best and py and not skip_pypsa:
            ratio = f"> {float(machine['pypsa_timeout']) / cap_best:.0f}×" if any(
                r["status"] == "timeout" for r in py) else "—"
        if cap_ok and py_ok:
            a = capplan_objective(cap_ok[0]["prefix"].with_suffix(".d") / "summary.json")
            result = pypsa_result(py_ok[0]["prefix"].with_suffix(".out"))
            if a is not None and result is not None:
                objective_diff = f"{relative(a, float(result['objective'])):.1e}"
                method = result.get("highs_method", "?")
        if skip_pypsa:
            cpu = f"{min(r['cpu'] for r in cap_ok):.2f}" if cap_ok else "—"
            a = capplan_objective(cap_ok[0]["prefix"].with_suffix(".d") / "summary.json") if cap_ok else None
            shown_objective = f"{a:,.2f}" if a is not None else "—"
            print(f"| {label} | {cap_wall} | {cpu} | {cap_mb} | {shown_objective} | {' '.join(r['load'] for r in cap)} |")
        else:
            loads = f"{' '.join(r['load'] for r in cap)} / {' '.join(r['load'] for r in py) or '—'}"
            print(f"| {label} | {cap_wall} | {cap_mb} | {py_wall} | {py_mb} | {ratio} | {objective_diff} | {method} | {loads} |")

        # The targets for this case.
        if not skip_pypsa:
            if cap_best and py_ok:
                r = min(x["wall"] for x in py_ok) / cap_best
                verdicts.append((label, f"≥ {RATIO_TARGET:.0f}× faster than PyPSA + HiGHS", f"{r:.1f}×", r >= RATIO_TARGET))
            elif cap_best and any(x["status"] == "timeout" for x in py):
                r = float(machine["pypsa_timeout"]) / cap_best
                verdicts.append((label, f"≥ {RATIO_TARGET:.0f}× faster than PyPSA + HiGHS",
                                 f"> {r:.0f}× (PyPSA timed out)", True if r >= RATIO_TARGET else None))
            if objective_diff not in ("—",):
                verdicts.append((label, "same objective to 1e-6", objective_diff, float(objective_diff) <= TOLERANCE))
        target = target_of(size, variant)
        if target:
            seconds, mb = target
            verdicts.append((label, f"under {seconds:g} s", cap_wall, bool(cap_best) and cap_best < seconds))
            if mb:
                peak = max((r["rss"] for r in cap), default=float("inf"))
                verdicts.append((label, f"under {mb:g} MB", f"{peak:.0f} MB", peak < mb))
    for i, failure in enumerate(failures, 1):
        print(f"\n({i}) {failure}")
    print()
    if machine["periods"] != "8760":
        print("(The issue's targets are for hourly years: run with PERIODS=8760 to check them.)")
        return
    print("Targets (issue 16; N-1 may take twice the plain case's time and memory):\n")
    print("| case | target | measured | met |")
    print("|---|---|---:|---|")
    for label, what, measured, met in verdicts:
        print(f"| {label} | {what} | {measured} | {'yes' if met else ('unknown' if met is None else '**no**')} |")


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        return check(sys.argv[2], sys.argv[3])
    if len(sys.argv) == 2:
        tables(Path(sys.argv[1]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
