#!/usr/bin/env bash
# The hourly-year targets measured end to end as a user runs them: `capplan run CASE --no-charts`
# under /usr/bin/time -v (wall seconds, CPU seconds, peak resident memory), for the plain hourly
# year, N-1 over 4 providers, N-1 with reservations three times dearer, and a binding share cap.
# Each case is run REPS times (default 3); the table gives the fastest and slowest wall time.
#
#   benches/hourly_targets.sh                 # decomposed (the default method from 12 periods)
#   CAPPLAN_ARGS="--method monolithic" benches/hourly_targets.sh
#
# Needs /usr/bin/time (Debian package `time`). Not part of `cargo test` or CI.
set -euo pipefail

cd "$(dirname "$0")/.."
REPS="${REPS:-3}"
PERIODS="${PERIODS:-8760}"
CAPPLAN_ARGS="${CAPPLAN_ARGS:-}"
if [ ! -x /usr/bin/time ]; then
    echo "needs /usr/bin/time: apt-get install -y time" >&2
    exit 2
fi
cargo build --release --quiet --bin capplan --example synthetic
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bin="$PWD/target/release/capplan"
synthetic="$PWD/target/release/examples/synthetic"

# name|synthetic flags|commit price factor
cases=(
    "hourly|--workloads 2 --outages --share 1 --providers 4|1"
    "hourly-n1|--workloads 2 --outages --share 1 --providers 4 --n1|1"
    "hourly-n1-dear|--workloads 2 --outages --share 1 --providers 4 --n1|3"
    "hourly-share|--workloads 2 --outages --share 0.4 --providers 4|1"
)

echo "| case | wall s (min–max) | CPU s (min) | peak RSS MB (max) | objective \$ | method |"
echo "|---|---:|---:|---:|---:|---|"
for spec in "${cases[@]}"; do
    IFS='|' read -r name flags factor <<<"$spec"
    dir="$work/$name"
    # shellcheck disable=SC2086
    "$synthetic" hour "$PERIODS" "$dir" $flags >/dev/null
    if [ "$factor" != "1" ]; then
        # Multiply the commit_cost_per_hour column (the 8th) of capacity.csv.
        awk -F, -v OFS=, -v f="$factor" 'NR == 1 { print; next } { $8 = sprintf("%.2f", $8 * f); print }' \
            "$dir/capacity.csv" >"$dir/capacity.tmp" && mv "$dir/capacity.tmp" "$dir/capacity.csv"
    fi
    walls=(); cpus=(); rss=()
    for _ in $(seq "$REPS"); do
        # shellcheck disable=SC2086
        /usr/bin/time -v -o "$work/time.txt" "$bin" run "$dir" --out "$work/out-$name" --no-charts --quiet \
            --timings $CAPPLAN_ARGS >/dev/null 2>"$work/stderr.txt"
        wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$work/time.txt")
        cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { print u + s }' "$work/time.txt")
        mem=$(awk -F': ' '/Maximum resident set size/ { print $2 / 1024 }' "$work/time.txt")
        walls+=("$wall"); cpus+=("$cpu"); rss+=("$mem")
    done
    method=$(grep -oE '\((decomposed|clarabel|highs|microlp)\)' "$work/stderr.txt" | head -1 | tr -d '()')
    objective=$(grep -oE '"objective": [0-9.e+-]+' "$work/out-$name/summary.json" | awk '{ print $2 }')
    min() { printf '%s\n' "$@" | sort -g | head -1; }
    max() { printf '%s\n' "$@" | sort -g | tail -1; }
    printf "| %s | %.2f–%.2f | %.2f | %.0f | %s | %s |\n" "$name" "$(min "${walls[@]}")" "$(max "${walls[@]}")" \
        "$(min "${cpus[@]}")" "$(max "${rss[@]}")" "$objective" "$method"
done
