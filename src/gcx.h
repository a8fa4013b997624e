/* gcx.h: the types every part of the core shares, and each file's
 * cross-file functions, grouped by the file that defines them.
 *
 * Reading order: collection.c (one collection, top to bottom: read this
 * first), then the files it calls.  src/README.md has the design and the
 * layering (which file may call which).
 *
 * The whole core runs with the GIL held, on the main interpreter only.
 */
#ifndef GCX_H
#define GCX_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdbool.h>

#include "compat.h"
#include "frames.h"

#ifndef GCX_FLAVOUR
#  define GCX_FLAVOUR "unknown"   /* setup.py says release, debug or asan */
#endif

#include "debug.h"

/* ---- the parallel table (table.c) ---------------------------------------- */

/* gcx's own memory (the table, and the working memory of collections, of
 * the census and of the incremental cycle) comes from the C library's
 * allocator, which tracemalloc and Python's allocator hooks never see: a
 * program traced under gcx shows what it shows under the stdlib
 * collector, whose state allocates nothing traced (a leak check that
 * starts tracemalloc and reads get_traced_memory() would otherwise count
 * gcx's records of the heap).  With GCX_MEMORY=python in the environment
 * it comes from Python's raw allocator instead, where the fault tests'
 * failing allocator sits (tests/test_faults.py).  table.c decides at init,
 * before gcx's first allocation; gcx_mem_python is written nowhere else. */
extern bool gcx_mem_python;

static inline void *
gcx_mem_malloc(size_t n)
{
    return gcx_mem_python ? PyMem_RawMalloc(n) : malloc(n ? n : 1);
}

static inline void *
gcx_mem_calloc(size_t n, size_t size)
{
    return gcx_mem_python ? PyMem_RawCalloc(n, size)
                          : n && size ? calloc(n, size) : calloc(1, 1);
}

static inline void *
gcx_mem_realloc(void *p, size_t n)
{
    return gcx_mem_python ? PyMem_RawRealloc(p, n) : realloc(p, n ? n : 1);
}

static inline void
gcx_mem_free(void *p)
{
    if (gcx_mem_python) {
        PyMem_RawFree(p);
    }
    else {
        free(p);
    }
}

/* Address space is cut into pages of GCX_PAGE_BYTES; a record is one bit in
 * the page covering the object's address, at granule (address % page) / 16.
 * A container's address is a multiple of 16: CPython's object allocator
 * aligns blocks to 16 bytes on 64-bit builds (and so does malloc), and the
 * pre-header before the object (the GC header, 16 bytes, and on 3.12+ the
 * managed dict and weakref words, 16 more) keeps that.  Two live objects
 * never share a granule (an object is at least 16 bytes).  An address that
 * is not a multiple of 16 gets no record (gcx_table.unaligned counts them):
 * such a container is one gcx never examines, its references counted as
 * from outside, as an untracked one's are. */
#define GCX_PAGE_SHIFT 12                                   /* 4 KiB pages */
#define GCX_GRAIN_SHIFT 4                                   /* 16-byte granules */
#define GCX_GRAIN_MASK (((uintptr_t)1 << GCX_GRAIN_SHIFT) - 1)
#define GCX_SLOTS (1u << (GCX_PAGE_SHIFT - GCX_GRAIN_SHIFT))  /* 256 per page */
#define GCX_WORDS (GCX_SLOTS / 64)                          /* 4 words */

/* The sets a record can be in: the three generations and the frozen set. */
enum { GCX_GEN0 = 0, GCX_GEN1 = 1, GCX_GEN2 = 2, GCX_FROZEN = 3, GCX_NSETS = 4 };
#define GCX_NGENS 3

/* Lists of pages kept so that young collections never walk the whole table. */
enum { GCX_LIST_YOUNG = 0, GCX_LIST_MIDDLE = 1, GCX_NLISTS = 2 };

/* A page's records.  A collection's region is kept apart (region.c), so a
 * collection writes a page record only to change its records. */
typedef struct gcx_page {
    uintptr_t key;                           /* address >> GCX_PAGE_SHIFT */
    uint32_t count[GCX_NSETS];               /* popcount of each set */
    uint32_t index;                          /* position in gcx_table.pages */
    uint8_t on_list[GCX_NLISTS];             /* on the young / middle list */
    /* The records (at offset 32). */
    uint64_t sets[GCX_WORDS][GCX_NSETS];     /* membership, one bit per record;
                                                a word of every set shares a line */
    /* (what a resync saw is kept apart, for its duration: table.c, T5) */
} gcx_page_t;

typedef struct {
    uintptr_t key;
    gcx_page_t *page;
} gcx_slot_t;

typedef struct {
    gcx_page_t **items;
    Py_ssize_t len, cap;
} gcx_pagevec_t;

#define GCX_CACHE_SIZE 256   /* pages remembered by gcx_page_find; 4 KiB */
/* The page filter: one bit per page number modulo 2^GCX_FILTER_BITS (4 GiB
 * of address space), set for every page in the index (T7).  A clear bit
 * says "no record on this page" in a few instructions; a set one may be an
 * alias.  128 KiB of address space, mapped lazily: only the parts covering
 * addresses that hold records are ever written. */
#define GCX_FILTER_BITS 20

typedef struct {
    /* page index: open addressing, linear probing, key 0 = empty */
    gcx_slot_t *slots;
    size_t mask;                 /* capacity - 1 */
    size_t used;
    gcx_slot_t cache[GCX_CACHE_SIZE];   /* direct-mapped lookup cache */
    uint64_t *filter;            /* the page filter (T7) */
    Py_ssize_t unaligned;        /* containers not recorded: address not a
                                    multiple of 16 (never seen so far) */
    gcx_pagevec_t pages;         /* every page, for full walks */
    gcx_pagevec_t lists[GCX_NLISTS];
    Py_ssize_t total[GCX_NSETS]; /* records per set */
    bool alloc_failed;           /* a record could not be created */
} gcx_table_t;

extern gcx_table_t gcx_table;

int gcx_table_init(void);
gcx_page_t *gcx_page_get(uintptr_t key);          /* find or create; NULL on OOM */
bool gcx_table_room_for(PyObject *op, bool young); /* page (on the young list) ready */
void gcx_table_add_slow(PyObject *op, int set);   /* gcx_table_add, any page */
void gcx_table_discard_slow(PyObject *op);        /* gcx_table_discard, any page */
void gcx_table_promote(PyObject *op, int to);    /* move a record (not a frozen one) */
int gcx_table_set_of(PyObject *op);               /* the set holding op, or -1 */
void gcx_table_move(gcx_page_t *p, unsigned slot, int from, int to);
void gcx_table_move_all(int from, int to);        /* whole set, O(pages) */
void gcx_table_move_word(gcx_page_t *p, unsigned w, uint64_t bits, int from, int to);
/* Call fn(page, slot, set, arg) for every record of the sets in set_mask
 * (bit s for set s), in address order within each page.  fn may move the
 * record it is given; it must not run Python code. */
typedef void (*gcx_record_fn)(gcx_page_t *p, unsigned slot, int set, void *arg);
void gcx_table_each(unsigned set_mask, gcx_record_fn fn, void *arg);
#define GCX_GENS_MASK ((1u << GCX_GEN0) | (1u << GCX_GEN1) | (1u << GCX_GEN2))
void gcx_table_free_empty_pages(void);
bool gcx_table_free_if_empty(Py_ssize_t i);   /* the sweep: page i, if unused */
void gcx_table_rebuild_lists(void);
size_t gcx_table_bytes(void);
void gcx_table_settle(int generation);            /* page lists after a collection */
void gcx_table_resync_begin(void);                /* a resync, in three steps */
int gcx_table_seen(PyObject *op);
void gcx_table_resync_end(bool drop);
int gcx_table_check(void);                        /* 0 ok, -1 with AssertionError */

static inline uintptr_t gcx_addr_key(uintptr_t a) { return a >> GCX_PAGE_SHIFT; }
static inline unsigned gcx_addr_slot(uintptr_t a) {
    return (unsigned)((a >> GCX_GRAIN_SHIFT) & (GCX_SLOTS - 1));
}
static inline PyObject *gcx_slot_object(const gcx_page_t *p, unsigned slot) {
    return (PyObject *)((p->key << GCX_PAGE_SHIFT) | ((uintptr_t)slot << GCX_GRAIN_SHIFT));
}
static inline bool gcx_bit(const uint64_t *words, unsigned slot) {
    return (words[slot >> 6] >> (slot & 63)) & 1;
}
static inline void gcx_bit_set(uint64_t *words, unsigned slot) {
    words[slot >> 6] |= (uint64_t)1 << (slot & 63);
}
static inline void gcx_bit_clear(uint64_t *words, unsigned slot) {
    words[slot >> 6] &= ~((uint64_t)1 << (slot & 63));
}
int gcx_pagevec_push(gcx_pagevec_t *v, gcx_page_t *p);

/* Word w of set s of page p; the record of slot in set s. */
#define GCX_SET(p, s, w) ((p)->sets[(w)][(s)])
static inline bool gcx_rec_has(const gcx_page_t *p, int s, unsigned slot) {
    return (GCX_SET(p, s, slot >> 6) >> (slot & 63)) & 1;
}

/* The set holding slot's record, or -1 (T1: at most one does). */
static inline __attribute__((always_inline)) int
gcx_set_of_slot(const gcx_page_t *p, unsigned slot)
{
    const uint64_t *words = p->sets[slot >> 6];   /* one cache line */
    uint64_t bit = (uint64_t)1 << (slot & 63);
    for (int s = 0; s < GCX_NSETS; s++) {
        if (words[s] & bit) {
            return s;
        }
    }
    return -1;
}

/* A record enters or leaves set s: its bit and the counts (T2).  Keeping
 * the page on its list (T4) is the caller's business. */
static inline void
gcx_rec_put(gcx_page_t *p, int s, unsigned slot)
{
    GCX_SET(p, s, slot >> 6) |= (uint64_t)1 << (slot & 63);
    p->count[s]++;
    gcx_table.total[s]++;
}

static inline __attribute__((always_inline)) void
gcx_rec_clear(gcx_page_t *p, int s, unsigned slot)
{
    GCX_SET(p, s, slot >> 6) &= ~((uint64_t)1 << (slot & 63));
    p->count[s]--;
    gcx_table.total[s]--;
}

/* Drop slot's record, if it has one: the set it was in, or -1.  Inlined
 * always: it is on the allocator wrapper's path of every container freed. */
static inline __attribute__((always_inline)) int
gcx_rec_discard(gcx_page_t *p, unsigned slot)
{
    int s = gcx_set_of_slot(p, slot);
    if (s >= 0) {
        gcx_rec_clear(p, s, slot);
    }
    return s;
}

/* The page list (T4) that pages holding records of set s belong on, or -1. */
static inline int
gcx_list_of(int set)
{
    return set == GCX_GEN0 ? GCX_LIST_YOUNG : set == GCX_GEN1 ? GCX_LIST_MIDDLE : -1;
}

static inline size_t
gcx_hash_key(uintptr_t key, size_t mask)
{
    /* Fibonacci hashing spreads neighbouring pages over the index. */
    return (size_t)((key * (uint64_t)0x9E3779B97F4A7C15ULL) >> 20) & mask;
}

/* The page of a key, or NULL: the hot lookup of every edge visited.  The
 * cache remembers misses too (page NULL): edges to the atoms beside
 * containers (ints, strings) land on pages without records, again and
 * again.  gcx_page_get replaces a remembered miss when it makes the page. */
static inline gcx_page_t *
gcx_page_find(uintptr_t key)
{
    gcx_slot_t *c = &gcx_table.cache[key & (GCX_CACHE_SIZE - 1)];
    if (c->key == key) {
        return c->page;
    }
    size_t mask = gcx_table.mask;
    for (size_t i = gcx_hash_key(key, mask);; i = (i + 1) & mask) {
        gcx_slot_t *s = &gcx_table.slots[i];
        if (s->key == key || s->key == 0) {
            c->key = key;
            c->page = s->page;   /* NULL in an empty slot */
            return c->page;
        }
    }
}

/* May page `key` hold records?  False only if it holds none (T7). */
static inline bool
gcx_page_maybe(uintptr_t key)
{
    uintptr_t i = key & (((uintptr_t)1 << GCX_FILTER_BITS) - 1);
    return (gcx_table.filter[i >> 6] >> (i & 63)) & 1;
}

/* The tracer's two operations, inline for the usual case: the page is in
 * the lookup cache (consecutive allocations share pages), the slot holds no
 * stale record, and the page is already on its list.  The try_ forms do
 * that case alone and say whether they did it, changing nothing otherwise. */

static inline bool
gcx_table_try_add(PyObject *op, int set)
{
    uintptr_t a = (uintptr_t)op;
    uintptr_t key = gcx_addr_key(a);
    const gcx_slot_t *c = &gcx_table.cache[key & (GCX_CACHE_SIZE - 1)];
    gcx_page_t *p = c->page;
    if (c->key != key || p == NULL || (a & GCX_GRAIN_MASK)) {
        return false;
    }
    unsigned slot = gcx_addr_slot(a);
    const uint64_t *words = p->sets[slot >> 6];
    uint64_t bit = (uint64_t)1 << (slot & 63);
    int list = gcx_list_of(set);
    if (slot == 0                 /* the filter's bit for the page before (T7) */
        || ((words[0] | words[1] | words[2] | words[3]) & bit)
        || (list >= 0 && !p->on_list[list])) {
        return false;
    }
    gcx_rec_put(p, set, slot);
    return true;
}

/* The set holding op's record (-1: it has none) when op's page is in the
 * lookup cache, with the page and slot in *page and *slot; -2 otherwise. */
static inline int
gcx_table_try_set_of(PyObject *op, gcx_page_t **page, unsigned *slot)
{
    uintptr_t a = (uintptr_t)op;
    uintptr_t key = gcx_addr_key(a);
    const gcx_slot_t *c = &gcx_table.cache[key & (GCX_CACHE_SIZE - 1)];
    if (c->key != key || c->page == NULL || (a & GCX_GRAIN_MASK)) {
        return -2;
    }
    *page = c->page;
    *slot = gcx_addr_slot(a);
    return gcx_set_of_slot(c->page, *slot);
}

/* Insert op's record into set (moving a stale record of a previous
 * occupant whose death went unreported). */
static inline void
gcx_table_add(PyObject *op, int set)
{
    if (!gcx_table_try_add(op, set)) {
        gcx_table_add_slow(op, set);
    }
}

static inline bool
gcx_table_try_discard(PyObject *op)
{
    uintptr_t a = (uintptr_t)op;
    uintptr_t key = gcx_addr_key(a);
    const gcx_slot_t *c = &gcx_table.cache[key & (GCX_CACHE_SIZE - 1)];
    if (c->key != key) {
        return false;
    }
    if (c->page != NULL) {   /* no page, no record */
        gcx_rec_discard(c->page, gcx_addr_slot(a));
    }
    return true;
}

/* Remove op's record, if it has one. */
static inline void
gcx_table_discard(PyObject *op)
{
    if (!gcx_table_try_discard(op)) {
        gcx_table_discard_slow(op);
    }
}

/* ---- one collection: the shared types ---------------------------------------- */

/* A vector of objects: the garbage sets U and F. */
typedef struct {
    PyObject **items;
    Py_ssize_t len, cap;
} gcx_workvec_t;

/* The generation-2 records of a page to leave out of a full collection's
 * region (a bit per slot), or NULL: none. */
typedef const uint64_t *(*gcx_exclude_fn)(const gcx_page_t *p);

/* For a sweep step (S3 of incremental.c): may wr, a weakref outside the
 * step's region, be garbage that a later step will decide?  And op, a
 * member of the step's garbage, waits for a later step. */
typedef struct {
    bool (*undecided)(PyObject *wr);
    void (*waits)(PyObject *op);
} gcx_wait_t;

/* What a collection found and did. */
typedef struct {
    Py_ssize_t collected, uncollectable;
    Py_ssize_t candidates;       /* objects in the region */
} gcx_result_t;

/* The survivors and the garbage of a region, as gcx_region_keep_survivors
 * found them. */
typedef struct {
    Py_ssize_t tracked;          /* survivors CPython still tracks */
    Py_ssize_t garbage;          /* members that did not survive */
    Py_ssize_t legacy;           /* ... of which have a tp_del */
} gcx_survey_t;

/* The garbage of one collection, from the split to the end. */
typedef struct {
    gcx_workvec_t unreachable;   /* U: pinned or watched, in the region */
    gcx_workvec_t legacy;        /* F: pinned, not in the region */
    bool pinned;                 /* U is pinned (else watched: W1 of finalize.c) */
    bool lost;                   /* watched, a look struck all of U (W2) */
    bool hook;                   /* the garbage hook will see it */
    Py_ssize_t collected;        /* m */
    Py_ssize_t uncollectable;    /* n */
    int old_set;                 /* where survivors go */
    int generation;              /* the oldest generation collected */
    Py_ssize_t candidates;       /* the region's members, before the split */
    bool weakrefs;               /* a member of U is or has a weakref (or may: the hook ran) */
    bool finalizers;             /* a member of U may have a tp_finalize */
    Py_ssize_t due_callbacks;    /* weakref callbacks to run, or -1: count again */
    const int *debug;            /* the debug flags, read as they are now */
    PyObject *garbage_list;      /* gc.garbage */
} gcx_garbage_t;

/* ---- what the running interpreter does (probe.c) -------------------------------- */

typedef struct {
    destructor py_del_slot;             /* tp_finalize of classes defining __del__ */
    PyInterpreterState **interp_head;   /* the runtime's interpreter list, or NULL */
    bool late_weakref_clear;            /* GH-91636 is in this interpreter */
    bool weakrefs_after_finalizers;     /* gh-135552 (3.15) is in this interpreter */
    bool dicts_lazy;                    /* dicts are tracked lazily (3.13) */
} gcx_probes_t;

extern gcx_probes_t gcx_probed;   /* written by probe.c alone */

int gcx_probe_all(void);          /* at import, before the tracer */
PyObject *gcx_probe_get(const char *name);  /* gcx._probes.name, a new reference */

/* ---- the invariant checker (check.c) --------------------------------------------- */

int gcx_check_all(void);                 /* 0, or -1 with AssertionError */
void gcx_check_after_collection(Py_ssize_t examined);   /* level 3: abort if broken */

/* ---- one collection, top to bottom (collection.c) ------------------------------ */

Py_ssize_t gcx_collect(int generation);   /* collected + uncollectable; 0 if refused */
Py_ssize_t gcx_collect_unpromoted(int generation);   /* the same; survivors stay in `generation` */
Py_ssize_t gcx_collect_except(gcx_exclude_fn out, bool swept);   /* an incremental end */
Py_ssize_t gcx_collect_within(gcx_page_t *const *pages, Py_ssize_t n,
                              gcx_exclude_fn in, const gcx_wait_t *wait);   /* -1 refused */

/* ---- a full collection in slices (incremental.c) ------------------------------- */

typedef struct {
    bool active;                 /* a cycle is marking */
    bool failed;                 /* an allocation failed this cycle (I2) */
    Py_ssize_t gray, marked, traversed, skipped;
    Py_ssize_t old_at_start;     /* records of generations 1 and 2 at the start */
    Py_ssize_t kept;             /* the last end left out this many (marked) */
    Py_ssize_t abandoned;        /* cycles a full collection overtook (I3) */
    size_t bytes;                /* the gray stack's and the marks' memory */
    bool sweeping;               /* marking done, pages left to sweep */
    Py_ssize_t steps, swept, swept_found;   /* the sweep's, this cycle */
    Py_ssize_t step_max;         /* members of its largest step */
    Py_ssize_t promoted;         /* records that entered generation 2 during it */
    Py_ssize_t rejoined;         /* records its steps decided again (S1) */
    Py_ssize_t waited;           /* garbage its steps left for later (S3) */
    Py_ssize_t passes;           /* passes of the sweep over the pages (S3) */
    bool rescanned;              /* the frames were read again before its sweep */
    Py_ssize_t deferred;         /* steps decided a slice after their gathering (S4) */
    Py_ssize_t pending;          /* members of the step waiting for its decision */
} gcx_incr_state_t;

int gcx_incr_start(PyObject *roots);   /* roots: a list */
Py_ssize_t gcx_incr_slice(double seconds);   /* gray objects left */
int gcx_incr_mark_frame(PyObject *frame, Py_ssize_t depth);   /* 1: read */
Py_ssize_t gcx_incr_sweep(double seconds);   /* 1 while pages are left */
Py_ssize_t gcx_incr_finish(void);      /* what the end found; -1 no cycle */
void gcx_incr_abandon(void);
gcx_incr_state_t gcx_incr_state(void);

/* ---- when to collect (schedule.c) --------------------------------------------- */

/* The stdlib gc module's debug flags (Modules/gcmodule.c), with its values;
 * module.c exports them, and gcx/__init__.py takes them from there. */
enum {
    GCX_DEBUG_STATS = 1,            /* "gc: collecting generation ..." lines */
    GCX_DEBUG_COLLECTABLE = 2,      /* each collectable object found */
    GCX_DEBUG_UNCOLLECTABLE = 4,    /* each uncollectable object found */
    GCX_DEBUG_SAVEALL = 32,         /* garbage goes to gc.garbage, uncleared */
    GCX_DEBUG_LEAK = GCX_DEBUG_COLLECTABLE | GCX_DEBUG_UNCOLLECTABLE | GCX_DEBUG_SAVEALL,
};

/* Automatic collection's tunables: CPython 3.13's defaults and rules
 * (Python/gc.c), exported to Python as DEFAULT_THRESHOLDS. */
/* net container allocations before a young collection: the running
 * interpreter's default (3.13 raised 3.12's 700 to 2000) */
#define GCX_THRESHOLD0 (GCX_PY312 ? 700 : 2000)
#define GCX_THRESHOLD1 10        /* young collections before a generation-1 one */
#define GCX_THRESHOLD2 10        /* generation-1 collections before a full one ... */
#define GCX_LONG_LIVED_RATIO 4   /* ... and only once the survivors of gen-1 collections
                                    since the last full one exceed 1/this of the
                                    containers that survived it */
#define GCX_SAFE_SPACING 16      /* safe mode: a young collection waits for at least
                                    1/this of the last collection's survivors */

typedef struct {
    int threshold[GCX_NGENS];
    int count[GCX_NGENS];
    Py_ssize_t young_count_since_full; /* generation 0's count at each young
                                    collection since the last full one (or cycle's
                                    end), past threshold[0] rounded to whole
                                    thresholds, in all: the stdlib's count of
                                    generation 2 in allocations, a unit a policy
                                    that collects generation 0 or 1 early still has
                                    (gcx/_budget.py) */
    Py_ssize_t long_lived_total, long_lived_pending;
    bool enabled;                /* gcx's automatic collection */
    bool collecting;             /* G1 */
    bool stdlib_collecting;
    int scheduled;               /* a pending call is queued (G2) */
    Py_ssize_t survivors;        /* records after the last collection */
    int *young;                  /* G3: the count of generation 0 in use */
    int trigger;                 /* G4: the young count that asks for a collection */
    bool trigger_set;            /* a policy set it; else it follows threshold[0] */
    int ask_at;                  /* G4: the count at which an allocation asks next */
    int young_floor;             /* G8: *young when enabled or thresholds set,
                                    until it changes; else INT_MIN */
    int floor_refusals;          /* G8: requests the floor refused */
    int look_in;                 /* G6: allocations before the allocator wrapper
                                    next compares *young with ask_at (tracer.c) */
    int held;                    /* G5: depth of no-GC regions */
    Py_ssize_t held_requests;    /* G5: requests that found collection held */
} gcx_schedule_t;

extern gcx_schedule_t gcx_sched;   /* written by schedule.c and the inline functions below */

typedef Py_ssize_t (*gcx_collector_fn)(int generation);
/* CPython's own "collecting" flag: read (on < 0) or set to on; its value before */
typedef int (*gcx_flag_fn)(int on);
int gcx_schedule_init(gcx_collector_fn collect, PyInterpreterState *interp, bool safe_mode,
                      gcx_flag_fn cpython_collecting);
void gcx_schedule_request(void);   /* the slow path of gcx_schedule_on_alloc */
int gcx_schedule_look_crossed(void);   /* G6: a look: the count under (-1), at (0), past (1) the trigger */
bool gcx_schedule_begin(void);     /* may a collection start now?  G1 */
void gcx_schedule_counts_for(int generation);
void gcx_schedule_survived(int generation, Py_ssize_t tracked);
void gcx_schedule_long_lived(Py_ssize_t total, Py_ssize_t pending);   /* a cycle's end */
void gcx_schedule_counts_for_cycle(void);   /* ... after a whole sweep */
int gcx_schedule_young(void);             /* generation 0's count (G3) */
void gcx_schedule_set_young(int count);  /* ... put back after a sweep step */
void gcx_schedule_end(Py_ssize_t survivors);
void gcx_schedule_enable(bool on);
void gcx_schedule_set_thresholds(const int t[GCX_NGENS]);
void gcx_schedule_set_stdlib_collecting(bool on);
void gcx_schedule_reset_counts(void);
void gcx_schedule_aged(Py_ssize_t moved);   /* generations 0 and 1 moved into 2 */
void gcx_schedule_after_fork(void);     /* in the child: re-arm automatic collection */
void gcx_schedule_count_young(int *cpython_count);   /* G3; NULL: gcx's own */
void gcx_schedule_adopt_counts(int c0, int c1, int c2);   /* G3, at install */
/* G4: a policy is handed the generation the stdlib's rule takes (-1 none)
 * and the one it takes without the oldest. */
typedef void (*gcx_policy_fn)(int due, int due_young);
void gcx_schedule_set_policy(gcx_policy_fn policy);   /* NULL: the stdlib's rule */
bool gcx_schedule_reads_wait(void);                   /* G9 */
/* G10: CPython's own trigger */
bool gcx_schedule_cpython_may_trigger(void);
int gcx_schedule_cpython_threshold(void);
void gcx_schedule_cpython_triggered(void);
void gcx_schedule_cpython_stopped(void);
void gcx_schedule_on_change(void (*fn)(void));
typedef Py_ssize_t (*gcx_pages_fn)(void);
void gcx_schedule_set_young_limit(Py_ssize_t pages, int from_count, gcx_pages_fn young_pages);   /* G7 */
void gcx_schedule_set_trigger(int n);                 /* 0: threshold[0] */
int gcx_schedule_due(int oldest);
int gcx_schedule_hold(int delta);                     /* G5: no-GC regions */
void gcx_schedule_counts(int out[GCX_NGENS]);        /* what get_count() says */

/* The tracer's counting, as CPython 3.13 counts GC allocations: a container
 * was created / died.  An allocation is due to ask for a collection when
 * the count is at the threshold. */
static inline bool
gcx_schedule_alloc_due(void)
{
    return *gcx_sched.young >= gcx_sched.ask_at && gcx_sched.enabled;
}

/* An object allocation, counted down from the allocator wrapper (G6):
 * whether it is time to look.  Any interpreter's thread may call it, with
 * no atomic read-modify-write (a lost decrement only delays a look by
 * one allocation). */
static inline bool
gcx_schedule_alloc_looks(void)
{
    int n = __atomic_load_n(&gcx_sched.look_in, __ATOMIC_RELAXED) - 1;
    __atomic_store_n(&gcx_sched.look_in, n, __ATOMIC_RELAXED);
    return n <= 0;
}
/* ... the allocations counted down since the last call (G6), and the next
 * look: within `most` allocations, and before *young can reach ask_at. */
unsigned gcx_schedule_allocs_counted(void);
void gcx_schedule_look_within(int most);
/* ... none until a pending call (a read, a collection) that was queued has
 * run and looks again (G6) */
void gcx_schedule_look_parked(void);

static inline void
gcx_schedule_count_alloc(void)
{
    gcx_sched.count[0]++;
}

static inline void
gcx_schedule_on_alloc(void)
{
    bool due = gcx_schedule_alloc_due();
    gcx_schedule_count_alloc();
    if (due) {
        gcx_schedule_request();
    }
}

static inline void
gcx_schedule_on_free(void)
{
    if (gcx_sched.count[0] > 0) {
        gcx_sched.count[0]--;
    }
}

/* ---- the bytes the Python allocators hold (memory.c) ---------------------------- */

typedef struct {
    bool started;                /* counting has begun (it never stops: M1) */
    bool raw_counted;            /* the raw domain's blocks are counted (M2) */
    bool objects_counted;        /* so are the object domain's (PYTHONMALLOC=malloc) */
    int64_t arenas;              /* pymalloc's arenas */
    int64_t blocks;              /* blocks of the C library's malloc */
    int64_t pressure;            /* declared native memory */
    int64_t held;                /* the sum */
} gcx_memory_t;

void gcx_memory_init(void);     /* at import: the arena count */
void gcx_memory_start(void);    /* the first reader: the block counts */
void gcx_memory_pressure(int64_t delta);
gcx_memory_t gcx_memory_read(void);

/* ---- what collections did (stats.c) --------------------------------------------- */

/* One collection in the pause ring, and the last of each generation. */
typedef struct {
    double start;                /* perf-counter seconds */
    double duration;             /* seconds */
    int generation;
    Py_ssize_t collected, uncollectable, candidates;
} gcx_pause_t;

/* The pause histogram's buckets: upper bounds in seconds (a pause of d
 * seconds counts in the first bucket whose bound is >= d), from 10 us to
 * 10 s in steps of 1, 2.5, 5; a last bucket, unbounded, catches the rest. */
#define GCX_PAUSE_BUCKETS 20     /* the 19 bounds of gcx_pause_bounds, then +inf */
extern const double gcx_pause_bounds[GCX_PAUSE_BUCKETS - 1];

typedef struct {
    Py_ssize_t collections, collected, uncollectable;
    Py_ssize_t candidates;       /* objects examined, as CPython 3.15 counts */
    double duration;             /* seconds spent collecting */
    /* the pause histogram: per bucket (not cumulative), the pauses that
     * fell in it and their seconds (S3: the counts add up to collections) */
    uint64_t pause_counts[GCX_PAUSE_BUCKETS];
    double pause_seconds[GCX_PAUSE_BUCKETS];
    gcx_pause_t last;            /* the last collection of this generation */
} gcx_gen_stats_t;

#define GCX_PAUSE_RING 1024      /* collections remembered by recent_pauses() */

typedef struct {
    gcx_gen_stats_t gens[GCX_NGENS];
    gcx_pause_t pauses[GCX_PAUSE_RING];
    uint64_t npauses;            /* ever recorded; the ring holds the last */
    int debug;                   /* GCX_DEBUG_* flags */
    PyObject *garbage;           /* list, gc.garbage (S2) */
    PyObject *callbacks;         /* list, gc.callbacks (S2) */
    PyObject *garbage_hook;      /* called with the garbage found, or NULL */
    /* the slow-pause signal: a byte written to slow_fd (a pipe gcx.monitor's
     * thread reads) after a collection of slow_threshold seconds or more */
    int slow_fd;                 /* or -1: off */
    double slow_threshold;
    bool slow_due;               /* this collection was slow: signal at its end */
} gcx_stats_state_t;

extern gcx_stats_state_t gcx_stats;   /* written by stats.c alone */

int gcx_stats_init(void);
void gcx_stats_begin(int generation);
void gcx_stats_end(int generation, const gcx_result_t *r, PyTime_t start, PyTime_t end,
                   PyTime_t earlier);   /* earlier: its time in other pauses */
void gcx_stats_after(void);       /* the collection is over: signal a slow one */
void gcx_stats_set_debug(int flags);
void gcx_stats_set_garbage_hook(PyObject *hook);   /* a new reference, or NULL */
void gcx_stats_set_slow_fd(int fd, double threshold);   /* fd -1: off */

/* ---- the garbage (finalize.c) ----------------------------------------------------- */

Py_ssize_t gcx_garbage_wait(gcx_garbage_t *g, const gcx_wait_t *wait);
void gcx_hold_garbage(gcx_garbage_t *g);
void gcx_finalize_garbage(gcx_garbage_t *g);
void gcx_report_garbage(gcx_garbage_t *g, int generation, PyObject *hook);
bool gcx_is_finalizing(PyObject *op);   /* its finalizer is running now */
bool gcx_garbage_hides(PyObject *op);   /* op is the running collection's garbage */

/* ---- one collection's region (region.c) -------------------------------------------- */

/* Per member of a collection's region, in region order: its trial-deletion
 * count, then a GCX_W_* mark.  32 bits: a refcount above GCX_REFS_MAX is
 * not copied, its member is simply marked reachable (it survives, as it
 * would unless two billion references were all inside cyclic garbage).
 * region.c builds the counts in one pass that adds each member's refcount
 * when it gets to the member and subtracts edges as they come, so until
 * then a count may be negative: counts stay at or above GCX_REFS_MIN (a
 * count held there is conservative: its member survives), marks are below. */
typedef int32_t gcx_refs_t;
#define GCX_REFS_MAX (INT32_MAX / 2)
#define GCX_REFS_MIN (-GCX_REFS_MAX)

#define GCX_W_REACHABLE INT32_MIN             /* survives */
#define GCX_W_ROOTED (INT32_MIN + 1)          /* survives: reachable from a root */
#define GCX_W_EXCLUDED (INT32_MIN + 2)        /* no member: untracked, or immortal */
#define GCX_W_LEGACY (INT32_MIN + 3)          /* unreachable, kept by a tp_del */

/* The starting count of a member with refcount rc. */
static inline gcx_refs_t
gcx_refs_of(Py_ssize_t rc)
{
    return rc <= GCX_REFS_MAX ? (gcx_refs_t)rc : GCX_W_REACHABLE;
}

typedef void (*gcx_promote_fn)(const gcx_page_t *p, unsigned word, uint64_t bits);
void gcx_region_on_promote(gcx_promote_fn hook);   /* records moved into gen 2 */
int gcx_region_number(int generation);            /* the phases, in order */
int gcx_region_number_except(gcx_exclude_fn out);  /* instead of gcx_region_number(2) */
int gcx_region_number_within(gcx_page_t *const *pages, Py_ssize_t n, gcx_exclude_fn in);
int gcx_region_mark_from_roots(void);
Py_ssize_t gcx_region_count(void);                 /* members, for stats */
int gcx_region_mark(void);
gcx_survey_t gcx_region_keep_survivors(int generation, int old_set);
int gcx_region_split(gcx_garbage_t *g, gcx_survey_t sv);
void gcx_region_keep(gcx_workvec_t *u, bool (*keep)(PyObject *op, Py_ssize_t i, void *arg),
                     void *arg);   /* after the split: U keeps only some */
void gcx_region_done(gcx_garbage_t *g);            /* the end, or C3: give up */
int gcx_region_check(void);                        /* C2 outside a collection */
Py_ssize_t gcx_region_index(PyObject *op);        /* work index, or -1 */
void gcx_region_subtract(void);                    /* finalize.c's recount of U */
gcx_refs_t *gcx_region_refs(void);                /* room for the region's counts */
void gcx_region_clear(void);
int gcx_traverse_closure(gcx_refs_t *refs, gcx_refs_t mark);

/* ---- questions and moves over every record (heap.c) ----------------------------- */

PyObject *gcx_heap_objects(unsigned set_mask, bool hide_garbage);
PyObject *gcx_heap_referrers(PyObject *objs, bool hide_garbage);
PyObject *gcx_heap_census(unsigned set_mask, bool hide_garbage);   /* [(type, n)] */
Py_ssize_t gcx_heap_count(int set);    /* records of set CPython tracks now */
bool gcx_heap_is_tracked(PyObject *op);
void gcx_heap_freeze(void);
void gcx_heap_unfreeze(void);
Py_ssize_t gcx_heap_age(void);         /* generations 0 and 1 into 2; records moved */

/* ---- the tracer and table maintenance (tracer.c) -------------------------- */

enum { GCX_MODE_TRACER = 0, GCX_MODE_SAFE = 1, GCX_MODE_ALLOC = 2, GCX_MODE_LISTS = 3,
       GCX_NMODES = 4 };
extern const char *const gcx_mode_names[GCX_NMODES];   /* as GCX_MODE and info() say them */

typedef struct {
    int mode;
    int selftest;                /* the tracer's self-test: 1 it reported every
                                    death, 0 it did not, -1 not run */
    int alloc_selftest;          /* the allocator wrapper saw every free: 1, 0, -1 not run */
    bool lists_readable;         /* lists.c reads CPython's lists (L1) */
    bool installed;              /* our tracer is meant to be in the slot */
    bool shut_down;              /* the slot was given back at exit */
    bool stale;                  /* records may dangle: full resync needed */
    bool unsure;                 /* live containers may lack records */
    bool unsure_sticky;          /* ... and may again (slot was lost once) */
    PyRefTracer chain_fn;        /* a previous owner we forward to */
    void *chain_data;
    PyInterpreterState *interp;
    Py_ssize_t resyncs;
    Py_ssize_t allocator_wraps;  /* alloc mode: times the wrapper was put on top */
    Py_ssize_t adopted;
    Py_ssize_t births;           /* lists mode, 3.12: containers found in CPython's lists */
    Py_ssize_t looks;            /* lists mode: allocations that looked (schedule.c, G6) */
    bool cpython_triggers;       /* CPython's own trigger is armed (K1 of tracer.c) */
    Py_ssize_t cpython_triggered;   /* ... and started collections of gcx's (K3 of tracer.c) */
    Py_ssize_t suspects;         /* deaths that may have been resurrections */
    Py_ssize_t live_at_resync;
    void (*gone)(PyObject *op);  /* the watch (gcx_watch_begin), or NULL */
} gcx_tracer_t;

extern gcx_tracer_t gcx_tr;

int gcx_tracer_init(void);
void gcx_tracer_fini(void);
int gcx_tracer_lend_slot(void);   /* a tracer that does nothing, for bench_tracking */
void gcx_sync(bool need_all);   /* make records trustworthy before use */
void gcx_resync(bool drop, int adopt_set);
void gcx_adopt(PyObject *op);   /* a live tracked container we met */
bool gcx_alloc_hook_in_chain(void);   /* alloc or lists mode, and the wrapper sees frees */
/* The watch over a collection's garbage (W1 of finalize.c): from
 * gcx_watch_begin (if it can start) to gcx_watch_end, gone(op) is called
 * for every container that dies or is made (or, in lists mode, tracked)
 * where the main interpreter runs; gcx_watch_look, after Python code may
 * have run, reports the containers tracked since (lists mode) and says
 * whether the watch still sees every death. */
bool gcx_watch_begin(void (*gone)(PyObject *op));
bool gcx_watch_look(bool sources);
void gcx_watch_end(void);
void gcx_births_read(void);       /* lists mode, 3.12: learn of what was born since */
/* gcx's own markers in CPython's lists (lists mode): out[0..n), n <= 3 */
int gcx_tracer_markers(PyObject *out[3]);
/* the stdlib collector's "start" of a collection of `generation`: read first
 * (and, where CPython's own trigger started it, collect: K3 of tracer.c) */
void gcx_births_before_stdlib(int generation);
void gcx_births_after_stdlib(void);    /* ... and its "stop" */
void gcx_tracer_after_fork(void); /* in the child: re-arm the pending read of births */
void gcx_tracer_trigger_update(void);   /* K1: arm or disarm CPython's own trigger */
int *gcx_tracer_cpython_young_count(void);   /* CPython's count of generation 0, or NULL */
void gcx_tracer_cpython_set_older_counts(int c1, int c2);   /* ... of 1 and 2, if found */
gcx_flag_fn gcx_tracer_cpython_collecting(void);   /* its setter, or NULL */
void gcx_watch_untracked(PyObject *op);

/* Are deaths seen by the allocator wrapper (alloc and lists modes)?  Then a
 * container parked on a free list keeps its record, with count 0 (R1). */
static inline bool
gcx_deaths_at_allocator(void)
{
    return gcx_tr.mode == GCX_MODE_ALLOC || gcx_tr.mode == GCX_MODE_LISTS;
}

/* Could op be in a cycle, now or once CPython tracks it?  (3.13's
 * _PyObject_GC_MAY_BE_TRACKED: an untracked tuple stays untracked.)
 * NULL is not. */
static inline bool
gcx_may_be_tracked(PyObject *op)
{
    return op != NULL && gcx_is_gc(op)
           && (!PyTuple_CheckExact(op) || gcx_is_tracked(op));
}   /* R5: an untracked dict leaves gen 0 */

#endif
