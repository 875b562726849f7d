#!/usr/bin/env bash
# Whole GPU blocks measured end to end as a user runs them (issue 20, item 5): `capplan run CASE
# --no-charts` under /usr/bin/time -v, planned in whole blocks and as the LP relaxation
# (`--relax`), REPS runs each (default 3): wall seconds (fastest–slowest), CPU seconds (fastest),
# peak resident memory (largest), the objective and the whole-block search's nodes.
#
# The cases:
#   gpus-monthly         scenarios/frontier-2026-gpus (24 months, 29 tranches in GPUs, blocks of
#                        8 and 256 GPUs, share cap and N-1)                      target < 1 s
#   gpus-hourly-quarter  the same tranches, throughput, workloads, routes and policy with
#                        frontier-2026-hourly's demand: 2,208 hours of Q4 2026     target < 5 s
#   hourly-year          examples/synthetic.rs hour 8760 … --blocks 8: 3 regions × 4 tranches,
#                        9 reserved in 8-GPU blocks                               target < 10 s
#   hourly-year-12       the same over 4 regions: 12 of 16 tranches in blocks     target < 10 s
#   hourly-year-b64 / hourly-year-12-b64   the two years in 64-GPU blocks (not targets)
#
#   benches/gpu_blocks.sh
#   BIN=/path/to/other/capplan TIMEOUT=120 benches/gpu_blocks.sh   # another build ("before")
#
# A run that exceeds TIMEOUT seconds (default 300) is reported as such. Needs /usr/bin/time
# (Debian package `time`). Not part of `cargo test` or CI.
set -euo pipefail

cd "$(dirname "$0")/.."
REPS="${REPS:-3}"
TIMEOUT="${TIMEOUT:-300}"
if [ ! -x /usr/bin/time ]; then
    echo "needs /usr/bin/time: apt-get install -y time" >&2
    exit 2
fi
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --release --quiet --bin capplan --example synthetic
bin="${BIN:-$target/release/capplan}"
synthetic="$target/release/examples/synthetic"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The hourly quarter in GPUs.
quarter="$work/gpus-hourly-quarter"
mkdir -p "$quarter"
cp scenarios/frontier-2026-gpus/{capacity,routes,throughput,workloads}.csv "$quarter/"
cp scenarios/frontier-2026-hourly/demand.csv "$quarter/"
sed 's/^horizon_end = "2028-01-01"/horizon_end = "2027-01-01"/' \
    scenarios/frontier-2026-gpus/scenario.toml >"$quarter/scenario.toml"
year_flags="--workloads 2 --outages --share 1 --providers 4"
# shellcheck disable=SC2086
"$synthetic" hour 8760 "$work/hourly-year" $year_flags --blocks 8 >/dev/null
# shellcheck disable=SC2086
"$synthetic" hour 8760 "$work/hourly-year-12" $year_flags --regions 4 --blocks 8 >/dev/null
# shellcheck disable=SC2086
"$synthetic" hour 8760 "$work/hourly-year-b64" $year_flags --blocks 64 >/dev/null
# shellcheck disable=SC2086
"$synthetic" hour 8760 "$work/hourly-year-12-b64" $year_flags --regions 4 --blocks 64 >/dev/null

cases=(
    "gpus-monthly|$PWD/scenarios/frontier-2026-gpus"
    "gpus-hourly-quarter|$quarter"
    "hourly-year|$work/hourly-year"
    "hourly-year-12|$work/hourly-year-12"
    "hourly-year-b64|$work/hourly-year-b64"
    "hourly-year-12-b64|$work/hourly-year-12-b64"
)

echo "load before: $(uptime)"
echo
echo "| case | plan | wall s (min–max) | CPU s (min) | peak RSS MB (max) | objective \$ | search |"
echo "|---|---|---:|---:|---:|---:|---|"
for spec in "${cases[@]}"; do
    IFS='|' read -r name dir <<<"$spec"
    for plan in "whole blocks" "--relax"; do
        args=()
        [ "$plan" = "--relax" ] && args=(--relax)
        walls=(); cpus=(); rss=(); status=ok
        for _ in $(seq "$REPS"); do
            if ! /usr/bin/time -v -o "$work/time.txt" timeout "$TIMEOUT" "$bin" run "$dir" \
                --out "$work/out" --no-charts --quiet --timings "${args[@]}" \
                >/dev/null 2>"$work/stderr.txt"; then
                status="stopped after ${TIMEOUT} s or failed: $(grep -m1 -E '^error' "$work/stderr.txt" || true)"
            fi
            wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/time.txt")
            cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { print u + s }' "$work/time.txt")
            mem=$(awk -F': ' '/Maximum resident set size/ { print $2 / 1024 }' "$work/time.txt")
            walls+=("$wall"); cpus+=("$cpu"); rss+=("$mem")
            [ "$status" = ok ] || break
        done
        min() { printf '%s\n' "$@" | sort -g | head -1; }
        max() { printf '%s\n' "$@" | sort -g | tail -1; }
        if [ "$status" = ok ]; then
            objective=$(grep -oE '"objective": [0-9.e+-]+' "$work/out/summary.json" | awk '{ print $2 }')
            search=$(grep -oE 'whole blocks: [0-9]+ mixed-integer masters · [0-9]+ nodes · [0-9]+ master LPs · [0-9.]+s in the masters · [0-9]+ evaluations' "$work/stderr.txt" | sed 's/whole blocks: //' || true)
        else
            objective="—"; search="$status"
        fi
        printf "| %s | %s | %.2f–%.2f | %.2f | %.0f | %s | %s |\n" "$name" "$plan" \
            "$(min "${walls[@]}")" "$(max "${walls[@]}")" "$(min "${cpus[@]}")" "$(max "${rss[@]}")" \
            "$objective" "${search:-—}"
    done
done
echo
echo "load after: $(uptime)"
