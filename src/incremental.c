/* incremental.c: a full collection spread over slices (the pause budget,
 * gcx/_budget.py).
 *
 * A cycle has three parts, each in slices between which the program runs.
 *
 * Marking: from roots the policy hands over (sys.modules, the locals of
 * every thread's frames) and the slots of every thread's running frames
 * (frames.c: the value stacks too, where a list a comprehension is building
 * lives), mark in this file's own bitmaps what they refer to that has a
 * record in generation 0, 1 or 2, and traverse what is marked, marking
 * what that refers to, until the slice's time is used.  Traversal follows
 * the table's pages in order, as a full collection's marking does
 * (region.c): a scan passes the pages there were at the cycle's start and
 * traverses the records marked on each; what is marked on a page the scan
 * has yet to reach waits for it (its "todo" bit), and only what is marked
 * behind it goes on the gray stack, drained before the scan moves on.  The
 * objects are then read in the order of their memory, not the graph's:
 * marking a random graph of 1M nodes took 3x as long in the graph's.  What collections
 * promote into generation 2 during the cycle is marked as it arrives
 * (on_promote): it was alive then, as the objects 3.14 and Go allocate
 * black are.
 *
 * The sweep: first the running frames' slots are read again and what they
 * reach now is marked (marking resumes if that found anything); then the
 * generation-2 records marking did not reach (mostly garbage, plus what
 * only C code or objects made during the cycle hold) are decided a step at
 * a time.  A step takes unmarked
 * records from the next pages of the table, each with everything it
 * reaches of the same kind, until it has about as many as the slice
 * allows, and collects that set (collection.c, gcx_collect_within):
 * trial deletion, finalizers, weakrefs, tp_clear, gc.garbage, as in any
 * collection.  Its members are then "done".
 *
 * The end (gcx_collect_except): after a whole sweep, which decided every
 * record of generation 2, nothing is left to examine: the end counts as the
 * full collection (statistics, callbacks, the long-lived rule) and the
 * young generations wait for their own collections.  When the policy ends
 * the cycle early (its memory guard), the end is one atomic collection of
 * generations 0 and 1 and every record of 2 neither marked nor done.
 *
 * Why the result is exact whatever the program did meanwhile: a step and
 * the end are trial deletions over their region with everything outside
 * counted as references from outside, exactly as old objects are for a
 * young collection.  A marked object that died since is merely not
 * collected before the next cycle; a reference the program moved from an
 * unmarked object to a marked one keeps its target alive through the
 * external count.  Marks choose only what the sweep and the end need not
 * examine: any set of marks, even a wrong one, gives safe steps and a safe
 * end.  So the marks are kept apart from the generations (every reader of
 * the generations, get_objects to freeze to the checker, sees the table as
 * it is), and a mark or done bit left on an address whose object died and
 * whose memory a new object took is harmless: that object is young (in
 * the end's region anyway), or was promoted meanwhile and is kept one more
 * cycle.
 *
 * Why a step decides what the stdlib's full collection would: its set is
 * closed under references to unmarked old records, so a cycle of garbage
 * is never split between steps; and a record an earlier step found alive
 * (only because garbage not yet decided referred to it) may join a later
 * step again (S1), so garbage shared by two structures, and a weakref that
 * is garbage with its referent, are decided with what refers to them.
 * tests/test_budget.py compares the result with the stdlib's.
 *
 * The marks: per page of the table, a block of 256 marked and 256 done
 * bits, indexed by the page's index in gcx_table.pages and stamped with
 * its key and the cycle's epoch.  The blocks come in chunks of 1,024,
 * each allocated zeroed when a page of its range is first marked: a heap
 * that grew by 4M records would otherwise have the whole array grown and
 * cleared in one slice (2 ms of page faults on the 3M heap).  A page that moved in the
 * array (full collections and resyncs free pages, and the sweep frees the
 * empty pages it passes, S2) loses its marks, unless the sweep moved them
 * with it: its objects go to a step or the end.  A new cycle is a new
 * epoch: nothing to clear.
 *
 * Invariants:
 *  I1  no object is dereferenced unless, at that moment, it has a record in
 *      generation 0, 1 or 2 (tracer, alloc or lists mode: exact records,
 *      R1 of tracer.c) and CPython tracks it with a positive refcount:
 *      what is on the gray stack may have died between slices.  A step
 *      gathers its set from records of generation 2 and what they refer
 *      to, and collects it in the same slice or the next (S4), where only
 *      what is still recorded in generation 2 is taken.  A cycle never
 *      starts in safe mode, whose records may dangle.
 *  I2  marking and gathering run no Python code and allocate only raw
 *      memory; an allocation failure leaves objects unmarked or
 *      untraversed, or ends the sweep, which only leaves more to the end.
 *  B1  an edge marking visits may wait in a batch (its lookups prefetched),
 *      but every entry point of marking applies the batch before it
 *      returns: between slices no edge waits, and gray_len is exact.
 *  M1  a marked record is traversed, or waits to be: on the gray stack, or
 *      with its todo bit on a page the scan has yet to pass (index above
 *      scan_at, below scan_end).  Marking is done when the stack is empty
 *      and the scan has passed every page.  A page that moves in the array
 *      loses its marks and todo bits with them (the sweep decides its
 *      records: more work, never a wrong result).
 *  I3  a full collection that is not this cycle's end (gc.collect(2), a
 *      fork's child resync) abandons the cycle at the next slice: the
 *      collection was stop-the-world and exact, and the cycle's marks are
 *      of a heap it has since changed.
 *  S1  a step's set is closed under references to generation-2 records
 *      neither marked nor done, and takes in done ones it reaches while its
 *      allowance lasts (at least REJOIN_MIN): past it, a done record counts
 *      as a reference from outside (safe), and the pass is followed by
 *      another with eight times the allowance, in which nothing is done
 *      yet (undo_done): garbage larger than the allowance is then found in
 *      the same cycle.
 *  S2  the sweep passes the pages there were when it began (what enters
 *      generation 2 later does so marked); an empty page on no list that it
 *      passes is freed, and the page that takes its index brings its marks.
 *  S3  no weakref callback runs that the stdlib's full collection would
 *      not run: a weakref is not a reference, so a step may find garbage
 *      whose weakref, outside the step, is garbage too (held by another
 *      structure), and running its callback then is what bpo-38006 forbids.
 *      On the first DEFER_PASSES passes over the pages, the part of a
 *      step's garbage connected to a member with a weakref with a callback
 *      that is an unmarked generation-2 record (undecided) waits
 *      (finalize.c, gcx_garbage_wait): its members stay neither marked nor
 *      done, for a later step that reaches them, or the next pass, which
 *      comes only if something waited in this one.  A step is a run of
 *      pages, so the structure that holds such a weakref is usually in the
 *      same step or the next, and decided by the next pass at the latest.
 *      The last pass lets nothing wait: a weakref still there then is
 *      alive, or held where only a stop-the-world collection could tell
 *      (an early end decides everything left at once).
 *  S4  a step that took more work than its target (a closure is taken
 *      whole) and whose gathering took more than half its slice (or any
 *      step, when the slice has no time) is decided at the start of the
 *      next slice, not in this one: a garbage component larger than the
 *      rate foresaw (a random garbage graph of 3,200 records) would
 *      otherwise pause for both halves.  Between the two
 *      slices the program may free members, move references, or have a
 *      resync free pages; so the step keeps its pages' keys and finds them
 *      again, and the collection (gcx_collect_within) numbers only the
 *      members still recorded in generation 2 and traverses each afresh.
 *      A trial deletion over any set of live records is exact (see above):
 *      what changed between the slices costs completeness at most (a
 *      reference moved out of the set is counted from outside), never a
 *      live object.  Until it is decided, no other step is gathered; an
 *      end or abandonment drops it (its members are neither marked nor
 *      done, so the end takes them).
 */
#include "gcx.h"
#include <string.h>

/* A gray entry: an object, and for a large exact list or dict the item
 * (or dict position) its traversal resumes at: one such object is
 * traversed CHUNK items at a time, so that no slice overruns by much. */
typedef struct {
    PyObject *op;
    Py_ssize_t next;
} gray_t;
#define CHUNK 2048
#define BLOCKS 1024              /* mark blocks per chunk */

typedef struct {
    uintptr_t key;               /* the page these marks are of */
    uint32_t epoch;              /* the cycle that made them */
    uint32_t step;               /* the sweep step whose set has records here */
    uint32_t step_at;            /* ... and where its bits are in cyc.step */
    uint32_t waiting_pass;       /* the pass whose steps set `waiting` */
    uint64_t bits[GCX_WORDS];    /* marked: alive, the sweep leaves them out */
    uint64_t done[GCX_WORDS];    /* decided by a sweep step this cycle (S1) */
    uint64_t waiting[GCX_WORDS]; /* marking: the todo bits (M1); the sweep:
                                    garbage a step of this pass left (S3),
                                    when waiting_pass is the pass */
} mark_block_t;

/* A sweep step's set (S1): its pages, and its members on each (the pages
 * apart, as gcx_collect_within takes them); the pages' keys, by which a
 * step decided in a later slice finds them again (S4). */
typedef struct {
    gcx_page_t **pages;
    uintptr_t *keys;
    uint64_t (*bits)[GCX_WORDS];
    Py_ssize_t len, cap;
} step_set_t;

static struct {
    bool active;
    uint32_t epoch;
    gray_t *gray;                /* borrowed: checked against the table (I1) */
    Py_ssize_t gray_len, gray_cap;
    Py_ssize_t scan_at;          /* marking's scan: the page it traverses next */
    Py_ssize_t scan_end;         /* ... the pages there were at the cycle's start */
    mark_block_t **chunks;       /* block i: chunks[i / BLOCKS][i % BLOCKS] */
    Py_ssize_t nchunks;          /* the pointers; a chunk may be NULL */
    Py_ssize_t chunk_count;      /* the chunks allocated */
    Py_ssize_t marked;           /* marks set this cycle */
    Py_ssize_t traversed;        /* objects traversed this cycle */
    Py_ssize_t skipped;          /* gray entries found dead or moved (I1) */
    Py_ssize_t full_at_start;    /* gcx_stats.gens[2].collections (I3) */
    Py_ssize_t old_at_start;     /* records of generations 1 and 2 */
    Py_ssize_t kept;             /* at the end: marked records left out */
    Py_ssize_t abandoned;        /* cycles abandoned (I3), ever */
    bool failed;                 /* an allocation failed this cycle (I2) */
    /* the sweep */
    Py_ssize_t cursor;           /* the next page (index in gcx_table.pages) */
    Py_ssize_t sweep_end;        /* the pages there were when it began; -1: not yet */
    step_set_t step;
    double per_unit;             /* seconds a step takes per unit of its work
                                    (a member, or an edge of one), lately */
    Py_ssize_t steps, swept, swept_found;   /* this cycle's */
    Py_ssize_t step_max;         /* its largest step's members */
    Py_ssize_t step_members;     /* the step being gathered */
    Py_ssize_t step_work;        /* ... its members and their edges */
    uint32_t step_id;            /* its number (mark_block_t.step), never 0 */
    Py_ssize_t promoted;         /* records marked as they entered generation 2 */
    bool rescanned;              /* the frames were read again before the sweep */
    Py_ssize_t rejoin_left;      /* done records the step may still take in */
    Py_ssize_t rejoined;         /* ... that steps took in, this cycle */
    Py_ssize_t waited;           /* garbage left to a later step, this cycle (S3) */
    uint32_t pass;               /* the pass over the pages, from 1 (S3) */
    bool waited_in_pass;         /* ... some garbage waited in it */
    bool capped_in_pass;         /* ... a step left out a done record (S1) */
    Py_ssize_t rejoin_scale;     /* the allowance's multiple: 8x a capped pass */
    bool pending;                /* the step gathered waits to be decided (S4) */
    PyTime_t pending_time;       /* ... and its gathering took this long */
    Py_ssize_t deferred;         /* steps decided in the slice after their
                                    gathering's, this cycle (S4) */
} cyc;

static void release_work(void);
static Py_ssize_t decide_step(PyTime_t start);

/* No step waits: the cycle ends, is abandoned or starts (S4).  A step
 * dropped was gathered and not decided: its members were neither marked
 * nor done, so the end took them, or the next cycle will. */
static void
drop_step(void)
{
    cyc.pending = false;
    cyc.step.len = 0;
}

/* ---- the marks -------------------------------------------------------------------- */

/* block_at's slow path: allocate chunk c (and grow the array of them). */
static __attribute__((noinline)) mark_block_t *
block_make(size_t i)
{
    size_t c = i / BLOCKS;
    if (c >= (size_t)cyc.nchunks) {
        Py_ssize_t n = (Py_ssize_t)(c + 1 + c / 4);
        mark_block_t **chunks = gcx_mem_realloc(cyc.chunks, (size_t)n * sizeof(*chunks));
        if (chunks == NULL) {
            cyc.failed = true;
            return NULL;
        }
        memset(chunks + cyc.nchunks, 0, (size_t)(n - cyc.nchunks) * sizeof(*chunks));
        cyc.chunks = chunks;
        cyc.nchunks = n;
    }
    /* zeroed: key 0 is no page's, so every block of it is free */
    cyc.chunks[c] = gcx_mem_calloc(BLOCKS, sizeof(mark_block_t));
    if (cyc.chunks[c] == NULL) {
        cyc.failed = true;
        return NULL;
    }
    cyc.chunk_count++;
    return &cyc.chunks[c][i % BLOCKS];
}

/* The block at index i, whatever page it holds marks of; NULL when its
 * chunk is not allocated (and `make` is false, or the allocation failed:
 * I2).  Inline: marking looks a block up for every edge it visits. */
static inline mark_block_t *
block_at(Py_ssize_t index, bool make)
{
    size_t i = (size_t)index, c = i / BLOCKS;
    if (c < (size_t)cyc.nchunks && cyc.chunks[c] != NULL) {
        return &cyc.chunks[c][i % BLOCKS];
    }
    return make ? block_make(i) : NULL;
}

static inline mark_block_t *
block_of(const gcx_page_t *p, bool make)
{
    mark_block_t *b = block_at((Py_ssize_t)p->index, make);
    if (b == NULL) {
        return NULL;
    }
    if (b->key != p->key || b->epoch != cyc.epoch) {
        if (!make) {
            return NULL;
        }
        b->key = p->key;
        b->epoch = cyc.epoch;
        memset(b->bits, 0, sizeof(b->bits));
        memset(b->done, 0, sizeof(b->done));
        memset(b->waiting, 0, sizeof(b->waiting));
        b->waiting_pass = 0;
        b->step = 0;
    }
    return b;
}

/* For the end's numbering (region.c): the records of page p the end
 * leaves out, marked or decided by the sweep. */
static const uint64_t *
marked_on(const gcx_page_t *p)
{
    static uint64_t out[GCX_WORDS];   /* read before the next call */
    mark_block_t *b = block_of(p, false);
    if (b == NULL) {
        return NULL;
    }
    for (unsigned w = 0; w < GCX_WORDS; w++) {
        out[w] = b->bits[w] | b->done[w];
    }
    return out;
}

/* Records a collection moved into generation 2 during the cycle: alive
 * when it ran (survivors), so the sweep and the end leave them out, as they
 * leave out what marking reached ("allocated black"); what died since
 * waits for the next cycle.  Leaving them to the sweep instead (tried: the
 * sweep may not have passed their page while marking runs) freed no
 * garbage sooner that the HTTP loop could see, and raised the 3M heap's
 * peak RSS from 1.08x to 1.12x the stdlib's: each step decides more. */
static void
on_promote(const gcx_page_t *p, unsigned word, uint64_t bits)
{
    if (!cyc.active) {
        return;
    }
    mark_block_t *b = block_of(p, true);
    if (b != NULL) {
        cyc.promoted += __builtin_popcountll(bits & ~b->bits[word]);
        b->bits[word] |= bits;
    }
}

/* ---- marking ----------------------------------------------------------------------- */

static void
gray_push(PyObject *op, Py_ssize_t next)
{
    if (cyc.gray_len == cyc.gray_cap) {
        Py_ssize_t cap = cyc.gray_cap ? cyc.gray_cap * 2 : 4096;
        gray_t *g = gcx_mem_realloc(cyc.gray, (size_t)cap * sizeof(*g));
        if (g == NULL) {
            cyc.failed = true;   /* I2: marked, not traversed */
            return;
        }
        cyc.gray = g;
        cyc.gray_cap = cap;
    }
    cyc.gray[cyc.gray_len++] = (gray_t){op, next};
}

/* The page of op when it has a record in a generation, else NULL.  Reads
 * the table only, never op. */
static gcx_page_t *
generation_page(PyObject *op, unsigned *slot)
{
    uintptr_t a = (uintptr_t)op;
    gcx_page_t *p = gcx_page_find(gcx_addr_key(a));
    if (p == NULL) {
        return NULL;
    }
    *slot = gcx_addr_slot(a);
    int s = gcx_set_of_slot(p, *slot);
    return s >= GCX_GEN0 && s <= GCX_GEN2 ? p : NULL;
}

/* An edge's lookup is a chain of dependent loads: the table's index (or
 * its cache), the page record's line of sets, the mark block, and, once
 * the target is traversed, its header.  One edge at a time on a heap
 * larger than the caches the misses add up (marking a random graph of 1M
 * objects: 650 ns an object); so the edges of marking and of a sweep
 * step's gathering wait in a batch, prefetched a stage at a time, each
 * stage of a full batch reading what the one before prefetched.  The batch
 * only delays marks and joins: every entry point of marking applies it
 * before it returns, and a step's set is closed only once it is empty (B1). */
#define EDGES 32
#define PAGE_MISS ((gcx_page_t *)1)   /* not in the cache: the index is probed */

static struct {
    PyObject *ops[EDGES];
    gcx_page_t *pages[EDGES];     /* then NULL: the target is no candidate */
    int n;
} edges;

/* op waits in the batch; true when the batch is full.  Reads the table's
 * filter and cache only, never op. */
static inline bool
edge_wait(PyObject *op)
{
    uintptr_t a = (uintptr_t)op;
    uintptr_t key = gcx_addr_key(a);
    if (!gcx_page_maybe(key)) {
        return false;   /* no record on its page (T7) */
    }
    const gcx_slot_t *c = &gcx_table.cache[key & (GCX_CACHE_SIZE - 1)];
    gcx_page_t *p;
    if (c->key == key) {
        p = c->page;
        if (p == NULL) {
            return false;
        }
        __builtin_prefetch(p->sets[gcx_addr_slot(a) >> 6]);
    }
    else {
        p = PAGE_MISS;
        __builtin_prefetch(&gcx_table.slots[gcx_hash_key(key, gcx_table.mask)]);
    }
    edges.ops[edges.n] = op;
    edges.pages[edges.n] = p;
    return ++edges.n == EDGES;
}

/* The batch's first two stages: each edge's page, and, for a target with a
 * record in generation `lo` to 2, its mark block prefetched (pages[k] NULL
 * for any other). */
static void
edges_resolve(int lo)
{
    int n = edges.n;
    for (int k = 0; k < n; k++) {
        uintptr_t a = (uintptr_t)edges.ops[k];
        gcx_page_t *p = edges.pages[k];
        if (p == PAGE_MISS) {
            p = edges.pages[k] = gcx_page_find(gcx_addr_key(a));
        }
        if (p != NULL) {
            __builtin_prefetch(p->sets[gcx_addr_slot(a) >> 6]);
        }
    }
    for (int k = 0; k < n; k++) {
        gcx_page_t *p = edges.pages[k];
        if (p == NULL) {
            continue;
        }
        unsigned slot = gcx_addr_slot((uintptr_t)edges.ops[k]);
        int s = gcx_set_of_slot(p, slot);
        if (s < lo || s > GCX_GEN2) {
            edges.pages[k] = NULL;
            continue;
        }
        mark_block_t *b = block_at((Py_ssize_t)p->index, true);
        if (b != NULL) {
            __builtin_prefetch(b);
            __builtin_prefetch(&b->bits[slot >> 6]);
        }
    }
}

/* Marking's batch, applied: each target not marked yet is marked, and
 * waits for the scan or goes on the stack (M1). */
static void
flush_edges(void)
{
    edges_resolve(GCX_GEN0);
    int n = edges.n;
    edges.n = 0;
    for (int k = 0; k < n; k++) {
        if (edges.pages[k] == NULL) {
            continue;
        }
        PyObject *op = edges.ops[k];
        mark_block_t *b = block_of(edges.pages[k], true);
        unsigned slot = gcx_addr_slot((uintptr_t)op);
        if (b == NULL || gcx_bit(b->bits, slot)) {
            continue;
        }
        gcx_bit_set(b->bits, slot);
        cyc.marked++;
        Py_ssize_t at = (Py_ssize_t)edges.pages[k]->index;
        if (at > cyc.scan_at && at < cyc.scan_end) {
            gcx_bit_set(b->waiting, slot);   /* the scan will traverse it */
            continue;
        }
        gray_push(op, 0);
        __builtin_prefetch((const char *)op - 16);   /* its header, read when popped */
    }
}

/* An edge of marking: its target will be marked and pushed, if it is a
 * recorded container not marked yet.  Never reads the target. */
static int
visit_gray(PyObject *op, void *unused)
{
    (void)unused;
    if (edge_wait(op)) {
        flush_edges();
    }
    return 0;
}

/* A word of a running frame (frames.c): an address only (FR5), which
 * visit_gray looks up and never reads. */
static void
visit_root(PyObject *word, void *unused)
{
    (void)visit_gray(word, unused);
}

/* I1: may op, which has a record in a generation, be traversed now? */
static inline bool
traversable(PyObject *op)
{
    return gcx_is_tracked_gc(op) && !gcx_is_immortal(op);
}

/* I1: may op, popped from the gray stack, be traversed now? */
static bool
still_there(PyObject *op)
{
    unsigned slot;
    return op != NULL && generation_page(op, &slot) != NULL && traversable(op);
}

/* Traverse op from `next` on; the edges visited.  Lists and dicts of more
 * than CHUNK items go CHUNK at a time, the rest pushed back: their size is
 * read now, after the check (I1), since the program may have changed them
 * since the last slice (what moved behind `next` meanwhile is left to the
 * end, which is exact whatever marking missed). */
static Py_ssize_t
traverse(PyObject *op, Py_ssize_t next)
{
    PyTypeObject *tp = Py_TYPE(op);
    if (tp == &PyList_Type || tp == &PyTuple_Type) {
        PyObject **items = tp == &PyList_Type ? ((PyListObject *)op)->ob_item
                                              : ((PyTupleObject *)op)->ob_item;
        Py_ssize_t n = Py_SIZE(op);
        Py_ssize_t end = n - next > CHUNK ? next + CHUNK : n;
        if (end < n) {
            gray_push(op, end);   /* below the items: the stack stays short */
        }
        for (Py_ssize_t i = next; i < end; i++) {
            if (items[i] != NULL) {
                (void)visit_gray(items[i], NULL);
            }
        }
        return end - next;
    }
    if (tp == &PyDict_Type && (next > 0 || PyDict_GET_SIZE(op) > CHUNK)) {
        Py_ssize_t pos = next, k = 0;
        PyObject *key, *value;
        Py_ssize_t at = cyc.gray_len;
        gray_push(op, 0);        /* below the items; its position set below */
        while (k < CHUNK && PyDict_Next(op, &pos, &key, &value)) {
            (void)visit_gray(key, NULL);
            (void)visit_gray(value, NULL);
            k++;
        }
        if (at < cyc.gray_len && cyc.gray[at].op == op) {
            if (k == CHUNK) {
                cyc.gray[at].next = pos;
            }
            else {
                cyc.gray[at].op = NULL;   /* done: popped as skipped */
            }
        }
        return 2 * k;
    }
    if (tp->tp_traverse != NULL) {
        (void)tp->tp_traverse(op, visit_gray, NULL);
    }
    return 8;
}

/* I3: was there a full collection since the cycle started? */
static void
abandon_if_stale(void)
{
    if (cyc.active && gcx_stats.gens[GCX_NGENS - 1].collections != cyc.full_at_start) {
        gcx_incr_abandon();
    }
}

/* ---- the sweep ----------------------------------------------------------------------- */

/* The step's members on the page of block b, or NULL: none. */
static inline uint64_t *
step_bits(const mark_block_t *b)
{
    return b->step == cyc.step_id ? cyc.step.bits[b->step_at] : NULL;
}

/* For gcx_collect_within: the step's members on page p. */
static const uint64_t *
step_on(const gcx_page_t *p)
{
    mark_block_t *b = block_of(p, false);
    return b != NULL ? step_bits(b) : NULL;
}

/* The records of word w of page p (block b) a step may start from: of
 * generation 2, neither marked, nor done, nor in the step, nor in the set
 * of garbage a step of this pass left to wait (S3). */
static inline uint64_t
seeds_of(const gcx_page_t *p, const mark_block_t *b, unsigned w)
{
    const uint64_t *step = step_bits(b);
    return GCX_SET(p, GCX_GEN2, w) & ~b->bits[w] & ~b->done[w] & ~(step ? step[w] : 0)
           & ~(b->waiting_pass == cyc.pass ? b->waiting[w] : 0);
}

/* op, a generation-2 record on page p at slot, not marked and not in the
 * step: it joins the step (S1) and waits on the gray stack to be
 * traversed. */
static void
join(gcx_page_t *p, mark_block_t *b, unsigned slot, PyObject *op)
{
    step_set_t *v = &cyc.step;
    if (b->step != cyc.step_id) {
        if (v->len == v->cap) {
            Py_ssize_t cap = v->cap ? v->cap * 2 : 256;
            gcx_page_t **pages = gcx_mem_realloc(v->pages, (size_t)cap * sizeof(*pages));
            if (pages == NULL) {
                cyc.failed = true;
                return;
            }
            v->pages = pages;
            uintptr_t *keys = gcx_mem_realloc(v->keys, (size_t)cap * sizeof(*keys));
            if (keys == NULL) {
                cyc.failed = true;
                return;
            }
            v->keys = keys;
            uint64_t (*bits)[GCX_WORDS] = gcx_mem_realloc(v->bits, (size_t)cap * sizeof(*bits));
            if (bits == NULL) {
                cyc.failed = true;
                return;
            }
            v->bits = bits;
            v->cap = cap;
        }
        b->step = cyc.step_id;
        b->step_at = (uint32_t)v->len;
        v->pages[v->len] = p;
        v->keys[v->len] = p->key;
        memset(v->bits[v->len], 0, sizeof(v->bits[v->len]));
        v->len++;
    }
    gcx_bit_set(v->bits[b->step_at], slot);
    cyc.step_members++;
    cyc.step_work++;
    gray_push(op, 0);
}

/* Is the record at slot of page p (block b) in the step being gathered? */
static inline bool
in_step(const mark_block_t *b, unsigned slot)
{
    const uint64_t *step = step_bits(b);
    return step != NULL && gcx_bit(step, slot);
}

/* The gathering's batch, applied: a target that is an unmarked record of
 * generation 2, not in the step, joins it, one an earlier step found
 * alive included while the step's allowance of them lasts (S1). */
static void
flush_sweep(void)
{
    edges_resolve(GCX_GEN2);
    int n = edges.n;
    edges.n = 0;
    for (int k = 0; k < n; k++) {
        gcx_page_t *p = edges.pages[k];
        if (p == NULL) {
            continue;
        }
        PyObject *op = edges.ops[k];
        unsigned slot = gcx_addr_slot((uintptr_t)op);
        mark_block_t *b = block_of(p, true);
        if (b == NULL || gcx_bit(b->bits, slot) || in_step(b, slot)) {
            continue;   /* I2: a failed block leaves it to the end */
        }
        if (gcx_bit(b->done, slot)) {
            if (cyc.rejoin_left <= 0) {
                cyc.capped_in_pass = true;
                continue;
            }
            cyc.rejoin_left--;
            cyc.rejoined++;
        }
        join(p, b, slot, op);
        __builtin_prefetch((const char *)op - 16);   /* its header, read when traversed */
    }
}

/* An edge of a member: its target joins if it is an unmarked record of
 * generation 2 (flush_sweep).  Young targets stay out (they count as
 * references from outside; a cycle through one is decided in a later
 * cycle, once promoted).  Never reads the target. */
static int
visit_sweep(PyObject *op, void *unused)
{
    (void)unused;
    cyc.step_work++;
    if (edge_wait(op)) {
        flush_sweep();
    }
    return 0;
}

/* For gcx_collect_within, on the first passes (S3): may wr, a weakref outside
 * the step, be garbage a later step decides?  It is a generation-2 record
 * marking did not reach, done or not (a step that found it alive may have
 * because garbage not yet decided held it, S1).  Reads only the table. */
static bool
undecided(PyObject *wr)
{
    uintptr_t a = (uintptr_t)wr;
    gcx_page_t *p = gcx_page_find(gcx_addr_key(a));
    unsigned slot = gcx_addr_slot(a);
    if (p == NULL || !gcx_rec_has(p, GCX_GEN2, slot)) {
        return false;
    }
    mark_block_t *b = block_of(p, false);
    return b == NULL || !gcx_bit(b->bits, slot);
}

/* Passes over the pages in which garbage may wait (S3). */
#define DEFER_PASSES 3

/* ... and op, a member of the step's garbage, waits: not done when the
 * step is (nor still done, if an earlier step found it alive and this one
 * took it in again, S1), nor a seed again in this pass. */
static void
waits(PyObject *op)
{
    uintptr_t a = (uintptr_t)op;
    gcx_page_t *p = gcx_page_find(gcx_addr_key(a));
    mark_block_t *b = p != NULL ? block_of(p, false) : NULL;
    if (b == NULL) {
        return;   /* not a member of the step: it has a block */
    }
    if (b->waiting_pass != cyc.pass) {
        b->waiting_pass = cyc.pass;
        memset(b->waiting, 0, sizeof(b->waiting));
    }
    unsigned slot = gcx_addr_slot(a);
    gcx_bit_set(b->waiting, slot);
    b->done[slot >> 6] &= ~((uint64_t)1 << (slot & 63));
    cyc.waited++;
    cyc.waited_in_pass = true;
}

static const gcx_wait_t wait_for_weakrefs = {undecided, waits};

/* A pass in which a step left out a done record for want of allowance
 * (S1) may have found garbage alive: a garbage graph larger than the
 * allowance, whose records that refer into what one step took were not in
 * it (a step closes over the references out of its seed, not into it).
 * The next pass decides everything unmarked again, with eight times the
 * allowance: what earlier steps found alive is no longer done (the garbage
 * they found is freed).  The allowance grows until no step is capped, so
 * the passes end. */
static void
undo_done(void)
{
    for (Py_ssize_t c = 0; c < cyc.nchunks; c++) {
        for (Py_ssize_t i = 0; cyc.chunks[c] != NULL && i < BLOCKS; i++) {
            memset(cyc.chunks[c][i].done, 0, sizeof(cyc.chunks[c][i].done));
        }
    }
    if (cyc.rejoin_scale < ((Py_ssize_t)1 << 40)) {
        cyc.rejoin_scale *= 8;
    }
}

/* Pages left to sweep: the rest of this pass, or, once it is over and
 * something waited in it (S3) or a step was capped (S1, undo_done),
 * another pass. */
static bool
sweep_left(void)
{
    if (cyc.cursor < cyc.sweep_end) {
        return true;
    }
    if (cyc.waited_in_pass || cyc.capped_in_pass) {
        if (cyc.capped_in_pass) {
            undo_done();
        }
        cyc.waited_in_pass = cyc.capped_in_pass = false;
        cyc.pass++;
        cyc.cursor = 0;
    }
    return cyc.cursor < cyc.sweep_end;
}

/* Traverse what waits on the gray stack, each object once (S1). */
static void
close_step(void)
{
    for (;;) {
        if (cyc.gray_len == 0) {
            if (edges.n == 0) {
                break;   /* B1: closed */
            }
            flush_sweep();
            continue;
        }
        PyObject *op = cyc.gray[--cyc.gray_len].op;
        if (traversable(op)) {
            traverseproc trav = Py_TYPE(op)->tp_traverse;
            if (trav != NULL) {
                (void)trav(op, visit_sweep, NULL);
            }
        }
    }
}

/* The least work (members and their edges) a timed step gathers: a step
 * has a fixed cost (the region's memory, the phases' set-up) that smaller
 * steps would pay per unit, and the rate learnt from them would shrink the
 * next.  Work counts edges because a step's time is mostly traversals: a
 * member with 60,000 items costs what 60,000 small ones do. */
#define STEP_MIN 2048

/* How many records that earlier steps found alive a step may take in again
 * at least (S1): a quarter of the step's work, or this many. */
#define REJOIN_MIN 4096

/* Has page p a record of generation 2 neither marked, nor done, nor in
 * the step?  (Most pages, once marking is done, have none.) */
static bool
has_seeds(const gcx_page_t *p)
{
    if (p->count[GCX_GEN2] == 0) {
        return false;
    }
    mark_block_t *b = block_of(p, false);
    if (b == NULL) {
        return true;
    }
    uint64_t any = 0;
    for (unsigned w = 0; w < GCX_WORDS; w++) {
        any |= seeds_of(p, b, w);
    }
    return any != 0;
}

/* Popped objects pass two queues of AHEAD before they are traversed:
 * each is a miss on a large heap, and the last object pushed is popped
 * first, too soon for a prefetch at its push to help.  In the first its
 * header is prefetched; leaving it, it is checked (I1), and a list's items
 * are prefetched; leaving the second, it is traversed.  The queues are
 * empty between slices (B1): what waits when the time is up goes back on
 * the stack. */
#define AHEAD 4

typedef struct {
    gray_t g[AHEAD];
    unsigned head, len;
} queue_t;

static inline void
queue_put(queue_t *q, gray_t g)
{
    q->g[(q->head + q->len++) % AHEAD] = g;
}

static inline gray_t
queue_take(queue_t *q)
{
    gray_t g = q->g[q->head];
    q->head = (q->head + 1) % AHEAD;
    q->len--;
    return g;
}

static void
queue_return(queue_t *q)
{
    while (q->len > 0) {
        gray_t g = queue_take(q);
        gray_push(g.op, g.next);
    }
}

/* The next gray entry, or false: none left (edges waiting are applied). */
static inline bool
gray_pop(gray_t *g)
{
    while (cyc.gray_len == 0) {
        if (edges.n == 0) {
            return false;
        }
        flush_edges();
    }
    *g = cyc.gray[--cyc.gray_len];
    return true;
}

/* The scan's end: the pages there were at the cycle's start, fewer once
 * pages were freed (for good: the pages that take those indices later are
 * new, and what is marked on them goes on the stack). */
static inline Py_ssize_t
scan_end(void)
{
    if (cyc.scan_end > gcx_table.pages.len) {
        cyc.scan_end = gcx_table.pages.len;
    }
    return cyc.scan_end;
}

/* The marking left (M1): gray objects and pages to scan. */
static inline Py_ssize_t
marking_left_count(void)
{
    Py_ssize_t pages = scan_end() - cyc.scan_at;
    return cyc.gray_len + (pages > 0 ? pages : 0);
}

static inline bool
marking_left(void)
{
    return marking_left_count() > 0;
}

/* The scan's next page: the records marked on it while the scan had yet
 * to reach it are traversed (what they mark on it or behind it goes on the
 * stack, M1).  The edges visited. */
static Py_ssize_t
scan_page(void)
{
    Py_ssize_t i = cyc.scan_at++;
    gcx_page_t *p = gcx_table.pages.items[i];
    if (i + 1 < scan_end()) {
        __builtin_prefetch(gcx_table.pages.items[i + 1]);
        mark_block_t *next = block_at(i + 1, false);
        if (next != NULL) {
            __builtin_prefetch(next);
            __builtin_prefetch(next->waiting);
        }
    }
    mark_block_t *b = block_of(p, false);
    if (b == NULL) {
        return 1;
    }
    uint64_t todo[GCX_WORDS];
    uint64_t any = 0;
    for (unsigned w = 0; w < GCX_WORDS; w++) {
        /* only records that are still in a generation (I1): one that died
         * since it was marked has no record, or another object's */
        todo[w] = b->waiting[w]
                  & (GCX_SET(p, GCX_GEN0, w) | GCX_SET(p, GCX_GEN1, w) | GCX_SET(p, GCX_GEN2, w));
        b->waiting[w] = 0;
        any |= todo[w];
    }
    if (any == 0) {
        return 1;
    }
    Py_ssize_t visited = 0;
    for (unsigned w = 0; w < GCX_WORDS; w++) {
        for (uint64_t bits = todo[w]; bits != 0; bits &= bits - 1) {
            PyObject *op = gcx_slot_object(p, w * 64 + (unsigned)__builtin_ctzll(bits));
            if (traversable(op)) {
                visited += traverse(op, 0);
                cyc.traversed++;
            }
            else {
                cyc.skipped++;
            }
        }
    }
    return visited;
}

/* Traverse what is marked for up to `seconds` (at least one object or page;
 * exactly one for 0): what the gray stack holds, checked (I1), and when it
 * is empty the scan's next page.  The records must be in sync. */
static void
mark_for(double seconds)
{
    PyTime_t start, now;
    (void)PyTime_PerfCounterRaw(&start);
    PyTime_t budget = (PyTime_t)(seconds * 1e9);
    Py_ssize_t visited = 0;
    queue_t fetched = {.len = 0}, checked = {.len = 0};
    gray_t g;
    for (;;) {
        while (fetched.len < AHEAD && gray_pop(&g)) {
            if (g.op != NULL) {
                __builtin_prefetch((const char *)g.op - 16);
                __builtin_prefetch(g.op);
            }
            queue_put(&fetched, g);
        }
        while (checked.len < AHEAD && fetched.len > 0) {
            g = queue_take(&fetched);
            if (!still_there(g.op)) {
                cyc.skipped++;
                continue;
            }
            if (Py_IS_TYPE(g.op, &PyList_Type)) {
                __builtin_prefetch(((PyListObject *)g.op)->ob_item + g.next);
            }
            queue_put(&checked, g);
        }
        if (checked.len == 0) {
            if (cyc.scan_at >= scan_end()) {
                break;   /* marking is done */
            }
            visited += scan_page();
        }
        else {
            g = queue_take(&checked);
            visited += traverse(g.op, g.next);
            cyc.traversed++;
        }
        if (visited >= 1024 || budget <= 0) {   /* a clock read per ~1024 edges */
            visited = 0;
            (void)PyTime_PerfCounterRaw(&now);
            if (now - start >= budget) {
                break;
            }
        }
    }
    queue_return(&checked);
    queue_return(&fetched);
    flush_edges();   /* B1 */
}

/* One sweep step, once marking is done: gather, from the next pages of the
 * table, unmarked generation-2 records with everything they reach of the
 * same kind, until their work (members and edges) is about what `seconds`
 * allows at the rate of the last steps (one seed and its closure for 0),
 * and collect that set (collection.c, gcx_collect_within).  Its members
 * are then done: no later seed, and the end leaves them out.  Once marking
 * is done, the first call reads the running frames again; while there is
 * marking left (that, or what a caller gave since), a call marks for
 * `seconds` instead of a step.  Returns 1 while there is marking or pages
 * left to sweep, 0 when the sweep is done (or no cycle runs). */
Py_ssize_t
gcx_incr_sweep(double seconds)
{
    abandon_if_stale();
    if (!cyc.active) {
        return 0;
    }
    PyTime_t start, end;
    (void)PyTime_PerfCounterRaw(&start);
    if (cyc.pending) {
        return decide_step(start);   /* S4 */
    }
    gcx_sync(false);
    if (!marking_left() && !cyc.rescanned) {
        /* what the frames hold now is alive: marked, the sweep leaves it out
         * (a structure only a value stack holds would be one step) */
        cyc.rescanned = true;
        gcx_frames_each_root(visit_root, NULL);
        flush_edges();   /* B1 */
    }
    if (marking_left()) {
        mark_for(seconds);
        return 1;
    }
    if (cyc.sweep_end < 0) {
        /* what enters generation 2 from now on does so marked (on_promote),
         * so the pages added later hold nothing to sweep */
        cyc.sweep_end = gcx_table.pages.len;
    }
    if (cyc.sweep_end > gcx_table.pages.len) {
        cyc.sweep_end = gcx_table.pages.len;   /* a resync freed pages (S2) */
    }
    if (!sweep_left()) {
        return 0;
    }
    double want = seconds / cyc.per_unit;
    Py_ssize_t target = seconds <= 0 ? 1
                        : want < STEP_MIN ? STEP_MIN : want > 1e7 ? 10000000 : (Py_ssize_t)want;
    cyc.step.len = 0;
    cyc.step_members = cyc.step_work = 0;
    cyc.rejoin_left = (target / 4 > REJOIN_MIN ? target / 4 : REJOIN_MIN) * cyc.rejoin_scale;
    if (++cyc.step_id == 0) {   /* wrapped: numbers of old steps may be left */
        for (Py_ssize_t c = 0; c < cyc.nchunks; c++) {
            for (Py_ssize_t i = 0; cyc.chunks[c] != NULL && i < BLOCKS; i++) {
                cyc.chunks[c][i].step = 0;
            }
        }
        cyc.step_id = 1;
    }
    Py_ssize_t closure_max = 0;   /* the work of the largest closure taken */
    bool full = false;
    while (!full && cyc.step_work < target && cyc.cursor < cyc.sweep_end) {
        gcx_page_t *last = gcx_table.pages.items[gcx_table.pages.len - 1];
        Py_ssize_t from = (Py_ssize_t)last->index;
        if (gcx_table_free_if_empty(cyc.cursor)) {
            /* S2: the last page took the freed one's index; its marks
             * (and its part of the step) move with it */
            mark_block_t *src = from != cyc.cursor ? block_at(from, false) : NULL;
            mark_block_t *dst = block_at(cyc.cursor, src != NULL);
            if (src != NULL && dst != NULL) {
                *dst = *src;
                src->key = 0;
            }
            else if (dst != NULL) {
                dst->key = 0;
            }
            if (cyc.sweep_end > gcx_table.pages.len) {
                cyc.sweep_end = gcx_table.pages.len;   /* an unswept page moved in */
            }
            continue;
        }
        gcx_page_t *p = gcx_table.pages.items[cyc.cursor];
        if (!has_seeds(p)) {
            cyc.step_work++;   /* a page passed is work too: most hold no seed */
            cyc.cursor++;
            continue;
        }
        bool page_done = true;
        for (unsigned w = 0; w < GCX_WORDS && page_done; w++) {
            for (;;) {
                mark_block_t *b = block_of(p, true);
                if (b == NULL) {
                    break;   /* I2: left to the end */
                }
                uint64_t seeds = seeds_of(p, b, w);
                if (seeds == 0) {
                    break;
                }
                /* a seed's closure is taken whole, whatever its size: the
                 * step stops before one as large as the largest it took
                 * would overrun it (random graphs of garbage: closures of
                 * 3,000 records, each 0.8 ms) */
                if (cyc.step_work >= target
                    || (cyc.step_members > 0 && cyc.step_work + closure_max > target)) {
                    page_done = false;
                    full = true;
                    break;
                }
                unsigned slot = w * 64 + (unsigned)__builtin_ctzll(seeds);
                Py_ssize_t before = cyc.step_work;
                join(p, b, slot, gcx_slot_object(p, slot));
                close_step();
                if (cyc.step_work - before > closure_max) {
                    closure_max = cyc.step_work - before;
                }
                if (cyc.failed) {
                    break;
                }
            }
        }
        if (page_done) {
            cyc.cursor++;
        }
        if (cyc.failed) {
            cyc.cursor = cyc.sweep_end;   /* I2: the rest to the end */
        }
    }
    if (cyc.step_members == 0) {
        cyc.step.len = 0;
        return sweep_left();
    }
    /* S4: a step that took a closure larger than its target (one garbage
     * component is taken whole) and whose gathering took half the slice
     * is decided in the next slice, so that the pause is the longer of
     * the two halves, not their sum.  A step of the size its rate set is
     * not: it fits its slice, and deciding it in another would cost a
     * slice more and a second read of its members on cold caches (the
     * 3M heap: 50-70% more slices).  With no time given (one seed a
     * step), every step is. */
    (void)PyTime_PerfCounterRaw(&end);
    if (seconds <= 0
        || (cyc.step_work > target && PyTime_AsSecondsDouble(end - start) > seconds / 2)) {
        cyc.pending = true;
        cyc.pending_time = end - start;
        return 1;
    }
    cyc.pending_time = 0;
    return decide_step(start);
}

/* Decide the step gathered (gcx_collect_within) and mark its members done;
 * start: when this slice began.  S4: a step gathered in an earlier slice
 * finds its pages again by their keys (a resync between the slices may
 * have freed or moved some; a page that moved lost its block's stamp, and
 * its members are left to a later step or the end), and only the members
 * still recorded in generation 2 are decided (region.c takes those in the
 * page's generation-2 set), each traversed afresh: what the program did
 * between the slices is seen, as it is by any collection. */
static Py_ssize_t
decide_step(PyTime_t start)
{
    PyTime_t end;
    bool deferred = cyc.pending;
    cyc.pending = false;
    Py_ssize_t members = cyc.step_members, work = cyc.step_work;
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < cyc.step.len; i++) {
        gcx_page_t *p = deferred ? gcx_page_find(cyc.step.keys[i]) : cyc.step.pages[i];
        if (p != NULL) {
            cyc.step.pages[n++] = p;
        }
    }
    Py_ssize_t found = 0;
    __typeof__(cyc.abandoned) abandoned = cyc.abandoned;
    if (n > 0) {
        found = gcx_collect_within(cyc.step.pages, n, step_on,
                                   cyc.pass <= DEFER_PASSES ? &wait_for_weakrefs : NULL);
    }
    if (cyc.abandoned != abandoned) {
        /* a finalizer of the step (or a thread while one ran) abandoned
         * the cycle, whose step and blocks may be gone */
        cyc.step.len = 0;
        return cyc.active;
    }
    /* decided (unless refused: then they wait for a later step or the
     * end): the step's members are done, but those that wait (S3); the
     * addresses of the garbage among them are harmless there (a new object
     * at one is young, or entered generation 2 marked) */
    for (Py_ssize_t i = 0; found >= 0 && i < n; i++) {
        mark_block_t *b = block_of(cyc.step.pages[i], false);
        const uint64_t *bits = b != NULL ? step_bits(b) : NULL;
        bool waiting = b != NULL && b->waiting_pass == cyc.pass;
        for (unsigned w = 0; bits != NULL && w < GCX_WORDS; w++) {
            b->done[w] |= bits[w] & ~(waiting ? b->waiting[w] : 0);
        }
    }
    cyc.step.len = 0;
    if (found < 0) {
        return 1;
    }
    (void)PyTime_PerfCounterRaw(&end);
    if (work >= STEP_MIN) {   /* below, a step's fixed cost would pass for a rate */
        double rate = PyTime_AsSecondsDouble(end - start + cyc.pending_time) / (double)work;
        /* up at once, down by eighths: a step that overran sizes the next
         * one by its own rate, and cheap steps lower it slowly (the rate
         * doubles from one step to the next where garbage, which costs
         * ~5 times what a live member does, is dense) */
        cyc.per_unit = rate > cyc.per_unit ? rate : cyc.per_unit + (rate - cyc.per_unit) / 8;
    }
    cyc.steps++;
    cyc.deferred += deferred;
    cyc.swept += members;
    cyc.swept_found += found;
    if (members > cyc.step_max) {
        cyc.step_max = members;
    }
    return sweep_left();
}

/* ---- the cycle ----------------------------------------------------------------------- */

/* Between cycles, a large gray stack or step set (a long list traversed
 * whole by a sweep) is given back: what a cycle needs is not kept. */
static void
release_work(void)
{
    if (cyc.gray_cap > 65536) {
        gcx_mem_free(cyc.gray);
        cyc.gray = NULL;
        cyc.gray_cap = 0;
    }
    if (cyc.step.cap > 4096) {
        gcx_mem_free(cyc.step.pages);
        gcx_mem_free(cyc.step.keys);
        gcx_mem_free(cyc.step.bits);
        cyc.step.pages = NULL;
        cyc.step.keys = NULL;
        cyc.step.bits = NULL;
        cyc.step.cap = 0;
        cyc.step.len = 0;
    }
}

/* Start a cycle from the objects of `roots` (a list).  -1 with an error:
 * safe mode (records may dangle), or a cycle is running. */
int
gcx_incr_start(PyObject *roots)
{
    abandon_if_stale();
    if (gcx_tr.mode == GCX_MODE_SAFE) {
        PyErr_SetString(PyExc_RuntimeError,
                        "incremental cycles need exact records: gcx runs in safe mode");
        return -1;
    }
    if (cyc.active) {
        PyErr_SetString(PyExc_RuntimeError, "an incremental cycle is running");
        return -1;
    }
    gcx_sync(false);
    gcx_region_on_promote(on_promote);
    cyc.active = true;
    cyc.epoch++;
    if (cyc.epoch == 0) {   /* wrapped: stamps of 0 may be old */
        for (Py_ssize_t c = 0; c < cyc.nchunks; c++) {
            if (cyc.chunks[c] != NULL) {
                memset(cyc.chunks[c], 0, BLOCKS * sizeof(mark_block_t));
            }
        }
        cyc.epoch = 1;
    }
    cyc.gray_len = 0;
    cyc.scan_at = 0;
    cyc.scan_end = gcx_table.pages.len;
    cyc.marked = cyc.traversed = cyc.skipped = 0;
    cyc.failed = false;
    cyc.cursor = 0;
    cyc.sweep_end = -1;
    cyc.promoted = 0;
    cyc.steps = cyc.swept = cyc.swept_found = cyc.step_max = cyc.rejoined = 0;
    cyc.waited = cyc.deferred = 0;
    drop_step();
    cyc.pass = 1;
    cyc.waited_in_pass = cyc.capped_in_pass = false;
    cyc.rejoin_scale = 1;
    if (cyc.per_unit <= 0) {
        cyc.per_unit = 2e-7;   /* a guess, until the first step measures */
    }
    cyc.full_at_start = gcx_stats.gens[GCX_NGENS - 1].collections;
    cyc.old_at_start = gcx_table.total[GCX_GEN1] + gcx_table.total[GCX_GEN2];
    cyc.rescanned = false;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(roots); i++) {
        (void)visit_gray(PyList_GET_ITEM(roots, i), NULL);
    }
    gcx_frames_each_root(visit_root, NULL);
    flush_edges();   /* B1 */
    return 0;
}

/* Mark from what a running frame holds, its value stack read to `depth`
 * slots (frames.c, FR5): on 3.12 and 3.13 the policy works the depth out
 * from the bytecode for the frames whose stack top CPython does not keep.
 * 1 when the frame was read, 0 when not (or no cycle runs). */
int
gcx_incr_mark_frame(PyObject *frame, Py_ssize_t depth)
{
    abandon_if_stale();
    if (!cyc.active) {
        return 0;
    }
    gcx_sync(false);
    int read = gcx_frames_each_slot_of(frame, depth, visit_root, NULL);
    flush_edges();   /* B1 */
    return read;
}

/* Mark for up to `seconds` (at least one object or page of the scan;
 * exactly one for 0, which the tests use to interleave the program with
 * marking).  Returns the marking left (gray objects and pages to scan): 0
 * when marking is done (or no cycle runs). */
Py_ssize_t
gcx_incr_slice(double seconds)
{
    abandon_if_stale();
    if (!cyc.active) {
        return 0;
    }
    gcx_sync(false);
    mark_for(seconds);
    return marking_left_count();
}

/* The end: one collection of generations 0, 1 and what is unmarked of 2.
 * What it found (collected + uncollectable); -1 and nothing done when no
 * cycle runs. */
Py_ssize_t
gcx_incr_finish(void)
{
    abandon_if_stale();
    if (!cyc.active) {
        return -1;
    }
    /* swept: every record of generation 2 was marked or decided by a
     * step (what entered it unmarked behind the cursor, from gc.unfreeze()
     * or a resync, waits for the next cycle), and the end examines
     * nothing: no pass over the table */
    bool swept = !marking_left() && cyc.sweep_end >= 0 && cyc.cursor >= cyc.sweep_end
                 && !cyc.pending && !cyc.failed;
    cyc.kept = 0;
    if (swept) {
        cyc.kept = gcx_table.total[GCX_GEN2];
    }
    for (Py_ssize_t i = 0; !swept && i < gcx_table.pages.len; i++) {
        const gcx_page_t *p = gcx_table.pages.items[i];
        const uint64_t *bits = marked_on(p);
        for (unsigned w = 0; bits != NULL && w < GCX_WORDS; w++) {
            cyc.kept += __builtin_popcountll(GCX_SET(p, GCX_GEN2, w) & bits[w]);
        }
    }
    Py_ssize_t promoted = cyc.promoted;
    Py_ssize_t found = gcx_collect_except(marked_on, swept);
    if (gcx_stats.gens[GCX_NGENS - 1].collections == cyc.full_at_start) {
        /* refused (a collection was running): the cycle goes on */
        return 0;
    }
    /* The stdlib's long-lived rule: what the cycle found alive is the end's
     * survivors and what the end left out, except what entered generation
     * 2 during the cycle (left out unexamined): that is pending, as it would
     * be had a stop-the-world collection run at the cycle's start. */
    gcx_schedule_long_lived(gcx_sched.long_lived_total + cyc.kept - promoted, promoted);
    cyc.active = false;
    cyc.gray_len = 0;
    drop_step();
    release_work();
    return found;
}

void
gcx_incr_abandon(void)
{
    if (cyc.active) {
        cyc.active = false;
        cyc.gray_len = 0;
        cyc.abandoned++;
        drop_step();
        release_work();
    }
}

gcx_incr_state_t
gcx_incr_state(void)
{
    abandon_if_stale();
    gcx_incr_state_t s = {
        .active = cyc.active, .gray = marking_left_count(), .marked = cyc.marked,
        .traversed = cyc.traversed, .skipped = cyc.skipped,
        .old_at_start = cyc.old_at_start, .kept = cyc.kept,
        .abandoned = cyc.abandoned, .failed = cyc.failed,
        .sweeping = cyc.active && !marking_left()
                    && (cyc.sweep_end < 0 || cyc.cursor < cyc.sweep_end || cyc.pending),
        .deferred = cyc.deferred,
        .pending = cyc.pending ? cyc.step_members : 0,
        .steps = cyc.steps, .swept = cyc.swept, .swept_found = cyc.swept_found,
        .step_max = cyc.step_max, .promoted = cyc.promoted, .rejoined = cyc.rejoined,
        .waited = cyc.waited, .passes = cyc.sweep_end < 0 ? 0 : cyc.pass,
        .rescanned = cyc.active && cyc.rescanned,
        .bytes = (size_t)cyc.gray_cap * sizeof(gray_t)
                 + (size_t)cyc.nchunks * sizeof(mark_block_t *)
                 + (size_t)cyc.chunk_count * BLOCKS * sizeof(mark_block_t)
                 + (size_t)cyc.step.cap * (sizeof(gcx_page_t *) + sizeof(*cyc.step.bits)),
    };
    return s;
}
