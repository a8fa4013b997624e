"""Build the private extensions gcx._gcx (the collector), gcx._gcxtest
(test-only C types) and gcx._gcxfault (test-only allocation fault injection).

Build flavours, chosen by the environment variable GCX_BUILD:
  release (default)  optimised, assertions off
  debug              -O0 -g, every assertion level and the invariant checker
                     after collections (GCX_DEBUG=3, src/debug.h)
  asan               debug's assertions and checker, at -O1 (AddressSanitizer's
                     advice: a third less time on the suite than -O0), plus
                     AddressSanitizer (run python with
                     LD_PRELOAD=$(gcc -print-file-name=libasan.so))
GCX_WERROR=1 turns every compiler warning into an error (CI sets it).
"""
import glob
import os
import platform
import sys
import sysconfig

from setuptools import Extension, setup


def _cpu_has(flag):
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and flag in line.split() for line in f)
    except OSError:
        return False


flavour = os.environ.get("GCX_BUILD", "release")
if flavour not in ("release", "debug", "asan"):
    raise SystemExit(f"GCX_BUILD must be release, debug or asan, not {flavour!r}")

macros_flavour = [("GCX_FLAVOUR", '"%s"' % flavour)]
cflags = ["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
          "-Wno-missing-field-initializers", "-fvisibility=hidden"]
ldflags = []
macros = list(macros_flavour)
if flavour == "release":
    cflags += ["-O2", "-flto"]
    ldflags += ["-flto", "-O2"]
    macros += [("NDEBUG", "1")]
else:
    cflags += ["-O1" if flavour == "asan" else "-O0", "-g3", "-UNDEBUG"]
    macros += [("GCX_DEBUG", "3")]
if flavour == "asan":
    cflags += ["-fsanitize=address", "-fno-omit-frame-pointer"]
    ldflags += ["-fsanitize=address"]
if platform.machine() in ("x86_64", "AMD64") and _cpu_has("popcnt"):
    # region lookups count bits on every edge; without this gcc calls a
    # library routine instead of the instruction
    cflags += ["-mpopcnt"]
if os.environ.get("GCX_WERROR") == "1":
    cflags += ["-Werror"]

# gcx runs on GIL builds of CPython 3.12 to 3.15 (requires-python
# keeps pip away from the rest); elsewhere the package installs without its
# extension and `import gcx` explains what is supported.
supported = ((3, 12) <= sys.version_info[:2] <= (3, 15)
             and not sysconfig.get_config_var("Py_GIL_DISABLED"))
core = sorted(glob.glob("src/*.c"))
setup(
    # one build directory per flavour: setuptools reuses compiled objects
    # that look newer than the sources, whatever the flags were
    options={"build": {"build_base": f"build/{flavour}"}},
    ext_modules=[] if not supported else [
        Extension("gcx._gcx", sources=core, include_dirs=["src"],
                  define_macros=macros, extra_compile_args=cflags,
                  extra_link_args=ldflags, depends=glob.glob("src/*.h")),
        Extension("gcx._gcxtest", sources=["src/testing/gcxtest.c"],
                  define_macros=macros, extra_compile_args=cflags,
                  extra_link_args=ldflags),
        Extension("gcx._gcxfault", sources=["src/testing/gcxfault.c"],
                  define_macros=macros, extra_compile_args=cflags,
                  extra_link_args=ldflags),
    ],
)
