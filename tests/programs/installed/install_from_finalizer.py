"""A finalizer calls gcx.install() while install() runs (run by
tests/test_installed.py).

    python install_from_finalizer.py

install() holds its lock while it enables gcx's automatic collection and
then runs more Python code; a collection that runs there (a pending call at
the next bytecode) runs finalizers, and one that calls install() must not
wait for that lock forever (it did: a self-deadlock).  Prints "ok: ..."."""
import gc, sys, faulthandler
import gcx

faulthandler.dump_traceback_later(10, exit=True)   # report the hang after 10 s
gc.disable()

class A:
    def __del__(self):
        print("finalizer: calling gcx.install()", flush=True)
        gcx.install()
        print("finalizer: returned", flush=True)

a = A(); a.me = a; del a          # cyclic garbage with a finalizer
gc.set_threshold(1)               # the next allocations make a collection due
print("calling gcx.install()", flush=True)
gcx.install()
print("ok: install() returned")
