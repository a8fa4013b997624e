#!/usr/bin/env bash
# Print the path of a CPython 3.13 interpreter at 3.13.3 or later, building one
# from Debian's python3.13 source package into a cache outside the repository
# when the machine has none. Progress goes to stderr; stdout is the path alone.
set -euo pipefail

version_ok() {  # is "$1" a GIL build of CPython 3.13.3 or later?
  "$1" -c 'import sys, sysconfig
v = sys.version_info
ok = v[:2] == (3, 13) and v.micro >= 3 and not sysconfig.get_config_var("Py_GIL_DISABLED")
sys.exit(0 if ok else 1)' 2>/dev/null
}

for cand in "${GCX_PY313_NEW:-}" "$(command -v python3.13 2>/dev/null || true)" /usr/bin/python3.13; do
  if [ -n "$cand" ] && [ -x "$cand" ] && version_ok "$cand" \
     && "$cand" -c 'import venv, ensurepip' 2>/dev/null; then
    echo "$cand"; exit 0
  fi
done

cache="${GCX_CACHE:-$HOME/.cache/gcx}"
prefix="$cache/cpython-3.13-debian"
if [ -x "$prefix/bin/python3.13" ] && version_ok "$prefix/bin/python3.13"; then
  echo "$prefix/bin/python3.13"; exit 0
fi

echo ">> building CPython 3.13 from Debian's python3.13 source package into $prefix" >&2
src_list=/etc/apt/sources.list.d/gcx-trixie-src.sources
if ! apt-cache showsrc python3.13 2>/dev/null | grep -q '^Version: 3\.13\.'; then
  cat > "$src_list" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -qq >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
( cd "$work" && apt-get source --download-only python3.13 >&2 )
tarball=$(ls "$work"/python3.13_*.orig.tar.xz | head -n 1)
tar -C "$work" -xf "$tarball"
srcdir=$(find "$work" -maxdepth 1 -type d -name 'Python-3.13*' | head -n 1)
( cd "$srcdir" \
  && ./configure --prefix="$prefix" --with-ensurepip=install >"$work/configure.log" 2>&1 \
  && make -j"$(nproc)" >"$work/make.log" 2>&1 \
  && make install >"$work/install.log" 2>&1 ) \
  || { tail -n 40 "$work"/*.log >&2; exit 1; }
version_ok "$prefix/bin/python3.13"
echo "$prefix/bin/python3.13"
