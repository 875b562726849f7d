# Sourced by benches/vs_pypsa.sh, benches/scaling.sh and benches/deferral_vs_pypsa.sh (not run on
# its own): what they need around capplan and the PyPSA twin, so the benchmarks build and measure
# them the same way.

# /usr/bin/time -v gives peak RSS as well as wall time; the shell keyword `time` gives no memory.
ensure_usr_bin_time() {
  if [ ! -x /usr/bin/time ]; then
    echo "installing Debian's time package for /usr/bin/time" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq time >/dev/null
  fi
}

# ensure_pypsa_venv VENV REQUIREMENTS: a virtualenv with the pinned PyPSA, linopy and highspy.
# It is rebuilt only when the pinned requirements change, so repeated runs skip pip. PYTHON (default
# python3, 3.11 or later) creates it.
ensure_pypsa_venv() {
  local venv="$1" requirements="$2"
  if [ ! -x "$venv/bin/python" ] || ! cmp -s "$requirements" "$venv/requirements-pypsa.txt"; then
    echo "creating $venv with $(${PYTHON:-python3} --version)" >&2
    "${PYTHON:-python3}" -m venv --clear "$venv"
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q -r "$requirements"
    cp "$requirements" "$venv/requirements-pypsa.txt"
  fi
}

# build_capplan TARGET: builds capplan and the synthetic-case generator (release, with
# CAPPLAN_FEATURES if set) into TARGET and sets `capplan` and `synthetic` to their paths.
build_capplan() {
  local target="$1"
  local features=()
  [ -z "${CAPPLAN_FEATURES:-}" ] || features=(--features "$CAPPLAN_FEATURES")
  CARGO_TARGET_DIR="$target" cargo build --release --quiet --bin capplan --example synthetic "${features[@]}"
  capplan="$target/release/capplan"
  synthetic="$target/release/examples/synthetic"
}

# measure TOOL LABEL TIMEOUT PREFIX COMMAND...: runs COMMAND under /usr/bin/time -v and timeout and
# appends a line to $work/runs.tsv (the caller sets `work`, `pypsa_memory_mb` and `say`): label,
# tool, status (ok, timeout or failed), wall s, CPU s, peak MB, the 1-minute load average at the
# start, the prefix of its files, and why it failed.
measure() {
  local tool="$1" label="$2" limit="$3" prefix="$4"
  shift 4
  local load status=ok why=""
  load="$(cut -d' ' -f1 /proc/loadavg)"
  set +e
  (
    if [ "$tool" = pypsa ] && [ "$pypsa_memory_mb" != 0 ]; then ulimit -v $((pypsa_memory_mb * 1024)); fi
    exec /usr/bin/time -v -o "$prefix.time" timeout -k 30 "$limit" "$@" >"$prefix.out" 2>"$prefix.err"
  )
  local code=$?
  set -e
  if [ "$code" = 124 ] || [ "$code" = 137 ]; then
    status=timeout
  elif [ "$code" != 0 ]; then
    status=failed
    why="exit $code: $(grep -v '^\s*$' "$prefix.err" | tail -n 1 | tr '\t' ' ' | cut -c1-160)"
    say "$tool failed on $label ($why)"
  fi
  local wall cpu rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$prefix.time")
  cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { print u + s }' "$prefix.time")
  rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$prefix.time")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$tool" "$status" "$wall" "$cpu" "$rss" "$load" "$prefix" "$why" >>"$work/runs.tsv"
  say "$tool $label: $status, ${wall} s wall, ${cpu} s CPU, ${rss} MB (load $load)"
}
