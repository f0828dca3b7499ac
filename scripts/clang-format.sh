#!/usr/bin/env bash
# clang-format over the C++ and C sources in native/, with the repository's .clang-format.
#   bash scripts/clang-format.sh --check   report unformatted files (exit 1), change nothing
#   bash scripts/clang-format.sh --write   reformat them in place
# Different clang-format major versions can format the same code differently; the reference is
# Debian 12's clang-format (14), which `npm run setup` installs.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-}
if [ "$mode" != "--check" ] && [ "$mode" != "--write" ]; then
  echo "usage: bash scripts/clang-format.sh --check|--write" >&2
  exit 2
fi
if ! command -v clang-format >/dev/null 2>&1; then
  echo "clang-format not found: install it (npm run setup does, on Debian: apt-get install clang-format)" >&2
  exit 1
fi
mapfile -t files < <(find native -type f \( -name '*.cc' -o -name '*.h' -o -name '*.c' \) | LC_ALL=C sort)
if [ "$mode" = "--check" ]; then
  clang-format --style=file --dry-run -Werror "${files[@]}"
else
  clang-format --style=file -i "${files[@]}"
fi
