/* frames.h: frames.c's interface (borrowed references on the value stack
 * of suspended generators, CPython 3.14+; the slots of running frames as
 * roots).  Plain C types only: frames.c is compiled with CPython's internal
 * headers, the rest of gcx without. */
#ifndef GCX_FRAMES_H
#define GCX_FRAMES_H

#include <stdbool.h>

enum {
    GCX_FRAMES_NONE,           /* before 3.14: nothing borrowed (FR3) */
    GCX_FRAMES_COMPENSATED,    /* borrowed slots are given back (FR1) */
    GCX_FRAMES_CONSERVATIVE,   /* layout unproven: such members survive (FR1) */
};

/* Could a member of this type report references it does not own?  Exactly
 * generators, coroutines and async generators, on 3.14+. */
static inline bool
gcx_frames_may_borrow(PyTypeObject *tp)
{
#if PY_VERSION_HEX >= 0x030E0000
    return tp == &PyGen_Type || tp == &PyCoro_Type || tp == &PyAsyncGen_Type;
#else
    (void)tp;
    return false;
#endif
}

typedef void (*gcx_borrowed_fn)(PyObject *target, void *arg);

/* fn(target, arg) for each borrowed slot on op's stack, in compensated
 * mode only; op is of a type gcx_frames_may_borrow accepts. */
void gcx_frames_each_borrowed(PyObject *op, gcx_borrowed_fn fn, void *arg);
/* fn(word, arg) for each slot, function, locals mapping and frame object
 * of every thread's running frames, when they proved readable (FR4); a word
 * is an address to look up, never to read through (FR5). */
void gcx_frames_each_root(gcx_borrowed_fn fn, void *arg);
bool gcx_frames_roots_readable(void);
/* Did a running frame save its value stack's top (always on 3.14+; on 3.12
 * and 3.13 only while it calls a Python function), so that
 * gcx_frames_each_root reads its value stack? */
bool gcx_frames_top_saved(PyObject *frame);
/* The same as gcx_frames_each_root for one frame object a thread is
 * running, its value stack read to `depth` slots (FR5): false when nothing
 * was read. */
bool gcx_frames_each_slot_of(PyObject *frame, Py_ssize_t depth, gcx_borrowed_fn fn,
                             void *arg);
int gcx_frames_init(void);    /* at import, before the tracer; 0 */
int gcx_frames_mode(void);    /* GCX_FRAMES_* */

#endif
