#!/usr/bin/env bash
# One-command setup, idempotent: system packages (Debian) when missing, npm dependencies,
# the native addons (cmake-js) and the TypeScript build. Safe to run again: it only does what
# is missing or out of date. `npm test`, `npm run demo` and `npm run bench` call it first.
#
# Not on Debian (an HPC cluster)? Load the modules instead and skip the apt step:
#   module load cmake gcc openmpi xgboost nodejs      # names vary per site
#   HIERIMPUTE_SKIP_APT=1 XGBOOST_ROOT=$EBROOTXGBOOST npm run setup
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
if ! command -v mpiexec >/dev/null 2>&1 || ! command -v mpicc >/dev/null 2>&1; then
  missing+=(openmpi-bin libopenmpi-dev)
fi
if [ -z "${XGBOOST_ROOT:-}" ] && [ ! -f /usr/include/xgboost/c_api.h ]; then
  missing+=(libxgboost-dev)
fi
# Headless browser for test/report-browser.test.js (renders OUT/report.html). Debian's chromium,
# about 350 MB installed with its libraries; HIERIMPUTE_SKIP_BROWSER=1 skips both it and that test.
if [ "${HIERIMPUTE_SKIP_BROWSER:-0}" != "1" ] && [ -z "${HIERIMPUTE_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1 \
  && ! command -v chromium-browser >/dev/null 2>&1; then
  say "chromium is missing: it is needed by test/report-browser.test.js (HIERIMPUTE_SKIP_BROWSER=1 skips the test and this install)"
  missing+=(chromium)
fi
# A throwaway SLURM cluster for test/slurm.test.js (it starts its own munged, slurmctld and slurmd
# in a scratch folder; nothing is configured system-wide): Debian's slurm-wlm and munge, about
# 30 MB, and iproute2 for the network namespaces of its several-hosts test.
# HIERIMPUTE_SKIP_SLURM=1 skips this install; the test then skips, naming what is missing.
have() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1; }
if [ "${HIERIMPUTE_SKIP_SLURM:-0}" != "1" ]; then
  if ! have slurmctld || ! have slurmd || ! have sbatch; then missing+=(slurm-wlm); fi
  if ! have munged; then missing+=(munge); fi
  if ! have ip; then missing+=(iproute2); fi
fi
# iproute2 (`ip netns`) also for test/multihost.test.js (several hosts simulated on this machine),
# so it is installed even with HIERIMPUTE_SKIP_SLURM=1.
if ! have ip && [[ " ${missing[*]} " != *" iproute2 "* ]]; then missing+=(iproute2); fi

# clang-format (Debian's, a few MB) for `npm run lint` and test/lint.test.js. Optional: a machine
# that cannot install it still sets up; test/lint.test.js then skips its C++ formatting check.
optional=()
command -v clang-format >/dev/null 2>&1 || optional+=(clang-format)
optional_note() {
  say "optional: clang-format is missing; npm run lint needs it and test/lint.test.js skips its C++ formatting check"
}

if [ "${#missing[@]}" -eq 0 ] && [ "${#optional[@]}" -gt 0 ]; then
  if [ "${HIERIMPUTE_SKIP_APT:-0}" != "1" ] && command -v apt-get >/dev/null 2>&1 \
    && { [ "$(id -u)" -eq 0 ] || sudo -n true 2>/dev/null; }; then
    if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
    say "installing ${optional[*]} (apt)"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${optional[@]}" >/dev/null
  else
    optional_note
  fi
elif [ "${#missing[@]}" -gt 0 ]; then
  if [ "${HIERIMPUTE_SKIP_APT:-0}" = "1" ]; then
    say "missing: ${missing[*]} (HIERIMPUTE_SKIP_APT=1: not installing; load your site's modules)"
    [ "${#optional[@]}" -eq 0 ] || optional_note
  elif ! command -v apt-get >/dev/null 2>&1; then
    say "missing: ${missing[*]}, and this is not a Debian/Ubuntu machine."
    say "Load the equivalents (e.g. 'module load cmake gcc openmpi xgboost') and rerun with HIERIMPUTE_SKIP_APT=1."
    exit 1
  else
    if [ "$(id -u)" -eq 0 ]; then SUDO=(); elif sudo -n true 2>/dev/null; then SUDO=(sudo); else
      say "missing: ${missing[*]}. Run as root:"
      say "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
      exit 1
    fi
    missing+=("${optional[@]}")
    say "installing ${missing[*]} (apt)"
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci (builds the native addons and the TypeScript)"
  npm ci --no-audit --no-fund --loglevel=error
else
  # A build folder configured while no MPI was installed keeps building without it (cmake-js runs
  # CMake's configure step only in a fresh folder): rebuild it from scratch once an MPI is there,
  # unless HIERIMPUTE_BUILD_MPI=OFF asks for no MPI.
  if [ -f build/build-info.json ] && command -v mpicc >/dev/null 2>&1 && node -e "
    const i = require('./build/build-info.json');
    const off = /^(off|0|false|no|n)$/i.test(process.env.HIERIMPUTE_BUILD_MPI || '');
    process.exit(i.mpi === false && i.mpiNote === 'no MPI found' && !off ? 0 : 1);"; then
    say "build/ was configured without MPI; rebuilding it with $(command -v mpicc)"
    npx --no-install cmake-js rebuild --log-level warn >/dev/null
  fi
  # Incremental: both are fast when nothing changed.
  npx --no-install cmake-js compile --log-level warn >/dev/null
  npx --no-install tsc -p tsconfig.json
fi
mpi=$(node -p "const i = require('./build/build-info.json'); i.mpi === false ? 'no MPI: ' + i.mpiNote : i.mpiFlavor")
say "ready: $(node dist/main.js --version) ($mpi, $(ls build/Release/*.node | wc -l) addons)"
