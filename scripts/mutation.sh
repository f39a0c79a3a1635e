#!/usr/bin/env bash
# Mutation score of the core modules: mutmut plants small bugs (mutants) in one module at a time and
# runs that module's own tests against each; a mutant the tests do not notice "survived".
#
#   bash scripts/mutation.sh                      every core module
#   bash scripts/mutation.sh packer/shards.py     the named module(s) only
#   MUTATION_MIN=85 bash scripts/mutation.sh ...  exit 1 when a module kills fewer than 85%
#   MUTATION_PICK=ci bash scripts/mutation.sh     one module, chosen by the commit hash (CI)
#
# Each module runs in a scratch copy of the working tree (tracked and untracked, not ignored files),
# so the checkout never gets a `mutants/` folder and uncommitted changes are measured. Per module
# it prints one line, `mutation MODULE killed/total = PCT% (survived N, no tests N, timeout N)`, and
# writes the diff of every surviving mutant to $MUTATION_OUT/<module>.survivors.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=python
MIN=${MUTATION_MIN:-0}
OUT=${MUTATION_OUT:-$ROOT/.mutation}
CHILDREN=${MUTATION_CHILDREN:-2}

# module -> its own tests (space separated; globs allowed)
declare -A TESTS=(
  [filters/dedup/verify.py]="tests/filters/test_dedup_*.py"
  [filters/dedup/resolve.py]="tests/filters/test_dedup_*.py"
  [filters/text_rules.py]="tests/filters/test_text_rules*.py"
  [packer/tokens.py]="tests/packer/test_tokens*.py tests/packer/test_video.py"
  [packer/steps.py]="tests/packer/test_steps*.py"
  [packer/shards.py]="tests/packer/test_shards*.py"
  [trainer_bridge/loss.py]="tests/trainer_bridge/test_loss.py tests/trainer_bridge/test_loss_*.py"
)
ORDER=(filters/dedup/verify.py filters/dedup/resolve.py filters/text_rules.py packer/tokens.py
       packer/steps.py packer/shards.py trainer_bridge/loss.py)

if [ $# -gt 0 ]; then
  MODULES=("$@")
elif [ "${MUTATION_PICK:-}" = ci ]; then
  # one module per CI run, rotating with the commit so every module is measured over a few runs
  n=$(( 16#$(git rev-parse --short=8 HEAD 2>/dev/null || echo 0) % ${#ORDER[@]} ))
  MODULES=("${ORDER[$n]}")
else
  MODULES=("${ORDER[@]}")
fi

"$PY" -c 'import mutmut' 2>/dev/null || { echo "mutmut is not installed: pip install -e '.[dev]'" >&2; exit 2; }
mkdir -p "$OUT"
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/vlpack-mutation.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
trap 'exit 143' TERM INT  # so the EXIT trap cleans up when a timeout stops the run
status=0
for module in "${MODULES[@]}"; do
  [ -n "${TESTS[$module]:-}" ] || { echo "no tests known for $module (known: ${ORDER[*]})" >&2; exit 2; }
  [ -f "$module" ] || { echo "$module does not exist" >&2; exit 2; }
  work="$SCRATCH/$(echo "$module" | tr '/.' '__')"
  mkdir -p "$work"
  git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C "$work"
  "$PY" scripts/mutation_undecorate.py "$work/$module"  # mutmut skips decorated functions (see there)
  # the module's test files as they exist (a glob that matches nothing is left out)
  tests=()
  for pattern in ${TESTS[$module]}; do
    for f in $pattern; do [ -f "$f" ] && tests+=("\"$f\""); done
  done
  [ ${#tests[@]} -gt 0 ] || { echo "no test file matches ${TESTS[$module]}" >&2; exit 2; }
  selection=$(IFS=,; echo "${tests[*]}")
  cat >> "$work/pyproject.toml" <<EOF

[tool.mutmut]
source_paths = ["schemas", "filters", "packer", "jobs", "trainer_bridge"]
only_mutate = ["$module"]
pytest_add_cli_args_test_selection = [$selection]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]
EOF
  log="$OUT/$(echo "$module" | tr '/' '_').log"
  start=$SECONDS
  if ! (cd "$work" && CI=true "$PY" -m mutmut run --max-children "$CHILDREN" >"$log" 2>&1); then
    echo "mutmut failed on $module; see $log" >&2
    tail -n 30 "$log" >&2
    exit 2
  fi
  (cd "$work" && "$PY" -m mutmut export-cicd-stats >/dev/null 2>&1)
  survivors="$OUT/$(echo "$module" | tr '/' '_').survivors.txt"
  (cd "$work" && "$PY" -m mutmut results 2>/dev/null | awk -F: '/: (survived|no tests|timeout)$/ {print $1}' |
     while read -r name; do echo "=== $name"; "$PY" -m mutmut show "$name" 2>/dev/null; done) >"$survivors"
  "$PY" - "$work/mutants/mutmut-cicd-stats.json" "$module" "$MIN" "$((SECONDS - start))" <<'EOF' || status=1
import json, sys
s = json.load(open(sys.argv[1]))
module, need, secs = sys.argv[2], float(sys.argv[3]), sys.argv[4]
# a mutant that makes the tests hang (timeout) was noticed too: it counts as killed
caught = s["killed"] + s["timeout"]
pct = 100.0 * caught / max(1, s["total"])
print(f"mutation {module} killed {caught}/{s['total']} = {pct:.1f}% (survived {s['survived']}, "
      f"no tests {s['no_tests']}, timeout {s['timeout']}, suspicious {s['suspicious']}; {secs} s)", flush=True)
sys.exit(0 if pct >= need else 1)
EOF
  rm -rf "$work"
done
exit $status
