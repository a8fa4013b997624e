/* module.c: the private extension module gcx._gcx.
 *
 * Only argument unpacking and conversion of answers to Python objects live
 * here; gcx/__init__.py has already checked arguments the way the stdlib gc
 * module does, so this layer only guards against misuse of the private API.
 * Every answer describes gcx's own bookkeeping.
 *
 * The module is single-phase, made once, and refuses subinterpreters, legacy
 * ones included (PyInit__gcx): its records are the main interpreter's.  Its
 * state is static C memory that is never freed, because the tracer can fire
 * until the end of interpreter finalization; at exit gcx gives the slot back
 * (atexit hook).
 */
#include "gcx.h"

static PyObject *
int_tuple3(const int v[3])
{
    return Py_BuildValue("(iii)", v[0], v[1], v[2]);
}

/* A dict of fixed names, for the answers a policy reads at every call of
 * the scheduler (incr_state, schedule_state: PauseBudget's decide reads
 * them 2-3 times per slice).  Py_BuildValue makes and hashes a string per
 * name each time; this copies a template whose keys were made once and
 * replaces each value: 0.4 us instead of 1.4 us for incr_state's 25.
 * values are new references, stolen; a NULL among them (its error set)
 * fails the whole. */
#define FIXED_DICT_MAX 32
typedef struct {
    const char *const *names;
    int n;
    PyObject *keys[FIXED_DICT_MAX];   /* interned, made on first use */
    PyObject *template;               /* names -> None */
} fixed_dict_t;

static int
fixed_dict_ready(fixed_dict_t *f)
{
    if (f->template != NULL) {
        return 0;
    }
    PyObject *t = PyDict_New();
    if (t == NULL) {
        return -1;
    }
    GCX_ASSERT(f->n <= FIXED_DICT_MAX);
    for (int i = 0; i < f->n; i++) {
        if (f->keys[i] == NULL && (f->keys[i] = PyUnicode_InternFromString(f->names[i])) == NULL) {
            Py_DECREF(t);
            return -1;
        }
        if (PyDict_SetItem(t, f->keys[i], Py_None) < 0) {
            Py_DECREF(t);
            return -1;
        }
    }
    f->template = t;
    return 0;
}

static PyObject *
fixed_dict(fixed_dict_t *f, PyObject **values)
{
    PyObject *d = NULL;
    for (int i = 0; i < f->n; i++) {
        if (values[i] == NULL) {
            goto done;
        }
    }
    if (fixed_dict_ready(f) < 0 || (d = PyDict_Copy(f->template)) == NULL) {
        goto done;
    }
    for (int i = 0; i < f->n; i++) {
        if (PyDict_SetItem(d, f->keys[i], values[i]) < 0) {
            Py_CLEAR(d);
            goto done;
        }
    }
done:
    for (int i = 0; i < f->n; i++) {
        Py_XDECREF(values[i]);
    }
    return d;
}

/* ---- collection and automatic collection --------------------------------------- */

/* arg as an int from lo to hi into *out: 0, or -1 with the conversion's
 * error or ValueError(message). */
static int
int_in_range(PyObject *arg, int lo, int hi, const char *message, int *out)
{
    int n = PyLong_AsInt(arg);
    if (n == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (n < lo || n > hi) {
        PyErr_SetString(PyExc_ValueError, message);
        return -1;
    }
    *out = n;
    return 0;
}

static int
generation_arg(PyObject *arg)
{
    int generation;
    return int_in_range(arg, 0, GCX_NGENS - 1, "invalid generation", &generation) < 0
           ? -1 : generation;
}

static PyObject *
m_collect(PyObject *mod, PyObject *arg)
{
    int generation = generation_arg(arg);
    return generation < 0 ? NULL : PyLong_FromSsize_t(gcx_collect(generation));
}

/* collect(), survivors staying in their generation (collection.c) */
static PyObject *
m_collect_unpromoted(PyObject *mod, PyObject *arg)
{
    int generation = generation_arg(arg);
    return generation < 0 ? NULL : PyLong_FromSsize_t(gcx_collect_unpromoted(generation));
}

static PyObject *
m_enable(PyObject *mod, PyObject *unused)
{
    gcx_schedule_enable(true);
    Py_RETURN_NONE;
}

static PyObject *
m_disable(PyObject *mod, PyObject *unused)
{
    gcx_schedule_enable(false);
    Py_RETURN_NONE;
}

static PyObject *
m_isenabled(PyObject *mod, PyObject *unused)
{
    return PyBool_FromLong(gcx_sched.enabled);
}

static PyObject *
m_get_count(PyObject *mod, PyObject *unused)
{
    gcx_births_read();   /* lists mode: the count goes by births gcx has read */
    int counts[GCX_NGENS];
    gcx_schedule_counts(counts);
    return int_tuple3(counts);
}


static PyObject *
m_get_threshold(PyObject *mod, PyObject *unused)
{
    return int_tuple3(gcx_sched.threshold);
}

static PyObject *
m_set_threshold(PyObject *mod, PyObject *args)
{
    int t[3];
    if (!PyArg_ParseTuple(args, "iii:set_threshold", &t[0], &t[1], &t[2])) {
        return NULL;
    }
    gcx_schedule_set_thresholds(t);
    Py_RETURN_NONE;
}

/* gc.set_threshold takes optional groups ("threshold0, [threshold1,
 * [threshold2]]"), which no signature can state: the stdlib's is a builtin
 * with none (__text_signature__ is None and inspect.signature() raises
 * ValueError; CPython's test_inspect checks both).  gcx's is a builtin
 * made the same way (m_set_threshold_builtin): no signature in its docstring, its
 * __self__ a module, so that its __qualname__ is its name.  Its call is
 * the Python function's (gcx/__init__.py), which parses the arguments as
 * the stdlib does; a reload of gcx makes a new one, which replaces it. */
static PyObject *set_threshold_impl;

static PyObject *
call_set_threshold(PyObject *mod, PyObject *args, PyObject *kwargs)
{
    return PyObject_Call(set_threshold_impl, args, kwargs);
}

static PyObject *
m_set_threshold_builtin(PyObject *mod, PyObject *args)
{
    static const char name[] = "set_threshold";
    PyObject *impl, *module, *module_name;
    const char *doc;
    if (!PyArg_ParseTuple(args, "OO!Uz:set_threshold_builtin", &impl, &PyModule_Type, &module,
                          &module_name, &doc)) {
        return NULL;
    }
    if (!PyCallable_Check(impl)) {
        PyErr_SetString(PyExc_TypeError, "set_threshold_builtin: impl must be callable");
        return NULL;
    }
    /* never freed: a builtin points at its method definition for life */
    PyMethodDef *def = PyMem_RawCalloc(1, sizeof(*def));
    char *doc_copy = doc != NULL ? PyMem_RawMalloc(strlen(doc) + 1) : NULL;
    if (def == NULL || (doc != NULL && doc_copy == NULL)) {
        PyMem_RawFree(def);
        PyMem_RawFree(doc_copy);
        return PyErr_NoMemory();
    }
    if (doc != NULL) {
        strcpy(doc_copy, doc);
    }
    *def = (PyMethodDef){name, (PyCFunction)(void (*)(void))call_set_threshold,
                         METH_VARARGS | METH_KEYWORDS, doc_copy};
    PyObject *builtin = PyCFunction_NewEx(def, module, module_name);
    if (builtin != NULL) {
        Py_XSETREF(set_threshold_impl, Py_NewRef(impl));
    }
    return builtin;
}

static PyObject *
m_get_debug(PyObject *mod, PyObject *unused)
{
    return PyLong_FromLong(gcx_stats.debug);
}

static PyObject *
m_set_debug(PyObject *mod, PyObject *arg)
{
    int flags = PyLong_AsInt(arg);
    if (flags == -1 && PyErr_Occurred()) {
        return NULL;
    }
    gcx_stats_set_debug(flags);
    Py_RETURN_NONE;
}

static PyObject *
m_get_stats(PyObject *mod, PyObject *unused)
{
    PyObject *result = PyList_New(GCX_NGENS);
    if (result == NULL) {
        return NULL;
    }
    for (int i = 0; i < GCX_NGENS; i++) {
        const gcx_gen_stats_t *s = &gcx_stats.gens[i];
        /* exactly the running interpreter's keys: 3.15 added the last two;
         * the figures are in gcx's own functions on every version */
#if GCX_PY315
        PyObject *d = Py_BuildValue("{snsnsnsnsd}", "collections", s->collections,
                                    "collected", s->collected,
                                    "uncollectable", s->uncollectable,
                                    "candidates", s->candidates,
                                    "duration", s->duration);
#else
        PyObject *d = Py_BuildValue("{snsnsn}", "collections", s->collections,
                                    "collected", s->collected,
                                    "uncollectable", s->uncollectable);
#endif
        if (d == NULL) {
            Py_DECREF(result);
            return NULL;
        }
        PyList_SET_ITEM(result, i, d);
    }
    return result;
}

static PyObject *
pause_tuple(const gcx_pause_t *p)
{
    return Py_BuildValue("(ddinnn)", p->start, p->duration, p->generation,
                         p->collected, p->uncollectable, p->candidates);
}

/* The collections numbered since and later (0 is the first ever) that the
 * ring still holds, oldest first: (start, duration, generation, collected,
 * uncollectable, candidates), times in seconds. */
static PyObject *
pauses_from(uint64_t since)
{
    uint64_t total = gcx_stats.npauses;
    uint64_t first = total > GCX_PAUSE_RING ? total - GCX_PAUSE_RING : 0;
    if (since > first) {
        first = since < total ? since : total;
    }
    PyObject *list = PyList_New((Py_ssize_t)(total - first));
    for (uint64_t i = first; list != NULL && i < total; i++) {
        PyObject *t = pause_tuple(&gcx_stats.pauses[i % GCX_PAUSE_RING]);
        if (t == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)(i - first), t);
    }
    return list;
}

static PyObject *
m_recent_pauses(PyObject *mod, PyObject *unused)
{
    return pauses_from(0);
}

/* (collections ever, the pauses numbered since and later still held) */
static PyObject *
m_pauses_since(PyObject *mod, PyObject *arg)
{
    unsigned long long since = PyLong_AsUnsignedLongLong(arg);
    if (since == (unsigned long long)-1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *list = pauses_from((uint64_t)since);
    return list == NULL ? NULL : Py_BuildValue("(KN)", (unsigned long long)gcx_stats.npauses, list);
}

/* The histogram's upper bounds in seconds, +inf last, as a new list. */
static PyObject *
pause_bounds(void)
{
    PyObject *list = PyList_New(GCX_PAUSE_BUCKETS);
    for (int b = 0; list != NULL && b < GCX_PAUSE_BUCKETS; b++) {
        PyObject *v = PyFloat_FromDouble(b < GCX_PAUSE_BUCKETS - 1 ? gcx_pause_bounds[b]
                                                                   : Py_HUGE_VAL);
        if (v == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, b, v);
    }
    return list;
}

/* One generation's figures for metrics(): lists of n_buckets, cumulative. */
static PyObject *
generation_metrics(int g, Py_ssize_t objects)
{
    const gcx_gen_stats_t *s = &gcx_stats.gens[g];
    PyObject *counts = PyList_New(GCX_PAUSE_BUCKETS);
    PyObject *seconds = PyList_New(GCX_PAUSE_BUCKETS);
    uint64_t n = 0;
    double t = 0.0;
    for (int b = 0; counts != NULL && seconds != NULL && b < GCX_PAUSE_BUCKETS; b++) {
        n += s->pause_counts[b];
        t += s->pause_seconds[b];
        PyObject *nb = PyLong_FromUnsignedLongLong(n), *tb = PyFloat_FromDouble(t);
        if (nb == NULL || tb == NULL) {
            Py_XDECREF(nb);
            Py_XDECREF(tb);
            Py_CLEAR(counts);
            break;
        }
        PyList_SET_ITEM(counts, b, nb);
        PyList_SET_ITEM(seconds, b, tb);
    }
    if (counts == NULL || seconds == NULL) {
        Py_XDECREF(counts);
        Py_XDECREF(seconds);
        return NULL;
    }
    PyObject *last = Py_None;
    if (s->collections > 0) {
        last = Py_BuildValue("{sdsdsnsnsn}", "start", s->last.start,
                             "duration", s->last.duration,
                             "collected", s->last.collected,
                             "uncollectable", s->last.uncollectable,
                             "candidates", s->last.candidates);
        if (last == NULL) {
            Py_DECREF(counts);
            Py_DECREF(seconds);
            return NULL;
        }
    }
    else {
        Py_INCREF(last);
    }
    return Py_BuildValue("{snsnsnsnsdsNsNsnsN}",
                         "collections", s->collections,
                         "collected", s->collected,
                         "uncollectable", s->uncollectable,
                         "candidates", s->candidates,
                         "duration", s->duration,
                         "pause_counts", counts,
                         "pause_seconds", seconds,
                         "objects", objects,
                         "last", last);
}

/* Everything metrics() reports, read in one go: no Python code runs while
 * it is read, so the figures are those of one moment between collections
 * (or of the collection running, for a call from inside one). */
static PyObject *
m_metrics(PyObject *mod, PyObject *unused)
{
    /* the records first: the answer's own containers get records too */
    gcx_births_read();   /* 3.12: what was born since the last read */
    Py_ssize_t objects[GCX_NSETS];
    for (int s = 0; s < GCX_NSETS; s++) {
        objects[s] = gcx_table.total[s];
    }
    Py_ssize_t garbage = PyList_GET_SIZE(gcx_stats.garbage);
    PyObject *gens = PyList_New(GCX_NGENS);
    for (int g = 0; gens != NULL && g < GCX_NGENS; g++) {
        PyObject *d = generation_metrics(g, objects[g]);
        if (d == NULL) {
            Py_CLEAR(gens);
            break;
        }
        PyList_SET_ITEM(gens, g, d);
    }
    PyObject *bounds = gens == NULL ? NULL : pause_bounds();
    if (bounds == NULL) {
        Py_XDECREF(gens);
        return NULL;
    }
    return Py_BuildValue("{sNsNsnsnsKsOsO}",
                         "pause_buckets", bounds,
                         "generations", gens,
                         "frozen", objects[GCX_FROZEN],
                         "garbage", garbage,
                         "pauses_recorded", (unsigned long long)gcx_stats.npauses,
                         "collecting", gcx_sched.collecting ? Py_True : Py_False,
                         "policies", Py_None);
}

/* ---- policies (gcx/policy.py; schedule.c G4, G5; memory.c) ------------------- */

static PyObject *policy_hook;    /* called as hook(due, due_young), or NULL */

/* The nested calls a policy's call may make (its own frames, gcx.collect,
 * gc.callbacks): short of these, or of half the recursion limit where a
 * program set it below 100, it is not called (below). */
#define POLICY_ROOM 50

/* G4: what a pending call does while a Python policy is set.  Runs with
 * the GIL at an eval-breaker check; an error is reported, never raised.
 *
 * The check can come in a thread that has recursed to within a few calls
 * of its recursion limit (a program that catches RecursionError, a test
 * of it).  The stdlib's collection runs no code of its own there; a
 * policy is Python code and would raise RecursionError in its first few
 * frames, reported as unraisable.  So, short of that room, the
 * policy is not called: the young generation the stdlib's rule finds due
 * is collected (a young collection's pause, as that rule would have it;
 * nothing while a region holds collections), and a full collection waits
 * for a request made with room to decide it. */
static void
call_policy(int due, int due_young)
{
    int half = Py_GetRecursionLimit() / 2;
    if (gcx_calls_left() < (half < POLICY_ROOM ? half : POLICY_ROOM)) {
        if (due_young >= 0 && gcx_sched.held == 0) {
            (void)gcx_collect(due_young);
        }
        return;
    }
    PyObject *hook = Py_XNewRef(policy_hook);
    if (hook == NULL) {
        return;
    }
    PyObject *r = PyObject_CallFunction(hook, "ii", due, due_young);
    if (r == NULL) {
        PyErr_WriteUnraisable(hook);
    }
    Py_XDECREF(r);
    Py_DECREF(hook);
}

static PyObject *
m_set_policy_hook(PyObject *mod, PyObject *hook)
{
    if (hook != Py_None && !PyCallable_Check(hook)) {
        PyErr_SetString(PyExc_TypeError, "the policy hook must be callable or None");
        return NULL;
    }
    PyObject *old = policy_hook;
    policy_hook = hook == Py_None ? NULL : Py_NewRef(hook);
    gcx_schedule_set_policy(policy_hook != NULL ? call_policy : NULL);
    Py_XDECREF(old);
    Py_RETURN_NONE;
}

static Py_ssize_t
young_pages(void)
{
    return gcx_table.lists[GCX_LIST_YOUNG].len;
}

static PyObject *
m_set_young_limit(PyObject *mod, PyObject *args)
{
    Py_ssize_t pages;
    int from_count;
    if (!PyArg_ParseTuple(args, "ni:set_young_limit", &pages, &from_count)) {
        return NULL;
    }
    gcx_schedule_set_young_limit(pages, from_count, young_pages);
    Py_RETURN_NONE;
}

static PyObject *
m_set_trigger(PyObject *mod, PyObject *arg)
{
    int n;
    if (int_in_range(arg, 0, INT_MAX, "the young trigger must be >= 0", &n) < 0) {
        return NULL;
    }
    gcx_schedule_set_trigger(n);
    Py_RETURN_NONE;
}

static PyObject *
m_hold(PyObject *mod, PyObject *arg)
{
    int delta;
    if (int_in_range(arg, -1, 1, "hold() takes -1, 0 or 1", &delta) < 0) {
        return NULL;
    }
    return PyLong_FromLong(gcx_schedule_hold(delta));
}

/* What a policy decides from: the counts and thresholds as the stdlib's
 * rule sees them, and what that rule would take now. */
static PyObject *
m_schedule_state(PyObject *mod, PyObject *unused)
{
    static const char *const names[] = {
        "last_start", "seconds", "count", "young_count_since_full", "threshold",
        "trigger", "long_lived_pending", "long_lived_total", "due", "due_young",
        "held", "held_requests", "collecting"};
    static fixed_dict_t answer = {names, sizeof(names) / sizeof(names[0])};
    int counts[GCX_NGENS];
    gcx_schedule_counts(counts);
    PyObject *last[GCX_NGENS];
    double seconds = 0.0;
    for (int g = 0; g < GCX_NGENS; g++) {
        const gcx_gen_stats_t *gs = &gcx_stats.gens[g];
        seconds += gs->duration;
        last[g] = gs->collections > 0 ? PyFloat_FromDouble(gs->last.start) : Py_NewRef(Py_None);
    }
    PyObject *values[] = {
        Py_BuildValue("(NNN)", last[0], last[1], last[2]),
        PyFloat_FromDouble(seconds),
        int_tuple3(counts),
        PyLong_FromSsize_t(gcx_sched.young_count_since_full),
        int_tuple3(gcx_sched.threshold),
        PyLong_FromLong(gcx_sched.trigger),
        PyLong_FromSsize_t(gcx_sched.long_lived_pending),
        PyLong_FromSsize_t(gcx_sched.long_lived_total),
        PyLong_FromLong(gcx_schedule_due(GCX_NGENS - 1)),
        PyLong_FromLong(gcx_schedule_due(GCX_NGENS - 2)),
        PyLong_FromLong(gcx_sched.held),
        PyLong_FromSsize_t(gcx_sched.held_requests),
        PyBool_FromLong(gcx_sched.collecting)};
    Py_BUILD_ASSERT(sizeof(values) == sizeof(names) / sizeof(names[0]) * sizeof(values[0]));
    return fixed_dict(&answer, values);
}

static PyObject *
m_memory(PyObject *mod, PyObject *start)
{
    int yes = PyObject_IsTrue(start);
    if (yes < 0) {
        return NULL;
    }
    if (yes) {
        gcx_memory_start();
    }
    gcx_memory_t m = gcx_memory_read();
    return Py_BuildValue("{sLsLsLsLsOsOsO}",
                         "held", (long long)m.held, "arenas", (long long)m.arenas,
                         "blocks", (long long)m.blocks, "pressure", (long long)m.pressure,
                         "counting", m.started ? Py_True : Py_False,
                         "raw_counted", m.raw_counted ? Py_True : Py_False,
                         "objects_counted", m.objects_counted ? Py_True : Py_False);
}

static PyObject *
m_add_pressure(PyObject *mod, PyObject *arg)
{
    long long n = PyLong_AsLongLong(arg);
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    gcx_memory_pressure((int64_t)n);
    Py_RETURN_NONE;
}

/* A generation, or -1 for all of them, as a mask of sets; 0 with an
 * exception set when the argument is no such thing. */
static unsigned
generations_mask(PyObject *arg)
{
    int generation;
    if (int_in_range(arg, -1, GCX_NGENS - 1, "invalid generation", &generation) < 0) {
        return 0;
    }
    return generation == -1 ? GCX_GENS_MASK : 1u << generation;
}

static PyObject *
m_census(PyObject *mod, PyObject *arg)
{
    unsigned mask = generations_mask(arg);
    return mask == 0 ? NULL : gcx_heap_census(mask, gcx_sched.collecting);
}

static PyObject *
m_set_slow_pause_fd(PyObject *mod, PyObject *args)
{
    int fd;
    double threshold;
    if (!PyArg_ParseTuple(args, "id:set_slow_pause_fd", &fd, &threshold)) {
        return NULL;
    }
    if (fd < -1) {
        PyErr_SetString(PyExc_ValueError, "fd must be a file descriptor or -1");
        return NULL;
    }
    if (!(threshold >= 0.0)) {
        PyErr_SetString(PyExc_ValueError, "the slow-pause threshold must be >= 0");
        return NULL;
    }
    gcx_stats_set_slow_fd(fd, threshold);
    Py_RETURN_NONE;
}

static PyObject *
m_set_garbage_hook(PyObject *mod, PyObject *hook)
{
    if (hook != Py_None && !PyCallable_Check(hook)) {
        PyErr_SetString(PyExc_TypeError, "the garbage hook must be callable or None");
        return NULL;
    }
    gcx_stats_set_garbage_hook(hook == Py_None ? NULL : Py_NewRef(hook));
    Py_RETURN_NONE;
}

/* set(arg's truth) */
static PyObject *
set_flag(PyObject *arg, void (*set)(bool))
{
    int flag = PyObject_IsTrue(arg);
    if (flag < 0) {
        return NULL;
    }
    set(flag);
    Py_RETURN_NONE;
}

/* os.register_at_fork(after_in_child=...), from gcx/__init__.py. */
static PyObject *
m_after_fork_child(PyObject *mod, PyObject *unused)
{
    gcx_tracer_after_fork();
    gcx_schedule_after_fork();
    Py_RETURN_NONE;
}

/* stdlib_hook(phase, info): the hook gcx/_install.py puts in the stdlib's
 * own gc.callbacks (wrapped in a functools.partial, to carry its mark): the
 * stdlib's collection of info["generation"] starts ("start") or stops.  A
 * builtin, so that CPython's calls of it, at every collection its own
 * trigger starts (K3 of tracer.c), push no Python frame: a fifth of a
 * Python function's cost (0.1-0.3 us against 0.5-1.2 us a collection). */
static PyObject *
m_stdlib_hook(PyObject *mod, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "stdlib_hook expected 2 arguments, got %zd", nargs);
        return NULL;
    }
    if (!PyUnicode_Check(args[0])) {
        Py_RETURN_NONE;
    }
    if (PyUnicode_CompareWithASCIIString(args[0], "start") == 0) {
        int generation = -1;
        PyObject *g = PyDict_Check(args[1]) ? PyDict_GetItemString(args[1], "generation") : NULL;
        if (g != NULL && PyLong_Check(g)) {
            generation = PyLong_AsInt(g);
            if (generation == -1 && PyErr_Occurred()) {
                PyErr_Clear();
            }
        }
        gcx_births_before_stdlib(generation);
        gcx_schedule_set_stdlib_collecting(true);
    }
    else if (PyUnicode_CompareWithASCIIString(args[0], "stop") == 0) {
        gcx_births_after_stdlib();
        gcx_schedule_cpython_stopped();
        gcx_schedule_set_stdlib_collecting(false);
    }
    Py_RETURN_NONE;
}

/* install() (on) and uninstall() (off): while gcx is the process's
 * collector, generation 0 is counted as CPython counts it (G3).  At
 * uninstall CPython's own counts of generations 1 and 2 become gcx's, so
 * that the stdlib's next middle and full collections come when gcx's
 * would have (install() gave gcx the stdlib's: adopt_counts). */
static void
count_as_cpython(bool on)
{
    if (!on) {
        gcx_tracer_cpython_set_older_counts(gcx_sched.count[1], gcx_sched.count[2]);
    }
    gcx_schedule_count_young(on ? gcx_tracer_cpython_young_count() : NULL);
}

static PyObject *
m_count_as_cpython(PyObject *mod, PyObject *arg)
{
    return set_flag(arg, count_as_cpython);
}

static PyObject *
m_adopt_counts(PyObject *mod, PyObject *args)
{
    int c0, c1, c2;
    if (!PyArg_ParseTuple(args, "iii:adopt_counts", &c0, &c1, &c2)) {
        return NULL;
    }
    if (c0 < 0 || c1 < 0 || c2 < 0) {
        PyErr_SetString(PyExc_ValueError, "counts must be >= 0");
        return NULL;
    }
    gcx_schedule_adopt_counts(c0, c1, c2);
    Py_RETURN_NONE;
}

/* ---- introspection ------------------------------------------------------------ */

static PyObject *
m_get_objects(PyObject *mod, PyObject *arg)
{
    unsigned mask = generations_mask(arg);
    return mask == 0 ? NULL : gcx_heap_objects(mask, gcx_sched.collecting);
}

static PyObject *
m_is_tracked(PyObject *mod, PyObject *op)
{
    return PyBool_FromLong(gcx_heap_is_tracked(op));
}

static PyObject *
m_is_finalized(PyObject *mod, PyObject *op)
{
    return PyBool_FromLong(PyObject_IS_GC(op)
                           && (PyObject_GC_IsFinalized(op) || gcx_is_finalizing(op)));
}

static int
visit_append(PyObject *op, void *list)
{
    return PyList_Append((PyObject *)list, op);
}

/* get_referrers and get_referents are the gc mirror's own functions (gcx
 * only renames their __module__), built-in as the stdlib's are, not
 * Python wrappers: on 3.12 and 3.13 a frame's value stack, its locals
 * included, is readable by tp_traverse only while it calls a Python
 * function, so a coroutine calling gc.get_referrers(exc) through a Python
 * wrapper would find itself among the referrers of its local exc, where
 * the stdlib's finds nothing (asyncio's own tests assert that).  The call
 * is METH_VARARGS, as the stdlib's: objs is the call's own tuple of
 * arguments, which get_referrers skips.  Their signature is (*objs) on
 * every version: 3.12's, older than Argument Clinic, have none for
 * inspect.signature() and state that one in their docstring. */
static int
no_keywords(const char *name, PyObject *kwargs)
{
    if (kwargs == NULL || PyDict_GET_SIZE(kwargs) == 0) {
        return 0;
    }
    /* 3.13's Argument Clinic names the module, 3.12's message does not */
    PyErr_Format(PyExc_TypeError, "%s%s() takes no keyword arguments",
                 GCX_PY312 ? "" : "gc.", name);
    return -1;
}

/* The referents of the objects in the tuple objs: gc.get_referents' work,
 * and the report's (gcx/report), which audits nothing. */
static PyObject *
m_referents_of(PyObject *mod, PyObject *objs)
{
    if (!PyTuple_Check(objs)) {
        PyErr_SetString(PyExc_TypeError, "referents_of expects a tuple");
        return NULL;
    }
    PyObject *result = PyList_New(0);
    if (result == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(objs); i++) {
        PyObject *op = PyTuple_GET_ITEM(objs, i);
        if (!PyObject_IS_GC(op) || Py_TYPE(op)->tp_traverse == NULL) {
            continue;
        }
        if (Py_TYPE(op)->tp_traverse(op, visit_append, result)) {
            Py_DECREF(result);
            return NULL;
        }
    }
    return result;
}

static PyObject *
m_get_referents(PyObject *mod, PyObject *objs, PyObject *kwargs)
{
    if (no_keywords("get_referents", kwargs) < 0
        || PySys_Audit("gc.get_referents", "(O)", objs) < 0) {
        return NULL;
    }
    return m_referents_of(mod, objs);
}

static PyObject *
m_get_referrers(PyObject *mod, PyObject *objs, PyObject *kwargs)
{
    if (no_keywords("get_referrers", kwargs) < 0
        || PySys_Audit("gc.get_referrers", "(O)", objs) < 0) {
        return NULL;
    }
    return gcx_heap_referrers(objs, gcx_sched.collecting);
}

static PyObject *
m_freeze(PyObject *mod, PyObject *unused)
{
    gcx_heap_freeze();
    gcx_schedule_reset_counts();
    Py_RETURN_NONE;
}

/* The young generations into the old one (gcx/_budget.py); the records
 * moved: none while a collection runs (a finalizer that sets a policy).
 * An incremental cycle running is abandoned first: what it counted at
 * its start no longer describes generation 2. */
static PyObject *
m_age(PyObject *mod, PyObject *unused)
{
    if (gcx_sched.collecting) {
        return PyLong_FromLong(0);
    }
    gcx_incr_abandon();
    Py_ssize_t moved = gcx_heap_age();
    gcx_schedule_aged(moved);
    return PyLong_FromSsize_t(moved);
}

static PyObject *
m_unfreeze(PyObject *mod, PyObject *unused)
{
    gcx_heap_unfreeze();
    Py_RETURN_NONE;
}

static PyObject *
m_get_freeze_count(PyObject *mod, PyObject *unused)
{
    gcx_sync(true);
    return PyLong_FromSsize_t(gcx_heap_count(GCX_FROZEN));
}

/* ---- diagnostics ----------------------------------------------------------- */

static PyObject *
m_info(PyObject *mod, PyObject *unused)
{
    void *data = NULL;
    bool owner = PyRefTracer_GetTracer(&data) != NULL && data == (void *)&gcx_tr;
    return Py_BuildValue(
        "{sssOsOsOsOsOsOsnsnsnsnsns[nnn]snsnsnsOsnsnsnsnsssOsnsssOsssn}",
        "mode", gcx_mode_names[gcx_tr.mode],
        "owner", owner ? Py_True : Py_False,
        "selftest", gcx_tr.selftest < 0 ? Py_None
                    : gcx_tr.selftest ? Py_True : Py_False,
        "alloc_selftest", gcx_tr.alloc_selftest < 0 ? Py_None
                          : gcx_tr.alloc_selftest ? Py_True : Py_False,
        "header_readable", gcx_header_readable ? Py_True : Py_False,
        "lists_readable", gcx_tr.lists_readable ? Py_True : Py_False,
        "interp_head_readable", gcx_probed.interp_head != NULL ? Py_True : Py_False,
        "resyncs", gcx_tr.resyncs,
        "allocator_wraps", gcx_tr.allocator_wraps,
        "births", gcx_tr.births,
        "looks", gcx_tr.looks,
        "adopted", gcx_tr.adopted,
        "tracked", gcx_table.total[GCX_GEN0], gcx_table.total[GCX_GEN1],
        gcx_table.total[GCX_GEN2],
        "frozen", gcx_table.total[GCX_FROZEN],
        "pages", gcx_table.pages.len,
        "bookkeeping_bytes", (Py_ssize_t)gcx_table_bytes(),
        "collecting", gcx_sched.collecting ? Py_True : Py_False,
        "long_lived_total", gcx_sched.long_lived_total,
        "long_lived_pending", gcx_sched.long_lived_pending,
        "page_bytes", (Py_ssize_t)sizeof(gcx_page_t),
        "unaligned", gcx_table.unaligned,
        "build", GCX_FLAVOUR,
        "unsure", gcx_tr.unsure ? Py_True : Py_False,
        "suspects", gcx_tr.suspects,
        "generator_frames", gcx_frames_mode() == GCX_FRAMES_COMPENSATED ? "compensated"
                            : gcx_frames_mode() == GCX_FRAMES_CONSERVATIVE ? "conservative"
                            : "exact",
        "frame_roots", gcx_frames_roots_readable() ? Py_True : Py_False,
        "trigger", gcx_tr.cpython_triggers ? "cpython" : "gcx",
        "cpython_triggered", gcx_tr.cpython_triggered);
}

static PyObject *
m_check(PyObject *mod, PyObject *unused)
{
    if (gcx_check_all() < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
m_resync(PyObject *mod, PyObject *unused)
{
    gcx_sync(true);
    Py_RETURN_NONE;
}

static PyObject *
m_shutdown(PyObject *mod, PyObject *unused)
{
    gcx_schedule_enable(false);
    gcx_tracer_fini();
    Py_RETURN_NONE;
}

static PyObject *
m_noop_tracer(PyObject *mod, PyObject *unused)
{
    if (gcx_tracer_lend_slot() < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* ---- the incremental cycle (incremental.c; gcx/_budget.py drives it) ---- */

static PyObject *
m_incr_start(PyObject *mod, PyObject *roots)
{
    if (!PyList_Check(roots)) {
        PyErr_Format(PyExc_TypeError, "incr_start() takes a list, not %.100s",
                     Py_TYPE(roots)->tp_name);
        return NULL;
    }
    if (gcx_incr_start(roots) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

/* A slice's or a step's seconds: a number, 0 <= seconds < 1e6; -1 with
 * the error otherwise. */
static double
slice_seconds(PyObject *arg, const char *fn)
{
    double seconds = PyFloat_AsDouble(arg);
    if (seconds == -1.0 && PyErr_Occurred()) {
        return -1.0;
    }
    if (!(seconds >= 0.0 && seconds < 1e6)) {
        PyErr_Format(PyExc_ValueError, "%s() takes seconds >= 0", fn);
        return -1.0;
    }
    return seconds;
}

static PyObject *
m_incr_slice(PyObject *mod, PyObject *arg)
{
    double seconds = slice_seconds(arg, "incr_slice");
    return seconds < 0 ? NULL : PyLong_FromSsize_t(gcx_incr_slice(seconds));
}

static PyObject *
m_incr_frame(PyObject *mod, PyObject *args)
{
    PyObject *frame;
    Py_ssize_t depth;
    if (!PyArg_ParseTuple(args, "O!n:incr_frame", &PyFrame_Type, &frame, &depth)) {
        return NULL;
    }
    if (depth < 0) {
        PyErr_SetString(PyExc_ValueError, "incr_frame() takes a depth >= 0");
        return NULL;
    }
    return PyBool_FromLong(gcx_incr_mark_frame(frame, depth));
}

static PyObject *
m_frame_top_saved(PyObject *mod, PyObject *frame)
{
    if (!PyFrame_Check(frame)) {
        PyErr_Format(PyExc_TypeError, "frame_top_saved() takes a frame, not %.100s",
                     Py_TYPE(frame)->tp_name);
        return NULL;
    }
    return PyBool_FromLong(gcx_frames_top_saved(frame));
}

static PyObject *
m_incr_sweep(PyObject *mod, PyObject *arg)
{
    double seconds = slice_seconds(arg, "incr_sweep");
    return seconds < 0 ? NULL : PyLong_FromSsize_t(gcx_incr_sweep(seconds));
}

static PyObject *
m_incr_finish(PyObject *mod, PyObject *unused)
{
    return PyLong_FromSsize_t(gcx_incr_finish());
}

static PyObject *
m_incr_abandon(PyObject *mod, PyObject *unused)
{
    gcx_incr_abandon();
    Py_RETURN_NONE;
}

static PyObject *
m_incr_state(PyObject *mod, PyObject *unused)
{
    static const char *const names[] = {
        "active", "failed", "gray", "marked", "traversed", "skipped", "old_at_start",
        "kept", "abandoned", "bytes", "old", "young_pages", "middle_pages",
        "young_records", "middle_records", "sweeping", "steps", "swept",
        "swept_found", "step_max", "promoted", "rejoined", "waited", "passes",
        "rescanned", "deferred", "pending"};
    static fixed_dict_t answer = {names, sizeof(names) / sizeof(names[0])};
    gcx_incr_state_t s = gcx_incr_state();
    PyObject *values[] = {
        PyBool_FromLong(s.active), PyBool_FromLong(s.failed),
        PyLong_FromSsize_t(s.gray), PyLong_FromSsize_t(s.marked),
        PyLong_FromSsize_t(s.traversed), PyLong_FromSsize_t(s.skipped),
        PyLong_FromSsize_t(s.old_at_start), PyLong_FromSsize_t(s.kept),
        PyLong_FromSsize_t(s.abandoned), PyLong_FromSize_t(s.bytes),
        PyLong_FromSsize_t(gcx_table.total[GCX_GEN1] + gcx_table.total[GCX_GEN2]),
        PyLong_FromSsize_t(gcx_table.lists[GCX_LIST_YOUNG].len),
        PyLong_FromSsize_t(gcx_table.lists[GCX_LIST_MIDDLE].len),
        PyLong_FromSsize_t(gcx_table.total[GCX_GEN0]),
        PyLong_FromSsize_t(gcx_table.total[GCX_GEN1]),
        PyBool_FromLong(s.sweeping), PyLong_FromSsize_t(s.steps),
        PyLong_FromSsize_t(s.swept), PyLong_FromSsize_t(s.swept_found),
        PyLong_FromSsize_t(s.step_max), PyLong_FromSsize_t(s.promoted),
        PyLong_FromSsize_t(s.rejoined), PyLong_FromSsize_t(s.waited),
        PyLong_FromSsize_t(s.passes), PyBool_FromLong(s.rescanned),
        PyLong_FromSsize_t(s.deferred), PyLong_FromSsize_t(s.pending)};
    Py_BUILD_ASSERT(sizeof(values) == sizeof(names) / sizeof(names[0]) * sizeof(values[0]));
    return fixed_dict(&answer, values);
}

/* PauseBudget's view at each call of the scheduler (gcx/_budget.py): the
 * few figures its decisions read, in one tuple.  The call comes right after
 * a slice or a collection has emptied the caches, where each Python-level
 * read is a run of misses: incr_state()'s dict, get_count() and
 * get_threshold() read two or three times a call cost the 3M heap program
 * under the budget about 4% of its time.  Counts as get_count() does
 * (births read first). */
static PyObject *
m_budget_view(PyObject *mod, PyObject *unused)
{
    gcx_births_read();
    int counts[GCX_NGENS];
    gcx_schedule_counts(counts);
    gcx_incr_state_t s = gcx_incr_state();
    Py_ssize_t v[] = {
        counts[0], gcx_sched.threshold[0],
        gcx_table.lists[GCX_LIST_YOUNG].len, gcx_table.lists[GCX_LIST_MIDDLE].len,
        gcx_table.total[GCX_GEN0], gcx_table.total[GCX_GEN1],
        gcx_table.total[GCX_GEN1] + gcx_table.total[GCX_GEN2], s.old_at_start,
        s.traversed, s.swept, s.promoted, s.gray,
        s.active, s.sweeping, s.rescanned};
    Py_ssize_t n = (Py_ssize_t)(sizeof(v) / sizeof(v[0]));
    PyObject *t = PyTuple_New(n);
    for (Py_ssize_t i = 0; t != NULL && i < n; i++) {
        PyObject *item = PyLong_FromSsize_t(v[i]);
        if (item == NULL) {
            Py_CLEAR(t);
            break;
        }
        PyTuple_SET_ITEM(t, i, item);
    }
    return t;
}

/* set_young_limit(pages, from_count) and set_trigger(trigger) in one call,
 * for PauseBudget's aim at the end of each of its calls (above). */
static PyObject *
m_budget_aim(PyObject *mod, PyObject *args)
{
    Py_ssize_t pages;
    int from_count, trigger;
    PyObject *trigger_arg;
    if (!PyArg_ParseTuple(args, "niO:budget_aim", &pages, &from_count, &trigger_arg)
        || int_in_range(trigger_arg, 0, INT_MAX, "the young trigger must be >= 0",
                        &trigger) < 0) {
        return NULL;
    }
    gcx_schedule_set_young_limit(pages, from_count, young_pages);
    gcx_schedule_set_trigger(trigger);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"collect", m_collect, METH_O, NULL},
    {"collect_unpromoted", m_collect_unpromoted, METH_O, NULL},
    {"enable", m_enable, METH_NOARGS, NULL},
    {"disable", m_disable, METH_NOARGS, NULL},
    {"isenabled", m_isenabled, METH_NOARGS, NULL},
    {"get_count", m_get_count, METH_NOARGS, NULL},
    {"get_threshold", m_get_threshold, METH_NOARGS, NULL},
    {"set_threshold", m_set_threshold, METH_VARARGS, NULL},
    {"set_threshold_builtin", m_set_threshold_builtin, METH_VARARGS, NULL},
    {"get_debug", m_get_debug, METH_NOARGS, NULL},
    {"set_debug", m_set_debug, METH_O, NULL},
    {"get_stats", m_get_stats, METH_NOARGS, NULL},
    {"get_objects", m_get_objects, METH_O, NULL},
    {"is_tracked", m_is_tracked, METH_O, NULL},
    {"is_finalized", m_is_finalized, METH_O, NULL},
    {"referents_of", m_referents_of, METH_O, NULL},
    {"get_referents", (PyCFunction)(void (*)(void))m_get_referents,
     METH_VARARGS | METH_KEYWORDS,
     "get_referents($module, /, *objs)\n--\n\n"
     "Return the list of objects that are directly referred to by 'objs'."},
    {"get_referrers", (PyCFunction)(void (*)(void))m_get_referrers,
     METH_VARARGS | METH_KEYWORDS,
     "get_referrers($module, /, *objs)\n--\n\n"
     "Return the list of objects that directly refer to any of 'objs'."},
    {"freeze", m_freeze, METH_NOARGS, NULL},
    {"unfreeze", m_unfreeze, METH_NOARGS, NULL},
    {"age", m_age, METH_NOARGS, NULL},
    {"get_freeze_count", m_get_freeze_count, METH_NOARGS, NULL},
    {"stdlib_hook", (PyCFunction)(void (*)(void))m_stdlib_hook, METH_FASTCALL, NULL},
    {"after_fork_child", m_after_fork_child, METH_NOARGS, NULL},
    {"count_as_cpython", m_count_as_cpython, METH_O, NULL},
    {"adopt_counts", m_adopt_counts, METH_VARARGS, NULL},
    {"recent_pauses", m_recent_pauses, METH_NOARGS, NULL},
    {"pauses_since", m_pauses_since, METH_O, NULL},
    {"metrics", m_metrics, METH_NOARGS, NULL},
    {"census", m_census, METH_O, NULL},
    {"set_slow_pause_fd", m_set_slow_pause_fd, METH_VARARGS, NULL},
    {"set_garbage_hook", m_set_garbage_hook, METH_O, NULL},
    {"info", m_info, METH_NOARGS, NULL},
    {"check", m_check, METH_NOARGS, NULL},
    {"resync", m_resync, METH_NOARGS, NULL},
    {"shutdown", m_shutdown, METH_NOARGS, NULL},
    {"noop_tracer", m_noop_tracer, METH_NOARGS, NULL},
    {"set_policy_hook", m_set_policy_hook, METH_O, NULL},
    {"set_trigger", m_set_trigger, METH_O, NULL},
    {"set_young_limit", m_set_young_limit, METH_VARARGS, NULL},
    {"hold", m_hold, METH_O, NULL},
    {"schedule_state", m_schedule_state, METH_NOARGS, NULL},
    {"incr_start", m_incr_start, METH_O, NULL},
    {"incr_slice", m_incr_slice, METH_O, NULL},
    {"incr_frame", m_incr_frame, METH_VARARGS, NULL},
    {"frame_top_saved", m_frame_top_saved, METH_O, NULL},
    {"incr_sweep", m_incr_sweep, METH_O, NULL},
    {"incr_finish", m_incr_finish, METH_NOARGS, NULL},
    {"incr_abandon", m_incr_abandon, METH_NOARGS, NULL},
    {"incr_state", m_incr_state, METH_NOARGS, NULL},
    {"budget_view", m_budget_view, METH_NOARGS, NULL},
    {"budget_aim", m_budget_aim, METH_VARARGS, NULL},
    {"memory", m_memory, METH_O, NULL},
    {"add_pressure", m_add_pressure, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "gcx._gcx",
    "gcx's collector core (private; use the gcx package)", 0, methods,
};

/* m.name = a tuple of the n ints of values */
static int
add_tuple(PyObject *m, const char *name, const long *values, Py_ssize_t n)
{
    PyObject *t = PyTuple_New(n);
    for (Py_ssize_t i = 0; t != NULL && i < n; i++) {
        PyObject *v = PyLong_FromLong(values[i]);
        if (v == NULL) {
            Py_CLEAR(t);
            break;
        }
        PyTuple_SET_ITEM(t, i, v);
    }
    return t == NULL ? -1 : PyModule_Add(m, name, t);
}

/* m.PAUSE_BUCKETS: the histogram's upper bounds in seconds, +inf last */
static int
add_bounds(PyObject *m)
{
    PyObject *list = pause_bounds();
    PyObject *t = list ? PyList_AsTuple(list) : NULL;
    Py_XDECREF(list);
    return t == NULL ? -1 : PyModule_Add(m, "PAUSE_BUCKETS", t);
}

PyMODINIT_FUNC
PyInit__gcx(void)
{
    /* The module is made once, in the main interpreter.  m_size is 0, not
     * -1, so that CPython calls this function again instead of copying the
     * module's dict wherever gcx._gcx is imported anew: a legacy
     * subinterpreter (shared GIL) is refused here, as an isolated one is,
     * rather than handed functions that work on the main interpreter's
     * records; the main interpreter gets its one module back. */
    static PyObject *made = NULL;
    static bool started = false;
    if (PyInterpreterState_Get() != PyInterpreterState_Main()) {
        PyErr_SetString(PyExc_ImportError, "gcx is the main interpreter's collector: "
                        "a subinterpreter cannot import it");
        return NULL;
    }
    if (made != NULL) {
        return Py_NewRef(made);
    }
    if (started) {      /* an earlier import failed after the core started */
        PyErr_SetString(PyExc_ImportError, "gcx._gcx failed to load once and "
                        "cannot be loaded again in this process");
        return NULL;
    }
    if (Py_Version >= GCX_REFUSED_FROM && Py_Version < GCX_REFUSED_BELOW) {
        PyErr_Format(PyExc_ImportError,
                     "gcx supports CPython 3.14.5 and later, not 3.14.%d: 3.14.0-3.14.4 "
                     "shipped an incremental collector whose gc interface means "
                     "other things", (int)((Py_Version >> 8) & 0xff));
        return NULL;
    }
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL) {
        return NULL;
    }
    /* The probes and self-tests allocate enough to set off stdlib
     * collections, which would only cost the import time (about half of
     * it): the stdlib's automatic collection is off meanwhile. */
    int stdlib_was_enabled = PyGC_Disable();
    bool failed = gcx_table_init() < 0 || gcx_stats_init() < 0 || gcx_probe_all() < 0
                  || gcx_frames_init() < 0
                  || gcx_tracer_init() < 0
                  || gcx_schedule_init(gcx_collect, gcx_tr.interp,
                                       gcx_tr.mode == GCX_MODE_SAFE,
                                       gcx_tracer_cpython_collecting()) < 0;
    if (!failed) {
        gcx_schedule_on_change(gcx_tracer_trigger_update);
    }
    if (stdlib_was_enabled) {
        PyGC_Enable();
    }
    if (!failed) {
        gcx_memory_init();
    }
    if (failed) {
        Py_DECREF(m);
        return NULL;
    }
    started = true;
    /* Give the tracer slot back before the interpreter finalizes. */
    PyObject *atexit = PyImport_ImportModule("atexit");
    PyObject *shutdown = atexit ? PyObject_GetAttrString(m, "shutdown") : NULL;
    PyObject *r = shutdown ? PyObject_CallMethod(atexit, "register", "O", shutdown) : NULL;
    Py_XDECREF(r);
    Py_XDECREF(shutdown);
    Py_XDECREF(atexit);
    if (r == NULL) {
        Py_DECREF(m);
        return NULL;
    }
    if (PyModule_AddObjectRef(m, "garbage", gcx_stats.garbage) < 0
        || PyModule_AddObjectRef(m, "callbacks", gcx_stats.callbacks) < 0
        || PyModule_AddStringConstant(m, "MODE_TRACER", gcx_mode_names[GCX_MODE_TRACER]) < 0
        || PyModule_AddIntConstant(m, "DEBUG_STATS", GCX_DEBUG_STATS) < 0
        || PyModule_AddIntConstant(m, "DEBUG_COLLECTABLE", GCX_DEBUG_COLLECTABLE) < 0
        || PyModule_AddIntConstant(m, "DEBUG_UNCOLLECTABLE", GCX_DEBUG_UNCOLLECTABLE) < 0
        || PyModule_AddIntConstant(m, "DEBUG_SAVEALL", GCX_DEBUG_SAVEALL) < 0
        || PyModule_AddIntConstant(m, "DEBUG_LEAK", GCX_DEBUG_LEAK) < 0
        || add_tuple(m, "DEFAULT_THRESHOLDS",
                     (long[]){GCX_THRESHOLD0, GCX_THRESHOLD1, GCX_THRESHOLD2}, 3) < 0
        || PyModule_AddIntConstant(m, "LONG_LIVED_RATIO", GCX_LONG_LIVED_RATIO) < 0
        || PyModule_AddIntConstant(m, "SAFE_SPACING", GCX_SAFE_SPACING) < 0
        || add_bounds(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    made = Py_NewRef(m);
    return m;
}
