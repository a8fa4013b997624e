#!/usr/bin/env bash
# .ci/python.sh VERSION: print the path of a CPython VERSION interpreter (a GIL
# build with venv, ensurepip, the C headers and the usual extension modules),
# for VERSION 3.13, 3.14 or 3.15.  Everything it does, and why it passes over
# each candidate, goes to stderr; stdout is the path alone.
#
# 3.13 is .ci/python313.sh's business (it builds from Debian's source package).
#
# For 3.14 and 3.15 the candidates, in order: $GCX_PY314 / $GCX_PY315 (an
# interpreter of your choice), python3.X on PATH, /usr/bin/python3.X, pyenv's
# 3.X versions, then the cache ($GCX_CACHE, default ~/.cache/gcx).  Versions
# whose reference tracer misses deallocations (3.14.0 - 3.14.7 and 3.15.0:
# trashcan-deferred objects get no DESTROY event; 3.14.0 - 3.14.4 also have
# another collector) are passed over, as python313.sh passes over 3.13.0-3.13.2.
#
# When none will do, it makes one in $GCX_CACHE/cpython-3.X-sid from Debian
# sid's *binary* packages (sid has no source packages for them that download):
# it fetches sid's package index into a private apt state in a temporary
# folder (the system's sources and lists are left alone), `apt-get download`s
# python3.X and its libraries, the -dev headers, the test suite and the pip and
# setuptools wheels, unpacks them with dpkg-deb -x, and makes the binary an
# ordinary executable there: those binaries need glibc 2.42+, so patchelf gives
# usr/bin/python3.X sid's loader and an rpath (DT_RPATH, which also serves the
# extension modules it loads) to sid's libraries, unpacked beside it.  The
# prefix is computed from the binary's location (no PYTHONHOME), and sysconfig's
# paths that point into /usr (headers, ensurepip's wheel folder, ...) are made
# to point into the unpacked tree.  Then it compiles and imports a small C
# extension with sysconfig's compiler settings to check the result.  About 30 s
# and 150 MB; needs apt-get and dpkg-deb (Debian or Ubuntu, amd64), and root
# only to install patchelf if it is missing.
#
# Use it through a venv (`"$PY" -m venv DIR`, whose pip is sid's pip wheel):
# as on Debian, the base interpreter has no pip, refuses ensurepip and is
# EXTERNALLY-MANAGED.  Its prefix is found from argv[0]: a process started with
# an argv[0] that leads nowhere (`Popen(["nonsense"], executable=PY)`, which
# stdlib test_subprocess's test_executable_without_cwd does) falls back to
# /usr/lib/python3.X and dies with "Failed to import encodings module".
set -euo pipefail

say() { echo "python.sh: $*" >&2; }
usage() { echo "usage: .ci/python.sh 3.13|3.14|3.15" >&2; exit 2; }

[ $# = 1 ] || usage
v=$1
case "$v" in
  3.13) exec bash "$(dirname "$0")/python313.sh" ;;
  3.14) min_micro=8 ;;
  3.15) min_micro=1 ;;
  *) usage ;;
esac
py=python$v
override_var=GCX_PY${v/./}

# why_not PYTHON: nothing if it will do, else why not (one line)
why_not() {
  local out
  if ! out=$("$1" - "$v" "$min_micro" 2>&1 <<'PY'
import os, sys, sysconfig
want = tuple(map(int, sys.argv[1].split("."))) + (int(sys.argv[2]),)
v = sys.version_info
if sys.implementation.name != "cpython":
    print(f"is {sys.implementation.name}, not CPython")
elif v[:2] != want[:2]:
    print(f"is {sys.version.split()[0]}, not {sys.argv[1]}")
elif v[:3] < want:
    print(f"is {sys.version.split()[0]}, older than {'.'.join(map(str, want))} (its "
          "reference tracer misses the deallocation of trashcan-deferred objects: "
          "gcx would run in safe mode only)")
elif sysconfig.get_config_var("Py_GIL_DISABLED"):
    print("is a free-threaded build")
elif not os.path.isfile(os.path.join(sysconfig.get_paths()["include"], "Python.h")):
    print(f"has no C headers (no Python.h in {sysconfig.get_paths()['include']}; "
          f"on Debian: apt-get install {sys.argv[1]}-dev)")
else:
    try:
        import ssl, sqlite3, ctypes, venv, ensurepip, zlib, lzma, bz2, decimal, readline
        with ensurepip._get_pip_whl_path_ctx() as whl:
            if not whl.is_file():
                raise ImportError(f"ensurepip has no pip wheel: {whl} is missing")
    except ImportError as e:
        print(f"lacks a module ({e})")
PY
  ); then
    echo "does not run ($(printf '%s\n' "$out" | tail -n 1))"
  else
    printf '%s' "$out"
  fi
}

candidates=()
[ -n "${!override_var:-}" ] && candidates+=("${!override_var}")
candidates+=("$(command -v "$py" 2>/dev/null || true)" "/usr/bin/$py")
pyenv_root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
for p in "$pyenv_root/versions/$v"*/bin/"$py"; do
  [ -e "$p" ] && candidates+=("$p")
done

cache="${GCX_CACHE:-$HOME/.cache/gcx}"
root="$cache/cpython-$v-sid"
exe="$root/usr/bin/$py"
stamp="$root/.complete"

seen=" "
for cand in "${candidates[@]}"; do
  [ -n "$cand" ] || continue
  case "$seen" in *" $cand "*) continue ;; esac
  seen="$seen$cand "
  [ "$cand" != "$exe" ] || continue   # the cache is looked at below
  if [ ! -x "$cand" ]; then
    [ "$cand" = "${!override_var:-}" ] && say "$override_var=$cand is not an executable"
    continue
  fi
  reason=$(why_not "$cand")
  if [ -z "$reason" ]; then
    say "using $cand"
    echo "$cand"; exit 0
  fi
  say "passing over $cand: it $reason"
done

# cached: the tree is complete (the stamp is written last) and still passes
cached() {
  [ -e "$stamp" ] && [ -x "$exe" ] || return 1
  reason=$(why_not "$exe")
  if [ -z "$reason" ]; then
    say "using $exe (unpacked from Debian sid earlier)"
    echo "$exe"; return 0
  fi
  say "passing over $exe: it $reason; unpacking it again"
  return 1
}
cached && exit 0

mkdir -p "$cache"
exec 9>"$root.lock"
if ! flock -n 9; then
  say "waiting for another python.sh $v that is unpacking into $root"
  flock 9
  cached && exit 0
fi

say "no CPython $v.$min_micro or later here (set $override_var to use one of yours);"
say "making one in $root from Debian sid's binary packages"
[ "$(dpkg --print-architecture 2>/dev/null || true)" = amd64 ] \
  || { say "cannot: this is not an amd64 Debian or Ubuntu (no dpkg, or another architecture); install CPython $v.$min_micro+ and set $override_var"; exit 1; }
if ! command -v patchelf >/dev/null; then
  [ "$(id -u)" = 0 ] \
    || { say "cannot: patchelf is missing and installing it needs root (apt-get install patchelf)"; exit 1; }
  say "installing patchelf (apt-get install patchelf)"
  apt-get install -y -qq patchelf >&2 \
    || { apt-get update -qq >&2 && apt-get install -y -qq patchelf >&2; }
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. "$(dirname "$0")/sid-apt.sh"
sid_apt "$work"
say "fetching sid's package index into a private apt state in $work"
say "(apt-get -o Dir::Etc::SourceList=... update: the system's sources and lists are not touched)"
apt-get "${apt_opts[@]}" update -qq >&2

# the interpreter's packages, then the libraries they need, recursively: every
# lib* (or zlib1g) named first in a Depends or Pre-Depends alternative
pkgs=("$py" "$py-minimal" "lib$py" "lib$py-stdlib" "lib$py-minimal" "lib$py-dev" "$py-venv"
      "lib$py-testsuite" python3-pip-whl python3-setuptools-whl)
deps() {
  apt-cache "${apt_opts[@]}" show --no-all-versions "$@" | awk '
    /^(Pre-)?Depends:/ {
      sub(/^[^:]*: /, ""); n = split($0, dep, /, /)
      for (i = 1; i <= n; i++) { split(dep[i], alt, / \| /); x = alt[1]; sub(/[ :].*/, "", x); print x }
    }' | sort -u
}
libs=" "; todo=("${pkgs[@]}")
while [ ${#todo[@]} -gt 0 ]; do
  next=()
  for d in $(deps "${todo[@]}"); do
    case "$d" in lib*-dev|libpython*) continue ;; lib*|zlib1g) ;; *) continue ;; esac
    case "$libs" in *" $d "*) continue ;; esac
    libs="$libs$d "; next+=("$d")
  done
  todo=("${next[@]+"${next[@]}"}")
done
version=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$py" | awk '/^Version:/ { print $2; exit }')
say "downloading $py $version and$libs(apt-get download)"
( cd "$work/debs" && apt-get "${apt_opts[@]}" download -qq "${pkgs[@]}" $libs >&2 )

rm -rf "$root"
mkdir -p "$root"
say "unpacking $(ls "$work/debs" | wc -l) packages into $root (dpkg-deb -x)"
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done

libdirs="$root/usr/lib/x86_64-linux-gnu"
[ -d "$root/lib/x86_64-linux-gnu" ] && libdirs="$libdirs:$root/lib/x86_64-linux-gnu"
loader="$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
say "patchelf: $exe gets the loader $loader and the rpath $libdirs"
patchelf --set-interpreter "$loader" --force-rpath --set-rpath "$libdirs" "$exe"

# every library that the binary and the extension modules need is sid's
missing=$(for f in "$exe" "$root/usr/lib/$py/lib-dynload/"*.so; do
  "$loader" --library-path "$libdirs" --list "$f" 2>&1
done | awk -v root="$root/" '/=>/ && index($3, root) != 1 { print $1 " => " $3 }' | sort -u)
[ -z "$missing" ] || { say "libraries not among sid's unpacked ones:"; echo "$missing" >&2; exit 1; }

# Debian's pyconfig.h only includes <x86_64-linux-gnu/pythonX.Y/pyconfig.h>,
# which a compiler finds under /usr/include alone: put the real one in its place
cp "$root/usr/include/x86_64-linux-gnu/$py/pyconfig.h" "$root/usr/include/$py/pyconfig.h"

say "pointing sysconfig's paths into /usr (headers, WHEEL_PKG_DIR, ...) at $root/usr"
"$exe" - "$root" <<'PY'
import glob, json, os, pprint, sys
root = sys.argv[1]
def moved(value):
    # a path into /usr that the unpacked tree has, moved into the tree
    if isinstance(value, str) and (value == "/usr" or value.startswith("/usr/")) \
            and os.path.exists(root + value):
        return root + value
    return value
lib = os.path.join(root, "usr", "lib", f"python{sys.version_info[0]}.{sys.version_info[1]}")
for path in glob.glob(os.path.join(lib, "_sysconfigdata_*.py")):
    if os.path.islink(path):
        continue
    ns = {}
    with open(path) as f:
        exec(f.read(), ns)
    new = {k: moved(v) for k, v in ns["build_time_vars"].items()}
    with open(path, "w") as f:
        f.write("# system configuration generated and used by the sysconfig module\n")
        f.write("# (paths into /usr moved under this tree by gcx's .ci/python.sh)\n")
        f.write("build_time_vars = " + pprint.pformat(new, indent=4) + "\n")
for path in glob.glob(os.path.join(lib, "_sysconfig_vars_*.json")):
    with open(path) as f:
        data = json.load(f)
    with open(path, "w") as f:
        json.dump({k: moved(v) for k, v in data.items()}, f, indent=2)
PY

say "compiling the standard library (compileall, without test/)"
"$exe" -m compileall -q -j0 -x "/$py/test/" "$root/usr/lib/$py" >&2

say "checking: a C extension built with sysconfig's compiler settings imports"
"$exe" - "$work/ext" <<'PY'
import importlib.util, os, shlex, subprocess, sys, sysconfig
d = sys.argv[1]
os.makedirs(d)
src = os.path.join(d, "probe.c")
with open(src, "w") as f:
    f.write("""#include <Python.h>
static PyObject *hex(PyObject *m, PyObject *a) { return PyLong_FromLong(PY_VERSION_HEX); }
static PyMethodDef methods[] = {{"hex", hex, METH_NOARGS, NULL}, {NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "probe", NULL, 0, methods};
PyMODINIT_FUNC PyInit_probe(void) { return PyModule_Create(&def); }
""")
cv = sysconfig.get_config_var
paths = sysconfig.get_paths()
so = os.path.join(d, "probe" + cv("EXT_SUFFIX"))
obj = os.path.join(d, "probe.o")
subprocess.run(shlex.split(cv("CC")) + shlex.split(cv("CFLAGS")) + shlex.split(cv("CCSHARED"))
               + ["-I" + paths["include"], "-I" + paths["platinclude"], "-c", src, "-o", obj],
               check=True)
subprocess.run(shlex.split(cv("LDSHARED")) + [obj, "-o", so], check=True)
spec = importlib.util.spec_from_file_location("probe", so)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
assert mod.hex() == sys.hexversion, (hex(mod.hex()), hex(sys.hexversion))
PY
reason=$(why_not "$exe")
[ -z "$reason" ] || { say "the unpacked interpreter $reason"; exit 1; }
echo "$py $version from Debian sid, unpacked by gcx's .ci/python.sh" > "$stamp"
say "using $exe"
echo "$exe"
