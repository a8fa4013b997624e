#!/usr/bin/env bash
# Print the path of a CPython 3.13 interpreter at 3.13.3 or later (a GIL build
# with venv and ensurepip), building one from Debian's python3.13 source
# package into a cache outside the repository when the machine has none.
# Everything it does and why it passes over each candidate goes to stderr;
# stdout is the path alone.
#
# Candidates, in order: $GCX_PY313_NEW (an interpreter of your choice),
# python3.13 on PATH, /usr/bin/python3.13, pyenv's 3.13.x versions, then the
# cache ($GCX_CACHE, default ~/.cache/gcx).  3.13.0 - 3.13.2 are passed over:
# their reference tracer misses deallocations (gh-130382), so gcx has no
# tracer mode there (it runs in lists mode, which CI tests on pyenv's 3.13.0
# apart), nor CPython's own trigger (3.13.3+: PyUnstable_GC_VisitObjects
# visits the permanent generation).  Building needs root on Debian or Ubuntu: it
# may add a deb-src entry for Debian trixie (removed again when done), run
# apt-get update and apt-get source (a few minutes), then configure and make.
set -euo pipefail

say() { echo "python313.sh: $*" >&2; }

# why_not PYTHON: nothing if it will do, else why not (one line)
why_not() {
  local out
  if ! out=$("$1" - 2>&1 <<'PY'
import sys, sysconfig
v = sys.version_info
if sys.implementation.name != "cpython":
    print(f"is {sys.implementation.name}, not CPython")
elif v[:2] != (3, 13):
    print(f"is {sys.version.split()[0]}, not 3.13")
elif v.micro < 3:
    print(f"is {sys.version.split()[0]}, older than 3.13.3 (its reference tracer "
          "misses deallocations, gh-130382: no tracer mode there)")
elif sysconfig.get_config_var("Py_GIL_DISABLED"):
    print("is a free-threaded build")
else:
    try:
        import venv, ensurepip
    except ImportError as e:
        print(f"cannot make a virtual environment ({e}; on Debian: apt-get install "
              "python3.13-venv)")
PY
  ); then
    echo "does not run ($(printf '%s\n' "$out" | head -n 1))"
  else
    printf '%s' "$out"
  fi
}

candidates=()
[ -n "${GCX_PY313_NEW:-}" ] && candidates+=("$GCX_PY313_NEW")
candidates+=("$(command -v python3.13 2>/dev/null || true)" /usr/bin/python3.13)
pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for p in "$pyenv_root"/versions/3.13*/bin/python3.13; do
  [ -e "$p" ] && candidates+=("$p")
done

seen=" "
for cand in "${candidates[@]}"; do
  [ -n "$cand" ] || continue
  case "$seen" in *" $cand "*) continue ;; esac
  seen="$seen$cand "
  if [ ! -x "$cand" ]; then
    [ "$cand" = "${GCX_PY313_NEW:-}" ] && say "GCX_PY313_NEW=$cand is not an executable"
    continue
  fi
  reason=$(why_not "$cand")
  if [ -z "$reason" ]; then
    say "using $cand"
    echo "$cand"; exit 0
  fi
  say "passing over $cand: it $reason"
done

cache="${GCX_CACHE:-$HOME/.cache/gcx}"
prefix="$cache/cpython-3.13-debian"
if [ -x "$prefix/bin/python3.13" ]; then
  reason=$(why_not "$prefix/bin/python3.13")
  if [ -z "$reason" ]; then
    say "using $prefix/bin/python3.13 (built here earlier)"
    echo "$prefix/bin/python3.13"; exit 0
  fi
  say "passing over $prefix/bin/python3.13: it $reason; building it again"
fi

say "no CPython 3.13.3 or later here (set GCX_PY313_NEW to use one of yours);"
say "building one from Debian's python3.13 source package into $prefix"
command -v apt-get >/dev/null \
  || { say "cannot build: no apt-get (not Debian or Ubuntu); install CPython 3.13.3+ and set GCX_PY313_NEW"; exit 1; }
[ "$(id -u)" = 0 ] \
  || { say "cannot build: apt-get update needs root; install CPython 3.13.3+ and set GCX_PY313_NEW"; exit 1; }
work=$(mktemp -d)
src_list=/etc/apt/sources.list.d/gcx-trixie-src.sources
added_list=
cleanup() {
  rm -rf "$work"
  if [ -n "$added_list" ]; then
    rm -f "$src_list"
    say "removed $src_list again"
  fi
}
trap cleanup EXIT
if ! apt-cache showsrc python3.13 2>/dev/null | grep -q '^Version: 3\.13\.'; then
  say "apt has no python3.13 source package: adding $src_list (Debian trixie deb-src)"
  say "and running apt-get update (about two minutes)"
  cat > "$src_list" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  added_list=1
  apt-get update -qq >&2
fi
say "downloading the source package (apt-get source --download-only python3.13)"
( cd "$work" && apt-get source -qq --download-only python3.13 >&2 )
tarball=$(ls "$work"/python3.13_*.orig.tar.xz | head -n 1)
tar -C "$work" -xf "$tarball"
srcdir=$(find "$work" -maxdepth 1 -type d -name 'Python-3.13*' | head -n 1)
say "configure, make -j$(nproc), make install from $(basename "$srcdir") (a few minutes)"
( cd "$srcdir" \
  && ./configure --prefix="$prefix" --with-ensurepip=install >"$work/configure.log" 2>&1 \
  && make -j"$(nproc)" >"$work/make.log" 2>&1 \
  && make install >"$work/install.log" 2>&1 ) \
  || { tail -n 40 "$work"/*.log >&2; exit 1; }
reason=$(why_not "$prefix/bin/python3.13")
[ -z "$reason" ] || { say "the build $reason"; exit 1; }
say "using $prefix/bin/python3.13"
echo "$prefix/bin/python3.13"
