#!/usr/bin/env bash
# Scaling benchmark (issue 16): capplan against PyPSA + HiGHS on hourly years of three estates,
# 3 regions × 12 reserved tranches (+4 on-demand, 4 providers), 8 × 64 (+16, 8 providers) and
# 16 × 192 (+64, 8 providers), each plain, with N-1 and with a binding share cap; routes between
# all regions, 2 workloads, outages (`examples/synthetic.rs … --reserved N --on-demand M`).
#
# Each case is first written at CHECK_PERIODS hours and solved by both tools, and the run stops
# if their objectives differ by more than 1e-6 (relative): timings of two different LPs would
# mean nothing. Then each hourly-year case runs `capplan run CASE --no-charts` and
# benches/pypsa_hourly.py, alternating, each under /usr/bin/time -v (wall seconds, CPU seconds,
# peak resident memory) and `timeout`, and a markdown table goes to stdout: the machine (nproc,
# CPU, memory, load), then per case the wall seconds, peak MB, their ratio, the objective
# difference and the method HiGHS ran, then the issue's targets, met or not. Progress goes to
# stderr. Not part of `cargo test` or CI: it installs PyPSA from PyPI (benches/requirements-pypsa.txt,
# the virtualenv of vs_pypsa.sh) and the largest cases take hours in PyPSA.
#
# Usage: benches/scaling.sh [SIZE ...]     SIZE is 3x12, 8x64 or 16x192 (default: all three)
#
# Environment (all optional):
#   PERIODS          hours of the timed cases (default 8760, an hourly year)
#   VARIANTS         which of plain, n1, share, n1-share to run (default "plain n1 share")
#   REPS             repetitions of each tool per case (default 1)
#   CHECK_PERIODS    hours of the objective check before timing (default 48; 0 skips the check)
#   PYPSA_TIMEOUT    seconds one PyPSA run may take before it is stopped and reported as
#                    "> N s (timeout)" (default 1800)
#   CAPPLAN_TIMEOUT  the same for capplan (default 600)
#   PYPSA_MEMORY_MB  address-space limit of a PyPSA run, so a case too big for the machine fails
#                    instead of pushing it into swap or the OOM killer (default 16000; 0 = none)
#   SKIP_PYPSA       1: capplan only (no virtualenv, no check, no ratios)
#   CAPPLAN_ARGS     extra arguments of `capplan run`, e.g. "--method decomposed"
#   CAPPLAN_FEATURES cargo features to build capplan with, e.g. "highs"
#   PYPSA_ARGS       extra arguments of pypsa_hourly.py, e.g. "--highs solver=ipm"
#   VENV, PYTHON     as in vs_pypsa.sh
#   KEEP             1 keeps the work folder (cases, outputs, /usr/bin/time reports) and prints it
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
periods="${PERIODS:-8760}"
read -ra variants <<<"${VARIANTS:-plain n1 share}"
reps="${REPS:-1}"
check_periods="${CHECK_PERIODS:-48}"
pypsa_timeout="${PYPSA_TIMEOUT:-1800}"
capplan_timeout="${CAPPLAN_TIMEOUT:-600}"
pypsa_memory_mb="${PYPSA_MEMORY_MB:-16000}"
skip_pypsa="${SKIP_PYPSA:-0}"
read -ra capplan_args <<<"${CAPPLAN_ARGS:-}"
read -ra pypsa_args <<<"${PYPSA_ARGS:-}"
# PyPSA reads every PYPSA_* environment variable as one of its options (and warns about unknown
# ones): these are the script's, not PyPSA's, so the tools do not inherit them.
export -n PYPSA_ARGS PYPSA_TIMEOUT PYPSA_MEMORY_MB 2>/dev/null || true
target="${CARGO_TARGET_DIR:-$repo/target}"
venv="${VENV:-$target/pypsa-venv}"
requirements="$repo/benches/requirements-pypsa.txt"

say() { echo "scaling: $*" >&2; }

# size → regions providers reserved on-demand share-cap. The share cap binds on every size: the
# largest provider holds about a third (4 providers) or a quarter (8) of the reserved capacity
# and serves more than that at the optimum without a cap.
declare -A estates=(
  [3x12]="3 4 12 4 0.4"
  [8x64]="8 8 64 16 0.25"
  [16x192]="16 8 192 64 0.25"
)
sizes=("$@")
[ "${#sizes[@]}" -gt 0 ] || sizes=(3x12 8x64 16x192)
for size in "${sizes[@]}"; do
  [ -n "${estates[$size]:-}" ] || { say "unknown size '$size' (3x12, 8x64 or 16x192)"; exit 2; }
done
for variant in "${variants[@]}"; do
  case "$variant" in plain | n1 | share | n1-share) ;; *) say "unknown variant '$variant'"; exit 2 ;; esac
done

# shellcheck source=benches/pypsa_venv.sh
. "$repo/benches/pypsa_venv.sh"
ensure_usr_bin_time
if [ "$skip_pypsa" != 1 ]; then
  ensure_pypsa_venv "$venv" "$requirements"
fi

say "building capplan (release)"
build_capplan "$target"

work="$(mktemp -d "${TMPDIR:-/tmp}/scaling.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then
  say "keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi

# write_case DIR HOURS SIZE VARIANT: the synthetic estate of that size and variant.
write_case() {
  local dir="$1" hours="$2" size="$3" variant="$4" regions providers reserved on_demand share
  read -r regions providers reserved on_demand share <<<"${estates[$size]}"
  local flags=(--regions "$regions" --providers "$providers" --reserved "$reserved"
    --on-demand "$on_demand" --workloads 2 --outages)
  case "$variant" in
    plain) flags+=(--share 1) ;;
    n1) flags+=(--share 1 --n1) ;;
    share) flags+=(--share "$share") ;;
    n1-share) flags+=(--share "$share" --n1) ;;
  esac
  "$synthetic" hour "$hours" "$dir" "${flags[@]}" >/dev/null
}

: >"$work/runs.tsv"
{
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "nproc=$(nproc)"
  echo "cpu=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "memory=$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "uptime_start=$(uptime)"
  echo "commit=$(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- src || echo ' (with uncommitted changes in src/)')"
  echo "rustc=$(rustc --version)"
  echo "periods=$periods"
  echo "reps=$reps"
  echo "capplan_args=${capplan_args[*]}"
  echo "pypsa_args=${pypsa_args[*]}"
  echo "pypsa_timeout=$pypsa_timeout"
  echo "capplan_timeout=$capplan_timeout"
  echo "pypsa_memory_mb=$pypsa_memory_mb"
  echo "skip_pypsa=$skip_pypsa"
} >"$work/machine.txt"

if [ "$skip_pypsa" != 1 ] && [ "$check_periods" != 0 ]; then
  say "checking objectives on ${check_periods}-hour versions of the cases"
  for size in "${sizes[@]}"; do
    for variant in "${variants[@]}"; do
      label="$size $variant"
      dir="$work/check-$size-$variant"
      write_case "$dir" "$check_periods" "$size" "$variant"
      "$capplan" run "$dir" --out "$dir-capplan" --no-charts -q "${capplan_args[@]}" >/dev/null 2>"$dir-capplan.err" ||
        { cat "$dir-capplan.err" >&2; say "capplan failed on the check of $label"; exit 1; }
      "$venv/bin/python" "$repo/benches/pypsa_hourly.py" "$dir" "${pypsa_args[@]}" >"$dir-pypsa.json" 2>"$dir-pypsa.err" ||
        { tail -n 20 "$dir-pypsa.err" >&2; say "pypsa_hourly.py failed on the check of $label"; exit 1; }
      printf '%s\t%s\t%s\n' "$label" "$dir-capplan/summary.json" "$dir-pypsa.json" >>"$work/checks.tsv"
      "${PYTHON:-python3}" "$repo/benches/scaling_table.py" --check "$dir-capplan/summary.json" "$dir-pypsa.json" ||
        { say "the two tools disagree on $label: fix the twin (or capplan) before timing them"; exit 1; }
    done
  done
fi

for size in "${sizes[@]}"; do
  for variant in "${variants[@]}"; do
    label="$size $variant"
    dir="$work/case-$size-$variant"
    say "writing $label ($periods hours)"
    write_case "$dir" "$periods" "$size" "$variant"
    for i in $(seq 1 "$reps"); do
      # The tools alternate, so load from other work on the machine, which drifts over minutes,
      # falls on both alike rather than on whichever ran second.
      measure capplan "$label" "$capplan_timeout" "$work/capplan-$size-$variant-$i" \
        "$capplan" run "$dir" --out "$work/capplan-$size-$variant-$i.d" --no-charts -q "${capplan_args[@]}"
      if [ "$skip_pypsa" != 1 ]; then
        measure pypsa "$label" "$pypsa_timeout" "$work/pypsa-$size-$variant-$i" \
          "$venv/bin/python" "$repo/benches/pypsa_hourly.py" "$dir" "${pypsa_args[@]}"
      fi
    done
  done
done
echo "uptime_end=$(uptime)" >>"$work/machine.txt"

"${PYTHON:-python3}" "$repo/benches/scaling_table.py" "$work"
