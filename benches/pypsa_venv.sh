# Sourced by benches/vs_pypsa.sh and benches/scaling.sh (not run on its own): what both need
# around the PyPSA twin, so the two benchmarks measure the same PyPSA.

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
