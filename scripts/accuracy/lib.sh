# Shared by the accuracy harness scripts (sourced).

# fresh_work WHO WORK: empties WORK for a new harness run and prints its absolute path. Only a
# previous harness folder (it holds tables.json or input/) or an empty one is wiped, never an
# arbitrary path; WHO names the script in the error.
fresh_work() {
  local who=$1 work=$2
  if [ -e "$work" ] && [ -n "$(ls -A "$work")" ] && [ ! -e "$work/tables.json" ] && [ ! -e "$work/input" ]; then
    echo "$who: $work exists and is not a harness folder; give another WORK" >&2
    return 2
  fi
  rm -rf "$work"
  mkdir -p "$work"
  (cd "$work" && pwd)
}
