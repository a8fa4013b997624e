/* region.c: the region of one collection, from its numbering to the split
 * into survivors and garbage.
 *
 * collection.c calls the phases in order; each is a function here, and the
 * algorithm is CPython 3.13's trial deletion, run over gcx's records
 * instead of CPython's GC header:
 *
 *   gcx_region_number   the records of generations 0..g become the region,
 *                       numbered page by page in address order, without
 *                       touching an object; refs = 0.
 *   gcx_region_mark_from_roots
 *                       (full collections) what sys.modules and the
 *                       slots of running frames reach is ROOTED: it
 *                       survives, and is not counted.
 *   gcx_region_count    one visit to every member: a record CPython no
 *                       longer tracks (or an immortal's) is set aside,
 *                       EXCLUDED; a member whose tp_is_gc says it is not
 *                       collectable now is REACHABLE; each other member's
 *                       refcount is added to its refs, and it is
 *                       traversed, each edge to a member taking one.
 *                       After: refs = references from outside the region.
 *   gcx_region_mark     members with refs > 0, and all they reach inside the
 *                       region, are marked REACHABLE (explicit stack, no C
 *                       recursion; a member whose counting traversal met no
 *                       member, a leaf, is not traversed again).  The rest
 *                       is garbage.
 *   gcx_region_keep_survivors
 *                       one walk over the region's pages: untrack tuples
 *                       (and, in full collections, dicts) that cannot be in
 *                       cycles, promote the survivors; the region shrinks,
 *                       in place, to the garbage, labelled, renumbered.
 *   gcx_region_split    legacy (tp_del) finalizers and all they reach become
 *                       F; the rest is U.  The region shrinks, in place, to
 *                       U for finalize.c (its pages stay, some empty), which
 *                       also reuses the membership test (gcx_region_index),
 *                       the counts (gcx_region_refs), the subtraction of
 *                       edges (gcx_region_subtract) and the closure for its
 *                       recount after finalizers.
 *   gcx_region_done     the collection is over: no region, and the large
 *                       blocks of its memory go back.
 *
 * Region membership is a bit per record in the region's own page entries
 * (rpage_t), one per page holding members, found by page number through
 * an index of the collection's own; a member's index is the entry's base +
 * the members before it in its page (a popcount), so looking up an edge
 * never touches the referenced object, only the small entry, and the work
 * array needs no addresses: 5 bytes a member.
 *
 * The entries and their index, the work array, the marking stack, U and
 * F are the collection's own memory; what is large goes back when it ends
 * (gcx_region_done, block_free).  A collection writes a page record only
 * to change what it records (a record promoted, dropped or frozen): in a
 * child of fork(), a collection that changes nothing writes nothing the
 * parent shared but a few pages of its own statics and small blocks
 * (benchmarks/bench_fork.py).
 *
 * Invariants:
 *  C1  between numbering and split no Python code runs: the region's members
 *      are alive and unchanged throughout.
 *  C2  after the split every member of F is pinned and every member of U
 *      pinned or watched (finalize.c, W1); outside a collection there is no
 *      region (no page in it, the filter zero) and no block of
 *      RETURN_BYTES or more is kept.
 *  C3  on allocation failure the collection gives up before anything is
 *      pinned: every record stays where it was and nothing is freed.
 */
#include "gcx.h"
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* ---- memory of collections ----------------------------------------------------- */

/* A collection's working memory (the work array, the region's pages and
 * their index, the marking stack, U and F) is allocated as it needs it.
 * At its end (gcx_region_done) a block smaller than RETURN_BYTES is kept
 * for the next collection, so young collections allocate nothing; a
 * larger one is freed, and its whole pages given back to the kernel first
 * (MADV_DONTNEED).  A large block freed may stay in the allocator's heap
 * (glibc's mmap threshold grows with the blocks freed), and a collection
 * in a forked child that reused it, or kept it, would copy pages the
 * parent shared; given back, its pages return as fresh zero pages, the
 * child's own, and leave with the collection.  The cost: a large
 * collection faults its memory in every time (a full collection of 1M
 * containers, several MB: 3-8% of its time on most heaps measured,
 * benchmarks/RESULTS.md "Memory shared after fork"). */
#define RETURN_BYTES ((size_t)64 * 1024)

static void
block_free(void *p, size_t bytes)
{
    if (p == NULL) {
        return;
    }
#ifdef MADV_DONTNEED
    if (bytes >= RETURN_BYTES) {
        static uintptr_t page_size;
        if (page_size == 0) {
            long s = sysconf(_SC_PAGESIZE);
            page_size = s > 0 ? (uintptr_t)s : 4096;
        }
        /* the whole pages inside the block: the allocator's own words
         * around it are left alone */
        uintptr_t lo = ((uintptr_t)p + page_size - 1) & ~(page_size - 1);
        uintptr_t hi = ((uintptr_t)p + bytes) & ~(page_size - 1);
        if (hi > lo) {
            (void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
        }
    }
#endif
    gcx_mem_free(p);
}

/* A block whose contents need not survive a resize. */
typedef struct {
    void *p;
    size_t bytes;
} block_t;

/* Room for n bytes in b (what it held is lost), or -1. */
static int
block_reserve(block_t *b, size_t n)
{
    if (n <= b->bytes) {
        return 0;
    }
    block_free(b->p, b->bytes);
    b->p = gcx_mem_malloc(n);
    b->bytes = b->p != NULL ? n : 0;
    return b->p != NULL ? 0 : -1;
}

/* The collection is over: a large block goes back. */
static void
block_end(block_t *b)
{
    if (b->bytes >= RETURN_BYTES) {
        block_free(b->p, b->bytes);
        b->p = NULL;
        b->bytes = 0;
    }
}

/* The work array: 5 bytes per member of the region, numbered in region
 * order (page by page, address order inside a page).  A member's address
 * is never stored: the walks over the region compute it from its page and
 * bit, and the marking stack holds addresses. */
static struct {
    gcx_refs_t *refs;             /* trial-deletion count, then a mark */
    uint8_t *kinds;               /* KIND_*, read by gcx_region_count */
    Py_ssize_t len, cap;
    bool tuples;                  /* gcx_region_count met a tuple */
    block_t refs_block, kinds_block;
} work;
/* the type's kind, whether it has a legacy finalizer, and whether
 * gcx_region_count's traversal of the member found no edge into the
 * region (a leaf: marking has nothing to find by traversing it); and, read
 * by gcx_region_count only, two more things of the type: it has a
 * tp_is_gc (compat.h, gcx_type_refuses), and its members may report
 * references they do not own (frames.h) */
enum { KIND_OTHER = 0, KIND_TUPLE = 1, KIND_DICT = 2, KIND_TYPE = 3, KIND_LEGACY = 4,
       KIND_LEAF = 8, KIND_ROOT = 16, KIND_ASKS = 32, KIND_BORROWS = 64 };
static PyObject **stack;          /* marking stack: members to traverse */
static Py_ssize_t stack_len, stack_cap;

/* The members a running frame's slot holds, this collection's: for
 * survivor tuples, which CPython takes for referenced from outside the
 * region (a slot is) and which only through other members
 * (note_tuple_roots).  Recorded by marking from the roots; a failed
 * growth drops the rest (such a tuple is then taken for one members hold:
 * it may stay tracked a collection longer, never less). */
static struct {
    Py_ssize_t *items;
    Py_ssize_t len, cap;
} frame_held;

static __attribute__((noinline)) int
stack_grow(void)
{
    Py_ssize_t cap = stack_cap ? stack_cap * 2 : 4096;
    PyObject **s = gcx_mem_realloc(stack, (size_t)cap * sizeof(PyObject *));
    if (s == NULL) {
        return -1;
    }
    stack = s;
    stack_cap = cap;
    return 0;
}

static inline int
stack_push(PyObject *op)
{
    if (stack_len == stack_cap && stack_grow() < 0) {
        return -1;
    }
    stack[stack_len++] = op;
    return 0;
}

static int
work_reserve(Py_ssize_t n)
{
    work.len = 0;
    if (block_reserve(&work.refs_block, (size_t)n * sizeof(gcx_refs_t)) < 0
        || block_reserve(&work.kinds_block, (size_t)n) < 0) {
        return -1;
    }
    work.refs = work.refs_block.p;
    work.kinds = work.kinds_block.p;
    work.cap = n;
    return 0;
}

/* ---- region membership --------------------------------------------------- */

/* A page holding members of the region: which, and their numbering.  The
 * first 96 bytes are what an edge lookup reads. */
typedef struct {
    uintptr_t key;                /* the page's number (address >> GCX_PAGE_SHIFT) */
    uint32_t base;                /* work index of its first member */
    uint16_t prefix[GCX_WORDS];   /* members in earlier words */
    uint64_t bits[GCX_WORDS];     /* members, one bit per slot */
    gcx_page_t *page;             /* its records */
} rpage_t;

typedef struct {
    uintptr_t key;                /* 0: empty */
    rpage_t *rp;                  /* in the cache, NULL: no page of the region */
} rslot_t;

/* The region's pages in region order, and an index of them by page
 * number (open addressing, load <= 1/2, key 0 empty). */
static struct {
    rpage_t *pages;
    Py_ssize_t len, cap;
    rslot_t *slots;
    size_t mask;                  /* slots - 1 */
    block_t pages_block, slots_block;
} region;

/* The last lookup of each of 256 page numbers (by the number modulo 256),
 * found or not, filled as pages join the region: consecutive edges mostly
 * land on few pages, and edges to the atoms beside containers on pages of
 * no record, again and again.  Emptied with the index. */
#define CACHE_SIZE 256
static rslot_t region_cache[CACHE_SIZE];

/* A filter of the pages that may hold region members: a bit per page
 * number modulo its size, set when a page joins the region, cleared with
 * the region.  A clear bit proves an edge leaves the region without the
 * region's index or its pages being read: in a young collection most
 * edges that leave the young objects point into the old heap.  A set bit
 * proves nothing (pages share bits, and pages gcx_region_split leaves
 * empty keep theirs).  Zero outside a collection (C2), so no
 * lookup then reaches the index. */
#define FILTER_BITS 32768
static uint64_t region_filter[FILTER_BITS / 64];

/* Each member of the region in region order: the loop body sees its word
 * w, the bits of that word from the member's on (member_object(rp, w, bits)
 * is the member; bits & -bits its own bit) and its index idx. */
#define FOR_EACH_MEMBER(rp, w, bits, idx)                                        \
    for (unsigned w = 0; w < GCX_WORDS; w++)                                     \
        for (uint64_t bits = (rp)->bits[w]; bits; bits &= bits - 1, (idx)++)

static inline PyObject *
member_object(const rpage_t *rp, unsigned w, uint64_t bits)
{
    unsigned slot = w * 64 + (unsigned)__builtin_ctzll(bits);
    return (PyObject *)((rp->key << GCX_PAGE_SHIFT) | ((uintptr_t)slot << GCX_GRAIN_SHIFT));
}

/* The same, a word at a time: the address of word w's first slot, then
 * the member whose bit is the lowest of bits. */
static inline uintptr_t
word_base(const rpage_t *rp, unsigned w)
{
    return (rp->key << GCX_PAGE_SHIFT) | ((uintptr_t)w << (6 + GCX_GRAIN_SHIFT));
}

static inline PyObject *
word_member(uintptr_t wbase, uint64_t bits)
{
    return (PyObject *)(wbase | ((uintptr_t)__builtin_ctzll(bits) << GCX_GRAIN_SHIFT));
}

static inline bool
filter_may_hold(uintptr_t key)
{
    unsigned b = (unsigned)(key & (FILTER_BITS - 1));
    return (region_filter[b >> 6] >> (b & 63)) & 1;
}

/* The region's page of key, from the index alone, or NULL. */
static inline rpage_t *
region_probe(uintptr_t key)
{
    size_t mask = region.mask;
    for (size_t i = gcx_hash_key(key, mask);; i = (i + 1) & mask) {
        const rslot_t *s = &region.slots[i];
        if (s->key == key) {
            return s->rp;
        }
        if (s->key == 0) {
            return NULL;
        }
    }
}

/* ... through the cache, or NULL.  Only where the filter holds key. */
static inline rpage_t *
region_lookup(uintptr_t key)
{
    rslot_t *c = &region_cache[key & (CACHE_SIZE - 1)];
    if (c->key != key) {
        c->key = key;
        c->rp = region_probe(key);
    }
    return c->rp;
}

static inline Py_ssize_t
member_index(const rpage_t *rp, uintptr_t a)
{
    unsigned slot = gcx_addr_slot(a);
    unsigned w = slot >> 6, b = slot & 63;
    uint64_t word = rp->bits[w];
    if (!((word >> b) & 1)) {
        return -1;
    }
    return (Py_ssize_t)rp->base + rp->prefix[w]
           + __builtin_popcountll(word & (((uint64_t)1 << b) - 1));
}

Py_ssize_t
gcx_region_index(PyObject *op)
{
    uintptr_t a = (uintptr_t)op;
    uintptr_t key = gcx_addr_key(a);
    if (!filter_may_hold(key)) {
        return -1;
    }
    rpage_t *rp = region_lookup(key);
    return rp == NULL ? -1 : member_index(rp, a);
}

/* The page's per-word prefixes, from its bits; its members. */
static uint32_t
rpage_done(rpage_t *rp)
{
    uint32_t n = 0;
    for (unsigned w = 0; w < GCX_WORDS; w++) {
        rp->prefix[w] = (uint16_t)n;
        n += (uint32_t)__builtin_popcountll(rp->bits[w]);
    }
    return n;
}

/* Room for a region of up to npages pages, empty. */
static int
region_reserve(Py_ssize_t npages)
{
    size_t nslots = 16;
    while (nslots < (size_t)npages * 2) {
        nslots *= 2;
    }
    if (block_reserve(&region.pages_block, (size_t)npages * sizeof(rpage_t)) < 0
        || block_reserve(&region.slots_block, nslots * sizeof(rslot_t)) < 0) {
        return -1;
    }
    region.pages = region.pages_block.p;
    region.slots = region.slots_block.p;
    memset(region.slots, 0, nslots * sizeof(rslot_t));
    region.len = 0;
    region.cap = npages;
    region.mask = nslots - 1;
    memset(region_cache, 0, sizeof(region_cache));
    return 0;
}

/* The slot of key in the index: its page's, or the empty one it goes in. */
static rslot_t *
region_slot(uintptr_t key)
{
    size_t mask = region.mask;
    size_t i = gcx_hash_key(key, mask);
    while (region.slots[i].key != 0 && region.slots[i].key != key) {
        i = (i + 1) & mask;
    }
    return &region.slots[i];
}

/* A new page of the region, after the others (room was made); the caller
 * fills in its members and their numbering. */
static rpage_t *
region_add(rslot_t *s, uintptr_t key, gcx_page_t *page)
{
    GCX_ASSERT(region.len < region.cap && s->key == 0);
    rpage_t *rp = &region.pages[region.len++];
    rp->key = key;
    rp->page = page;
    s->key = key;
    s->rp = rp;
    region_cache[key & (CACHE_SIZE - 1)] = *s;
    unsigned b = (unsigned)(key & (FILTER_BITS - 1));
    region_filter[b >> 6] |= (uint64_t)1 << (b & 63);
    return rp;
}

/* The region is gone: no member, no page, the filter zero (C2).  Its
 * memory stays until gcx_region_done. */
void
gcx_region_clear(void)
{
    region.len = 0;
    region.mask = 0;
    memset(region_filter, 0, sizeof(region_filter));
}

/* ---- phase 1: the region ------------------------------------------------------ */

/* What a region takes of each page: the records of generations 0..g less
 * the generation-2 records out(page) names (gcx_region_number_except), or,
 * with `in`, only the generation-2 records in(page) names
 * (gcx_region_number_within). */
typedef struct {
    int generation;
    gcx_exclude_fn out, in;
} selection_t;

static gcx_promote_fn promote_hook;        /* gcx_region_on_promote */

/* The records of page p that sel takes, in cand; how many. */
static inline Py_ssize_t
candidates(const gcx_page_t *p, const selection_t *sel, uint64_t cand[GCX_WORDS])
{
    if (sel->in == NULL && sel->out == NULL) {
        /* generations 0..g, whole (every collection but an incremental
         * cycle's), in a loop of a few instructions a word */
        Py_ssize_t n = 0;
        const int generation = sel->generation;
        for (unsigned w = 0; w < GCX_WORDS; w++) {
            uint64_t c = GCX_SET(p, GCX_GEN0, w);
            for (int s = 1; s <= generation; s++) {
                c |= GCX_SET(p, s, w);
            }
            cand[w] = c;
            n += __builtin_popcountll(c);
        }
        return n;
    }
    const uint64_t *out = sel->out != NULL ? sel->out(p) : NULL;
    const uint64_t *in = sel->in != NULL ? sel->in(p) : NULL;
    Py_ssize_t n = 0;
    for (unsigned w = 0; w < GCX_WORDS; w++) {
        uint64_t c;
        if (sel->in != NULL) {
            c = in != NULL ? GCX_SET(p, GCX_GEN2, w) & in[w] : 0;
        }
        else {
            c = GCX_SET(p, GCX_GEN0, w);
            for (int s = 1; s <= sel->generation; s++) {
                c |= GCX_SET(p, s, w);
            }
            if (out != NULL) {
                c &= ~(GCX_SET(p, GCX_GEN2, w) & out[w]);
            }
        }
        cand[w] = c;
        n += __builtin_popcountll(c);
    }
    return n;
}

/* Number the records of page p that sel takes, without touching their
 * objects: gcx_region_count visits each object once, to read it and traverse it
 * (and sets aside the records CPython no longer tracks).  A page on both
 * lists is numbered once. */
static void
number_page(gcx_page_t *p, const selection_t *sel)
{
    uint64_t cand[GCX_WORDS];
    Py_ssize_t n = candidates(p, sel, cand);
    if (n == 0) {
        return;
    }
    rslot_t *s = region_slot(p->key);
    if (s->key != 0) {
        return;
    }
    rpage_t *rp = region_add(s, p->key, p);
    uint32_t before = 0;
    rp->base = (uint32_t)work.len;
    for (unsigned w = 0; w < GCX_WORDS; w++) {
        rp->bits[w] = cand[w];
        rp->prefix[w] = (uint16_t)before;
        before += (uint32_t)__builtin_popcountll(cand[w]);
    }
    work.len += n;
    GCX_ASSERT(work.len <= work.cap);
}

static void
number_list(gcx_pagevec_t *v, const selection_t *sel)
{
    for (Py_ssize_t i = 0; i < v->len; i++) {
        number_page(v->items[i], sel);
    }
}

/* Room for every record of generations 0..g on the pages of v. */
static Py_ssize_t
records_on(gcx_pagevec_t *v, int generation)
{
    Py_ssize_t n = 0;
    for (Py_ssize_t i = 0; i < v->len; i++) {
        for (int s = 0; s <= generation; s++) {
            n += v->items[i]->count[s];
        }
    }
    return n;
}

/* After the split the work array is free: finalize.c counts U's references
 * in it (U is part of this collection's region, so it has room). */
gcx_refs_t *
gcx_region_refs(void)
{
    return work.refs;
}

/* After: the records sel takes are the region, numbered, with refs = 0.
 * -1 on allocation failure (C3). */
static int
number_region(const selection_t *sel)
{
    gcx_pagevec_t *young = &gcx_table.lists[GCX_LIST_YOUNG];
    gcx_pagevec_t *middle = &gcx_table.lists[GCX_LIST_MIDDLE];
    int generation = sel->generation;
    bool full = generation == GCX_NGENS - 1;
    Py_ssize_t need, npages;
    if (full && sel->out != NULL) {
        /* an incremental cycle's end: room for its region only */
        uint64_t cand[GCX_WORDS];
        need = npages = 0;
        for (Py_ssize_t i = 0; i < gcx_table.pages.len; i++) {
            Py_ssize_t n = candidates(gcx_table.pages.items[i], sel, cand);
            need += n;
            npages += n > 0;
        }
    }
    else if (full) {
        need = gcx_table.total[GCX_GEN0] + gcx_table.total[GCX_GEN1] + gcx_table.total[GCX_GEN2];
        npages = gcx_table.pages.len;
    }
    else {
        need = records_on(young, generation) + (generation ? records_on(middle, generation) : 0);
        npages = young->len + (generation ? middle->len : 0);
    }
    if (work_reserve(need + 1) < 0 || region_reserve(npages) < 0) {
        return -1;
    }
    if (full) {
        number_list(&gcx_table.pages, sel);
    }
    else {
        number_list(young, sel);
        if (generation >= 1) {
            number_list(middle, sel);
        }
    }
    memset(work.refs, 0, (size_t)work.len * sizeof(gcx_refs_t));
    return 0;
}

/* After: the records of generations 0..g are the region, numbered, with
 * refs = 0.  -1 on allocation failure (C3). */
int
gcx_region_number(int generation)
{
    return number_region(&(selection_t){generation, NULL, NULL});
}

/* A full collection's region without the generation-2 records `out(page)`
 * names (incremental.c: what its marking found alive or its sweep
 * decided); the same result as gcx_region_number otherwise. */
int
gcx_region_number_except(gcx_exclude_fn out)
{
    return number_region(&(selection_t){GCX_NGENS - 1, out, NULL});
}

/* A region of generation-2 records only: on each of the n pages, those
 * in(page) names (incremental.c's sweep: a set closed under references
 * between unmarked old records).  Numbered as gcx_region_number numbers. */
int
gcx_region_number_within(gcx_page_t *const *pages, Py_ssize_t n, gcx_exclude_fn in)
{
    selection_t sel = {GCX_NGENS - 1, NULL, in};
    uint64_t cand[GCX_WORDS];
    Py_ssize_t need = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        need += candidates(pages[i], &sel, cand);
    }
    if (work_reserve(need + 1) < 0 || region_reserve(n) < 0) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        number_page(pages[i], &sel);
    }
    memset(work.refs, 0, (size_t)work.len * sizeof(gcx_refs_t));
    return 0;
}

/* Tell `hook` of the records each collection moves into generation 2
 * (incremental.c: a record that entered the old generation during its
 * cycle was alive then, and is left out of the cycle's end). */
void
gcx_region_on_promote(gcx_promote_fn hook)
{
    promote_hook = hook;
}

/* ---- edges, resolved in batches ----------------------------------------------- */

/* An edge's lookup is a chain of dependent loads: the cache, the region's
 * index, the region's page (bits, base, prefix), the work entry.  In a
 * large region the last two miss, and one edge at a time the
 * misses add up instead of overlapping.  So an edge whose page is not in
 * the cache is looked up in the index at once (most edges to atoms beside
 * containers end there, on no page of the region), its region page is
 * prefetched, and it waits in a batch; a full batch computes its work
 * indices, prefetching the entries, and then applies them.  Edges whose
 * page is cached are applied at once: their region page was read a moment
 * ago.  Decrements commute, and marking only needs every edge applied
 * before the pass ends (see closure), so batching changes no result
 * (random graph of 1M objects: 600 -> 190 ms). */
#define BATCH 64

typedef struct {
    PyObject *ops[BATCH];
    rpage_t *pages[BATCH];
    Py_ssize_t idx[BATCH];      /* region index, or -1: not in the region */
    int n;
    bool hit;                   /* counting: an edge may have reached a member */
} batch_t;

/* The edge's work index now (true), or false: it joined the batch. */
static inline __attribute__((always_inline)) bool
index_or_wait(batch_t *b, PyObject *op, Py_ssize_t *i)
{
    uintptr_t a = (uintptr_t)op;
    uintptr_t key = gcx_addr_key(a);
    if (!filter_may_hold(key)) {
        *i = -1;
        return true;
    }
    rslot_t *c = &region_cache[key & (CACHE_SIZE - 1)];
    if (c->key == key) {
        *i = c->rp == NULL ? -1 : member_index(c->rp, a);
        return true;
    }
    rpage_t *rp = region_probe(key);
    c->key = key;
    c->rp = rp;
    if (rp == NULL) {
        *i = -1;
        return true;
    }
    __builtin_prefetch(&rp->base);
    __builtin_prefetch(&rp->bits[gcx_addr_slot(a) >> 6]);
    b->ops[b->n] = op;
    b->pages[b->n] = rp;
    b->n++;
    return false;
}

/* The work indices of a batch, their entries prefetched. */
static void
resolve(batch_t *b, gcx_refs_t *refs)
{
    for (int k = 0; k < b->n; k++) {
        Py_ssize_t i = member_index(b->pages[k], (uintptr_t)b->ops[k]);
        b->idx[k] = i;
        if (i >= 0) {
            __builtin_prefetch(&refs[i], 1);
        }
    }
}

/* ---- traversal ------------------------------------------------------------------ */

/* tp_traverse, with exact lists and tuples (the most common containers)
 * walked here: their items are all their traverse visits, and walking them
 * here spares an indirect call per edge (item_visit is a constant where
 * this is inlined; visit is what tp_traverse calls, which may be a smaller
 * function that hands on only what it cannot answer at once).  The order
 * of the visits does not matter to counting or marking. */
static inline __attribute__((always_inline)) void
traverse_with(PyObject *op, visitproc item_visit, visitproc visit, void *arg)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject **items;
    Py_ssize_t n;
    if (tp == &PyList_Type) {
        items = ((PyListObject *)op)->ob_item;
        n = PyList_GET_SIZE(op);
    }
    else if (tp == &PyTuple_Type) {
        items = ((PyTupleObject *)op)->ob_item;
        n = PyTuple_GET_SIZE(op);
    }
    else {
        (void)tp->tp_traverse(op, visit, arg);
        return;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (items[i] != NULL) {
            (void)item_visit(items[i], arg);
        }
    }
}

static inline __attribute__((always_inline)) void
traverse(PyObject *op, visitproc visit, void *arg)
{
    traverse_with(op, visit, visit, arg);
}

/* ---- phase 2: count references from outside the region ------------------------ */

static inline void
decref_member(gcx_refs_t *refs, Py_ssize_t i)
{
    if (i >= 0 && refs[i] > GCX_REFS_MIN) {   /* marks stay marks */
        refs[i]--;
    }
}

static void
flush_decref(batch_t *b)
{
    resolve(b, work.refs);
    for (int k = 0; k < b->n; k++) {
        decref_member(work.refs, b->idx[k]);
    }
    b->n = 0;
}

static inline __attribute__((always_inline)) int
visit_decref(PyObject *op, void *arg)
{
    batch_t *b = arg;
    Py_ssize_t i;
    if (index_or_wait(b, op, &i)) {
        if (i >= 0) {
            b->hit = true;
            decref_member(work.refs, i);
        }
        return 0;
    }
    b->hit = true;   /* it waits: its page is in the region */
    if (b->n == BATCH) {
        flush_decref(b);
    }
    return 0;
}

static inline uint8_t
kind_of(PyTypeObject *tp)
{
    return (tp == &PyTuple_Type ? KIND_TUPLE : tp == &PyDict_Type ? KIND_DICT : KIND_OTHER)
           | (tp->tp_del != NULL ? KIND_LEGACY : 0)
           | (tp->tp_is_gc != NULL ? KIND_ASKS : 0)
           | (gcx_frames_may_borrow(tp) ? KIND_BORROWS : 0);
}

/* The kinds of the types one pass has met.  Types alternate on a page of
 * one size class (tuples of two beside lists), where remembering the last
 * type alone misses.  No Python code runs during the pass, and each member
 * holds its type, so no type met is freed and replaced at its address. */
typedef struct {
    PyTypeObject *tp[16];
    uint8_t kind[16];
} kind_memo;

static inline uint8_t
kind_memo_of(kind_memo *m, PyTypeObject *tp)
{
    uintptr_t a = (uintptr_t)tp;
    unsigned h = (unsigned)((a >> 4) ^ (a >> 9)) & 15;
    if (m->tp[h] != tp) {
        m->tp[h] = tp;
        m->kind[h] = kind_of(tp);
    }
    return m->kind[h];
}

/* A suspended generator's borrowed slot was visited and subtracted, but
 * owns no reference: give it back (frames.c).  Called after the batch was
 * flushed, so the subtraction it undoes has been applied. */
static void
give_back(PyObject *target, void *unused)
{
    (void)unused;
    Py_ssize_t i = gcx_region_index(target);
    if (i >= 0 && work.refs[i] > GCX_REFS_MIN) {   /* marks stay marks */
        work.refs[i]++;
    }
}

/* A record whose object CPython does not track, or that is immortal, is no
 * member: its count is set aside (GCX_W_EXCLUDED), and edges to it change
 * nothing.  Its record stays where gcx_region_keep_survivors puts it, except: */
static bool
excluded(gcx_page_t *p, unsigned slot, PyObject *op)
{
    if (!gcx_is_tracked_gc(op)) {
        if (PyTuple_CheckExact(op)) {
            /* a collector untracked it; CPython never tracks it again */
            gcx_table_discard(op);
        }
        else {
            /* under construction, or lazily tracked: its record is
             * promoted with the survivors, so watch it (R5) */
            gcx_watch_untracked(op);
        }
        return true;
    }
    if (gcx_is_immortal(op)) {
        /* its refcount says nothing: CPython moves these to the
         * permanent generation, gcx to the frozen set */
        gcx_table_move(p, slot, gcx_table_set_of(op), GCX_FROZEN);
        return true;
    }
    return false;
}

/* One visit to every member, in region order: set aside the records that
 * are no members, note each member's kind, add its refcount to its count,
 * and traverse it, taking one from the count of every member it refers to.
 * After: refs = references from outside the region (the same numbers as
 * copying every refcount first and subtracting after, in one pass over the
 * objects instead of two).  Members already marked reachable (from the
 * roots, by the clamp, or because their tp_is_gc refuses) are not traversed
 * here: closure traverses them, and what they reach survives. */
Py_ssize_t
gcx_region_count(void)
{
    batch_t b;
    b.n = 0;
    Py_ssize_t members = 0;
    /* in locals: a store to kinds (bytes, which may alias anything) would
     * otherwise have every global and page field read again after it */
    gcx_refs_t *const refs = work.refs;
    uint8_t *const kinds = work.kinds;
    PyTypeObject *last_tp = NULL;
    uint8_t last_kind = 0;
    kind_memo memo = {{NULL}, {0}};
    bool tuples = false;
    for (Py_ssize_t k = 0; k < region.len; k++) {
        const rpage_t *rp = &region.pages[k];
        gcx_page_t *const page = rp->page;
        Py_ssize_t idx = rp->base;
        for (unsigned w = 0; w < GCX_WORDS; w++) {
            const uint64_t word = rp->bits[w];
            const uintptr_t wbase = word_base(rp, w);
            /* ask for a word's objects together, so their misses overlap */
            for (uint64_t bits = word; bits; bits &= bits - 1) {
                __builtin_prefetch(word_member(wbase, bits));
            }
            for (uint64_t bits = word; bits; bits &= bits - 1, idx++) {
                unsigned bit = (unsigned)__builtin_ctzll(bits);
                PyObject *op = word_member(wbase, bits);
                gcx_refs_t *e = &refs[idx];
                const gcx_refs_t r = *e;
                /* marking from the roots never marks what is excluded */
                if (r != GCX_W_ROOTED && excluded(page, w * 64 + bit, op)) {
                    *e = GCX_W_EXCLUDED;
                    continue;
                }
                members++;
                PyTypeObject *tp = Py_TYPE(op);
                if (tp != last_tp) {   /* neighbours are mostly of one type */
                    last_tp = tp;
                    last_kind = kind_memo_of(&memo, tp);
                    tuples |= (last_kind & KIND_TYPE) == KIND_TUPLE;
                }
                kinds[idx] = last_kind;
                if (r == GCX_W_ROOTED) {
                    continue;
                }
                if ((last_kind & KIND_ASKS) && gcx_type_refuses(tp, op)) {
                    /* CPython never counts an edge to it: all its
                     * references are from outside (compat.h) */
                    *e = GCX_W_REACHABLE;
                    continue;
                }
                bool borrows = last_kind & KIND_BORROWS;
                if (borrows && gcx_frames_mode() != GCX_FRAMES_COMPENSATED) {
                    /* its visits may overstate what it owns (FR1) */
                    *e = GCX_W_REACHABLE;
                    continue;
                }
                Py_ssize_t rc = Py_REFCNT(op);
                GCX_ASSERT(rc > 0);
                /* r is a count, at most 0: only edges have changed it so
                 * far, so r + rc is at most rc */
                GCX_ASSERT(r <= 0 && r >= GCX_REFS_MIN);
                if (rc > GCX_REFS_MAX || r == GCX_REFS_MIN) {
                    *e = GCX_W_REACHABLE;
                    continue;
                }
                *e = r + (gcx_refs_t)rc;
                b.hit = false;
                traverse(op, visit_decref, &b);
                if (!b.hit) {
                    kinds[idx] |= KIND_LEAF;
                }
                if (borrows) {
                    flush_decref(&b);
                    gcx_frames_each_borrowed(op, give_back, NULL);
                }
            }
        }
    }
    flush_decref(&b);
    work.tuples = tuples;
    return members;
}

/* The recount after finalizers (finalize.c), over the region the split
 * left (U): every member whose count is not GCX_W_EXCLUDED (finalize.c's
 * mark for a member that is gone) is traversed, each edge to a member
 * taking one from its count, as gcx_region_count does.  Counts are set
 * by the caller first; marks stay marks. */
void
gcx_region_subtract(void)
{
    batch_t b;
    b.n = 0;
    for (Py_ssize_t k = 0; k < region.len; k++) {
        const rpage_t *rp = &region.pages[k];
        Py_ssize_t i = rp->base;
        for (unsigned w = 0; w < GCX_WORDS; w++) {
            const uintptr_t wbase = word_base(rp, w);
            for (uint64_t bits = rp->bits[w]; bits; bits &= bits - 1, i++) {
                if (work.refs[i] != GCX_W_EXCLUDED) {
                    traverse(word_member(wbase, bits), visit_decref, &b);
                }
            }
        }
    }
    flush_decref(&b);
}

/* ---- phase 3: mark what is reachable ------------------------------------------- */

/* Marking follows the work array's address order wherever it can: a member
 * found reachable ahead of the scan is only marked, and is traversed when
 * the scan gets there; only members behind the scan go on the stack.  For
 * the usual heap, where objects point mostly forward in allocation order,
 * this traverses memory sequentially and the stack stays small.  Edges
 * wait in a batch; a member marked when its batch is applied is compared
 * with the scan as it is then, so one the scan passed while its edge
 * waited goes on the stack like any other behind the scan. */
typedef struct {
    gcx_refs_t *refs;
    gcx_refs_t from;     /* >= 0: only members whose refs equal it are marked */
    gcx_refs_t mark;
    Py_ssize_t scan;     /* members past this are traversed by the scan */
    bool unvisited;      /* gcx_region_count has not run: members may be excluded */
    bool special;        /* from >= 0 or unvisited: mark_member asks more */
    const uint8_t *leaves;   /* kinds whose KIND_LEAF may spare a traversal, or NULL */
    bool failed;
    batch_t b;
} mark_state;

/* An edge out of the region while live containers may lack records. */
static __attribute__((noinline)) void
adopt_unknown(PyObject *op)
{
    if (gcx_is_tracked(op) && gcx_table_set_of(op) < 0) {
        gcx_adopt(op);   /* R3 of tracer.c */
    }
}

/* Mark member i; whether it goes on the stack: it lies behind the scan
 * (the scan traverses those ahead of it) and may reach a member. */
static inline __attribute__((always_inline)) bool
mark_plain(mark_state *st, Py_ssize_t i)
{
    st->refs[i] = st->mark;
    return i <= st->scan && !(st->leaves != NULL && (st->leaves[i] & KIND_LEAF));
}

/* In a special pass (st->special), may member i, not marked yet, be? */
static inline __attribute__((always_inline)) bool
markable(const mark_state *st, PyObject *op, Py_ssize_t i)
{
    if (st->from >= 0 && st->refs[i] != st->from) {
        return false;   /* not markable in this pass */
    }
    /* marking before counting: gcx_region_count will exclude it; never
     * traverse it */
    return !st->unvisited || (gcx_is_tracked_gc(op) && !gcx_is_immortal(op));
}

static inline __attribute__((always_inline)) void
mark_member(mark_state *st, PyObject *op, Py_ssize_t i)
{
    if (i < 0) {
        if (__builtin_expect(gcx_tr.unsure, 0)) {
            adopt_unknown(op);
        }
        return;
    }
    gcx_refs_t *e = &st->refs[i];
    if (*e < 0) {
        return;   /* marked already */
    }
    if (__builtin_expect(st->special, 0) && !markable(st, op, i)) {
        return;
    }
    if (mark_plain(st, i) && stack_push(op) < 0) {
        st->failed = true;
    }
}

static void
flush_mark(mark_state *st)
{
    batch_t *b = &st->b;
    resolve(b, st->refs);
    for (int k = 0; k < b->n; k++) {
        mark_member(st, b->ops[k], b->idx[k]);
    }
    b->n = 0;
}

static inline __attribute__((always_inline)) int
visit_mark_inline(PyObject *op, void *arg)
{
    mark_state *st = arg;
    Py_ssize_t i;
    if (index_or_wait(&st->b, op, &i)) {
        mark_member(st, op, i);
        return 0;
    }
    if (st->b.n == BATCH) {
        flush_mark(st);
    }
    return 0;
}

/* The rest of a visit, out of line: an edge whose page is not in the
 * cache, or that marks a member (which may push it), or any edge while
 * live containers may lack records. */
static __attribute__((noinline)) int
visit_mark_slow(PyObject *op, void *arg)
{
    return visit_mark_inline(op, arg);
}

/* Member i, not marked yet, met in a special pass: mark_member's rest,
 * out of line (the lookup done).  Written out rather than calling
 * mark_member, whose checks visit_mark has just made: calling it cost
 * bench_suite's explicit gc 1% more instructions (2,842 M -> 2,871 M,
 * 3.13.5). */
static __attribute__((noinline)) int
mark_special(mark_state *st, PyObject *op, Py_ssize_t i)
{
    if (markable(st, op, i) && mark_plain(st, i) && stack_push(op) < 0) {
        st->failed = true;
    }
    return 0;
}

/* A member just marked goes on the stack, which must grow first. */
static __attribute__((noinline)) int
push_marked(mark_state *st, PyObject *op)
{
    if (stack_push(op) < 0) {
        st->failed = true;
    }
    return 0;
}

/* What tp_traverse calls while marking.  The usual edges are answered
 * here, with no stack frame (everything else is a tail call): one that
 * leaves the region by the filter (in a young collection most edges, to
 * old objects, types, code), and one whose page is in the cache (in a
 * full collection most edges): it ends at no member, at one marked
 * already, or marks one, as mark_member does.  Before, with a frame, the
 * 865,799 edges of `bench_suite.py`'s explicit gc program that passed
 * the filter took 58 instructions each. */
static int
visit_mark(PyObject *op, void *arg)
{
    uintptr_t a = (uintptr_t)op;
    uintptr_t key = gcx_addr_key(a);
    if (__builtin_expect(gcx_tr.unsure, 0)) {
        return visit_mark_slow(op, arg);   /* it adopts what lacks a record */
    }
    if (!filter_may_hold(key)) {
        return 0;
    }
    /* index_or_wait's first half, written out: shared through an inline
     * helper, the compiler spent a register move or two more an edge
     * here and in counting (explicit gc: +1.6% instructions) */
    const rslot_t *c = &region_cache[key & (CACHE_SIZE - 1)];
    if (c->key != key) {
        return visit_mark_slow(op, arg);
    }
    if (c->rp == NULL) {
        return 0;
    }
    Py_ssize_t i = member_index(c->rp, a);
    if (i < 0) {
        return 0;
    }
    /* mark_member, its usual case inline */
    mark_state *st = arg;
    if (st->refs[i] < 0) {
        return 0;   /* marked already */
    }
    if (__builtin_expect(st->special, 0)) {
        return mark_special(st, op, i);
    }
    if (!mark_plain(st, i)) {
        return 0;
    }
    if (__builtin_expect(stack_len == stack_cap, 0)) {
        return push_marked(st, op);
    }
    stack[stack_len++] = op;
    return 0;
}

static void
traverse_mark(PyObject *op, mark_state *st)
{
    traverse_with(op, visit_mark_inline, visit_mark, st);
}

static void
mark_init(mark_state *st, gcx_refs_t *refs, gcx_refs_t from, gcx_refs_t mark,
          Py_ssize_t scan)
{
    st->refs = refs;
    st->from = from;
    st->mark = mark;
    st->scan = scan;
    st->unvisited = false;
    st->special = from >= 0;
    st->leaves = NULL;
    st->failed = false;
    st->b.n = 0;
    stack_len = 0;
}

/* Traverse what is on the stack (and what that pushes). */
static void
traverse_stack(mark_state *st)
{
    while (stack_len > 0) {
        PyObject *op = stack[--stack_len];
        traverse_mark(op, st);
    }
}

/* Traverse what is on the stack, and apply every waiting edge. */
static int
drain(mark_state *st)
{
    traverse_stack(st);
    while (st->b.n > 0) {
        flush_mark(st);
        traverse_stack(st);
    }
    return st->failed ? -1 : 0;
}

/* Members of the region with refs > 0, and all they reach in it, get refs =
 * mark.  With from >= 0, only members whose refs equal `from` can be
 * reached, and the roots are the members already equal to mark. */
static int
scan_closure(mark_state *st)
{
    gcx_refs_t *const refs = st->refs;
    const gcx_refs_t from = st->from, mark = st->mark;
    const uint8_t *const leaves = st->leaves;
    for (Py_ssize_t k = 0; k < region.len; k++) {
        const rpage_t *rp = &region.pages[k];
        Py_ssize_t i = rp->base;
        FOR_EACH_MEMBER(rp, w, bits, i) {
            st->scan = i;
            if (refs[i] == mark || (from < 0 && refs[i] > 0)) {
                refs[i] = mark;
                if (leaves == NULL || !(leaves[i] & KIND_LEAF)) {
                    PyObject *op = member_object(rp, w, bits);
                    traverse_mark(op, st);
                }
            }
            else if (st->b.n > 0) {
                /* a waiting edge may mark this member (the next object is
                 * often the child just traversed): it goes on the stack */
                flush_mark(st);
            }
            /* traverse what fell behind the scan before moving on, so
             * that the scan stays the only sequential walk */
            if (stack_len > 0) {
                traverse_stack(st);
            }
        }
    }
    return drain(st);
}

static int
closure(gcx_refs_t *refs, gcx_refs_t from, gcx_refs_t mark, const uint8_t *leaves)
{
    mark_state st;
    mark_init(&st, refs, from, mark, -1);
    st.leaves = leaves;
    return scan_closure(&st);
}

int
gcx_traverse_closure(gcx_refs_t *refs, gcx_refs_t mark)
{
    return closure(refs, -1, mark, NULL);   /* Python code ran: no leaves */
}

/* Tuples that survive because they are referenced from outside the
 * region, as opposed to through other members: see
 * gcx_region_keep_survivors.  Before marking, while counts still say so.
 * What marking from the roots reached (ROOTED) was not counted: of it,
 * what a running frame's slot holds is referenced from outside (as
 * CPython counts it), the rest is taken for held by members (the module
 * dicts, lists and objects sys.modules reaches), as it mostly is: so a
 * chain of tuples a global or a local holds loses one level a collection,
 * its head staying tracked, as under the stdlib (and the untracking of
 * the tuples referenced from outside, repeated until none is left, does
 * not go over a long chain once a level). */
static void
note_tuple_roots(void)
{
    if (work.tuples) {
        gcx_refs_t *const refs = work.refs;
        uint8_t *const kinds = work.kinds;
        for (Py_ssize_t i = 0; i < work.len; i++) {
            gcx_refs_t r = refs[i];
            if ((r > 0 || r == GCX_W_REACHABLE)   /* kinds set */
                && (kinds[i] & KIND_TYPE) == KIND_TUPLE) {
                kinds[i] |= KIND_ROOT;
            }
        }
        for (Py_ssize_t k = 0; k < frame_held.len; k++) {
            Py_ssize_t i = frame_held.items[k];
            if (i < work.len && refs[i] == GCX_W_ROOTED
                && (kinds[i] & KIND_TYPE) == KIND_TUPLE) {
                kinds[i] |= KIND_ROOT;
            }
        }
    }
    frame_held.len = 0;
}

/* Validator (level 2): after marking, no member keeps a positive count:
 * each is marked (REACHABLE, ROOTED, EXCLUDED) or has refs <= 0. */
static void
validate_marked(void)
{
    for (Py_ssize_t i = 0; i < work.len; i++) {
        GCX_ASSERT_INTERNAL(work.refs[i] <= 0);
    }
}

/* After: every member is REACHABLE (or ROOTED, EXCLUDED) or has refs <= 0:
 * garbage.  -1 on allocation failure (C3). */
int
gcx_region_mark(void)
{
    /* A leaf (KIND_LEAF: its count's traversal met no member) marks
     * nothing when traversed, since no Python code has run since (C1):
     * it is not traversed.  Unless live containers may lack records: then
     * marking adopts what edges out of the region find (adopt_unknown). */
    const uint8_t *leaves = gcx_tr.unsure ? NULL : work.kinds;
    note_tuple_roots();
    if (closure(work.refs, -1, GCX_W_REACHABLE, leaves) < 0) {
        return -1;
    }
    if (GCX_DEBUG >= 2) {
        validate_marked();
    }
    return 0;
}

/* ---- phase 3, first in full collections: what the roots reach ------------------ */

/* Trial deletion spends two traversals of every member to find what the
 * rest of the heap would say of it.  A full collection marks what it
 * knows to be alive first: what sys.modules reaches (every module, class,
 * function and module-level structure) and what the slots of every
 * thread's running frames reach (the locals of main() and of the function
 * that called gc.collect(): a heap only a local holds is as common), and
 * then runs trial deletion only over what is left: one traversal of the
 * live heap instead of two.  The result is the same: every object
 * reachable from a live object is reachable from some object trial
 * deletion finds externally referenced, and a running frame's slot is a
 * reference from outside every container. */

static void
note_frame_held(Py_ssize_t i)
{
    if (frame_held.len == frame_held.cap) {
        Py_ssize_t cap = frame_held.cap ? frame_held.cap * 2 : 256;
        Py_ssize_t *items = gcx_mem_realloc(frame_held.items, (size_t)cap * sizeof(*items));
        if (items == NULL) {
            return;
        }
        frame_held.items = items;
        frame_held.cap = cap;
    }
    frame_held.items[frame_held.len++] = i;
}

/* A word of a running frame (frames.c, FR5): an address to look up, never
 * to read through; a member is alive (C1), so marking may read it. */
static void
mark_frame_word(PyObject *word, void *arg)
{
    Py_ssize_t i = gcx_region_index(word);
    if (i >= 0) {
        note_frame_held(i);
        mark_member(arg, word, i);
    }
}

int
gcx_region_mark_from_roots(void)
{
    PyObject *roots[] = {PyImport_GetModuleDict()};
    mark_state st;
    /* the roots marked, none traversed yet: the scan then traverses what
     * is marked in region order, as closure() does, so the marking stack
     * holds only what lies behind it (from the roots depth first, it held
     * every member of the largest list at once: 12 MB for a list of 1.5M) */
    mark_init(&st, work.refs, -1, GCX_W_ROOTED, -1);
    st.unvisited = st.special = true;
    frame_held.len = 0;
    for (size_t r = 0; r < sizeof(roots) / sizeof(roots[0]); r++) {
        if (roots[r] != NULL) {
            mark_member(&st, roots[r], gcx_region_index(roots[r]));
        }
    }
    gcx_frames_each_root(mark_frame_word, &st);
    return st.failed ? -1 : scan_closure(&st);
}

/* ---- phase 4: survivors ------------------------------------------------------ */

static inline bool
survives(gcx_refs_t refs)
{
    return refs == GCX_W_REACHABLE || refs == GCX_W_ROOTED || refs == GCX_W_EXCLUDED;
}

static bool
items_untracked(PyObject *op)
{
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(op); i++) {
        PyObject *item = PyTuple_GET_ITEM(op, i);
        if (item == NULL || gcx_may_be_tracked(item)) {
            return false;
        }
    }
    return true;
}

static void
untrack_tuple(PyObject *op)
{
    PyObject_GC_UnTrack(op);
    gcx_table_discard(op);   /* CPython never tracks a tuple again */
}

static bool
maybe_untrack_tuple(PyObject *op)
{
    if (!items_untracked(op)) {
        return false;
    }
    untrack_tuple(op);
    return true;
}

static bool
maybe_untrack_dict(PyObject *op)
{
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(op, &pos, &key, &value)) {
        if (gcx_may_be_tracked(value) || gcx_may_be_tracked(key)) {
            return false;
        }
    }
    PyObject_GC_UnTrack(op);
    gcx_watch_untracked(op);
    return true;
}

/* A survivor that is an exact tuple (or, in a full collection, an exact
 * dict): untracked if it cannot be in a cycle.  Its record goes now
 * (tuples), before the records of its word move.  True if it was. */
static __attribute__((noinline)) bool
maybe_untrack(const rpage_t *rp, unsigned w, uint64_t bits, uint8_t kind, bool full)
{
    if ((kind & KIND_TYPE) == KIND_TUPLE) {
        return maybe_untrack_tuple(member_object(rp, w, bits));
    }
    /* as CPython's full collections do; 3.14+ never untracks dicts, nor
     * tracks again one that was untracked */
    if ((kind & KIND_TYPE) == KIND_DICT && full && gcx_probed.dicts_lazy) {
        return maybe_untrack_dict(member_object(rp, w, bits));
    }
    return false;
}

/* The survivor tuples, put on the marking stack by
 * gcx_region_keep_survivors (bit 0 set: only other members keep it
 * alive), are untracked in the order CPython's young collections check
 * them: those referenced from outside the region in the order of its list,
 * which for tuples (made after their items) puts each after the items it
 * holds, so those are untracked until none is left to untrack; then those
 * only members keep alive, which CPython's scan moves behind the members
 * that reach them, each untracked if its items were untracked or atomic
 * before any of these was: a tuple of tuples keeps its place while its
 * items go.  How many were untracked. */
static inline PyObject *
tag_tuple(PyObject *op, uint8_t kind)
{
    return (PyObject *)((uintptr_t)op | !(kind & KIND_ROOT));
}

static Py_ssize_t
untrack_survivor_tuples(void)
{
    Py_ssize_t untracked = 0;
    /* referenced from outside: until none is left to untrack */
    for (bool again = true; again;) {
        again = false;
        for (Py_ssize_t k = 0; k < stack_len; k++) {
            PyObject *op = stack[k];
            if (op != NULL && !((uintptr_t)op & 1) && items_untracked(op)) {
                untrack_tuple(op);
                stack[k] = NULL;
                untracked++;
                again = true;
            }
        }
    }
    /* kept alive by members: decided first, then untracked */
    Py_ssize_t n = 0;
    for (Py_ssize_t k = 0; k < stack_len; k++) {
        PyObject *op = (PyObject *)((uintptr_t)stack[k] & ~(uintptr_t)1);
        if (((uintptr_t)stack[k] & 1) && items_untracked(op)) {
            stack[n++] = op;
        }
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        untrack_tuple(stack[k]);
    }
    stack_len = 0;
    return untracked + n;
}

/* Untrack what cannot be in a cycle, count the survivors CPython still
 * tracks, and move every record of generations 0..g that is not garbage
 * (survivors, and records CPython does not track) to old_set.  One walk
 * over the region's pages, in work order, which also shrinks the region,
 * in place, to its garbage for gcx_region_split: each page keeps only its
 * garbage members, numbered in the same order from 0 (a page left with
 * none stays, empty), and their counts move down with them, labelled: 0,
 * or GCX_W_LEGACY for a tp_del object.  The usual member (a survivor that
 * is no tuple or dict, or garbage) costs a few instructions; the rest is
 * out of line. */
__attribute__((noinline)) gcx_survey_t
gcx_region_keep_survivors(int generation, int old_set)
{
    Py_ssize_t tracked = 0, garbage_n = 0, legacy = 0;
    bool full = generation == GCX_NGENS - 1;
    /* in locals: stores to refs would otherwise have the globals read
     * again (kinds are bytes, which may alias anything) */
    gcx_refs_t *const refs = work.refs;
    const uint8_t *const kinds = work.kinds;
    const Py_ssize_t npages = region.len;
    for (Py_ssize_t k = 0; k < npages; k++) {
        rpage_t *rp = &region.pages[k];
        gcx_page_t *p = rp->page;
        Py_ssize_t idx = rp->base;
        rp->base = (uint32_t)garbage_n;
        for (unsigned w = 0; w < GCX_WORDS; w++) {
            const uint64_t word = rp->bits[w];
            if (word == 0) {
                continue;
            }
            uint64_t garbage = 0;
            for (uint64_t bits = word; bits; bits &= bits - 1, idx++) {
                const gcx_refs_t r = refs[idx];
                const uint8_t kind = kinds[idx];
                if (!survives(r)) {
                    garbage |= bits & (~bits + 1);
                    /* garbage_n <= idx: the counts move down, each read
                     * before its place is written */
                    if (__builtin_expect(kind & KIND_LEGACY, 0)) {
                        refs[garbage_n] = GCX_W_LEGACY;
                        legacy++;
                    }
                    else {
                        refs[garbage_n] = 0;
                    }
                    garbage_n++;
                    continue;
                }
                if (r == GCX_W_EXCLUDED) {
                    continue;   /* its record moves with the survivors' (no kind) */
                }
                tracked++;
                if ((kind & KIND_TYPE) == KIND_TUPLE
                    && stack_push(tag_tuple(member_object(rp, w, bits), kind)) == 0) {
                    continue;   /* decided after the walk */
                }
                if ((kind & KIND_TYPE) && maybe_untrack(rp, w, bits, kind, full)) {
                    tracked--;
                }
            }
            rp->bits[w] = garbage;
            if (garbage == word) {
                continue;   /* nothing of the word moves */
            }
            for (int s = 0; s <= generation; s++) {
                /* members only: a sweep's region (gcx_region_number_within)
                 * leaves out records of every set on its pages */
                uint64_t move = GCX_SET(p, s, w) & word & ~garbage;
                if (move == 0 || s == old_set) {
                    continue;
                }
                gcx_table_move_word(p, w, move, s, old_set);
                if (old_set == GCX_GEN2 && promote_hook != NULL) {
                    promote_hook(p, w, move);
                }
            }
        }
        rpage_done(rp);
    }
    tracked -= untrack_survivor_tuples();
    return (gcx_survey_t){.tracked = tracked, .garbage = garbage_n, .legacy = legacy};
}

/* Young collections never number pages outside the lists, so records of
 * generations 0..g there (only after a failed list insertion) would never
 * be promoted; the lists are rebuilt by the next resync. */

/* ---- phase 5: split the garbage ---------------------------------------------- */

static int
workvec_reserve(gcx_workvec_t *v, Py_ssize_t n)
{
    if (v->len + n > v->cap) {
        Py_ssize_t cap = v->len + n;
        PyObject **items = gcx_mem_realloc(v->items, (size_t)cap * sizeof(PyObject *));
        if (items == NULL) {
            return -1;
        }
        v->items = items;
        v->cap = cap;
    }
    return 0;
}

static void validate_split(const gcx_workvec_t *u);

/* The garbage gcx_region_keep_survivors left as the region becomes U
 * (refs 0) and F (tp_del objects and all the garbage they reach), both in
 * address order; the region shrinks to U in place, page by page (without
 * tp_del objects it is U already). */
__attribute__((noinline)) int
gcx_region_split(gcx_garbage_t *g, gcx_survey_t sv)
{
    if (sv.garbage == 0) {
        gcx_region_clear();   /* the usual young collection ends here */
        return 0;
    }
    if (sv.legacy > 0 && closure(work.refs, 0, GCX_W_LEGACY, NULL) < 0) {
        return -1;
    }
    if (workvec_reserve(&g->unreachable, sv.garbage) < 0
        || (sv.legacy > 0 && workvec_reserve(&g->legacy, sv.garbage) < 0)) {
        return -1;
    }
    /* from here nothing can fail; a page left with no member of U stays
     * in the region, empty, so that no page moves */
    const gcx_refs_t *const refs = work.refs;
    PyObject **const u_items = g->unreachable.items;
    PyObject **const f_items = g->legacy.items;
    Py_ssize_t nu = g->unreachable.len, nf = g->legacy.len;
    if (sv.legacy == 0) {
        /* the usual case: every member is in U, numbered already */
        for (Py_ssize_t k = 0; k < region.len; k++) {
            rpage_t *rp = &region.pages[k];
            GCX_ASSERT(rp->base == (uint32_t)(nu - g->unreachable.len));
            rp->base = (uint32_t)nu;
            for (unsigned w = 0; w < GCX_WORDS; w++) {
                const uintptr_t wbase = word_base(rp, w);
                for (uint64_t bits = rp->bits[w]; bits; bits &= bits - 1) {
                    u_items[nu++] = word_member(wbase, bits);
                }
            }
        }
        g->unreachable.len = nu;
        if (GCX_DEBUG >= 2) {
            validate_split(&g->unreachable);
        }
        return 0;
    }
    for (Py_ssize_t k = 0; k < region.len; k++) {
        rpage_t *rp = &region.pages[k];
        Py_ssize_t idx = rp->base;
        rp->base = (uint32_t)nu;
        for (unsigned w = 0; w < GCX_WORDS; w++) {
            const uintptr_t wbase = word_base(rp, w);
            uint64_t u = 0;
            for (uint64_t bits = rp->bits[w]; bits; bits &= bits - 1, idx++) {
                gcx_refs_t r = refs[idx];
                if (r == 0) {
                    u |= bits & (~bits + 1);
                    u_items[nu++] = word_member(wbase, bits);
                }
                else if (r == GCX_W_LEGACY) {
                    f_items[nf++] = word_member(wbase, bits);
                }
            }
            rp->bits[w] = u;
        }
        rpage_done(rp);
    }
    g->unreachable.len = nu;
    g->legacy.len = nf;
    if (GCX_DEBUG >= 2) {
        validate_split(&g->unreachable);
    }
    return 0;
}

/* After the split, U leaves out the members keep() says no to, asked
 * with their index in U (a sweep step's garbage that waits: finalize.c,
 * gcx_garbage_wait): they leave the region too, and what is left is
 * numbered from 0 again, in the same order, so that the region is still U
 * (validate_split).  Region indices change as it goes: keep() must not
 * ask for them. */
void
gcx_region_keep(gcx_workvec_t *u, bool (*keep)(PyObject *op, Py_ssize_t i, void *arg),
                void *arg)
{
    Py_ssize_t kept = 0;
    for (Py_ssize_t i = 0; i < u->len; i++) {
        PyObject *op = u->items[i];
        if (keep(op, i, arg)) {
            u->items[kept++] = op;
            continue;
        }
        uintptr_t a = (uintptr_t)op;
        rpage_t *rp = region_lookup(gcx_addr_key(a));
        unsigned slot = gcx_addr_slot(a);
        rp->bits[slot >> 6] &= ~((uint64_t)1 << (slot & 63));
    }
    u->len = kept;
    uint32_t n = 0;
    for (Py_ssize_t k = 0; k < region.len; k++) {
        rpage_t *rp = &region.pages[k];
        rp->base = n;
        n += rpage_done(rp);
    }
    if (GCX_DEBUG >= 2) {
        validate_split(u);
    }
}

/* Validator (level 2): after the split, the region is U: each page's
 * members are numbered from its base, the pages in U's order, each found
 * by its number (pages left empty among them). */
static void
validate_split(const gcx_workvec_t *u)
{
    Py_ssize_t n = 0;
    for (Py_ssize_t k = 0; k < region.len; k++) {
        const rpage_t *rp = &region.pages[k];
        GCX_ASSERT_INTERNAL(rp->base == (uint32_t)n && region_probe(rp->key) == rp);
        Py_ssize_t i = n;
        FOR_EACH_MEMBER(rp, w, bits, i) {
            GCX_ASSERT_INTERNAL(u->items[i] == member_object(rp, w, bits));
        }
        n = i;
    }
    GCX_ASSERT_INTERNAL(n == u->len);
}

/* C2 outside a collection: no region, and no large block of memory kept.
 * 0, or -1. */
int
gcx_region_check(void)
{
    if (region.len != 0 || work.len != 0 || stack_len != 0
        || region.pages_block.bytes >= RETURN_BYTES || region.slots_block.bytes >= RETURN_BYTES
        || work.refs_block.bytes >= RETURN_BYTES || work.kinds_block.bytes >= RETURN_BYTES
        || (size_t)stack_cap * sizeof(PyObject *) >= RETURN_BYTES) {
        return -1;
    }
    for (size_t i = 0; i < FILTER_BITS / 64; i++) {
        if (region_filter[i]) {
            return -1;
        }
    }
    return 0;
}

/* ---- the end -------------------------------------------------------------------- */

static void
workvec_end(gcx_workvec_t *v)
{
    v->len = 0;
    if ((size_t)v->cap * sizeof(PyObject *) >= RETURN_BYTES) {
        block_free(v->items, (size_t)v->cap * sizeof(PyObject *));
        v->items = NULL;
        v->cap = 0;
    }
}

/* The collection is over, or gives up (C3): no region, and of its memory
 * (the work array, the region's pages and index, the marking stack, and
 * the vectors of g) what is large goes back (block_free). */
void
gcx_region_done(gcx_garbage_t *g)
{
    gcx_region_clear();
    work.len = 0;
    frame_held.len = 0;
    if ((size_t)frame_held.cap * sizeof(*frame_held.items) >= RETURN_BYTES) {
        block_free(frame_held.items, (size_t)frame_held.cap * sizeof(*frame_held.items));
        frame_held.items = NULL;
        frame_held.cap = 0;   /* deep recursion: C2 */
    }
    block_end(&work.refs_block);
    block_end(&work.kinds_block);
    work.refs = work.refs_block.p;
    work.kinds = work.kinds_block.p;
    block_end(&region.pages_block);
    block_end(&region.slots_block);
    region.pages = region.pages_block.p;
    region.slots = region.slots_block.p;
    stack_len = 0;
    if ((size_t)stack_cap * sizeof(PyObject *) >= RETURN_BYTES) {
        block_free(stack, (size_t)stack_cap * sizeof(PyObject *));
        stack = NULL;
        stack_cap = 0;
    }
    workvec_end(&g->unreachable);
    workvec_end(&g->legacy);
}
