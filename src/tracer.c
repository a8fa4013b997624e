/* tracer.c: how the table learns which containers exist, and when its
 * records may be trusted.
 *
 * Start at gcx_tracer_init and tracer().  CPython 3.13 reports object
 * creation and deallocation to one process-wide reference tracer.  gcx
 * installs one that records every container (PyType_IS_GC) at CREATE in
 * generation 0 and drops its record at DESTROY.
 *
 * Four modes, chosen at start-up by self-tests, never by version number
 * (gcx_tracer_init: lists mode first, where its self-tests pass):
 *  lists   the default: the allocator wrapper saw every container freed
 *          during its self-test and lists.c proved the lists' layout (every
 *          3.12-3.15 GIL build).  No tracer: births are read from CPython's
 *          own generation lists (lists.c) before any record is used, deaths
 *          come from the wrapper (hook_free); exact while the wrapper is in
 *          the allocator chain (R1).  Chosen over tracer mode because
 *          CPython's tracer hook costs every object (150-250 instructions on
 *          3.14/3.15, ~50 on 3.13) where lists mode pays a counter per
 *          allocation and a filter test per free: whole programs cost less
 *          on 3.13, 3.14 and 3.15 (benchmarks/tracking_counts.py --suite).
 *  tracer  lists mode unavailable, and the tracer reported every death
 *          during its self-test (3.13.3+, 3.14.8+, 3.15.1+).  Records are
 *          exact while gcx owns the slot, so collections use them directly.
 *  alloc   lists mode unavailable and the tracer misses deaths (3.13.0-3.13.2
 *          miss every object the bytecode loop frees; 3.14.5-3.14.7 and
 *          3.15.0 those the trashcan deferred), but the allocator wrapper
 *          saw every container freed during its own self-test: births come
 *          from the tracer, deaths from the wrapper, exact while both are in
 *          place (R1); or GCX_MODE=alloc.
 *  safe    no self-test passed, or GCX_MODE=safe: a record may name
 *          freed memory.  Before any record is dereferenced the table is
 *          rebuilt from CPython's own list of tracked objects
 *          (PyUnstable_GC_VisitObjects): O(live heap) per collection.
 * GCX_MODE=tracer|alloc|lists|safe forces one (ImportError if it is
 * unavailable).
 *
 * Invariants:
 *  R1  In tracer mode, while gcx_tr.stale is false, every record names a
 *      live object (or one inside its tp_dealloc, whose DESTROY is pending,
 *      or on 3.14+ one the trashcan deferred, whose DESTROY comes when the
 *      chain drains: count 0, never taken for tracked, compat.h).  In alloc
 *      and lists modes, while the wrapper is in the allocator chain, the
 *      same, or an object parked on a free list (count 0) whose memory is CPython's.
 *  R2  A record is dereferenced only after gcx_sync(): it clears `stale` by
 *      a dropping resync.  `stale` is set whenever events may have been
 *      missed: safe mode, or the slot found in other hands (tracemalloc
 *      start/stop), in which case gcx re-installs itself, forwarding every
 *      event to the previous owner so that owner keeps working; in alloc
 *      mode also the wrapper found out of the allocator chain, when gcx
 *      wraps the allocator in place again.
 *  R3  Live tracked containers without a record (created while the slot was
 *      lost, resurrected by a finalizer on 3.13.5+, which sends no second
 *      CREATE) are found by an adding resync when `unsure` is set, and
 *      adopted whenever gcx meets one (gcx_adopt) -- but never one that may
 *      be inside its own deallocation: CPython re-tracks an object while its
 *      finalizer runs from tp_dealloc, after DESTROY was reported, and frees
 *      it afterwards without another event; a record made then would
 *      dangle.  Such an object has a finalizer that has not completed (the
 *      FINALIZED bit is set only when it returns) or a legacy tp_del, so
 *      adoptable() refuses exactly those in tracer mode (valgrind found
 *      this one); safe mode needs no such care, since it drops dangling
 *      records before every use.
 *  R4  The tracer touches only C memory, creates no Python object, never
 *      raises and never runs a collection; it may schedule one (schedule.c).
 *  R5  CPython 3.13 tracks a dict lazily, when a container is first stored
 *      in it, and links it into generation 0 then, however old the dict
 *      is.  No event reports that, so gcx watches (PyDict_Watch) every
 *      untracked dict whose record it moves out of generation 0; the
 *      watcher moves the record back to generation 0 when a container is
 *      stored, and stops watching.  Untracked tuples are never tracked
 *      again; gcx drops their records.  3.14+ tracks every dict from birth
 *      and never re-tracks one that C code untracked (gcx_probed.dicts_lazy
 *      is false): no watcher then, and gcx never untracks dicts there.
 *  R6  The tracer may be called with no object (3.15's TRACKER_REMOVED,
 *      when the slot changes hands): it then only marks records stale.
 */
#include "gcx.h"
#include "lists.h"
#include "trashcan.h"
#include <stdlib.h>
#include <string.h>

gcx_tracer_t gcx_tr;

/* A container at op died, or one was made there: the watch hears of it
 * (W1 of finalize.c; gcx_watch_begin). */
static inline __attribute__((always_inline)) void
watch_gone(PyObject *op)
{
    if (gcx_tr.gone != NULL) {
        gcx_tr.gone(op);
    }
}

/* ---- the tracer ------------------------------------------------------------ */

/* The tracer slot is the runtime's: subinterpreters' objects reach it too,
 * from other threads when they have their own GIL, and must never touch the
 * table.  Asking PyInterpreterState_Get for every container costs a call
 * (7% of a loop that allocates containers), so while the runtime's list of
 * interpreters begins with the main one, the tracer does not ask: the list
 * is newest first, and CPython links an interpreter in before its first
 * object exists and unlinks it only after its last is freed (and its thread
 * state is gone), so a head equal to the main interpreter means no other
 * exists.  gcx_probed.interp_head points at that head (probe.c), or is NULL
 * and every container asks. */

/* Could an object of type tp run a finalizer from its tp_dealloc? */
static inline bool
may_resurrect(PyTypeObject *tp)
{
    return tp->tp_del != NULL
           || (tp->tp_finalize != NULL && tp->tp_finalize == gcx_probed.py_del_slot);
}

/* True when the main interpreter is known to be the only one. */
static inline bool
main_interp_alone(void)
{
    PyInterpreterState **head = gcx_probed.interp_head;
    return head != NULL && __atomic_load_n(head, __ATOMIC_RELAXED) == gcx_tr.interp;
}

static inline bool
foreign_interp(void)
{
    return !main_interp_alone() && PyInterpreterState_Get() != gcx_tr.interp;
}

/* A container was created or is about to be freed: the whole job, for
 * every case tracer()'s fast paths leave (and for tracer_chained()). */
static __attribute__((noinline)) int
on_container(PyObject *op, PyRefTracerEvent event)
{
    if (foreign_interp()) {
        return 0;    /* subinterpreters are not gcx's */
    }
    /* a member of the garbage being finalized dies, or a new object takes
     * its address (W1 of finalize.c) */
    watch_gone(op);
    if (event == PyRefTracer_CREATE) {
        gcx_table_add(op, GCX_GEN0);
        gcx_schedule_on_alloc();
    }
    else if (event == PyRefTracer_DESTROY) {
        gcx_table_discard(op);
        PyTypeObject *tp = Py_TYPE(op);
        if (may_resurrect(tp) && !PyObject_GC_IsFinalized(op)) {
            /* its finalizer may resurrect it, and 3.13.5+ sends no CREATE */
            gcx_tr.suspects++;
        }
        gcx_schedule_on_free();
    }
    return 0;
}

/* 3.15: the tracer is called with no object (PyRefTracer_TRACKER_REMOVED)
 * when someone else takes or clears the slot.  Events are missed from now
 * on (R2); gcx_sync takes the slot back before records are next used.  Not
 * forwarded: the previous owner is told by CPython when its own turn
 * ends.  No other version calls a tracer with NULL. */
static int
slot_removed(void)
{
    gcx_tr.stale = true;
    gcx_tr.unsure = gcx_tr.unsure_sticky = true;
    return 0;
}

/* gcx's tracer when the slot had a previous owner (tracemalloc): forward,
 * then record.  A tracer of its own, put in the slot instead of tracer(),
 * so that tracer() never asks whether to forward. */
static int
tracer_chained(PyObject *op, PyRefTracerEvent event, void *data)
{
    if (op == NULL) {
        return slot_removed();
    }
    (void)gcx_tr.chain_fn(op, event, gcx_tr.chain_data);
    return PyType_IS_GC(Py_TYPE(op)) ? on_container(op, event) : 0;
}

/* Called for every object CPython creates or frees.  The usual container
 * event (the main interpreter alone, the page in the lookup cache, nothing
 * to schedule or suspect) is handled here, where every call is a tail
 * call, so that no path through it needs a stack frame; on_container does
 * the rest, starting from scratch. */
static int
tracer(PyObject *op, PyRefTracerEvent event, void *data)
{
    if (op == NULL) {
        return slot_removed();
    }
    PyTypeObject *tp = Py_TYPE(op);
    if (!PyType_IS_GC(tp)) {
        return 0;
    }
    if (!main_interp_alone() || gcx_tr.gone != NULL) {
        return on_container(op, event);
    }
    if (event == PyRefTracer_CREATE) {
        if (gcx_schedule_alloc_due() || !gcx_table_try_add(op, GCX_GEN0)) {
            return on_container(op, event);
        }
        gcx_schedule_count_alloc();
        return 0;
    }
    if (event == PyRefTracer_DESTROY) {
        if (may_resurrect(tp) || !gcx_table_try_discard(op)) {
            return on_container(op, event);
        }
        gcx_schedule_on_free();
    }
    return 0;
}

static bool
own_slot(void)
{
    void *data = NULL;
    PyRefTracer fn = PyRefTracer_GetTracer(&data);
    return (fn == tracer || fn == tracer_chained) && data == (void *)&gcx_tr;
}

/* Put gcx's tracer in the slot, forwarding to whoever held it. */
static void
take_slot(void)
{
    void *data = NULL;
    PyRefTracer fn = PyRefTracer_GetTracer(&data);
    if (fn == tracer || fn == tracer_chained) {
        return;
    }
    gcx_tr.chain_fn = fn;
    gcx_tr.chain_data = data;
    (void)PyRefTracer_SetTracer(fn != NULL ? tracer_chained : tracer, (void *)&gcx_tr);
    gcx_tr.installed = true;
}

/* ---- deaths at the object allocator (alloc mode) --------------------------- */

/* CPython gives a container its memory with PyObject_Malloc(presize +
 * basicsize) and takes it back with PyObject_Free(op - presize) (gc_alloc
 * and PyObject_GC_Del, 3.12-3.15), where presize is the 16-byte GC header
 * plus, for types with Py_TPFLAGS_PREHEADER, 16 bytes of managed dict and
 * weakref pointers.  So a wrapper around the object-domain allocator sees
 * the memory of every container released, whatever path its deallocation
 * took: the block B freed held its container at B+16 or B+32, and any
 * record at those addresses is dead (both lie inside B: every GC block is
 * at least 32 bytes, and an object of a block just past B would start at
 * least 16 bytes into it).  A record at B+32 of a container at B+16 can
 * only be a stale one, so dropping both is exact.  A realloc that moves the
 * block moves the records with it (tuple resizes).  Objects parked on a
 * free list are not freed: their records stay, naming memory that is still
 * CPython's with count 0, which gcx never takes for tracked (compat.h); the
 * next CREATE of that address moves the record back to generation 0.
 *
 * The wrapper chains to the allocator it found and is only ever added on
 * top; tracemalloc saves and restores the object allocator at start/stop,
 * keeping the wrapper in its chain.  Whether it is still in the chain is
 * asked at every entry point (gcx_sync): by the top allocator, or else by
 * freeing one block and seeing whether the wrapper saw it.
 *
 * Like the tracer, the wrapper runs for every interpreter (with their own
 * GIL, from other threads): only the main interpreter's frees touch the
 * table.  It never allocates, never runs Python code, never collects. */

static PyMemAllocatorEx hook_next;     /* the allocator the wrapper wraps */
static bool hook_wrapped;              /* the wrapper was put in the chain */
static bool hook_on;                   /* alloc mode: frees drop records */
static size_t hook_frees;              /* frees seen, for hook_in_chain */

/* Drop the record at address a: the set it was in, or -1. */
static inline int
drop_record(uintptr_t a)
{
    gcx_page_t *p = gcx_page_find(gcx_addr_key(a));
    return p == NULL ? -1 : gcx_rec_discard(p, gcx_addr_slot(a));
}

/* Is this the main interpreter's thread?  (R4: only it touches the table
 * or the schedule.) */
static inline bool
hook_main(void)
{
    if (gcx_tr.shut_down) {
        return false;
    }
    if (main_interp_alone()) {
        return true;
    }
    PyThreadState *ts = PyThreadState_GetUnchecked();
    return ts != NULL && PyThreadState_GetInterpreter(ts) == gcx_tr.interp;
}

/* May a free drop records here? */
static inline bool
hook_may_touch(void)
{
    return hook_on && hook_main();
}

static bool births_from_lists;   /* no tracer reports births: read them */
static bool tracer_used;         /* gcx's tracer is meant to be in the slot */
static inline void births_due(void);

static void *
hook_malloc(void *ctx, size_t n)
{
    if (births_from_lists) {
        births_due();
    }
    return hook_next.malloc(hook_next.ctx, n);
}

static void *
hook_calloc(void *ctx, size_t nelem, size_t elsize)
{
    if (births_from_lists) {
        births_due();
    }
    return hook_next.calloc(hook_next.ctx, nelem, elsize);
}

/* The two places a container of a freed block B can start, B + 16 and
 * B + 32, are slots `slot` and `slot + NEXT`.  Usually both lie in one
 * word of a page's sets (so on one page): one page lookup and one line of
 * the page say whether either holds a record. */
enum { NEXT = 16 >> GCX_GRAIN_SHIFT };

static inline bool
both_in_one_word(unsigned slot)
{
    return (slot & 63) < 64 - NEXT;
}

/* Bit 0: slot holds a record; bit NEXT: slot + NEXT does (both_in_one_word). */
static inline uint64_t
both_recorded(const gcx_page_t *p, unsigned slot)
{
    const uint64_t *w = p->sets[slot >> 6];
    return ((w[0] | w[1] | w[2] | w[3]) >> (slot & 63)) & (1 | 1u << NEXT);
}

/* A container at a died: its record goes, and if it is a member of the
 * garbage being finalized, it is struck out of it (W1 of finalize.c: a
 * member has a record until it dies). */
static inline void
drop_found(gcx_page_t *p, unsigned slot, uintptr_t a)
{
    (void)gcx_rec_discard(p, slot);
    watch_gone((PyObject *)a);
}

/* Drop the records at a and a + 16 (a = B + 16); whether there was one. */
static inline bool
drop_both(uintptr_t a)
{
    unsigned slot = gcx_addr_slot(a);
    if (both_in_one_word(slot)) {
        gcx_page_t *p = gcx_page_find(gcx_addr_key(a));
        if (p == NULL) {
            return false;
        }
        uint64_t found = both_recorded(p, slot);
        if (found & 1) {
            drop_found(p, slot, a);
        }
        if (found & (1u << NEXT)) {
            drop_found(p, slot + NEXT, a + 16);
        }
        return found != 0;
    }
    int s16 = drop_record(a), s32 = drop_record(a + 16);
    if (s16 >= 0) {
        watch_gone((PyObject *)a);
    }
    if (s32 >= 0) {
        watch_gone((PyObject *)(a + 16));
    }
    return s16 >= 0 || s32 >= 0;
}

/* Where a = B + 16's page is in the lookup cache and both places lie in
 * one word of it: true, with the page (NULL: none), a's slot and
 * both_recorded's bits (0 without a page).  Only where hook_may_touch
 * holds: the cache is the main interpreter's. */
static inline bool
cached_records(uintptr_t a, gcx_page_t **page, unsigned *slot, uint64_t *found)
{
    uintptr_t key = gcx_addr_key(a);
    const gcx_slot_t *c = &gcx_table.cache[key & (GCX_CACHE_SIZE - 1)];
    *slot = gcx_addr_slot(a);
    if (c->key != key || !both_in_one_word(*slot)) {
        return false;
    }
    *page = c->page;
    *found = *page == NULL ? 0 : both_recorded(*page, *slot);
    return true;
}

/* May B + 16 (a) or B + 32 hold a record?  False when the page filter
 * (T7) or, for a page in the lookup cache, the page's sets say neither
 * does.  Only where hook_may_touch holds. */
static inline bool
may_be_recorded(uintptr_t a)
{
    gcx_page_t *p;
    unsigned slot;
    uint64_t found;
    return gcx_page_maybe(gcx_addr_key(a))
           && (!cached_records(a, &p, &slot, &found) || found != 0);
}

/* The memory of block B is going back to the allocator: drop the records
 * it held (at B + 16 and B + 32), then free it. */
static __attribute__((noinline)) void
free_dropping(void *block)
{
    if (hook_may_touch() && drop_both((uintptr_t)block + 16)) {
        /* a container's memory: its death, whatever the tracer saw */
        gcx_schedule_on_free();
    }
    hook_next.free(hook_next.ctx, block);
}

/* free_maybe_recorded's usual case while the garbage is watched (W1 of
 * finalize.c): the records found at B + 16 (slot) and B + 32 go, and the
 * deaths are struck. */
static __attribute__((noinline)) void
free_struck(gcx_page_t *p, unsigned slot, uint64_t found, void *block)
{
    uintptr_t a = (uintptr_t)block + 16;
    if (found & 1) {
        drop_found(p, slot, a);
    }
    if (found & (1u << NEXT)) {
        drop_found(p, slot + NEXT, a + 16);
    }
    gcx_schedule_on_free();
    hook_next.free(hook_next.ctx, block);
}

/* The page filter says B's page may hold records.  The usual cases, the
 * main interpreter alone and the page in the lookup cache, are answered
 * here with no stack frame: a block on a page of containers that is not
 * one (a string, the memory of a list), and a container's block, whose
 * records go as drop_both drops them; free_dropping does the rest from
 * scratch. */
static __attribute__((noinline)) void
free_maybe_recorded(void *block)
{
    uintptr_t a = (uintptr_t)block + 16;
    gcx_page_t *p;
    unsigned slot;
    uint64_t found;
    /* hook_may_touch's usual case, and gcx_page_find's */
    if (hook_on && !gcx_tr.shut_down && main_interp_alone()
        && cached_records(a, &p, &slot, &found)) {
        if (!found) {
            hook_next.free(hook_next.ctx, block);
            return;
        }
        if (gcx_tr.gone != NULL) {
            free_struck(p, slot, found, block);
            return;
        }
        if (found & 1) {
            (void)gcx_rec_discard(p, slot);
        }
        if (found & (1u << NEXT)) {
            (void)gcx_rec_discard(p, slot + NEXT);
        }
        gcx_schedule_on_free();
        hook_next.free(hook_next.ctx, block);
        return;
    }
    free_dropping(block);
}

/* Most blocks freed are not containers (strings, bytes, ints, floats, the
 * memory of lists and dicts), and many lie on pages that hold no record:
 * the page filter says so in a few instructions, before anything else is
 * read; one bit answers for both places a container can start (T7).
 * Reading it from another interpreter's thread is harmless: only the main
 * interpreter's thread writes it, and hook_may_touch still decides. */
static bool frees_look;   /* K2: allocations go uncounted; frees look instead */

static void
hook_free(void *ctx, void *block)
{
    hook_frees++;
    if (__builtin_expect(frees_look, 0) && births_from_lists) {
        births_due();
    }
    if (block != NULL && gcx_page_maybe(gcx_addr_key((uintptr_t)block + 16))) {
        free_maybe_recorded(block);   /* both tail calls: no frame here */
        return;
    }
    hook_next.free(hook_next.ctx, block);
}

static void *
hook_realloc(void *ctx, void *block, size_t n)
{
    void *moved = hook_next.realloc(hook_next.ctx, block, n);
    /* most blocks resized are strings and bytes, whose places hold no
     * record (so none a watch holds: W1) */
    if (moved != NULL && block != NULL && moved != block
        && hook_may_touch() && may_be_recorded((uintptr_t)block + 16)) {
        uintptr_t from = (uintptr_t)block, to = (uintptr_t)moved;
        watch_gone((PyObject *)(from + 16));
        watch_gone((PyObject *)(from + 32));
        int s16 = drop_record(from + 16);
        int s32 = drop_record(from + 32);
        if (s16 >= 0) {
            gcx_table_add((PyObject *)(to + 16), s16);
        }
        if (s32 >= 0) {
            gcx_table_add((PyObject *)(to + 32), s32);
        }
    }
    return moved;
}

static void
hook_wrap(void)
{
    gcx_tr.allocator_wraps++;
    PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &hook_next);
    /* the wrapped allocator's ctx: the wrapper's own functions ignore it,
     * and while CPython's own trigger is armed its malloc and calloc are
     * the wrapped ones (K2) */
    PyMemAllocatorEx mine = {hook_next.ctx, hook_malloc, hook_calloc, hook_realloc, hook_free};
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &mine);
}

/* Is the wrapper the top of the object allocator's chain? */
static bool
wrapper_on_top(void)
{
    PyMemAllocatorEx top;
    PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &top);
    return top.free == hook_free;
}

/* Is the wrapper still between CPython and the allocator it wrapped? */
static bool
hook_in_chain(void)
{
    if (wrapper_on_top()) {
        return true;
    }
    size_t before = hook_frees;
    PyObject_Free(PyObject_Malloc(1));
    return hook_frees != before;
}

/* ---- CPython's own trigger (G10 of schedule.c) ------------------------------ */

/* Where gcx is the process's collector and reads births when it collects
 * (G9), all an allocation needs to tell is whether CPython's count of
 * generation 0 has passed the threshold, which CPython itself checks at
 * every container it allocates, for its own collector.  Counting
 * allocations in the wrapper's malloc instead costs more than it seems:
 * with the wrapper in the chain, CPython's build cannot take the inlined
 * path of its allocator (taken only when the allocator is its own), and
 * each allocation pays two calls through pointers (7-20% of a loop that
 * makes dicts and objects, 3.13.5-3.15.2).  So there, the wrapper's malloc
 * steps aside and CPython's trigger serves:
 *
 *  K1  Armed (cpython_triggers) only in lists mode, while schedule.c's G10
 *      holds (gcx is the process's collector, automatic collection on,
 *      no no-GC region, not safe mode; a policy or not), on 3.13.3 and later
 *      (where PyUnstable_GC_VisitObjects visits the permanent generation,
 *      so a resync still sees every container), from the main
 *      interpreter, with the wrapper at the top of the allocator chain and
 *      CPython's permanent generation empty (lists.c: disarming thaws it
 *      whole).  Arming turns CPython's collector on at schedule.c's
 *      threshold (where a request would be made: the young trigger, or
 *      past it where a request backed off), its threshold 1 at 0 and its
 *      count of generation 1 kept at 1, generation 2 out of its reach; the
 *      threshold follows schedule.c's as it moves.  So each collection
 *      CPython schedules is one of generation 1, and runs (and calls back)
 *      whatever generation 0's count is by the eval-breaker check where
 *      it runs: a C call that passes threshold 0 and frees what it made
 *      before it returns leaves it under, and the stdlib's rule, which gcx
 *      applies in the callback, may still take generation 1 there.
 *  K2  Armed, the wrapper's malloc and calloc are the wrapped allocator's
 *      own (its ctx is the wrapped one's either way, so that a thread of
 *      another interpreter reading the struct as it changes calls a
 *      valid pair); frees go through the wrapper as ever.  Disarmed, they
 *      count again; if another wrapper put above meanwhile keeps a copy of
 *      the armed struct, the frees look instead (frees_look) until the
 *      wrapper is at the top again.
 *  K3  CPython's collection of generation 1 (or one of generation 0 that
 *      starts with its count past the armed threshold, should its count
 *      of generation 1 be 0) is the trigger: at its "start" callback
 *      gcx serves the request inside it (schedule.c: the stdlib's rule's
 *      collection, which reads births itself, or the policy's decision,
 *      which reads the young records: births are read before it), reads
 *      births again as at any stdlib start
 *      (what finalizers and the policy made), then freezes every list
 *      (gc.freeze: O(1)) and tracks
 *      its marker again.  The stdlib's collection then finds generation 0
 *      holding the marker alone, and moves it to generation 2, where the
 *      next read finds it vouched for (see vouch, below); at its "stop"
 *      its count of generation 1 is set to 1 again.  Every container
 *      older than the marker is in the permanent generation: a walk for
 *      the stdlib's order goes on into it (lists.c).
 *  K4  Disarmed as soon as G10 stops holding (schedule.c tells at every
 *      control: enable, thresholds, a region, uninstall, the hand-over
 *      at exit), and at exit: everything is thawed into
 *      generation 2, and CPython's collector is as it was. */

static int armed_threshold;

/* K2: whether the wrapper at the top of the chain counts allocations now
 * as `counted` says (false: another wrapper is above it). */
static bool
count_allocations(bool counted)
{
    PyMemAllocatorEx top;
    PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &top);
    if (top.free != hook_free) {
        return false;
    }
    if ((top.malloc == hook_malloc) != counted) {
        top.ctx = hook_next.ctx;
        top.malloc = counted ? hook_malloc : hook_next.malloc;
        top.calloc = counted ? hook_calloc : hook_next.calloc;
        PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &top);
    }
    return true;
}

static void
disarm(void)
{
    gcx_tr.cpython_triggers = false;
    gcx_lists_trigger_disarm();
    frees_look = !count_allocations(true);
    gcx_schedule_look_within(1);
}

void
gcx_tracer_trigger_update(void)
{
    if (!births_from_lists || !hook_wrapped) {
        return;
    }
    bool want = !gcx_tr.shut_down && Py_Version >= 0x030D0300 && gcx_lists_can_flag()
                && gcx_schedule_cpython_may_trigger() && hook_main();
    int t = gcx_schedule_cpython_threshold();
    if (want && !gcx_tr.cpython_triggers) {
        if (wrapper_on_top() && gcx_lists_trigger_arm(t)) {
            (void)count_allocations(false);
            frees_look = false;
            armed_threshold = t;
            gcx_tr.cpython_triggers = true;
        }
    }
    else if (want && t != armed_threshold) {
        gcx_lists_trigger_rearm(t);
        armed_threshold = t;
    }
    else if (!want && gcx_tr.cpython_triggers) {
        disarm();
    }
}

/* ---- births from CPython's generation lists (lists mode, 3.12) ------------- */

/* Where no tracer reports births (3.12 has none; lists mode on 3.13+ does
 * without it, so that creating and freeing an object costs nothing at its
 * creation), gcx reads them from CPython's own lists: CPython links every
 * container it tracks at the tail of its youngest list.  A marker of gcx's
 * own (an empty list) is kept at that tail: after each read gcx untracks
 * and tracks it again.  What CPython tracked since the last read is then
 * what lists.c finds after the marker: O(new containers), before any
 * record is used (gcx_sync).  Where lists.c could not prove the lists'
 * layout (L1), the same set is found by walking every tracked container
 * twice with PyUnstable_GC_VisitObjects (O(live heap)): see birth_walk.
 *
 * Every container read is in generation 0, where CPython has just linked
 * it: new ones, one reused from a free list (whose death nothing reported:
 * its record stayed, with count 0), one tracked again (a lazily tracked
 * dict, an object resurrected by its finalizer).  Except after a stdlib
 * collection, whose scan moves what it finds reachable late to the end of
 * the list it keeps, behind the marker, older containers too: what follows
 * the marker then is taken as new only if it has no record; and after the
 * stdlib's gc.freeze(), which appends generation 0 to the permanent one
 * before the older generations: what follows the marker there is then in
 * no order, so only containers without a record are taken as new; and the
 * marker stays frozen until the stdlib's gc.unfreeze() (moving it out would
 * change the stdlib's frozen count), so the read that finds it frozen goes
 * on from a spare marker (place_marker).
 *
 * Automatic collections need the count of births: the first allocation
 * that finds the young count at the point where a collection is asked for
 * queues a pending call (births_due) that reads them and lets schedule.c
 * decide (installed, that count is CPython's own, up at every container
 * allocated: the read, and the collection, come when the stdlib's would).
 * Installed, with automatic collection on and no policy, that is the only
 * read (G9 of schedule.c): a container that dies before it is never
 * recorded.  Otherwise (gcx's own count, a policy that reads the young
 * records, automatic collection off) a read is also queued every
 * births_every object allocations.  births_every, set at each read, is
 * BIRTHS_EVERY, or the young trigger (threshold 0) if that is smaller
 * (gcx's own count, not installed, moves only at reads: a container takes
 * at least one allocation, so small thresholds are met too). */

#define BIRTHS_EVERY 1024        /* object allocations between automatic reads, at most */
#define BIRTHS_EVERY_MIN 32      /* ... and at least */

static unsigned allocs_unread;   /* object allocations since the last read, as of
                                    the last look (births_look) */
static unsigned births_every = BIRTHS_EVERY;
static bool births_queued;
static PyObject *birth_marker;   /* gcx's own list, never garbage */
static PyObject *watch_marker;   /* another, for the watch (below) */

static __attribute__((noinline)) void
read_untried(PyObject *op, bool recent, Py_ssize_t *births);

/* A container CPython tracked since the last read (recent), or one that
 * may be (not recent: only a missing record is news); the usual case, a
 * new container in a cached page, inline. */
static inline __attribute__((always_inline)) void
read_one(PyObject *op, bool recent, Py_ssize_t *births)
{
    if (gcx_table_try_add(op, GCX_GEN0)) {
        gcx_schedule_count_alloc();
        (*births)++;
        return;
    }
    read_untried(op, recent, births);
}

/* read_one once its inline case (gcx_table_try_add) failed. */
static __attribute__((noinline)) void
read_untried(PyObject *op, bool recent, Py_ssize_t *births)
{
    gcx_page_t *p;
    unsigned slot;
    int s = gcx_table_try_set_of(op, &p, &slot);
    if (s >= 0) {
        /* the record of an object reused from a free list (its death
         * unseen), in the page just looked up: moved without looking again */
        if (recent && s != GCX_GEN0) {
            gcx_table_move(p, slot, s, GCX_GEN0);
        }
        return;
    }
    s = s == -2 ? gcx_table_set_of(op) : -1;
    if (s < 0) {
        gcx_table_add(op, GCX_GEN0);
        gcx_schedule_count_alloc();
        (*births)++;
    }
    else if (recent && s != GCX_GEN0) {
        gcx_table_add(op, GCX_GEN0);     /* moves the record */
    }
}

/* From lists.c: tracked since the last read, or frozen by the stdlib with
 * gcx's marker (then gcx's record, if it has none, goes to its frozen set,
 * as at import: no birth). */
static void
read_listed(PyObject *op, int how, void *births)
{
    if (how != GCX_LISTED_FROZEN) {
        read_one(op, how == GCX_LISTED_NEW, births);
    }
    else if (gcx_table_set_of(op) < 0) {
        gcx_table_add(op, GCX_FROZEN);
    }
}

/* Without lists.c: consecutive objects of one VisitObjects walk (youngest
 * list first, each in order) are in one list when the first one's header
 * links to the second (the header's first word, read only, its layout
 * checked at import); what was tracked since the last read is every list
 * walked before the marker's, and what follows the marker in its own. */
typedef struct {
    Py_ssize_t index;            /* objects walked so far */
    uintptr_t last_next;         /* the previous object's link */
    Py_ssize_t list_start;       /* index where the current list began */
    Py_ssize_t marker;           /* the marker's index, or -1 */
    Py_ssize_t marker_list_start, marker_list_end;
    Py_ssize_t births;
} birth_walk;

/* Walk one position: a new list begins where the links break. */
static inline void
walk_step(birth_walk *w, PyObject *op)
{
    if (w->index > 0 && w->last_next != (uintptr_t)op - 2 * sizeof(uintptr_t)) {
        if (w->marker >= 0 && w->marker_list_end < 0) {
            w->marker_list_end = w->index;
        }
        w->list_start = w->index;
    }
    w->last_next = ((const uintptr_t *)op)[-2];
}

static int
visit_find_marker(PyObject *op, void *arg)
{
    birth_walk *w = arg;
    walk_step(w, op);
    if (op == birth_marker) {
        w->marker = w->index;
        w->marker_list_start = w->list_start;
    }
    w->index++;
    return 1;
}

static int
visit_birth(PyObject *op, void *arg)
{
    birth_walk *w = arg;
    Py_ssize_t i = w->index++;
    bool recent = w->marker >= 0
                  && (i < w->marker_list_start || (i > w->marker && i < w->marker_list_end));
    read_one(op, recent, &w->births);
    return 1;
}

/* O(live heap); whether the marker was found (else the stdlib froze it:
 * VisitObjects skips the permanent generation before 3.13.3). */
static bool
read_by_visiting(Py_ssize_t *births)
{
    birth_walk w = {0, 0, 0, -1, 0, -1, 0};
    if (gcx_header_readable) {
        PyUnstable_GC_VisitObjects(visit_find_marker, &w);
        if (w.marker >= 0 && w.marker_list_end < 0) {
            w.marker_list_end = w.index;
        }
        w.index = 0;
    }
    PyUnstable_GC_VisitObjects(visit_birth, &w);
    *births += w.births;
    return w.marker >= 0 || !gcx_header_readable;
}

/* The marker to the tail of CPython's youngest list, and its record to
 * generation 0, as for any container CPython tracks again.  A marker the
 * stdlib's gc.freeze() holds (frozen) stays in CPython's permanent
 * generation: moving it out would change gc.get_freeze_count().  The reads
 * go on from the spare instead (made at import, untracked), and the held
 * one becomes the spare once the permanent generation is empty again
 * (gc.unfreeze(), noticed at the next read).  Without a spare (a second
 * freeze before any read since the unfreeze) the marker stays frozen, and
 * each read walks all that was tracked since the freeze, taking it for
 * new: a record a young collection promoted meanwhile goes back to
 * generation 0 (before the spare, after every freeze: gcx's young
 * collections then examined all that was tracked since it, and collected
 * what the stdlib's would only in an older generation). */
static PyObject *spare_marker;   /* untracked, no record */
static PyObject *held_marker;    /* a marker gc.freeze() held, tracked */

static void
place_marker(bool frozen)
{
    bool listed = gcx_lists_ok();   /* (the visiting read cannot tell a freeze) */
    if (listed && held_marker != NULL && spare_marker == NULL
        && gcx_lists_permanent_empty()) {
        PyObject_GC_UnTrack(held_marker);
        gcx_table_discard(held_marker);
        spare_marker = held_marker;
        held_marker = NULL;
    }
    if (frozen) {
        if (!listed || spare_marker == NULL) {
            return;
        }
        held_marker = birth_marker;
        birth_marker = spare_marker;
        spare_marker = NULL;
    }
    PyObject_GC_UnTrack(birth_marker);
    PyObject_GC_Track(birth_marker);
    gcx_table_add(birth_marker, GCX_GEN0);
}

/* A read that must be whole (before records are used) first makes room:
 * every page a container read will land on exists and is on the young
 * list, so that recording them allocates nothing. */
static void
room_for_listed(PyObject *op, int how, void *failed)
{
    if (!*(bool *)failed && !gcx_table_room_for(op, how != GCX_LISTED_FROZEN)) {
        *(bool *)failed = true;
    }
}

/* The walk before the marker (lists.c, gcx_lists_each_rest) is the whole
 * of generation 2 once a stdlib collection of generation 1 moved the
 * marker there: gcx imported, not installed, paid a walk of the heap per
 * such collection (3.5-3.9x a program's time with a 0.5M heap on 3.14.10).
 * The walk can find something only after a stdlib collection of some
 * generation k that began with the marker in a list j, 0 < j < k (the
 * younger lists, new containers among them, are appended before j's).  So
 * the stdlib's "start" callback reads first (gcx_births_before_stdlib:
 * the marker goes to generation 0's tail, j = 0), its "stop" callback
 * notes CPython's counts of generations 1 and 2
 * (gcx_lists_collections_mark), and a read that finds the marker moved
 * leaves the walk out when those are unchanged: no collection since but
 * the one that began after the read.  One the hook did not see (taken
 * out of gc.callbacks) changes them, except a collection of generation 2
 * right after another, which the marker then already is in (k = j); only
 * a run of unseen collections with no read between that brings both back
 * where they were (2, then as many of 1 as before, then of 0) could
 * fool it, and what it would cost is records missing (those containers
 * never collected by gcx, as when a read fails: C3), never a live object
 * freed.  No Python code runs and nothing is allocated for this: a
 * container allocated in a read would count towards the stdlib's next
 * collection. */
static enum { UNVOUCHED, READ_AT_START, VOUCHED } vouch = UNVOUCHED;
static int64_t mark_at_stop;      /* gcx_lists_collections_mark() at the stop */

/* Read what CPython tracked since the last read.  With `whole` (before
 * records are used, gcx_sync) the read is all or nothing: where room for
 * the records cannot be made (out of memory), none is read, and the
 * containers stay after the marker for the next read; meanwhile they have
 * no records, so a collection leaves them and all they refer to alone (C3:
 * a collection that cannot get the memory it needs changes nothing).
 * `at_start`: the read at a stdlib collection's start, which does not read
 * while the stdlib's gc.freeze() holds the marker.  Whether it read. */
static bool
read_births_as(bool whole, bool at_start)
{
    Py_ssize_t births = 0;
    bool frozen;
    if (gcx_lists_ok()) {
        /* one walk finds the marker's list; most reads are the containers
         * gathered on the way, all new */
        PyObject *const *items;
        int how, items_how;
        Py_ssize_t n = gcx_lists_gather(birth_marker, &items, &how, &items_how);
        if (at_start && how == GCX_LISTED_FROZEN) {
            /* frozen, the marker stays where it is whatever the read: no
             * read at the start can vouch, and what was tracked before the
             * stdlib's gc.freeze() is read after its unfreeze, as before */
            vouch = UNVOUCHED;
            return false;
        }
        (void)gcx_schedule_allocs_counted();
        allocs_unread = 0;
        /* a stdlib collection moved the marker on: the one after the
         * read at its start, alone? */
        bool before = !(how == GCX_LISTED_MAYBE && vouch == VOUCHED
                        && gcx_lists_collections_mark() == mark_at_stop);
        vouch = UNVOUCHED;         /* the marker moves: only a read at a start vouches */
        if (whole) {
            bool failed = false;
            uintptr_t room_key = 0;   /* the page the last one found room on */
            for (Py_ssize_t i = 0; i < n && !failed; i++) {
                uintptr_t key = gcx_addr_key((uintptr_t)items[i]);
                if (key != room_key) {
                    room_for_listed(items[i], items_how, &failed);
                    room_key = key;
                }
            }
            (void)gcx_lists_each_rest(room_for_listed, &failed, before);
            if (failed) {
                return false;
            }
        }
        if (items_how == GCX_LISTED_NEW) {
            for (Py_ssize_t i = 0; i < n; i++) {
                read_one(items[i], true, &births);
            }
        }
        else {
            for (Py_ssize_t i = 0; i < n; i++) {
                read_listed(items[i], items_how, &births);
            }
        }
        frozen = gcx_lists_each_rest(read_listed, &births, before);
    }
    else {
        (void)gcx_schedule_allocs_counted();
        allocs_unread = 0;
        frozen = !read_by_visiting(&births);
    }
    gcx_tr.births += births;
    if (gcx_header_readable) {
        place_marker(frozen);
    }
    long every = gcx_sched.trigger;
    births_every = every >= BIRTHS_EVERY || every <= 0 ? BIRTHS_EVERY
                   : every < BIRTHS_EVERY_MIN ? BIRTHS_EVERY_MIN : (unsigned)every;
    gcx_schedule_look_within(1);   /* gcx's own count may have reached ask_at */
    if (at_start && gcx_header_readable && !frozen) {
        vouch = READ_AT_START;
    }
    return true;
}

static void
read_births(bool whole)
{
    (void)read_births_as(whole, false);
}

void
gcx_births_read(void)
{
    if (births_from_lists && !gcx_tr.shut_down) {
        read_births(false);
    }
}

/* The stdlib collector is about to collect (its "start" callback, before
 * it moves anything): read, so that the marker is at generation 0's tail
 * as it begins (above read_births_as). */
void
gcx_births_before_stdlib(int generation)
{
    if (births_from_lists && !gcx_tr.shut_down && !gcx_sched.collecting
        && gcx_lists_ok()) {
        /* K3 */
        bool triggered = gcx_tr.cpython_triggers
                         && (generation == 1
                             || (generation == 0
                                 && *gcx_lists_young_count() > armed_threshold));
        if (triggered) {
            gcx_tr.cpython_triggered++;
            /* births first where a policy decides, from the young records;
             * otherwise they wait for the collection's own read (G9) */
            if (!gcx_schedule_reads_wait()) {
                read_births(false);
            }
            gcx_schedule_cpython_triggered();
        }
        /* (not if the stdlib's gc.freeze() holds the marker, nor once
         * disarmed: K4) */
        if (read_births_as(false, true) && triggered && gcx_tr.cpython_triggers) {
            gcx_lists_trigger_freeze();
            place_marker(false);
        }
    }
}

/* ... and it has collected: note CPython's counts of generations 1 and 2,
 * which vouch for that read until they change. */
void
gcx_births_after_stdlib(void)
{
    gcx_lists_trigger_stopped();   /* K1 (if armed), before the counts vouch */
    if (vouch == READ_AT_START) {
        mark_at_stop = gcx_lists_collections_mark();
        vouch = mark_at_stop >= 0 ? VOUCHED : UNVOUCHED;
    }
}

int
gcx_tracer_markers(PyObject *out[3])
{
    PyObject *const markers[] = {birth_marker, watch_marker, held_marker};
    int n = 0;
    for (int i = 0; i < 3; i++) {
        if (markers[i] != NULL && gcx_is_tracked_gc(markers[i])) {
            out[n++] = markers[i];
        }
    }
    return n;
}

/* ---- the watch over a collection's garbage (W1 of finalize.c) ------------- */

/* While Python code runs in a collection (the garbage hook, weakref
 * callbacks, finalizers, and then tp_clear and what it frees: W3 of
 * finalize.c), the garbage U is not pinned where deaths are seen: a
 * member that dies, or whose address a new
 * object takes, is struck out of U (gcx_tr.gone) by whatever sees it
 * first, as CPython's list of garbage loses an object that dies, so that
 * an object whose last reference a finalizer drops dies there and then, as
 * under the stdlib's collector.  Who tells, by mode:
 *   tracer  DESTROY and CREATE of every container, while gcx owns the slot;
 *   alloc   the wrapper's frees, and CREATE (a container taken from a free
 *           list, whose death the tracer may have missed), while both hold;
 *   lists   the wrapper's frees.  A container parked on a free list keeps
 *           its memory (count 0, untracked: finalize.c's member() reads
 *           that); one taken from a free list again is tracked anew at the
 *           tail of CPython's youngest list, so each look strikes what
 *           follows watch_marker there and moves the marker to the tail
 *           (nothing tracked since: one comparison);
 *   safe    no watch: records may dangle, and U is pinned instead.
 * A look that finds its source gone (the slot or the wrapper lost, the
 * marker moved on by a stdlib collection or frozen by its gc.freeze())
 * returns false: finalize.c then strikes all that is left of U, which is
 * neither finalized nor cleared by this collection and stays garbage for a
 * later one. */

static void
strike_listed(PyObject *op, int how, void *unused)
{
    (void)how;
    (void)unused;
    watch_gone(op);
}

/* The watch marker to the tail of CPython's youngest list, with a record
 * in generation 0 (as the birth marker's), so that a read of births finds
 * nothing new in it. */
static void
watch_marker_to_tail(void)
{
    PyObject_GC_UnTrack(watch_marker);
    PyObject_GC_Track(watch_marker);
    gcx_table_add(watch_marker, GCX_GEN0);
}

/* Can the watch start?  Where it can, it starts (lists mode: the marker
 * placed). */
static bool
watch_can_begin(void)
{
    if (gcx_tr.shut_down) {
        return false;
    }
    switch (gcx_tr.mode) {
#if GCX_HAS_REFTRACER
    case GCX_MODE_TRACER:
        return own_slot() && !gcx_tr.stale;
    case GCX_MODE_ALLOC:
        return own_slot() && !gcx_tr.stale && hook_on && hook_in_chain();
#endif
    case GCX_MODE_LISTS:
        if (watch_marker == NULL || !gcx_lists_ok() || !gcx_header_readable
            || !hook_on || !hook_in_chain()) {
            return false;
        }
        watch_marker_to_tail();
        return true;
    default:
        return false;
    }
}

bool
gcx_watch_begin(void (*gone)(PyObject *op))
{
    if (!watch_can_begin()) {
        return false;
    }
    gcx_tr.gone = gone;
    return true;
}

void
gcx_watch_end(void)
{
    gcx_tr.gone = NULL;
}

/* After Python code may have run, before U is read again: whether the
 * watch still sees every death (lists mode: the new containers struck).
 * `sources`: ask whether the slot and the wrapper are still in place
 * (after a call gcx makes into Python code; W2 of finalize.c). */
bool
gcx_watch_look(bool sources)
{
    if (gcx_tr.shut_down) {
        return false;
    }
    if (gcx_tr.mode != GCX_MODE_LISTS) {
#if GCX_HAS_REFTRACER
        return !sources || (own_slot() && (gcx_tr.mode == GCX_MODE_TRACER || hook_in_chain()));
#else
        return false;
#endif
    }
    if (sources && !hook_in_chain()) {
        return false;
    }
    if (gcx_lists_at_young_tail(watch_marker)) {
        return true;
    }
    PyObject *const *items;
    int how;
    Py_ssize_t n = gcx_lists_gather(watch_marker, &items, &how, NULL);
    if (how != GCX_LISTED_NEW) {
        return false;   /* a stdlib collection moved it on, or froze it */
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        watch_gone(items[i]);
    }
    (void)gcx_lists_each_rest(strike_listed, NULL, false);
    watch_marker_to_tail();
    return true;
}

/* CPython's own count of generation 0, where lists.c found it (L1). */
int *
gcx_tracer_cpython_young_count(void)
{
    return gcx_lists_young_count();
}

/* Set CPython's own counts of generations 1 and 2, where lists.c found
 * them (L1); else nothing. */
void
gcx_tracer_cpython_set_older_counts(int c1, int c2)
{
    gcx_lists_set_older_counts(c1, c2);
}

/* lists.c's setter of CPython's own "collecting" flag, where it found the
 * flag (L1), or NULL. */
gcx_flag_fn
gcx_tracer_cpython_collecting(void)
{
    return gcx_lists_can_flag() ? gcx_lists_collecting : NULL;
}

/* In the child of a fork(): as gcx_schedule_after_fork, for the read. */
void
gcx_tracer_after_fork(void)
{
    births_queued = false;
}

static int
births_pending(void *arg)
{
    births_queued = false;
    if (!gcx_sched.collecting && !gcx_sched.stdlib_collecting && !gcx_tr.shut_down) {
        read_births(false);
        gcx_schedule_request();     /* nothing while automatic collection is off */
    }
    gcx_schedule_look_within(1);    /* looks were parked while it was queued */
    return 0;
}

static __attribute__((noinline)) void
queue_births_read(void)
{
    /* Not while a collection runs: the read would wait for its end anyway,
     * and a pending call queued while another one (the collection, running
     * finalizers in whatever thread took it) has let the GIL go hangs
     * CPython's shutdown: _Py_FinishPendingCalls spins while calls are
     * queued and a parked daemon thread is still handling the others. */
    if (!births_queued && !gcx_sched.collecting && !gcx_sched.stdlib_collecting
        && hook_main()) {
        births_queued = true;
        if (gcx_add_pending_call(gcx_tr.interp, births_pending, NULL, 0) != 0) {
            births_queued = false;   /* queue full: ask again later */
        }
    }
    /* Whatever happened, the next births_every allocations do not ask
     * again: a read is queued, or none is wanted now (a collection running,
     * another interpreter's thread, a full queue); every use of the
     * records reads births anyway (gcx_sync).  Reads go on while automatic
     * collection is off, so that a collection asked for later reads only
     * what was born since the last one, not all since it was turned off. */
    allocs_unread = 0;
}

/* The allocator wrapper's count ran out (schedule.c, G6): births_every
 * allocations since the last read, or *young at ask_at, queue a read;
 * the next look comes before either can be true again. */
static __attribute__((noinline)) void
births_look(void)
{
    gcx_tr.looks++;
    if (frees_look && hook_main() && count_allocations(true)) {
        frees_look = false;   /* K2: the wrapper is at the top again */
    }
    allocs_unread += gcx_schedule_allocs_counted();
    bool between = !gcx_schedule_reads_wait();
    bool due = gcx_schedule_alloc_due();
    /* G6: past the trigger, the stdlib would schedule a collection here */
    int where = due ? gcx_schedule_look_crossed() : -1;
    if ((between && allocs_unread >= births_every) || due) {
        queue_births_read();
    }
    if (where == 0 && !gcx_sched.scheduled) {
        /* at the trigger, not past it: the next allocation may pass it,
         * inside a C call that frees what it made before it returns */
        gcx_schedule_look_within(1);
        return;
    }
    if (births_queued || gcx_sched.scheduled) {
        /* what a look could ask for is asked already: no look until the
         * pending call has run (it looks again).  Without this, every
         * allocation past ask_at looks until then, and a C call that
         * allocates (json.loads, a comprehension's list) runs no
         * eval-breaker check before it returns: 43% of json's object
         * allocations looked. */
        gcx_schedule_look_parked();
        return;
    }
    /* waiting, the next look comes when *young could reach ask_at */
    gcx_schedule_look_within(!between ? INT_MAX
                             : allocs_unread < births_every
                             ? (int)(births_every - allocs_unread) : 1);
}

/* From the allocator wrapper: an object allocation.  Never reads births
 * itself (the allocator may be called anywhere); queues the read.  Every
 * interpreter's allocations count, with no atomic read-modify-write on this
 * path (other GILs may lose a count: harmless); only the main
 * interpreter's thread queues the read.  The count is schedule.c's
 * (G6): one decrement here, the comparisons only when it runs out. */
static inline void
births_due(void)
{
    if (__builtin_expect(gcx_schedule_alloc_looks(), 0)) {
        births_look();
    }
}

/* ---- lazily tracked dicts (R5) ----------------------------------------------- */

static int dict_watcher = -1;

static int
on_dict_event(PyDict_WatchEvent event, PyObject *dict, PyObject *key, PyObject *value)
{
    if (event == PyDict_EVENT_ADDED || event == PyDict_EVENT_MODIFIED) {
        if (!gcx_may_be_tracked(value) && !gcx_may_be_tracked(key)) {
            return 0;
        }
    }
    else if (event != PyDict_EVENT_CLONED) {
        return 0;
    }
    /* CPython is about to track it, in generation 0 */
    uintptr_t a = (uintptr_t)dict;
    gcx_page_t *p = gcx_page_find(gcx_addr_key(a));
    int s = gcx_table_set_of(dict);
    if (s > GCX_GEN0) {
        gcx_table_move(p, gcx_addr_slot(a), s, GCX_GEN0);
    }
    (void)PyDict_Unwatch(dict_watcher, dict);
    return 0;
}

void
gcx_watch_untracked(PyObject *op)
{
    /* count 0: parked on a free list, its death unreported (alloc mode).
     * A dict watched already is left alone: every full collection meets
     * the untracked dicts again, and watching one writes to it. */
    if (dict_watcher >= 0 && Py_REFCNT(op) > 0 && PyDict_CheckExact(op)
        && !gcx_dict_watched(op, dict_watcher) && PyDict_Watch(dict_watcher, op) < 0) {
        PyErr_Clear();
    }
}

/* ---- resynchronisation --------------------------------------------------- */

typedef struct {
    int adopt_set;
    Py_ssize_t visited;
} resync_state;

/* R3: may gcx make a record for this live object it has no record of? */
static bool
adoptable(PyObject *op)
{
    if (gcx_tr.mode != GCX_MODE_TRACER) {
        /* safe mode drops dangling records before any use; in alloc mode
         * the allocator wrapper drops the record when the memory goes */
        return true;
    }
    PyTypeObject *tp = Py_TYPE(op);
    if (tp->tp_del != NULL) {
        return false;
    }
    return tp->tp_finalize == NULL || PyObject_GC_IsFinalized(op);
}

static int
visit_resync(PyObject *op, void *arg)
{
    resync_state *st = arg;
    int known = gcx_table_seen(op);
    if (known < 0) {
        return 1;
    }
    st->visited++;
    if (known) {
        return 1;
    }
    /* only the resync at import adopts into generation 2, and nothing
     * is half-deallocated then: it adopts everything */
    if (st->adopt_set == GCX_GEN2 || adoptable(op)) {
        gcx_table_add(op, st->adopt_set);
        gcx_tr.adopted++;
    }
    return 1;
}

/* Containers CPython tracks lazily (a dict holding only atomic values) are
 * not in its list while untracked, so a resync cannot see them; they become
 * tracked later without any event.  Find the ones tracked containers refer
 * to and record them. */
static int
visit_untracked(PyObject *op, void *arg)
{
    if (gcx_is_gc(op) && !PyTuple_CheckExact(op) && !gcx_is_tracked(op)
        && gcx_table_set_of(op) < 0) {
        gcx_table_add(op, *(int *)arg);
        gcx_watch_untracked(op);
        gcx_tr.adopted++;
    }
    return 0;
}

static void
traverse_for_untracked(gcx_page_t *p, unsigned slot, int set, void *adopt_set)
{
    /* no Python code runs here, so every record stays valid */
    PyObject *op = gcx_slot_object(p, slot);
    if (gcx_is_tracked_gc(op)) {
        (void)Py_TYPE(op)->tp_traverse(op, visit_untracked, adopt_set);
    }
}

static void
adopt_untracked_children(int adopt_set)
{
    gcx_table_each((1u << GCX_NSETS) - 1, traverse_for_untracked, &adopt_set);
}

/* Rebuild the table from CPython's list of tracked objects: every tracked
 * container gets a record (in adopt_set if it had none); with drop, records
 * CPython does not list are removed.  Dropping can remove records of live
 * but untracked containers (a dict holding only atomic values): they come
 * back from adopt_untracked_children (tracer mode) or from the next resync
 * once CPython tracks them (safe mode). */
void
gcx_resync(bool drop, int adopt_set)
{
    resync_state st = {adopt_set, 0};
    gcx_table_resync_begin();
    PyUnstable_GC_VisitObjects(visit_resync, &st);
    gcx_table_resync_end(drop);
    if (drop) {
        gcx_tr.stale = false;
        if (gcx_tr.mode != GCX_MODE_SAFE) {
            /* safe mode resyncs before every use and finds them once tracked */
            adopt_untracked_children(adopt_set);
        }
    }
    if (!gcx_table.alloc_failed) {
        gcx_tr.unsure = gcx_tr.unsure_sticky;
        gcx_tr.suspects = 0;
    }
    if (!gcx_sched.collecting) {
        gcx_table_free_empty_pages();
    }
    gcx_table_rebuild_lists();
    gcx_tr.live_at_resync = st.visited;
    gcx_tr.resyncs++;
}

void
gcx_sync(bool need_all)
{
    if (gcx_tr.shut_down) {
        /* the slot was given back at exit: nothing is reported any more */
        gcx_tr.stale = true;
    }
    else if (tracer_used && !own_slot()) {
        /* Someone took or cleared the slot: events were missed. */
        take_slot();
        gcx_tr.stale = true;
        gcx_tr.unsure = gcx_tr.unsure_sticky = true;
    }
    if (gcx_tr.mode == GCX_MODE_SAFE) {
        gcx_tr.stale = true;
    }
    if (hook_wrapped && !gcx_tr.shut_down && !hook_in_chain()) {
        /* Someone replaced the object allocator: frees were missed (alloc
         * mode), allocations went uncounted (3.12). */
        hook_wrap();
        if (hook_on) {
            gcx_tr.stale = true;
        }
    }
    if (gcx_table.alloc_failed || gcx_tr.suspects > 0) {
        gcx_tr.unsure = true;
    }
    if (gcx_tr.stale) {
        gcx_resync(true, GCX_GEN0);
    }
    else if (gcx_tr.unsure && need_all) {
        gcx_resync(false, GCX_GEN0);
    }
    if (births_from_lists && !gcx_tr.shut_down) {
        /* every use reads what was born since (after a resync too, which
         * records the new but cannot tell the reused from the old) */
        read_births(true);
    }
}

void
gcx_adopt(PyObject *op)
{
    if (gcx_table_set_of(op) < 0 && adoptable(op)) {
        gcx_table_add(op, GCX_GEN0);
        gcx_tr.adopted++;
    }
}

/* ---- the start-up self-test ----------------------------------------------- */

/* Is an object waiting in this thread's trashcan? */
static bool
trash_waiting(void)
{
    PyThreadState *ts = PyThreadState_GetUnchecked();
#if PY_VERSION_HEX >= 0x030D0000
    return ts != NULL && ts->delete_later != NULL;
#else
    return ts != NULL && ts->trash.delete_later != NULL;
#endif
}

static bool trash_seen;     /* a probe saw a free while trash_waiting() */

static Py_ssize_t probe_created, probe_destroyed;
static PyTypeObject *probe_types[3];

static int
probe_tracer(PyObject *op, PyRefTracerEvent event, void *data)
{
    if (op == NULL) {
        return 0;      /* 3.15: TRACKER_REMOVED, when the test ends */
    }
    PyTypeObject *tp = Py_TYPE(op);
    if (tp != probe_types[0] && tp != probe_types[1] && tp != probe_types[2]) {
        return 0;
    }
    if (event == PyRefTracer_CREATE) {
        probe_created++;
    }
    else if (event == PyRefTracer_DESTROY) {
        probe_destroyed++;
        trash_seen |= trash_waiting();
    }
    return 0;
}

/* Lists, dicts and tuples made and freed by the bytecode loop, by a deep
 * nested list that the trashcan must defer, and by tuple resizes; all die
 * inside.  Both self-tests free a deep chain through the trashcan:
 * `holder`'s one item, popped and dropped by free_deep below where the
 * trashcan must defer, and each proves that it did (a free, or a death
 * the tracer saw, while the thread state's delete_later list was not
 * empty: trash_seen; a list frees its items last first, so each level's
 * empty list dies as the chain below it unwinds, after a deposit).
 * free_deep drops it with the thread's limits moved (trashcan.c), so that
 * the trashcan defers about 50 (3.12), 100 (3.13) or 425 (3.14+) levels
 * down: the chain is 300 deep before 3.14, 1,000 on 3.14+ (80 bytes of C
 * stack a level there).  Without them, 3.13 would need a chain of 12,000
 * (the test then cost 20 M instructions, half of gcx's import), and 3.14+
 * some 100,000 on a main thread's 8 MiB stack (3.14+ used a thread with a
 * 128 KiB stack and a chain of 3,000: 2.3 M instructions more of the
 * import on 3.15.2).
 * 3.14.0-3.14.7 and 3.15.0 lose the deaths the trashcan deferred: a test
 * that reaches it there fails.  Their Python code is in gcx/_probes.py
 * (selftest, alloc_selftest), which takes the depth from the
 * interpreter's version. */

/* free_deep(holder) of the self-tests: pops holder's one item, the chain,
 * and drops it where the trashcan defers (see above). */
static PyObject *
free_deep(PyObject *self, PyObject *holder)
{
    if (!PyList_Check(holder) || PyList_GET_SIZE(holder) != 1) {
        PyErr_SetString(PyExc_TypeError, "free_deep() takes a list of one item");
        return NULL;
    }
    PyObject *deep = Py_NewRef(PyList_GET_ITEM(holder, 0));
    if (PyList_SetSlice(holder, 0, 1, NULL) < 0) {
        Py_DECREF(deep);
        return NULL;
    }
    gcx_trashcan_drop(deep);
    Py_RETURN_NONE;
}

/* The self-tests' free_deep argument: a new reference, or NULL with an
 * error. */
static PyObject *
free_deep_arg(void)
{
    static PyMethodDef free_deep_def = {"free_deep", free_deep, METH_O, NULL};
    return PyCFunction_New(&free_deep_def, NULL);
}

static int
run_selftest(bool *ok)
{
    /* the function and its argument first: the test counts every list,
     * dict and tuple made while it runs */
    PyObject *fn = gcx_probe_get("selftest");
    PyObject *fd = fn == NULL ? NULL : free_deep_arg();
    if (fd == NULL) {
        Py_XDECREF(fn);
        return -1;
    }
    probe_types[0] = &PyList_Type;
    probe_types[1] = &PyDict_Type;
    probe_types[2] = &PyTuple_Type;
    *ok = false;
    /* Other threads can allocate while the test runs; one clean run of
     * three is proof enough, a systematic miss fails all three. */
    for (int attempt = 0; attempt < 3 && !*ok; attempt++) {
        void *old_data = NULL;
        PyRefTracer old = PyRefTracer_GetTracer(&old_data);
        probe_created = probe_destroyed = 0;
        trash_seen = false;
        (void)PyRefTracer_SetTracer(probe_tracer, NULL);
        PyObject *r = PyObject_CallOneArg(fn, fd);
        (void)PyRefTracer_SetTracer(old, old_data);
        if (r == NULL) {
            break;
        }
        Py_DECREF(r);
        *ok = probe_created > 0 && probe_created == probe_destroyed && trash_seen;
    }
    Py_DECREF(fn);
    Py_DECREF(fd);
    return PyErr_Occurred() ? -1 : 0;
}

/* The allocator wrapper's self-test: instances of two classes, one with
 * the managed-dict preheader (its block starts 32 bytes below it) and one
 * with __slots__ (16), freed by the bytecode loop and through the
 * trashcan; `note` records each one's address, and a probe wrapper around
 * the object allocator must see every one of those blocks freed (an
 * address noted twice was reused without its free being seen). */
/* a power of two, above twice the notes (600 and the chain) */
#define NOTE_CAP 8192
#define NOTE_GONE ((uintptr_t)1)
static uintptr_t *notes;
static Py_ssize_t notes_live, notes_made, notes_reused;
static PyMemAllocatorEx probe_next;

static uintptr_t *
note_find(uintptr_t a, bool for_insert)
{
    for (size_t i = gcx_hash_key(a >> 4, NOTE_CAP - 1);; i = (i + 1) & (NOTE_CAP - 1)) {
        if (notes[i] == a || notes[i] == 0 || (for_insert && notes[i] == NOTE_GONE)) {
            return &notes[i];
        }
    }
}

static PyObject *
note(PyObject *self, PyObject *op)
{
    uintptr_t a = (uintptr_t)op;
    if (*note_find(a, false) == a) {
        notes_reused++;            /* its free went unseen */
    }
    else if (notes_made < NOTE_CAP / 2) {
        *note_find(a, true) = a;
        notes_live++;
        notes_made++;
    }
    Py_RETURN_NONE;
}

static void
probe_forget(uintptr_t a)
{
    uintptr_t *e = note_find(a, false);
    if (*e == a) {
        *e = NOTE_GONE;
        notes_live--;
    }
}

static void *
probe_malloc(void *ctx, size_t n)
{
    return probe_next.malloc(probe_next.ctx, n);
}

static void *
probe_calloc(void *ctx, size_t nelem, size_t elsize)
{
    return probe_next.calloc(probe_next.ctx, nelem, elsize);
}

static void *
probe_realloc(void *ctx, void *block, size_t n)
{
    return probe_next.realloc(probe_next.ctx, block, n);
}

static void
probe_free(void *ctx, void *block)
{
    if (block != NULL) {
        probe_forget((uintptr_t)block + 16);
        probe_forget((uintptr_t)block + 32);
        trash_seen |= trash_waiting();
    }
    probe_next.free(probe_next.ctx, block);
}

static int
run_alloc_selftest(bool *ok)
{
    static PyMethodDef note_def = {"note", note, METH_O, NULL};
    *ok = false;
    PyObject *fn = gcx_probe_get("alloc_selftest");
    PyObject *fd = fn == NULL ? NULL : free_deep_arg();
    PyObject *note_fn = fd == NULL ? NULL : PyCFunction_New(&note_def, NULL);
    notes = note_fn == NULL ? NULL : gcx_mem_calloc(NOTE_CAP, sizeof(uintptr_t));
    if (notes == NULL) {
        Py_XDECREF(fn);
        Py_XDECREF(fd);
        Py_XDECREF(note_fn);
        return PyErr_Occurred() ? -1 : (PyErr_NoMemory(), -1);
    }
    notes_live = notes_made = notes_reused = 0;
    trash_seen = false;
    PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &probe_next);
    PyMemAllocatorEx probe = {NULL, probe_malloc, probe_calloc, probe_realloc, probe_free};
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &probe);
    PyObject *args[2] = {note_fn, fd};
    PyObject *r = PyObject_Vectorcall(fn, args, 2, NULL);
    PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &probe_next);
    gcx_mem_free(notes);
    notes = NULL;
    Py_DECREF(fn);
    Py_DECREF(fd);
    Py_DECREF(note_fn);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    *ok = notes_made > 0 && notes_live == 0 && notes_reused == 0 && trash_seen;
    return 0;
}

/* The allocator wrapper's self-test, unless it ran: its result in
 * gcx_tr.alloc_selftest.  -1 with an error. */
static int
alloc_selftest_once(void)
{
    bool ok;
    if (gcx_tr.alloc_selftest >= 0) {
        return 0;
    }
    if (run_alloc_selftest(&ok) < 0) {
        return -1;
    }
    gcx_tr.alloc_selftest = ok;
    return 0;
}

/* For benchmarks/bench_tracking.py, which measures what CPython's
 * reference-tracer hook costs by itself: put a tracer that does nothing in
 * the slot.  gcx's records go stale; it takes the slot back, forwarding to
 * this one, and resyncs the next time it needs them (R2). */
static int
noop_tracer(PyObject *op, PyRefTracerEvent event, void *data)
{
    return 0;
}

int
gcx_tracer_lend_slot(void)
{
    return PyRefTracer_SetTracer(noop_tracer, NULL);
}

static void
adopt_frozen(PyObject *op, int how, void *arg)
{
    gcx_table_add(op, GCX_FROZEN);     /* adds or moves the record */
}

const char *const gcx_mode_names[GCX_NMODES] = {
    [GCX_MODE_TRACER] = "tracer", [GCX_MODE_SAFE] = "safe",
    [GCX_MODE_ALLOC] = "alloc", [GCX_MODE_LISTS] = "lists",
};

/* The mode GCX_MODE names: a GCX_MODE_*, -1 if unset, -2 if unknown. */
static int
forced_mode(void)
{
    const char *forced = getenv("GCX_MODE");
    if (forced == NULL || forced[0] == '\0') {
        return -1;
    }
    for (int m = 0; m < GCX_NMODES; m++) {
        if (strcmp(forced, gcx_mode_names[m]) == 0) {
            return m;
        }
    }
    PyErr_Format(PyExc_ImportError,
                 "GCX_MODE must be 'tracer', 'alloc', 'lists' or 'safe', not '%s'", forced);
    return -2;
}

/* The markers of lists mode, and whether lists.c can read CPython's lists. */
static int
lists_init(void)
{
    PyObject *gc = PyImport_ImportModule("gc");
    birth_marker = PyList_New(0);     /* the last container tracked (L1) */
    int r = gc == NULL || birth_marker == NULL ? -1 : gcx_lists_init(birth_marker, gc);
    Py_XDECREF(gc);
    if (r == 0 && (watch_marker = PyList_New(0)) == NULL) {
        return -1;
    }
    if (r == 0) {
        spare_marker = PyList_New(0);   /* place_marker */
        if (spare_marker == NULL) {
            return -1;
        }
        PyObject_GC_UnTrack(spare_marker);
    }
    return r;
}

/* The mode an interpreter gets where more than one is exact: lists mode.
 * CPython's reference-tracer hook costs every object created or freed,
 * containers or not, 150-250 instructions on 3.14 and 3.15 and about 50 on
 * 3.13 before gcx's tracer runs; lists mode pays a counter per allocation
 * and a page-filter test per free, and per container a record made at the
 * next read and dropped at its free.  On whole programs (bench_suite.py,
 * instruction counts of benchmarks/tracking_counts.py --suite, in
 * benchmarks/RESULTS.md) lists mode cost less on 3.13, 3.14 and 3.15.  The
 * tracer's self-test then runs only if lists mode is unavailable. */
#define PREFER_LISTS 1

int
gcx_tracer_init(void)
{
    memset(&gcx_tr, 0, sizeof(gcx_tr));
    gcx_tr.interp = PyInterpreterState_Get();
    int forced = forced_mode();
    if (forced == -2) {
        return -1;
    }
    if (lists_init() < 0) {
        return -1;
    }
    /* Lists mode: births read from CPython's lists, deaths from the
     * allocator wrapper.  3.12 has it or safe mode; on 3.13+ it is offered
     * only where lists.c reads the lists in O(new containers). */
    gcx_tr.lists_readable = gcx_lists_ok();
    bool lists_readable = gcx_lists_ok() || !GCX_HAS_REFTRACER;
    /* The allocator wrapper's self-test, where its deaths may be used:
     * first where lists mode is preferred (if it passes, the tracer's
     * self-test is not needed); else after the tracer's, if that fails. */
    bool lists_first = forced < 0 && PREFER_LISTS && lists_readable;
    gcx_tr.alloc_selftest = -1;
    gcx_tr.selftest = GCX_HAS_REFTRACER ? -1 : 0;   /* 3.12: no tracer to pass */
    if ((lists_first || forced == GCX_MODE_ALLOC || forced == GCX_MODE_LISTS)
        && alloc_selftest_once() < 0) {
        return -1;
    }
    bool lists_chosen = lists_first && gcx_tr.alloc_selftest == 1;
    if (GCX_HAS_REFTRACER && !lists_chosen && forced != GCX_MODE_LISTS) {
        bool ok;
        if (run_selftest(&ok) < 0) {
            return -1;
        }
        gcx_tr.selftest = ok;
    }
    bool tracer_exact = gcx_tr.selftest == 1;
    if (!tracer_exact && !lists_chosen && alloc_selftest_once() < 0) {
        return -1;
    }
    bool can_alloc = GCX_HAS_REFTRACER && gcx_tr.alloc_selftest == 1;
    bool can_lists = lists_readable && gcx_tr.alloc_selftest == 1;
    const char *refused = NULL;
    if (forced == GCX_MODE_TRACER && !tracer_exact) {
        refused = GCX_HAS_REFTRACER
                  ? "GCX_MODE=tracer, but this interpreter's reference tracer missed "
                    "deallocations in gcx's self-test (as on CPython 3.13.0-3.13.2, "
                    "3.14.0-3.14.7 and 3.15.0); use lists, alloc or safe mode"
                  : "GCX_MODE=tracer, but CPython 3.12 has no reference tracer; "
                    "use lists or safe mode";
    }
    else if (forced == GCX_MODE_ALLOC && !can_alloc) {
        refused = GCX_HAS_REFTRACER
                  ? "GCX_MODE=alloc, but a wrapper around the object allocator did "
                    "not see every container freed here; use safe mode"
                  : "GCX_MODE=alloc takes births from the reference tracer, which "
                    "CPython 3.12 does not have; use lists or safe mode";
    }
    else if (forced == GCX_MODE_LISTS && !can_lists) {
        refused = gcx_tr.alloc_selftest != 1
                  ? "GCX_MODE=lists, but a wrapper around the object allocator did "
                    "not see every container freed here; use safe mode"
                  : "GCX_MODE=lists, but the layout of this interpreter's generation "
                    "lists could not be verified; use tracer, alloc or safe mode";
    }
    if (refused != NULL) {
        PyErr_SetString(PyExc_ImportError, refused);
        return -1;
    }
    if (forced >= 0) {
        gcx_tr.mode = forced;
    }
    else if (lists_chosen) {
        gcx_tr.mode = GCX_MODE_LISTS;
    }
    else {
        /* lists mode unavailable (its wrapper's self-test failed, or the
         * lists' layout is not the one checked): the tracer where it is
         * exact */
        gcx_tr.mode = tracer_exact ? GCX_MODE_TRACER
                      : can_alloc ? GCX_MODE_ALLOC
                      : can_lists ? GCX_MODE_LISTS : GCX_MODE_SAFE;
    }
    births_from_lists = gcx_tr.mode == GCX_MODE_LISTS || !GCX_HAS_REFTRACER;
    tracer_used = GCX_HAS_REFTRACER && gcx_tr.mode != GCX_MODE_LISTS;
    /* R5: reads find a dict tracked again, without a watcher */
    if (gcx_probed.dicts_lazy && !births_from_lists) {
        dict_watcher = PyDict_AddWatcher(on_dict_event);
        if (dict_watcher < 0) {
            return -1;
        }
    }
    if (tracer_used) {
        take_slot();
    }
    /* deaths from the wrapper in alloc and lists modes; where births are
     * read, it also counts the allocations that pace the reads */
    hook_on = gcx_deaths_at_allocator();
    if (hook_on || births_from_lists) {
        hook_wrapped = true;
        hook_wrap();
    }
    /* Adopt everything that already exists into the oldest generation,
     * but what the stdlib froze (3.12 freezes 375 static tuples at start-up)
     * into the frozen set, as gc.get_freeze_count() counts it. */
    gcx_resync(true, GCX_GEN2);
    if (gcx_lists_ok()) {
        gcx_lists_each_frozen(adopt_frozen, NULL);
    }
    if (births_from_lists && gcx_header_readable) {
        place_marker(false);    /* what follows is new */
    }
    return 0;
}

void
gcx_tracer_fini(void)
{
    if (gcx_tr.cpython_triggers) {
        disarm();   /* K4 */
    }
    if (own_slot()) {
        (void)PyRefTracer_SetTracer(gcx_tr.chain_fn, gcx_tr.chain_data);
    }
    if (hook_wrapped) {
        PyMemAllocatorEx top;
        PyMem_GetAllocator(PYMEM_DOMAIN_OBJ, &top);
        if (top.free == hook_free) {
            PyMem_SetAllocator(PYMEM_DOMAIN_OBJ, &hook_next);
        }
        /* else another wrapper chains to it: it passes every call on */
    }
    gcx_tr.installed = false;
    gcx_tr.shut_down = true;
}

bool
gcx_alloc_hook_in_chain(void)
{
    return hook_on && hook_in_chain();
}
