/* frames.c: what gcx reads of CPython's interpreter frames, the frames
 * CPython keeps outside any object.  Two readings:
 *
 * 1. The references a suspended generator's frame reports but does not own
 *    (CPython 3.14+).  3.14 compiles LOAD_FAST to LOAD_FAST_BORROW where the
 *    compiler proves the local outlives the stack slot: the slot then holds
 *    a tagged reference (bit 0 set) that owns nothing.  A generator,
 *    coroutine or async generator runs in place in its own frame, so when
 *    it is suspended such slots stay on its value stack, and its
 *    tp_traverse visits them like any other reference.  CPython's collector
 *    skips them inside its own visitor (_PyGC_VisitStackRef tests the tag
 *    when the visitor is its decref); gcx's counting visitor cannot see the
 *    tag, so without help it subtracts a reference that does not exist, and
 *    a live object can be counted as garbage (a module-level object had its
 *    weakref cleared and its __del__ run: ../shared/design/cpython-314-315.md,
 *    section 8).  The help: after a member of exactly those three types is
 *    traversed for counting, the counter gives back one for every borrowed
 *    slot on its stack (gcx_frames_each_borrowed).  Marking needs nothing:
 *    CPython follows those edges too.
 *
 * 2. The slots of every thread's running frames (fast locals, cells, the
 *    value stack, the function and the locals mapping): roots for the pause
 *    budget's marking (incremental.c) and for a full collection's marking
 *    before it counts (region.c), through gcx_frames_each_root.  What only a
 *    running frame's value stack holds, such as the list a comprehension is
 *    building, is reached by no object, so without these roots marking
 *    cannot reach it and the sweep must decide all of it in one step.
 *    CPython 3.14's own incremental collector marked from the same slots.
 *
 * This is the one file compiled with CPython's internal headers
 * (Py_BUILD_CORE), for the layout of PyGenObject and _PyInterpreterFrame.
 * It includes no other gcx header and calls no other gcx file.
 *
 * Invariants:
 *  FR1  The borrowed-slot walk runs only when gcx_frames_init found the
 *       offsets compiled in equal to those the running interpreter
 *       publishes for debuggers (_PyRuntime.debug_offsets) and its
 *       self-test proved that visits minus borrowed slots equal the
 *       references a suspended generator owns.  Otherwise
 *       gcx_frames_mode() says GCX_FRAMES_CONSERVATIVE and callers treat
 *       every member of those types as referenced from outside (it and all
 *       it reaches survive: a leak, never a free).
 *  FR2  Only slots in [localsplus, stackpointer) are read, of a frame whose
 *       stackpointer lies inside it; NULL (bits == 1) and tagged ints
 *       (bits & 3 == 3) are skipped.  A cleared frame has stackpointer ==
 *       localsplus, and a debug build's NULL stackpointer means no slots.
 *  FR3  Before 3.14 there are no borrowed slots: gcx_frames_mode() is
 *       GCX_FRAMES_NONE and nothing is read.
 *  FR4  The running frames are read only when gcx_frames_init found them
 *       readable: on 3.13+ the offsets compiled in (a thread's current
 *       frame, a frame's previous, its code and its slots) equal the
 *       published ones, and on every version a self-test found, by this
 *       walk, an object only its caller's value stack held and one only a
 *       local two frames up held.  Otherwise gcx_frames_each_root hands
 *       over nothing (marking only reaches less: the sweep decides more).
 *  FR5  Only slots that hold a reference now are handed over, never a
 *       slot above the stack's top (it may hold a dead object's address,
 *       and marking from it would keep garbage one more cycle, or for as
 *       long as the slot is not overwritten): the fast locals and cells
 *       (co_nlocalsplus, of the frame's own code object), and the value
 *       stack up to the top the frame saved, when it saved one inside its
 *       extent: 3.14+ saves it whenever the frame can be interrupted; 3.12
 *       and 3.13 only while the frame calls a Python function (stacktop is
 *       -1 while it runs, so the value stack of the frame that is running,
 *       or is calling C, is not read there).  Words are handed over with
 *       tag bits cleared, for the receiver to look up, never to read
 *       through.  Frame memory is read only along each thread's chain from
 *       its current frame through `previous`, which the thread does not
 *       change while this thread holds the GIL, and only of frames owned by
 *       a thread or a running generator (an entry frame on the C stack
 *       leaves its other fields unwritten).
 */
#define Py_BUILD_CORE_MODULE 1
#include "Python.h"
#include "frames.h"

#include <dlfcn.h>
#include <stddef.h>
#include <string.h>

/* The layout of a running frame, per version: its slots' type, the word
 * of a slot, of its code and of its function, and a thread's top frame. */
#if PY_VERSION_HEX >= 0x030E0000
#include "internal/pycore_debug_offsets.h"
#include "internal/pycore_interpframe_structs.h"
typedef _PyStackRef slot_t;
#define SLOT_WORD(s) ((s).bits)
#define CODE_WORD(f) ((f)->f_executable.bits)
#define FUNC_WORD(f) ((f)->f_funcobj.bits)
#define TOP_FRAME(ts) ((ts)->current_frame)
#elif PY_VERSION_HEX >= 0x030D0000
#include "internal/pycore_runtime.h"
#include "internal/pycore_frame.h"
typedef PyObject *slot_t;
#define SLOT_WORD(s) ((uintptr_t)(s))
#define CODE_WORD(f) ((uintptr_t)(f)->f_executable)
#define FUNC_WORD(f) ((uintptr_t)(f)->f_funcobj)
#define TOP_FRAME(ts) ((ts)->current_frame)
#else
#include "internal/pycore_frame.h"
typedef PyObject *slot_t;
#define SLOT_WORD(s) ((uintptr_t)(s))
#define CODE_WORD(f) ((uintptr_t)(f)->f_code)
#define FUNC_WORD(f) ((uintptr_t)(f)->f_funcobj)
#define TOP_FRAME(ts) ((ts)->cframe != NULL ? (ts)->cframe->current_frame : NULL)
#endif

#if PY_VERSION_HEX >= 0x030D0000
/* The offsets the running interpreter publishes for debuggers, when they
 * are of this very version and a GIL build; else NULL (3.13+). */
static const _Py_DebugOffsets *
published_offsets(void)
{
    const _Py_DebugOffsets *d = dlsym(RTLD_DEFAULT, "_PyRuntime");
    return d != NULL && memcmp(d->cookie, _Py_Debug_Cookie, sizeof(d->cookie)) == 0
                   && d->version == (uint64_t)Py_Version && d->free_threaded == 0
               ? d : NULL;
}
#endif

#define TAG_BITS ((uintptr_t)3)
#define MAX_DEPTH 1000000     /* a chain longer than any recursion limit: stop */

/* gcx._probes.name: the self-tests' Python code (gcx/_probes.py, whose
 * bytecode the import system caches; probe.c imported it first).  A new
 * reference, or NULL with an error. */
static PyObject *
probes_attr(const char *name)
{
    PyObject *m = PyImport_ImportModule("gcx._probes");
    PyObject *a = m == NULL ? NULL : PyObject_GetAttrString(m, name);
    Py_XDECREF(m);
    return a;
}

/* ---- 1. borrowed slots of suspended generators (3.14+) ------------------------ */

#if PY_VERSION_HEX >= 0x030E0000

static int mode = GCX_FRAMES_CONSERVATIVE;

/* FR2: the slots of op's frame that own no reference; op is one of the
 * three types. */
static Py_ssize_t
each_borrowed(PyObject *op, gcx_borrowed_fn fn, void *arg)
{
    _PyInterpreterFrame *f = &((PyGenObject *)op)->gi_iframe;
    _PyStackRef *sp = f->stackpointer;
    _PyStackRef *base = f->localsplus;
    if (sp == NULL || sp < base) {
        return 0;
    }
    Py_ssize_t n = 0;
    for (_PyStackRef *s = base; s < sp; s++) {
        uintptr_t bits = s->bits;
        if ((bits & 1) == 0 || bits == 1 || (bits & 3) == 3) {
            continue;
        }
        fn((PyObject *)(bits & ~(uintptr_t)3), arg);
        n++;
    }
    return n;
}

void
gcx_frames_each_borrowed(PyObject *op, gcx_borrowed_fn fn, void *arg)
{
    if (mode == GCX_FRAMES_COMPENSATED) {
        (void)each_borrowed(op, fn, arg);
    }
}

/* FR1, first half: the layout compiled in is the running one's. */
static bool
offsets_agree(void)
{
    const _Py_DebugOffsets *d = published_offsets();
    return d != NULL
           && d->gen_object.gi_iframe == offsetof(PyGenObject, gi_iframe)
           && d->interpreter_frame.localsplus == offsetof(_PyInterpreterFrame, localsplus)
           && d->interpreter_frame.stackpointer
              == offsetof(_PyInterpreterFrame, stackpointer);
}

typedef struct {
    PyObject *target;
    Py_ssize_t n;
} tally_t;

static int
tally_visit(PyObject *op, void *arg)
{
    tally_t *t = arg;
    t->n += op == t->target;
    return 0;
}

static void
tally_borrowed(PyObject *op, void *arg)
{
    (void)tally_visit(op, arg);
}

/* FR1, second half: visits - borrowed == owned, with a borrowed slot seen,
 * on a generator gcx/_probes.py suspends with a local borrowed on its stack
 * across the yield (its target is held by the module and that local). */
static bool
selftest(void)
{
    PyObject *keep = probes_attr("borrowed_target");
    PyObject *make = keep == NULL ? NULL : probes_attr("suspended_generator");
    PyObject *gen = make == NULL ? NULL : PyObject_CallNoArgs(make);
    bool ok = false;
    if (gen != NULL && gcx_frames_may_borrow(Py_TYPE(gen))) {
        tally_t visits = {keep, 0}, borrowed = {keep, 0};
        (void)Py_TYPE(gen)->tp_traverse(gen, tally_visit, &visits);
        (void)each_borrowed(gen, tally_borrowed, &borrowed);
        Py_ssize_t v = visits.n, b = borrowed.n;
        Py_ssize_t owned = Py_REFCNT(keep) - 2;    /* all but the module's and ours */
        ok = b >= 1 && v - b == owned;
    }
    Py_XDECREF(gen);
    Py_XDECREF(make);
    Py_XDECREF(keep);
    PyErr_Clear();
    return ok;
}

static void
borrowed_init(void)
{
    mode = offsets_agree() && selftest() ? GCX_FRAMES_COMPENSATED : GCX_FRAMES_CONSERVATIVE;
}

int
gcx_frames_mode(void)
{
    return mode;
}

#else   /* before 3.14: no borrowed slots (FR3) */

void
gcx_frames_each_borrowed(PyObject *op, gcx_borrowed_fn fn, void *arg)
{
    (void)op, (void)fn, (void)arg;
}

static void
borrowed_init(void)
{
}

int
gcx_frames_mode(void)
{
    return GCX_FRAMES_NONE;
}

#endif

/* ---- 2. the slots of running frames: roots (FR4, FR5) --------------------------- */

static bool roots_readable;

static inline void
hand_over(uintptr_t word, gcx_borrowed_fn fn, void *arg)
{
    if ((word & TAG_BITS) != TAG_BITS) {     /* a tagged int on 3.14+ */
        word &= ~TAG_BITS;
        if (word != 0) {
            fn((PyObject *)word, arg);
        }
    }
}

/* A frame of Python code that a thread runs (its own, or a generator's
 * running in place); not the interpreter's entry frames on the C stack,
 * whose function, locals and frame object fields are never written. */
static inline bool
running(const _PyInterpreterFrame *f)
{
    return f->owner == FRAME_OWNED_BY_THREAD || f->owner == FRAME_OWNED_BY_GENERATOR;
}

/* FR5: the live words of the running frames of one thread. */
static void
each_slot(PyThreadState *ts, gcx_borrowed_fn fn, void *arg)
{
    long depth = 0;
    for (_PyInterpreterFrame *f = TOP_FRAME(ts); f != NULL && depth < MAX_DEPTH;
         f = f->previous, depth++) {
        if (!running(f)) {
            continue;
        }
        hand_over(FUNC_WORD(f), fn, arg);
        hand_over((uintptr_t)f->f_locals, fn, arg);
        hand_over((uintptr_t)f->frame_obj, fn, arg);
        PyObject *code = (PyObject *)(CODE_WORD(f) & ~TAG_BITS);
        if (code == NULL || !PyCode_Check(code)) {
            continue;
        }
        PyCodeObject *co = (PyCodeObject *)code;
        slot_t *s = f->localsplus;
        slot_t *end = s + co->co_nlocalsplus;
        slot_t *limit = end + co->co_stacksize;
#if PY_VERSION_HEX >= 0x030E0000
        slot_t *top = f->stackpointer;
#else
        slot_t *top = f->stacktop >= 0 ? s + f->stacktop : NULL;
#endif
        if (top != NULL && top >= end && top <= limit) {
            end = top;
        }
        for (; s < end; s++) {
            hand_over(SLOT_WORD(*s), fn, arg);
        }
    }
}

static void
each_root(gcx_borrowed_fn fn, void *arg)
{
    PyInterpreterState *interp = PyInterpreterState_Get();
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts != NULL;
         ts = PyThreadState_Next(ts)) {
        each_slot(ts, fn, arg);
    }
}

/* FR5, with the depth of the value stack the caller worked out (3.12 and
 * 3.13: from the frame's bytecode, for the frame that is running or
 * calling C, whose top is not saved; 3.14+ reads nothing here): the fast
 * locals, cells and the first
 * `depth` slots of the value stack, never past the frame's extent; only of
 * a frame a thread is running (its data in the thread's stack).  False
 * when nothing was read. */
bool
gcx_frames_each_slot_of(PyObject *frame, Py_ssize_t depth, gcx_borrowed_fn fn, void *arg)
{
#if PY_VERSION_HEX >= 0x030E0000
    (void)frame, (void)depth, (void)fn, (void)arg;
    return false;       /* 3.14+ keeps every top: gcx_frames_each_root reads them */
#else
    if (!roots_readable || !PyFrame_Check(frame) || depth < 0) {
        return false;
    }
    _PyInterpreterFrame *f = ((PyFrameObject *)frame)->f_frame;
    if (f == NULL || !running(f)) {
        return false;
    }
    PyObject *code = (PyObject *)(CODE_WORD(f) & ~TAG_BITS);
    if (code == NULL || !PyCode_Check(code)) {
        return false;
    }
    PyCodeObject *co = (PyCodeObject *)code;
    Py_ssize_t n = co->co_nlocalsplus + (depth < co->co_stacksize ? depth : co->co_stacksize);
    for (Py_ssize_t i = 0; i < n; i++) {
        hand_over(SLOT_WORD(f->localsplus[i]), fn, arg);
    }
    return true;
#endif
}

/* Did the running frame save its value stack's top, so that
 * gcx_frames_each_root reads its value stack?  Always on 3.14+ (for any
 * frame); on 3.12 and 3.13 only while it calls a Python function (FR5),
 * and false for a frame that is not running. */
bool
gcx_frames_top_saved(PyObject *frame)
{
#if PY_VERSION_HEX >= 0x030E0000
    return PyFrame_Check(frame);
#else
    if (!PyFrame_Check(frame)) {
        return false;
    }
    _PyInterpreterFrame *f = ((PyFrameObject *)frame)->f_frame;
    return f != NULL && running(f) && f->stacktop >= 0;
#endif
}

void
gcx_frames_each_root(gcx_borrowed_fn fn, void *arg)
{
    if (roots_readable) {
        each_root(fn, arg);
    }
}

bool
gcx_frames_roots_readable(void)
{
    return roots_readable;
}

/* FR4, first half: on 3.13+, the layout compiled in is the running one's. */
static bool
frame_offsets_agree(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    const _Py_DebugOffsets *d = published_offsets();
    return d != NULL
           && d->thread_state.current_frame == offsetof(PyThreadState, current_frame)
           && d->interpreter_frame.previous == offsetof(_PyInterpreterFrame, previous)
           && d->interpreter_frame.executable == offsetof(_PyInterpreterFrame, f_executable)
           && d->interpreter_frame.localsplus == offsetof(_PyInterpreterFrame, localsplus);
#else
    return true;      /* 3.12 publishes none: the self-test alone decides */
#endif
}

/* FR4, second half: the walk finds a word on a caller's value stack and one
 * in a local further up. */
typedef struct {
    PyObject *stack_only, *local_only;
    bool saw_stack, saw_local;
} seek_t;

static void
seek(PyObject *op, void *arg)
{
    seek_t *k = arg;
    k->saw_stack |= op == k->stack_only;
    k->saw_local |= op == k->local_only;
}

static PyObject *
probe_walk(PyObject *self, PyObject *arg)
{
    (void)self;
    if (!PyList_CheckExact(arg) || PyList_GET_SIZE(arg) != 1) {
        Py_RETURN_FALSE;
    }
    seek_t k = {arg, PyList_GET_ITEM(arg, 0), false, false};
    each_slot(PyThreadState_Get(), seek, &k);
    return PyBool_FromLong(k.saw_stack && k.saw_local);
}

static PyMethodDef probe_def = {"probe", probe_walk, METH_O, NULL};

/* FR4's self-test: gcx/_probes.py's frame_roots calls the probe with box
 * on a caller's value stack (in no local) while a Python function runs,
 * where every version keeps the stack's top (FR5), and the list box holds
 * a local two frames up from the probe's caller. */
static bool
roots_selftest(void)
{
    PyObject *run = probes_attr("frame_roots");
    PyObject *probe = run == NULL ? NULL : PyCFunction_New(&probe_def, NULL);
    PyObject *r = probe == NULL ? NULL : PyObject_CallOneArg(run, probe);
    bool ok = r == Py_True;
    Py_XDECREF(r);
    Py_XDECREF(probe);
    Py_XDECREF(run);
    PyErr_Clear();
    return ok;
}

int
gcx_frames_init(void)
{
    borrowed_init();
    roots_readable = frame_offsets_agree() && roots_selftest();
    return 0;
}
