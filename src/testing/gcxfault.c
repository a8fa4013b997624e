/* gcx._gcxfault: fault injection for tests (out of memory).
 *
 * A test allocator wraps the RAW, MEM and OBJ domains (PyMem_SetAllocator),
 * chaining every call to the allocator that was there before.  Once armed
 * it counts the allocations (malloc, calloc, realloc) made by the thread
 * that armed it, from 0, and fails allocation number n (and, with every=True,
 * every allocation from n on) by returning NULL without calling the previous
 * allocator.  Frees always pass through.
 *
 *   call(n, fn, *args, every=False)
 *       arm, call fn(*args), disarm; returns (ok, value, allocations,
 *       failures, sites): ok False with value the exception fn raised, else
 *       value its result; allocations counted while armed; failures
 *       injected; sites, for each failure injected (the first 64), where it
 *       came from: "core" when the innermost frame outside libpython, libc
 *       and this module is in gcx's core (gcx._gcx) and no frame of the eval
 *       loop lies between (an allocation by the core itself or by a C API
 *       call it made, not by Python code it ran), "python" when the eval loop
 *       comes first, "other" otherwise.
 *   arm(n, every=False), disarm() -> (allocations, failures)
 *       the same, by hand (the caller's own allocations count too).
 *
 * The wrapper is installed at the first arm and stays installed (removing
 * it would race other threads' RAW allocations); disarmed it only forwards.
 * Only the arming thread is counted: other threads allocate normally.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>          /* first: it defines _GNU_SOURCE (dladdr) */
#include <pthread.h>
#include <dlfcn.h>
#include <execinfo.h>
#include <string.h>
#include <stdbool.h>

enum { DOMAINS = 3, MAX_SITES = 64 };
static const PyMemAllocatorDomain domain_ids[DOMAINS] = {
    PYMEM_DOMAIN_RAW, PYMEM_DOMAIN_MEM, PYMEM_DOMAIN_OBJ};
static PyMemAllocatorEx previous[DOMAINS];
static bool installed;

static volatile int armed;
static pthread_t armed_thread;
static Py_ssize_t fail_at;
static bool fail_every;
static Py_ssize_t counted;
static Py_ssize_t failures;
static char sites[MAX_SITES];     /* 'c' core, 'p' python, 'o' other */
static bool in_backtrace;

/* Where does the allocation being failed come from?  See the top comment. */
static char
classify(void)
{
    void *frames[96];
    int n = backtrace(frames, 96);
    Dl_info self;
    if (!dladdr((void *)classify, &self)) {
        return 'o';
    }
    for (int i = 1; i < n; i++) {
        Dl_info info;
        if (!dladdr(frames[i], &info) || info.dli_fname == NULL) {
            continue;
        }
        if (info.dli_fbase == self.dli_fbase) {
            continue;   /* this module */
        }
        if (info.dli_sname != NULL
            && strcmp(info.dli_sname, "_PyEval_EvalFrameDefault") == 0) {
            return 'p';
        }
        const char *base = strrchr(info.dli_fname, '/');
        base = base ? base + 1 : info.dli_fname;
        if (strncmp(base, "_gcx.", 5) == 0) {
            return 'c';
        }
    }
    return 'o';
}

/* Should this allocation fail?  Counts it when armed on this thread. */
static inline bool
should_fail(void)
{
    if (!armed || in_backtrace || !pthread_equal(pthread_self(), armed_thread)) {
        return false;
    }
    Py_ssize_t k = counted++;
    if (k == fail_at || (fail_every && k > fail_at)) {
        if (failures < MAX_SITES) {
            in_backtrace = true;
            sites[failures] = classify();
            in_backtrace = false;
        }
        failures++;
        return true;
    }
    return false;
}

#define WRAP(i)                                                                  \
    static void *malloc_##i(void *ctx, size_t size) {                            \
        if (should_fail()) return NULL;                                          \
        return previous[i].malloc(previous[i].ctx, size);                        \
    }                                                                            \
    static void *calloc_##i(void *ctx, size_t nelem, size_t elsize) {            \
        if (should_fail()) return NULL;                                          \
        return previous[i].calloc(previous[i].ctx, nelem, elsize);               \
    }                                                                            \
    static void *realloc_##i(void *ctx, void *ptr, size_t size) {                \
        if (should_fail()) return NULL;                                          \
        return previous[i].realloc(previous[i].ctx, ptr, size);                  \
    }                                                                            \
    static void free_##i(void *ctx, void *ptr) {                                 \
        previous[i].free(previous[i].ctx, ptr);                                  \
    }

WRAP(0)
WRAP(1)
WRAP(2)

static void
install(void)
{
    if (installed) {
        return;
    }
    /* warm up the unwinder (its first call loads libgcc_s) */
    void *frames[4];
    (void)backtrace(frames, 4);
    PyMemAllocatorEx ours[DOMAINS] = {
        {NULL, malloc_0, calloc_0, realloc_0, free_0},
        {NULL, malloc_1, calloc_1, realloc_1, free_1},
        {NULL, malloc_2, calloc_2, realloc_2, free_2},
    };
    for (int i = 0; i < DOMAINS; i++) {
        PyMem_GetAllocator(domain_ids[i], &previous[i]);
    }
    for (int i = 0; i < DOMAINS; i++) {
        PyMem_SetAllocator(domain_ids[i], &ours[i]);
    }
    installed = true;
}

static void
do_arm(Py_ssize_t n, bool every)
{
    install();
    fail_at = n;
    fail_every = every;
    counted = 0;
    failures = 0;
    armed_thread = pthread_self();
    armed = 1;
}

static PyObject *
sites_tuple(void)
{
    Py_ssize_t n = failures < MAX_SITES ? failures : MAX_SITES;
    PyObject *t = PyTuple_New(n);
    for (Py_ssize_t i = 0; t != NULL && i < n; i++) {
        const char *s = sites[i] == 'c' ? "core" : sites[i] == 'p' ? "python" : "other";
        PyObject *u = PyUnicode_FromString(s);
        if (u == NULL) {
            Py_CLEAR(t);
            break;
        }
        PyTuple_SET_ITEM(t, i, u);
    }
    return t;
}

static PyObject *
m_arm(PyObject *mod, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"n", "every", NULL};
    Py_ssize_t n;
    int every = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "n|p:arm", kwlist, &n, &every)) {
        return NULL;
    }
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "n must be >= 0");
        return NULL;
    }
    do_arm(n, every);
    Py_RETURN_NONE;
}

static PyObject *
m_disarm(PyObject *mod, PyObject *unused)
{
    armed = 0;
    return Py_BuildValue("(nn)", counted, failures);
}

static PyObject *
m_call(PyObject *mod, PyObject *args, PyObject *kwds)
{
    Py_ssize_t nargs = PyTuple_GET_SIZE(args);
    if (nargs < 2) {
        PyErr_SetString(PyExc_TypeError, "call(n, fn, *args, every=False)");
        return NULL;
    }
    Py_ssize_t n = PyLong_AsSsize_t(PyTuple_GET_ITEM(args, 0));
    if (n == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (n < 0) {
        PyErr_SetString(PyExc_ValueError, "n must be >= 0");
        return NULL;
    }
    int every = 0;
    if (kwds != NULL) {
        PyObject *e = PyDict_GetItemString(kwds, "every");
        if (PyDict_GET_SIZE(kwds) != (e != NULL)) {
            PyErr_SetString(PyExc_TypeError, "call() takes only the keyword 'every'");
            return NULL;
        }
        if (e != NULL && (every = PyObject_IsTrue(e)) < 0) {
            return NULL;
        }
    }
    PyObject *fn = PyTuple_GET_ITEM(args, 1);
    PyObject *const *argv = &PyTuple_GET_ITEM(args, 2);

    do_arm(n, every);
    PyObject *r = PyObject_Vectorcall(fn, argv, (size_t)(nargs - 2), NULL);
    armed = 0;

    PyObject *value;
    int ok = r != NULL;
    if (ok) {
        value = r;
    }
    else {
        value = PyErr_GetRaisedException();
        if (value == NULL) {
            PyErr_SetString(PyExc_SystemError, "fn failed without an exception");
            return NULL;
        }
    }
    PyObject *s = sites_tuple();
    if (s == NULL) {
        Py_DECREF(value);
        return NULL;
    }
    PyObject *result = Py_BuildValue("(ONnnN)", ok ? Py_True : Py_False, value,
                                     counted, failures, s);
    return result;
}

static PyObject *
m_is_armed(PyObject *mod, PyObject *unused)
{
    return PyBool_FromLong(armed);
}

static PyMethodDef methods[] = {
    {"arm", (PyCFunction)(void (*)(void))m_arm, METH_VARARGS | METH_KEYWORDS,
     "arm(n, every=False): fail allocation n (and every one after, with every)."},
    {"disarm", m_disarm, METH_NOARGS,
     "disarm() -> (allocations counted, failures injected)"},
    {"call", (PyCFunction)(void (*)(void))m_call, METH_VARARGS | METH_KEYWORDS,
     "call(n, fn, *args, every=False) -> (ok, value, allocations, failures, sites)"},
    {"is_armed", m_is_armed, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, "gcx._gcxfault",
    "Test-only allocation fault injection for gcx.", -1, methods,
};

PyMODINIT_FUNC
PyInit__gcxfault(void)
{
    return PyModule_Create(&moduledef);
}
