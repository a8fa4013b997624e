/* trashcan.c: a deallocation deep enough for CPython's trashcan to defer,
 * without a deep C stack.  The tracer's self-tests (tracer.c, "the
 * start-up self-test") must see the deaths of objects the trashcan defers,
 * and so must reach it.
 *
 * The trashcan defers a container's deallocation when the thread runs deep:
 *   3.12   past 50 nested deallocations (a counter of its own): the
 *          self-tests' chain of 300 reaches it as it is;
 *   3.13   when fewer than 50 levels of the thread's C recursion limit are
 *          left (c_recursion_remaining, public in PyThreadState);
 *   3.14+  in _Py_Dealloc, when less than 32 KiB of C stack is left above
 *          the thread's soft limit; what it deferred is freed once 64 KiB
 *          or more are left (../shared/design/cpython-314-315.md, 1.2).
 * gcx_trashcan_drop(op) drops a reference to op as if the thread already
 * ran that deep: on 3.13 with c_recursion_remaining lowered to 150 (the
 * trashcan defers 100 levels down), on 3.14+ with the soft stack limit
 * (c_stack_soft_limit of _PyThreadStateImpl, an internal struct: this file
 * is compiled with CPython's internal headers) raised to 66 KiB below this
 * function's frame: the trashcan defers about 34 KiB further down (some
 * 425 levels of nested lists, at 80 bytes a level), and frees what it
 * deferred back at the top.  Before, 3.14+ freed a chain of 3,000 in a
 * thread with a 128 KiB stack: a thread started at every import, and 2.3 M
 * instructions more of it on 3.15.2 (15.7 M -> 13.4 M for `import gcx;
 * gcx.install()`).
 *
 * Includes no other gcx header and calls no other gcx file.
 *
 * Invariants:
 *  D1  the limit moved is put back before gcx_trashcan_drop returns.
 *  D2  only a limit that makes the thread look deeper moves, and never
 *      past where it was in that direction: a recursion check meanwhile
 *      fails sooner, never later; on 3.14+ the hard limit (where CPython
 *      stops with a fatal error) is not touched.
 *  D3  callers drop only what runs no Python code when freed (lists,
 *      instances of classes without finalizers or weakrefs): nothing runs
 *      while a limit is moved but deallocations.
 */
#define Py_BUILD_CORE_MODULE 1
#include "Python.h"
#include "trashcan.h"

#include <stdbool.h>
#include <stdint.h>
#if PY_VERSION_HEX >= 0x030E0000
#include "internal/pycore_tstate.h"

/* How far below this function's frame the soft limit goes: 64 KiB, where
 * what the trashcan deferred is freed again, and 2 KiB for _Py_Dealloc's
 * own frame below this one. */
#define SOFT_BELOW ((uintptr_t)66 * 1024)
#endif

void
gcx_trashcan_drop(PyObject *op)
{
#if PY_VERSION_HEX >= 0x030E0000
    _PyThreadStateImpl *ts = (_PyThreadStateImpl *)PyThreadState_Get();
    uintptr_t here = (uintptr_t)__builtin_frame_address(0);
    uintptr_t soft = ts->c_stack_soft_limit;
    uintptr_t hard = ts->c_stack_hard_limit;
    /* the stack grows down: a higher soft limit is closer (D2).  The
     * limits are read through a layout taken from this version's headers
     * at build time: unless they look like this thread's limits (set up,
     * the hard one below the soft one, both below this frame and within
     * 1 GiB of it), nothing moves, the drop is an ordinary one, and the
     * self-test that called it fails (no deferral seen), which keeps gcx
     * out of tracer mode */
    bool plausible = hard != 0 && hard < soft && soft < here && here > SOFT_BELOW
                     && here - hard < ((uintptr_t)1 << 30);
    if (plausible && here - SOFT_BELOW > soft) {
        ts->c_stack_soft_limit = here - SOFT_BELOW;
    }
    Py_DECREF(op);
    ts->c_stack_soft_limit = soft;   /* D1 */
#elif PY_VERSION_HEX >= 0x030D0000
    PyThreadState *ts = PyThreadState_Get();
    int remaining = ts->c_recursion_remaining;
    int lowered = remaining > 150 ? 150 : remaining;
    ts->c_recursion_remaining = lowered;
    Py_DECREF(op);   /* deferred 100 levels down, destroyed at the top */
    ts->c_recursion_remaining += remaining - lowered;   /* the free left it at lowered (D1) */
#else
    Py_DECREF(op);
#endif
}
