"""importlib.reload(gcx) while installed keeps one hook and the install
state (run by tests/test_api.py).

    python reload.py

Prints, after install() and a reload: how many gcx hooks are in the stdlib's
gc.callbacks, whether gcx is installed, whether gc.collect is gcx's, whether
tracemalloc.start is still the one wrapper around the builtin; then, after
uninstall(): whether gc.collect is the original again and gc.callbacks the
stdlib's list.
"""
import gc
import importlib
import tracemalloc

import _tracemalloc

import gcx

original_collect = gc.collect
gcx.install()
gcx = importlib.reload(gcx)
hooks = [cb for cb in gcx._stdlib.callbacks if getattr(cb, "_gcx_hook", False)]
print(len(hooks), gcx.is_installed(), gc.collect.__module__ == "gcx",
      tracemalloc.start is _tracemalloc.start
      and type(tracemalloc.start.__wrapped__).__name__ == "builtin_function_or_method")
gcx.uninstall()
print(gc.collect is original_collect, gc.callbacks is gcx._stdlib.callbacks)
