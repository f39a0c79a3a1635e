#!/usr/bin/env bash
# Mutation score of the core modules: mutmut plants small bugs (mutants) in one module at a time and
# runs that module's own tests against each; a mutant the tests do not notice "survived".
#
#   bash scripts/mutation.sh                      every core module
#   bash scripts/mutation.sh packer/shards.py     the named module(s) only
#   MUTATION_MIN=85 bash scripts/mutation.sh ...  exit 1 when a module kills fewer than 85%
#   MUTATION_PICK=ci bash scripts/mutation.sh     one module, chosen by the commit hash (CI)
#   MUTATION_RECHECK=1 bash scripts/mutation.sh M  only the mutants that survived the last full run of M
#                                                 (after adding tests; refused if M changed since)
#
# Each module runs in a scratch copy of the working tree (tracked and untracked, not ignored files),
# so the checkout never gets a `mutants/` folder and uncommitted changes are measured. Per module
# it prints one line, `mutation MODULE killed K/N = PCT% (survived S; seconds)` (a mutant that makes
# the tests time out counts as killed), and writes the diff of every surviving mutant to
# $MUTATION_OUT/<module>.survivors.txt (default $MUTATION_OUT: .mutation/, ignored by git).
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
# torch is not fork-safe (a forked worker can deadlock in its thread pool): fork those from a clean server
declare -A ISOLATION=([trainer_bridge/loss.py]=forkserver)
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
also_copy = ["bench"]  # tests that reuse a benchmark's data generators load bench/ by path
pytest_add_cli_args_test_selection = [$selection]
pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x"]
process_isolation = "${ISOLATION[$module]:-fork}"
EOF
  base="$OUT/$(echo "$module" | tr '/' '_')"
  log="$base.log" survivors="$base.survivors.txt" stats="$base.stats.json"
  digest=$(sha256sum "$module" | cut -c1-64)
  names=()
  if [ -n "${MUTATION_RECHECK:-}" ]; then
    [ -f "$stats" ] && [ -f "$survivors" ] || { echo "no earlier full run of $module in $OUT" >&2; exit 2; }
    grep -q "\"sha256\": \"$digest\"" "$stats" || { echo "$module changed since its last full run" >&2; exit 2; }
    mapfile -t names < <(sed -n 's/^=== //p' "$survivors")
  fi
  start=$SECONDS
  if [ -z "${MUTATION_RECHECK:-}" ] || [ ${#names[@]} -gt 0 ]; then
    if ! (cd "$work" && CI=true "$PY" -m mutmut run --max-children "$CHILDREN" "${names[@]}" >"$log" 2>&1); then
      echo "mutmut failed on $module; see $log" >&2
      tail -n 30 "$log" >&2
      exit 2
    fi
    (cd "$work" && "$PY" -m mutmut results 2>/dev/null | awk -F: '/: (survived|no tests)$/ {print $1}' |
       while read -r name; do
         if [ ${#names[@]} -eq 0 ] || printf '%s\n' "${names[@]}" | grep -qxF "$name"; then
           echo "=== $name"; "$PY" -m mutmut show "$name" 2>/dev/null
         fi
       done) >"$survivors.new"
    mv "$survivors.new" "$survivors"
  fi
  if [ -z "${MUTATION_RECHECK:-}" ]; then
    (cd "$work" && "$PY" -m mutmut export-cicd-stats >/dev/null 2>&1)
    cp "$work/mutants/mutmut-cicd-stats.json" "$stats"
  fi
  "$PY" scripts/mutation_score.py "$stats" "$survivors" "$module" "$MIN" "$((SECONDS - start))" "$digest" \
    "${#names[@]}" || status=1
  rm -rf "$work"
done
exit $status
