#!/usr/bin/env bash
# When distributing a sweep pays (issue 23, docs/cluster.md): one large risk sweep of the
# synthetic hourly year (examples/synthetic.rs: 8,760 hourly periods, 3 regions, 12 tranches over
# 4 providers) run whole, then as SHARDS shards one after another on this same machine, then
# merged; every run under /usr/bin/time. A shard of one sample gives the per-shard overhead (the
# process, loading the year, the base plan, writing the shard). The merged files are compared
# byte for byte with the whole run's.
#
#   benches/shard_overhead.sh                     # 1,000 samples, 10 shards
#   SAMPLES=200 SHARDS=4 benches/shard_overhead.sh
#
# One machine: the shards run one after the other, so their sum is the work a cluster would
# spread, not a cluster's wall time. Needs /usr/bin/time (Debian package `time`). Not part of
# `cargo test` or CI.
set -euo pipefail

cd "$(dirname "$0")/.."
SAMPLES="${SAMPLES:-1000}"
SHARDS="${SHARDS:-10}"
if [ ! -x /usr/bin/time ]; then
    echo "needs /usr/bin/time: apt-get install -y time" >&2
    exit 2
fi
cargo build --release --quiet --bin capplan --example synthetic
target="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$target/release/capplan"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$target/release/examples/synthetic" hour 8760 "$work/hourly-year" >/dev/null

# Outage rates like scenarios/sweeps/frontier-risk.toml's for the synthetic year's providers
# (aws, azure, gcp per region; oracle as a whole), demand sigma 0.1.
mkdir -p "$work/sweeps"
{
    printf 'name = "hourly-year-risk"\nscenario = "../hourly-year"\n\n[risk]\nsamples = %s\nseed = 2026\n' "$SAMPLES"
    for region in us eu apac; do
        printf '\n[[risk.outage]]\nprovider = "aws"\nregion = "%s"\nper_year = 1.083\nmedian_hours = 1.88\np95_hours = 21.83\ncapacity_factor = 0.5\n' "$region"
        printf '\n[[risk.outage]]\nprovider = "azure"\nregion = "%s"\nper_year = 0.367\nmedian_hours = 5.27\np95_hours = 26.25\ncapacity_factor = 0.5\n' "$region"
        printf '\n[[risk.outage]]\nprovider = "gcp"\nregion = "%s"\nper_year = 3.9\nmedian_hours = 3.86\np95_hours = 82.07\ncapacity_factor = 0.5\n' "$region"
    done
    printf '\n[[risk.outage]]\nprovider = "oracle"\nper_year = 1.0\nmedian_hours = 4.0\np95_hours = 24.0\n'
    printf '\n[risk.demand]\nsigma = 0.1\n'
} >"$work/sweeps/risk.toml"
sweep="$work/sweeps/risk.toml"

# Runs a command under /usr/bin/time; writes "wall cpu" seconds (cpu: user + system) to
# $work/result.
timed() {
    /usr/bin/time -f '%e %U %S %M' -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt" || {
        cat "$work/stderr.txt" >&2
        exit 1
    }
    awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$work/time.txt" >"$work/result"
}
peak_mb() { awk '{ printf "%.0f", $4 / 1024 }' "$work/time.txt"; }
add() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a + b }'; }

echo "machine: $(nproc) CPUs, $(uptime)"
timed "$bin" sweep "$sweep" --out "$work/whole" --no-charts --quiet
read -r whole whole_cpu <"$work/result"
whole_mb=$(peak_mb)
timed "$bin" sweep "$sweep" --samples "$SHARDS" --shard "0/$SHARDS" --out "$work/one" --quiet
read -r one one_cpu <"$work/result"
sum=0 sum_cpu=0 max=0
for i in $(seq 0 $((SHARDS - 1))); do
    timed "$bin" sweep "$sweep" --shard "$i/$SHARDS" --out "$work/shards" --quiet
    read -r t c <"$work/result"
    sum=$(add "$sum" "$t")
    sum_cpu=$(add "$sum_cpu" "$c")
    max=$(awk -v a="$max" -v b="$t" 'BEGIN { print (b > a) ? b : a }')
done
timed "$bin" merge "$work/shards" --out "$work/merged" --no-charts
read -r merge merge_cpu <"$work/result"
for f in sweep.csv sweep.json sweep.md sweep_periods.csv; do
    cmp "$work/whole/$f" "$work/merged/$f"
done
echo "after: $(uptime)"
echo
echo "| $SAMPLES samples of the hourly year | wall s | CPU s |"
echo "|---|---:|---:|"
echo "| whole, one machine (peak $whole_mb MB) | $whole | $whole_cpu |"
echo "| $SHARDS shards one after another, sum | $sum | $sum_cpu |"
echo "| the longest shard | $max | |"
echo "| a shard of 1 sample (the per-shard overhead) | $one | $one_cpu |"
echo "| merge (no charts) | $merge | $merge_cpu |"
echo "merged files equal the whole run's (cmp)"
