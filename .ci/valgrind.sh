#!/usr/bin/env bash
# Run every test file under valgrind's memcheck, one file at a time, and
# print a line per file: its pytest summary and valgrind's error count.
#
#   bash .ci/valgrind.sh VENV [TEST_FILE...]
#
# VENV is a virtual environment with gcx[test] installed (a release build
# is fine: valgrind needs no instrumented build; PYTHONMALLOC=malloc makes
# every Python object a malloc block valgrind can watch).  Sizes are cut
# (GCX_STRESS_SCALE, GCX_RANDOM_SEEDS) so that the whole suite takes a few
# hours of one core rather than days.  Child interpreters the tests start
# run outside valgrind (--trace-children=no): they are plain pytest runs
# of the same code, covered by the in-process tests and by ASan in CI.
# Not part of .ci/run (too slow); results go in the closing notes.
set -uo pipefail
cd "$(dirname "$0")/.."
venv=${1:?usage: bash .ci/valgrind.sh VENV [TEST_FILE...]}
shift
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(tests/test_*.py)
logs=${GCX_VALGRIND_LOGS:-$(mktemp -d)}
mkdir -p "$logs"
echo "logs in $logs" >&2
status=0
for f in "${files[@]}"; do
  name=$(basename "$f" .py)
  start=$SECONDS
  PYTHONMALLOC=malloc GCX_STRESS_SCALE=${GCX_STRESS_SCALE:-0.05} \
  GCX_RANDOM_SEEDS=${GCX_RANDOM_SEEDS:-10} \
    valgrind --tool=memcheck --error-exitcode=99 --trace-children=no \
      --log-file="$logs/$name.valgrind" \
      "$venv/bin/python" "$venv/bin/pytest" -q -p no:cacheprovider \
      -o faulthandler_timeout=0 "$f" > "$logs/$name.pytest" 2>&1
  rc=$?
  errors=$(grep -o 'ERROR SUMMARY: [0-9]*' "$logs/$name.valgrind" | head -n 1)
  summary=$(grep -E '^[0-9]+ (passed|failed)|passed|failed|no tests ran' "$logs/$name.pytest" | tail -n 1)
  printf '%-28s exit %-3s %-22s %s (%ss)\n' "$name" "$rc" "${errors:-no summary}" "$summary" "$((SECONDS - start))"
  [ "$rc" -eq 0 ] || status=1
done
exit $status
