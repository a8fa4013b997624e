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
#
# memcheck must replace strlen in the dynamic loader, so it needs the
# loader's symbols.  A system's loader has them (Debian keeps them in
# ld.so); the interpreters .ci/python.sh unpacks from Debian sid run under
# sid's loader, which is stripped: valgrind stops at startup ("a function
# redirection which is mandatory ... cannot be set up").  For those, this
# script fetches sid's libc6-dbg of the same version (read from the tree's
# usr/share/doc/libc6/changelog.Debian.gz; 6 MB, once, into
# $GCX_CACHE/libc6-dbg-VERSION, by apt-get download with a private apt
# state as python.sh does) and hands its files to valgrind under the names
# the stripped libraries' .gnu_debuglink asks for (--extra-debuginfo-path).
# GCX_VALGRIND_DEBUGINFO=DIR uses DIR/.build-id/xx/yyyy.debug instead (an
# unpacked glibc debug package of any origin).  The check is a run of
# `python -c pass` under memcheck before the tests: if valgrind cannot
# start, one line says why and the status is 2.
#
# One suppression: glibc 2.37+'s AVX2 wcsncpy (sid's 2.43 has it; 2.36 has
# not) reads whole aligned 32-byte vectors past the string's end, never
# across a page, and valgrind 3.19 (Debian 12's) does not replace wcsncpy
# with its own; CPython's getpath calls it at startup, so a run could report
# one "Invalid read of size 32" there (depending on its arguments' length),
# in no code of gcx's.  Each log ends with the suppressions used (-s), so
# that what they hid can be checked.
set -uo pipefail
cd "$(dirname "$0")/.."
. .ci/sid-apt.sh
venv=${1:?usage: bash .ci/valgrind.sh VENV [TEST_FILE...]}
shift
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(tests/test_*.py)
logs=${GCX_VALGRIND_LOGS:-$(mktemp -d)}
mkdir -p "$logs"
logs=$(cd "$logs" && pwd)
echo "logs in $logs" >&2
fail() { echo "valgrind.sh: $*" >&2; exit 2; }
supp="$logs/valgrind.supp"
printf '%s\n' '{' '   glibc-wcsncpy-avx2-reads-aligned-vectors-past-the-end' \
  '   Memcheck:Addr32' '   fun:__wcsncpy_avx2' '}' > "$supp"

# the loader the venv's interpreter runs under, and whether it has symbols
python=$(readlink -f "$venv/bin/python")
[ -x "$python" ] || fail "$venv/bin/python is not an interpreter"
loader=$(readelf -l "$python" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
[ -n "$loader" ] || fail "$python names no dynamic loader (readelf -l)"
loader=$(readlink -f "$loader")
debuginfo=()
if ! readelf -S -W "$loader" | grep -q ' \.symtab '; then
  build_id=$(readelf -n "$loader" | awk '/Build ID:/ { print $3; exit }')
  dbg=${GCX_VALGRIND_DEBUGINFO:-}
  if [ -z "$dbg" ] && [ ! -e "/usr/lib/debug/.build-id/${build_id:0:2}/${build_id:2}.debug" ]; then
    libdir=$(dirname "$loader")
    root=${libdir%/usr/lib/x86_64-linux-gnu}
    changelog=$root/usr/share/doc/libc6/changelog.Debian.gz
    [ "$root" != "$libdir" ] && [ -e "$changelog" ] \
      || fail "$loader is stripped and its symbols are not in /usr/lib/debug: install its glibc's debug package (libc6-dbg), or set GCX_VALGRIND_DEBUGINFO to a folder with its .build-id/ files"
    version=$(zcat "$changelog" | sed -n '1s/^glibc (\([^)]*\)).*/\1/p')
    [ -n "$version" ] || fail "no glibc version in $changelog"
    dbg="${GCX_CACHE:-$HOME/.cache/gcx}/libc6-dbg-$version"
    if [ ! -e "$dbg/.complete" ]; then
      echo "valgrind.sh: $loader is stripped; fetching Debian sid's libc6-dbg $version into $dbg" >&2
      work=$(mktemp -d)
      sid_apt "$work"
      apt-get "${apt_opts[@]}" update -qq >&2 \
        && ( cd "$work/debs" && apt-get "${apt_opts[@]}" download -qq "libc6-dbg=$version" >&2 ) \
        || { rm -rf "$work"; fail "could not download libc6-dbg $version from sid (gone from sid? re-make the interpreter with .ci/python.sh, or set GCX_VALGRIND_DEBUGINFO)"; }
      rm -rf "$dbg" && mkdir -p "$dbg"
      dpkg-deb -x "$work"/debs/libc6-dbg_*.deb "$work/x" \
        && mv "$work/x/usr/lib/debug/.build-id" "$dbg/" \
        || { rm -rf "$work"; fail "could not unpack libc6-dbg $version into $dbg"; }
      rm -rf "$work"
      touch "$dbg/.complete"
    fi
  fi
  if [ -n "$dbg" ]; then
    [ -e "$dbg/.build-id/${build_id:0:2}/${build_id:2}.debug" ] \
      || fail "$dbg has no symbols for $loader (build id $build_id): another glibc build"
    # valgrind looks for a stripped library's debuglink name, yyyy.debug,
    # under EXTRA/<the library's folder>/: link each .debug file there
    extra="$logs/debuginfo"
    mkdir -p "$extra$(dirname "$loader")"
    for f in "$dbg"/.build-id/??/*.debug; do
      ln -sf "$f" "$extra$(dirname "$loader")/$(basename "$f")"
    done
    debuginfo=(--extra-debuginfo-path="$extra")
  fi
fi
if ! out=$(PYTHONMALLOC=malloc valgrind --tool=memcheck -q --suppressions="$supp" "${debuginfo[@]}" \
    "$venv/bin/python" -c pass 2>&1); then
  fail "valgrind cannot run $python: $(printf '%s\n' "$out" | grep -m 1 -E 'Fatal error|error' || printf '%s\n' "$out" | tail -n 1)"
fi
status=0
for f in "${files[@]}"; do
  name=$(basename "$f" .py)
  start=$SECONDS
  PYTHONMALLOC=malloc GCX_STRESS_SCALE=${GCX_STRESS_SCALE:-0.05} \
  GCX_RANDOM_SEEDS=${GCX_RANDOM_SEEDS:-10} \
    valgrind --tool=memcheck --error-exitcode=99 --trace-children=no -s \
      --suppressions="$supp" "${debuginfo[@]}" \
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
