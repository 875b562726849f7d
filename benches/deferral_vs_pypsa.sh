#!/usr/bin/env bash
# Deferral benchmark (issue 21, item 5): capplan against the same LP in PyPSA + HiGHS on the hourly
# year with 2 workloads, one of which may wait 24 h (`examples/synthetic.rs hour HOURS DIR
# --workloads 2 --share 1 --delay api=24h`, with and without `--n1`). The PyPSA twin
# (benches/pypsa_hourly.py) builds the deferral in the storage form: a Store per waiting demand
# class whose energy is minus the backlog, with the spec's "what waits is still servable" rows added
# through linopy (its docstring says why the optimum is the spec's).
#
# Each case runs `capplan run CASE --no-charts` (release) and the twin on the same folder,
# alternating, each under /usr/bin/time -v and `timeout`; the run stops with exit 1 after the table
# if any pair of objectives differs by more than 1e-6 (relative; capplan's is summary.json's
# `objective`). A markdown table goes to stdout: the machine (nproc, CPU, memory, `uptime` at the
# start and the end, commit), then per case capplan's and PyPSA's wall and CPU seconds, the ratio
# PyPSA ÷ capplan (below 1: capplan is the slower), peak MB each, both objectives and their
# difference. Progress goes to stderr. Not part of `cargo test` or CI.
#
# Usage: benches/deferral_vs_pypsa.sh [HOURS ...]     (default 8760; e.g. 168 720 for shorter cases)
#
# Environment (all optional):
#   VARIANTS         plain and/or n1 (default "plain n1")
#   DELAY            the synthetic generator's --delay (default api=24h)
#   REPS             runs of each tool per case (default 1)
#   CAPPLAN_TIMEOUT  seconds one capplan run may take (default 1800)
#   PYPSA_TIMEOUT    seconds one PyPSA run may take (default 1800), reported as "> N s (timeout)"
#   PYPSA_MEMORY_MB  address-space limit of a PyPSA run (default 16000; 0 = none)
#   CAPPLAN_ARGS     extra arguments of `capplan run`, e.g. "--method monolithic"
#   CAPPLAN_FEATURES cargo features to build capplan with, e.g. "highs"
#   PYPSA_ARGS       extra arguments of pypsa_hourly.py, e.g. "--highs solver=ipm"
#   VENV, PYTHON     the PyPSA virtualenv and the Python that creates it, as in vs_pypsa.sh
#   KEEP             1 keeps the work folder (cases, outputs, /usr/bin/time reports) and prints it
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
hours_list=("$@")
[ "${#hours_list[@]}" -gt 0 ] || hours_list=(8760)
read -ra variants <<<"${VARIANTS:-plain n1}"
delay="${DELAY:-api=24h}"
reps="${REPS:-1}"
capplan_timeout="${CAPPLAN_TIMEOUT:-1800}"
pypsa_timeout="${PYPSA_TIMEOUT:-1800}"
pypsa_memory_mb="${PYPSA_MEMORY_MB:-16000}"
read -ra capplan_args <<<"${CAPPLAN_ARGS:-}"
read -ra pypsa_args <<<"${PYPSA_ARGS:-}"
# PyPSA reads every PYPSA_* environment variable as one of its options: these are the script's.
export -n PYPSA_ARGS PYPSA_TIMEOUT PYPSA_MEMORY_MB 2>/dev/null || true
target="${CARGO_TARGET_DIR:-$repo/target}"
venv="${VENV:-$target/pypsa-venv}"
requirements="$repo/benches/requirements-pypsa.txt"

say() { echo "deferral_vs_pypsa: $*" >&2; }

for hours in "${hours_list[@]}"; do
  [[ "$hours" =~ ^[1-9][0-9]*$ ]] || { say "HOURS must be a positive whole number, found '$hours'"; exit 2; }
done
for variant in "${variants[@]}"; do
  case "$variant" in plain | n1) ;; *) say "unknown variant '$variant' (plain or n1)"; exit 2 ;; esac
done

# shellcheck source=benches/pypsa_venv.sh
. "$repo/benches/pypsa_venv.sh"
ensure_usr_bin_time
ensure_pypsa_venv "$venv" "$requirements"

say "building capplan (release)"
build_capplan "$target"

work="$(mktemp -d "${TMPDIR:-/tmp}/deferral-vs-pypsa.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then
  say "keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi

: >"$work/runs.tsv"
{
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "nproc=$(nproc)"
  echo "cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "memory=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "uptime_start=$(uptime)"
  echo "commit=$(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- src || echo ' (with uncommitted changes in src/)')"
  echo "rustc=$(rustc --version)"
  echo "pypsa=$("$venv/bin/python" -c 'from importlib.metadata import version as v; print(", ".join(f"{p} {v(p)}" for p in ("pypsa", "linopy", "highspy")))' 2>/dev/null || echo '?')"
  echo "delay=$delay"
  echo "reps=$reps"
  echo "capplan_args=${capplan_args[*]}"
  echo "pypsa_args=${pypsa_args[*]}"
  echo "capplan_timeout=$capplan_timeout"
  echo "pypsa_timeout=$pypsa_timeout"
  echo "pypsa_memory_mb=$pypsa_memory_mb"
} >"$work/machine.txt"

for hours in "${hours_list[@]}"; do
  for variant in "${variants[@]}"; do
    label="$hours h $variant"
    dir="$work/case-$hours-$variant"
    flags=(--workloads 2 --share 1 --delay "$delay")
    [ "$variant" = plain ] || flags+=(--n1)
    "$synthetic" hour "$hours" "$dir" "${flags[@]}" >/dev/null
    echo "$label"$'\t'"synthetic hour $hours DIR ${flags[*]}" >>"$work/cases.tsv"
    say "case $label: synthetic hour $hours DIR ${flags[*]}"
    for i in $(seq 1 "$reps"); do
      # The tools alternate, so load from other work on the machine, which drifts over minutes,
      # falls on both alike rather than on whichever ran second.
      measure capplan "$label" "$capplan_timeout" "$work/capplan-$hours-$variant-$i" \
        "$capplan" run "$dir" --out "$work/capplan-$hours-$variant-$i.d" --no-charts -q "${capplan_args[@]}"
      measure pypsa "$label" "$pypsa_timeout" "$work/pypsa-$hours-$variant-$i" \
        "$venv/bin/python" "$repo/benches/pypsa_hourly.py" "$dir" "${pypsa_args[@]}"
    done
  done
done
echo "uptime_end=$(uptime)" >>"$work/machine.txt"

"${PYTHON:-python3}" - "$work" <<'PY'
# The table (standard library only).
import json, sys
from pathlib import Path

work = Path(sys.argv[1])
TOLERANCE = 1e-6
machine = dict(line.split("=", 1) for line in (work / "machine.txt").read_text().splitlines() if "=" in line)
cases = dict(line.split("\t", 1) for line in (work / "cases.tsv").read_text().splitlines())
runs = {}
for line in (work / "runs.tsv").read_text().splitlines():
    label, tool, status, wall, cpu, rss, load, prefix, why = line.split("\t")
    runs.setdefault((label, tool), []).append(dict(status=status, wall=float(wall), cpu=float(cpu), rss=float(rss),
                                                   load=load, prefix=Path(prefix), why=why))

def objective(tool, run):
    try:
        if tool == "capplan":
            return float(json.loads((run["prefix"].with_suffix(".d") / "summary.json").read_text())["objective"])
        return float(json.loads(run["prefix"].with_suffix(".out").read_text().strip().splitlines()[-1])["objective"])
    except (OSError, ValueError, KeyError, IndexError):
        return None

def span(values, fmt="{:.2f}"):
    lo, hi = min(values), max(values)
    return fmt.format(lo) if lo == hi else f"{fmt.format(lo)}–{fmt.format(hi)}"

def shown(tool, tool_runs, limit_key):
    ok = [r for r in tool_runs if r["status"] == "ok"]
    if ok:
        return span([r["wall"] for r in ok]), span([r["cpu"] for r in ok])
    if any(r["status"] == "timeout" for r in tool_runs):
        return f"> {machine[limit_key]} (timeout)", "—"
    return "failed: " + "; ".join(r["why"] for r in tool_runs), "—"

print(f"Measured {machine['date']} on {machine['cpu']}, `nproc` = {machine['nproc']}, {machine['memory']}; "
      f"capplan {machine['commit']}, {machine['rustc']}; {machine['pypsa']} (HiGHS through linopy).")
print(f"Load: `{machine['uptime_start'].strip()}` at the start, `{machine['uptime_end'].strip()}` at the end. "
      f"{machine['reps']} run(s) of each tool per case, alternating; timeouts {machine['capplan_timeout']} s "
      f"(capplan) and {machine['pypsa_timeout']} s (PyPSA), PyPSA's address space limited to "
      f"{machine['pypsa_memory_mb']} MB (0 = no limit).")
if machine.get("capplan_args") or machine.get("pypsa_args"):
    print(f"capplan arguments: `{machine.get('capplan_args') or '(none)'}`; "
          f"PyPSA arguments: `{machine.get('pypsa_args') or '(none)'}`.")
print("\nCases (`examples/synthetic.rs`):\n")
for label, command in cases.items():
    print(f"- {label}: `{command}`")
print()
print("| case | capplan wall s | capplan CPU s | PyPSA + HiGHS wall s | PyPSA CPU s | ratio PyPSA ÷ capplan, wall (CPU) "
      "| capplan peak MB | PyPSA peak MB | capplan objective $ | PyPSA objective $ | relative difference | load at start (capplan / PyPSA) |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
disagree = []
for label in cases:
    cap, py = runs.get((label, "capplan"), []), runs.get((label, "pypsa"), [])
    cap_ok = [r for r in cap if r["status"] == "ok"]
    py_ok = [r for r in py if r["status"] == "ok"]
    cap_wall, cap_cpu = shown("capplan", cap, "capplan_timeout")
    py_wall, py_cpu = shown("pypsa", py, "pypsa_timeout")
    ratio = "—"
    if cap_ok and py_ok:
        wall = min(r["wall"] for r in py_ok) / max(min(r["wall"] for r in cap_ok), 0.01)
        cpu = min(r["cpu"] for r in py_ok) / max(min(r["cpu"] for r in cap_ok), 0.01)
        ratio = f"{wall:.1f}× ({cpu:.1f}×)" if min(wall, cpu) >= 10 else f"{wall:.2f}× ({cpu:.2f}×)"
    elif cap_ok and any(r["status"] == "timeout" for r in py):
        ratio = f"> {float(machine['pypsa_timeout']) / min(r['wall'] for r in cap_ok):.2f}×"
    elif py_ok and any(r["status"] == "timeout" for r in cap):
        ratio = f"< {min(r['wall'] for r in py_ok) / float(machine['capplan_timeout']):.2f}×"
    a = objective("capplan", cap_ok[0]) if cap_ok else None
    b = objective("pypsa", py_ok[0]) if py_ok else None
    difference = "—"
    if a is not None and b is not None:
        rel = abs(a - b) / max(abs(a), abs(b), 1e-300)
        difference = f"{rel:.1e}" + ("" if rel <= TOLERANCE else " (**above 1e-6**)")
        if rel > TOLERANCE:
            disagree.append(label)
    for tool, tool_runs in (("capplan", cap_ok), ("PyPSA", py_ok)):
        values = {objective("capplan" if tool == "capplan" else "pypsa", r) for r in tool_runs}
        if len(values) > 1:
            print(f"note: {tool}'s objective varied across repetitions of {label}: {sorted(values)}", file=sys.stderr)
    fmt = lambda x: "—" if x is None else f"{x:,.2f}"
    loads = f"{' '.join(r['load'] for r in cap)} / {' '.join(r['load'] for r in py)}"
    print(f"| {label} | {cap_wall} | {cap_cpu} | {py_wall} | {py_cpu} | {ratio} | "
          f"{max((r['rss'] for r in cap), default=0):.0f} | {max((r['rss'] for r in py), default=0):.0f} | "
          f"{fmt(a)} | {fmt(b)} | {difference} | {loads} |")

# Where the time goes, from each tool's own clocks (the first run that finished).
print("\n| case | capplan solve s | PyPSA import s | PyPSA build s (read, network, linopy model) | PyPSA solve s (write LP, HiGHS, read back) "
      "| PyPSA LP: variables, constraints | HiGHS ran |")
print("|---|---:|---:|---:|---:|---:|---|")
for label in cases:
    cap_ok = [r for r in runs.get((label, "capplan"), []) if r["status"] == "ok"]
    py_ok = [r for r in runs.get((label, "pypsa"), []) if r["status"] == "ok"]
    solve = "—"
    if cap_ok:
        try:
            solve = f"{json.loads((cap_ok[0]['prefix'].with_suffix('.d') / 'summary.json').read_text())['solve_seconds']:.2f}"
        except (OSError, ValueError, KeyError):
            pass
    if py_ok:
        out = json.loads(py_ok[0]["prefix"].with_suffix(".out").read_text().strip().splitlines()[-1])
        print(f"| {label} | {solve} | {out['seconds_import']:.2f} | {out['seconds_read'] + out['seconds_build']:.2f} | "
              f"{out['seconds_solve']:.2f} | {out['variables']:,}, {out['constraints']:,} | {out['highs_method']} |")
    else:
        print(f"| {label} | {solve} | — | — | — | — | — |")
if disagree:
    print(f"\nThe objectives differ by more than 1e-6 on: {', '.join(disagree)}.")
    sys.exit(1)
PY
