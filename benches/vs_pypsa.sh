#!/usr/bin/env bash
# Manual benchmark, capplan against PyPSA: times `capplan run` and a PyPSA + HiGHS model of the same
# LP (benches/pypsa_hourly.py) on one synthetic scenario, end to end under /usr/bin/time -v, and
# prints a markdown table. Not part of `cargo test` or CI: it installs PyPSA from PyPI and takes
# minutes.
#
# Usage: benches/vs_pypsa.sh [PERIODS]
#
# Environment (all optional):
#   PERIODS          periods of the case (default 8760; the first argument wins)
#   STEP             hour, day or month (default hour)
#   SYNTHETIC_ARGS   flags of the synthetic example (default: the benchmark case,
#                    "--workloads 2 --outages --share 1 --providers 4")
#   CAPPLAN_ARGS     extra arguments of `capplan run`, e.g. "--method decomposed" or "--solver highs"
#   CAPPLAN_FEATURES cargo features to build capplan with, e.g. "highs" (for --solver highs)
#   PYPSA_ARGS       extra arguments of pypsa_hourly.py, e.g. "--highs solver=ipm" or "--io-api direct"
#   REPS             repetitions of each tool (default 3)
#   VENV             where the PyPSA virtualenv lives (default $CARGO_TARGET_DIR/pypsa-venv)
#   PYTHON           the Python that creates it (default python3; 3.11 or later)
#   KEEP             set to 1 to keep the work folder (case, outputs, timings) and print its path
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
periods="${1:-${PERIODS:-8760}}"
step="${STEP:-hour}"
read -ra synthetic_args <<<"${SYNTHETIC_ARGS:---workloads 2 --outages --share 1 --providers 4}"
read -ra capplan_args <<<"${CAPPLAN_ARGS:-}"
read -ra pypsa_args <<<"${PYPSA_ARGS:-}"
reps="${REPS:-3}"
target="${CARGO_TARGET_DIR:-$repo/target}"
venv="${VENV:-$target/pypsa-venv}"
requirements="$repo/benches/requirements-pypsa.txt"

say() { echo "vs_pypsa: $*" >&2; }

# shellcheck source=benches/pypsa_venv.sh
. "$repo/benches/pypsa_venv.sh"
ensure_usr_bin_time
ensure_pypsa_venv "$venv" "$requirements"

say "building capplan (release)"
build_capplan "$target"

work="$(mktemp -d "${TMPDIR:-/tmp}/vs-pypsa.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then
  say "keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi
case_dir="$work/case"
"$synthetic" "$step" "$periods" "$case_dir" "${synthetic_args[@]}" >/dev/null
say "case: $step $periods ${synthetic_args[*]}"

# The tools alternate within each repetition so that load from other work on the machine, which
# drifts over minutes, falls on both alike rather than on whichever ran second.
for i in $(seq 1 "$reps"); do
  say "repetition $i/$reps: capplan run ${capplan_args[*]}"
  if ! /usr/bin/time -v -o "$work/time-capplan-$i.txt" \
    "$capplan" run "$case_dir" --out "$work/out-$i" --no-charts -q "${capplan_args[@]}" \
    >"$work/capplan-$i.txt" 2>"$work/capplan-$i.err"; then
    cat "$work/capplan-$i.err" >&2
    say "capplan failed"
    exit 1
  fi
  say "repetition $i/$reps: pypsa_hourly.py ${pypsa_args[*]}"
  if ! /usr/bin/time -v -o "$work/time-pypsa-$i.txt" \
    "$venv/bin/python" "$repo/benches/pypsa_hourly.py" "$case_dir" "${pypsa_args[@]}" \
    >"$work/pypsa-$i.json" 2>"$work/pypsa-$i.err"; then
    cat "$work/pypsa-$i.err" >&2
    say "pypsa_hourly.py failed"
    exit 1
  fi
done

"$venv/bin/python" - "$work" "$reps" "$step $periods ${synthetic_args[*]}" "${capplan_args[*]}" "${pypsa_args[*]}" <<'PY'
# Summarises the runs in the work folder as a markdown table.
import json, re, sys
from pathlib import Path

work, reps, case, capplan_args, pypsa_args = Path(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:]

def measured(path):
    """Wall seconds, CPU seconds (user + system) and peak RSS in MB from a /usr/bin/time -v report.
    CPU seconds move less than wall seconds when other work shares the machine."""
    text = path.read_text()
    clock = re.search(r"Elapsed \(wall clock\) time.*: (\S+)", text).group(1)
    seconds = 0.0
    for part in clock.split(":"):  # h:mm:ss or m:ss.ss
        seconds = seconds * 60 + float(part)
    cpu = sum(float(re.search(rf"{kind} time \(seconds\): (\S+)", text).group(1)) for kind in ("User", "System"))
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    return seconds, cpu, rss_kb / 1024

rows = {}
for tool in ("capplan", "pypsa"):
    runs = []
    for i in range(1, reps + 1):
        wall, cpu, rss = measured(work / f"time-{tool}-{i}.txt")
        if tool == "capplan":
            summary = json.loads((work / f"out-{i}" / "summary.json").read_text())
            objective, solve, label = summary["objective"], summary["solve_seconds"], f"capplan run ({summary['solver']})"
        else:
            out = json.loads((work / f"pypsa-{i}.json").read_text().strip().splitlines()[-1])
            objective, solve, label = out["objective"], out["seconds_solve"], f"PyPSA {out['pypsa']} + HiGHS ({out['io_api']})"
        runs.append((wall, rss, objective, solve, label, cpu))
    rows[tool] = runs

def span(values):
    return f"{min(values):.2f}–{max(values):.2f}"

print(f"case: `{case}`; capplan args: `{capplan_args or '(none)'}`; PyPSA args: `{pypsa_args or '(none)'}`; {reps} repetitions each, alternating\n")
print("| tool | wall seconds (min–max) | CPU seconds (min–max) | solve seconds (min–max) | peak RSS MB (max) | objective ($) |")
print("|---|---:|---:|---:|---:|---:|")
for runs in rows.values():
    print(f"| {runs[0][4]} | {span([r[0] for r in runs])} | {span([r[5] for r in runs])} | {span([r[3] for r in runs])} | "
          f"{max(r[1] for r in runs):.0f} | {runs[0][2]:.2f} |")
cap, py = rows["capplan"], rows["pypsa"]
# /usr/bin/time reports hundredths: a tiny case can take 0.00 s of capplan's CPU.
ratio = min(r[0] for r in py) / max(min(r[0] for r in cap), 0.01)
cpu_ratio = min(r[5] for r in py) / max(min(r[5] for r in cap), 0.01)
a, b = cap[0][2], py[0][2]
rel = abs(a - b) / max(abs(a), abs(b), 1e-300)
print(f"\nPyPSA / capplan, fastest runs: wall {ratio:.2f}×, CPU {cpu_ratio:.2f}×; "
      f"relative objective difference: {rel:.2e} ({'within' if rel <= 1e-6 else 'ABOVE'} 1e-6)")
for tool, runs in rows.items():
    if len({r[2] for r in runs}) > 1:
        print(f"note: {tool}'s objective varied across repetitions: {[r[2] for r in runs]}")
PY
