/* table.c: the parallel table, gcx's own record of every container object.
 *
 * A record is one bit.  Address space is cut into 4 KiB pages; every page
 * holding at least one recorded container has a gcx_page_t, found through a
 * small open-addressing index keyed by page number.  Bit s of set g
 * (GCX_SET(page, g, s / 64)) says "a container starts at page address +
 * 16*s and is in set g" (gcx.h, GCX_GRAIN_SHIFT: a container's address is a
 * multiple of 16, or it gets no record), where g is one of the three
 * generations or the frozen set.  Walking a page's bits
 * visits its objects in address order, which is what makes whole-heap passes
 * touch memory sequentially.
 *
 * Invariants (gcx_table_check verifies them):
 *  T1  a slot's bit is set in at most one set of its page: every record is in
 *      exactly one generation (or frozen).
 *  T2  page->count[g] is the popcount of set g; gcx_table.total[g] is
 *      the sum over pages.
 *  T3  every page is in the index exactly once, and pages.items[page->index]
 *      is the page.
 *  T4  a page with count[GEN0] > 0 is on the young list, one with
 *      count[GEN1] > 0 on the middle list (lists may also hold pages whose
 *      count dropped since; collections drop them, and full ones, or any
 *      after a failed list insertion, rebuild the lists).
 *  T5  what a resync saw is a bit per slot in an array of its own, by page
 *      index (pages are neither freed nor moved during a resync), which
 *      exists only during the resync: the page records do not carry 32
 *      bytes of scratch each (192 -> 160 bytes a page).
 *  T6  every entry of the lookup cache agrees with the index: it names the
 *      page of its key, or NULL (a remembered miss) when there is none.
 *  T7  every page in the index has its bit set in the page filter, and so
 *      has the page before a page with a record in its first slot (the
 *      filter may have more bits set: aliases, and pages freed or emptied
 *      since its last rebuild, by a resync).  So one bit answers for
 *      both places a container of one freed block can start (tracer.c,
 *      hook_free): B + 16, and B + 32, which is on the next page only when
 *      it is that page's first slot.
 *
 * Empty pages are freed by resyncs (gcx_table_free_empty_pages: in safe
 * mode before every collection, elsewhere when records may be missing or
 * stale) and by an incremental cycle's sweep as it passes them
 * (gcx_table_free_if_empty), never during a collection; a freed page's
 * index goes to the last page.
 *
 * This file never dereferences a recorded address: it only does arithmetic on
 * addresses.  Whether a record may be dereferenced is tracer.c's business.
 * Everything here runs with the GIL held, inside the tracer too, so it uses
 * only raw C memory and never raises; allocation failure is reported through
 * alloc_failed and makes tracer.c resynchronise later.
 */
#include "gcx.h"
#include <string.h>
#include <sys/mman.h>

gcx_table_t gcx_table;
bool gcx_mem_python;

#define INITIAL_INDEX_CAPACITY 1024
#define FILTER_BYTES (((size_t)1 << GCX_FILTER_BITS) / 8)

int
gcx_pagevec_push(gcx_pagevec_t *v, gcx_page_t *p)
{
    if (v->len == v->cap) {
        Py_ssize_t cap = v->cap ? v->cap * 2 : 256;
        gcx_page_t **items = gcx_mem_realloc(v->items, (size_t)cap * sizeof(*items));
        if (items == NULL) {
            return -1;
        }
        v->items = items;
        v->cap = cap;
    }
    v->items[v->len++] = p;
    return 0;
}

int
gcx_table_init(void)
{
    const char *memory = getenv("GCX_MEMORY");
    gcx_mem_python = memory != NULL && strcmp(memory, "python") == 0;
    memset(&gcx_table, 0, sizeof(gcx_table));
    gcx_table.slots = gcx_mem_calloc(INITIAL_INDEX_CAPACITY, sizeof(gcx_slot_t));
    if (gcx_table.slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    gcx_table.mask = INITIAL_INDEX_CAPACITY - 1;
    /* mapped, not calloc'ed: a large calloc may come from the heap, zeroed
     * and resident, when glibc's mmap threshold has grown */
    void *f = mmap(NULL, FILTER_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (f == MAP_FAILED) {
        gcx_mem_free(gcx_table.slots);
        gcx_table.slots = NULL;
        PyErr_NoMemory();
        return -1;
    }
    gcx_table.filter = f;
    return 0;
}

/* ---- the page filter (T7) -------------------------------------------------- */

static inline void
filter_set(uintptr_t key)
{
    uintptr_t i = key & (((uintptr_t)1 << GCX_FILTER_BITS) - 1);
    gcx_table.filter[i >> 6] |= (uint64_t)1 << (i & 63);
}

static inline void
filter_clear(uintptr_t key)
{
    uintptr_t i = key & (((uintptr_t)1 << GCX_FILTER_BITS) - 1);
    gcx_table.filter[i >> 6] &= ~((uint64_t)1 << (i & 63));
}

/* T7 for page p: its bit, and its predecessor's if its first slot holds a
 * record. */
static void
filter_set_page(const gcx_page_t *p)
{
    filter_set(p->key);
    if (gcx_set_of_slot(p, 0) >= 0) {
        filter_set(p->key - 1);
    }
}

/* ---- the page index ------------------------------------------------------ */

static void
index_place(gcx_slot_t *slots, size_t mask, uintptr_t key, gcx_page_t *page)
{
    size_t i = gcx_hash_key(key, mask);
    while (slots[i].key != 0) {
        i = (i + 1) & mask;
    }
    slots[i].key = key;
    slots[i].page = page;
}

static int
index_grow(void)
{
    size_t cap = (gcx_table.mask + 1) * 2;
    gcx_slot_t *slots = gcx_mem_calloc(cap, sizeof(gcx_slot_t));
    if (slots == NULL) {
        return -1;
    }
    for (size_t i = 0; i <= gcx_table.mask; i++) {
        gcx_slot_t *s = &gcx_table.slots[i];
        if (s->key != 0) {
            index_place(slots, cap - 1, s->key, s->page);
        }
    }
    gcx_mem_free(gcx_table.slots);
    gcx_table.slots = slots;
    gcx_table.mask = cap - 1;
    return 0;
}

/* The page of key in the index itself, bypassing the cache. */
static gcx_page_t *
index_probe(uintptr_t key)
{
    size_t mask = gcx_table.mask;
    for (size_t i = gcx_hash_key(key, mask);; i = (i + 1) & mask) {
        if (gcx_table.slots[i].key == key || gcx_table.slots[i].key == 0) {
            return gcx_table.slots[i].page;
        }
    }
}

/* Remove key from the index by backward-shift deletion (no tombstones). */
static void
index_remove(uintptr_t key)
{
    size_t mask = gcx_table.mask;
    gcx_slot_t *slots = gcx_table.slots;
    size_t i = gcx_hash_key(key, mask);
    while (slots[i].key != key) {
        GCX_ASSERT(slots[i].key != 0);
        i = (i + 1) & mask;
    }
    size_t hole = i;
    for (size_t j = (hole + 1) & mask; slots[j].key != 0; j = (j + 1) & mask) {
        size_t home = gcx_hash_key(slots[j].key, mask);
        /* slot j may fill the hole unless its home lies cyclically in (hole, j] */
        bool stays = (hole <= j) ? (hole < home && home <= j)
                                 : (hole < home || home <= j);
        if (!stays) {
            slots[hole] = slots[j];
            hole = j;
        }
    }
    slots[hole].key = 0;
    slots[hole].page = NULL;
    gcx_table.used--;
}

gcx_page_t *
gcx_page_get(uintptr_t key)
{
    gcx_page_t *p = gcx_page_find(key);
    if (p != NULL) {
        return p;
    }
    if ((gcx_table.used + 1) * 2 > gcx_table.mask + 1 && index_grow() < 0) {
        gcx_table.alloc_failed = true;
        return NULL;
    }
    p = gcx_mem_calloc(1, sizeof(gcx_page_t));
    if (p == NULL || gcx_pagevec_push(&gcx_table.pages, p) < 0) {
        gcx_mem_free(p);
        gcx_table.alloc_failed = true;
        return NULL;
    }
    p->key = key;
    p->index = (uint32_t)(gcx_table.pages.len - 1);
    index_place(gcx_table.slots, gcx_table.mask, key, p);
    gcx_table.used++;
    filter_set(key);
    gcx_slot_t *c = &gcx_table.cache[key & (GCX_CACHE_SIZE - 1)];
    c->key = key;   /* it may remember the miss */
    c->page = p;
    return p;
}

/* ---- records ------------------------------------------------------------- */

static void note_list(gcx_page_t *p, int set);

/* Room for a record of op, made ahead (tracer.c's whole reads of births):
 * its page, and with young, the page on the young list, so that adding
 * op's record to generation 0 allocates nothing.  False if out of memory. */
bool
gcx_table_room_for(PyObject *op, bool young)
{
    gcx_page_t *p = gcx_page_get(gcx_addr_key((uintptr_t)op));
    if (p == NULL) {
        return false;
    }
    if (young && !p->on_list[GCX_LIST_YOUNG]) {
        note_list(p, GCX_GEN0);
        return p->on_list[GCX_LIST_YOUNG];
    }
    return true;
}

static void
note_list(gcx_page_t *p, int set)
{
    int list = gcx_list_of(set);
    if (list >= 0 && !p->on_list[list]) {
        if (gcx_pagevec_push(&gcx_table.lists[list], p) < 0) {
            /* T4 would break: a young collection could miss this page.
             * Full collections walk every page, so fall back to them. */
            gcx_table.alloc_failed = true;
            return;
        }
        p->on_list[list] = 1;
    }
}

void
gcx_table_move(gcx_page_t *p, unsigned slot, int from, int to)
{
    GCX_ASSERT(gcx_rec_has(p, from, slot));
    if (from == to) {
        return;
    }
    gcx_rec_clear(p, from, slot);
    gcx_rec_put(p, to, slot);
    note_list(p, to);
}

/* Move the records of `bits` (all in set `from`) of word w to set `to`. */
void
gcx_table_move_word(gcx_page_t *p, unsigned w, uint64_t bits, int from, int to)
{
    GCX_ASSERT((GCX_SET(p, from, w) & bits) == bits);
    uint32_t n = (uint32_t)__builtin_popcountll(bits);
    GCX_SET(p, from, w) &= ~bits;
    GCX_SET(p, to, w) |= bits;
    p->count[from] -= n;
    p->count[to] += n;
    gcx_table.total[from] -= n;
    gcx_table.total[to] += n;
    note_list(p, to);
}

void
gcx_table_add_slow(PyObject *op, int set)
{
    uintptr_t a = (uintptr_t)op;
    if (a & GCX_GRAIN_MASK) {
        gcx_table.unaligned++;   /* no record: see GCX_GRAIN_SHIFT */
        return;
    }
    gcx_page_t *p = gcx_page_get(gcx_addr_key(a));
    if (p == NULL) {
        return;
    }
    unsigned slot = gcx_addr_slot(a);
    int old = gcx_set_of_slot(p, slot);
    if (old >= 0) {
        /* A record for a previous occupant whose death was not reported. */
        gcx_table_move(p, slot, old, set);
        return;
    }
    if (slot == 0) {
        filter_set(p->key - 1);   /* T7 */
    }
    gcx_rec_put(p, set, slot);
    note_list(p, set);
}

void
gcx_table_promote(PyObject *op, int to)
{
    uintptr_t a = (uintptr_t)op;
    gcx_page_t *p = gcx_page_find(gcx_addr_key(a));
    if (p == NULL) {
        return;
    }
    unsigned slot = gcx_addr_slot(a);
    int s = gcx_set_of_slot(p, slot);
    if (s >= 0 && s != GCX_FROZEN) {
        gcx_table_move(p, slot, s, to);
    }
}

void
gcx_table_discard_slow(PyObject *op)
{
    uintptr_t a = (uintptr_t)op;
    gcx_page_t *p = gcx_page_find(gcx_addr_key(a));
    if (p != NULL) {
        gcx_rec_discard(p, gcx_addr_slot(a));
    }
}

int
gcx_table_set_of(PyObject *op)
{
    uintptr_t a = (uintptr_t)op;
    gcx_page_t *p = gcx_page_find(gcx_addr_key(a));
    return p == NULL ? -1 : gcx_set_of_slot(p, gcx_addr_slot(a));
}

void
gcx_table_move_all(int from, int to)
{
    for (Py_ssize_t i = 0; i < gcx_table.pages.len; i++) {
        gcx_page_t *p = gcx_table.pages.items[i];
        if (p->count[from] == 0) {
            continue;
        }
        for (unsigned w = 0; w < GCX_WORDS; w++) {
            GCX_SET(p, to, w) |= GCX_SET(p, from, w);
            GCX_SET(p, from, w) = 0;
        }
        p->count[to] += p->count[from];
        p->count[from] = 0;
        note_list(p, to);
    }
    gcx_table.total[to] += gcx_table.total[from];
    gcx_table.total[from] = 0;
}

void
gcx_table_each(unsigned set_mask, gcx_record_fn fn, void *arg)
{
    /* index afresh each time: fn may create pages (adoption) */
    for (Py_ssize_t i = 0; i < gcx_table.pages.len; i++) {
        gcx_page_t *p = gcx_table.pages.items[i];
        for (unsigned w = 0; w < GCX_WORDS; w++) {
            for (int s = 0; s < GCX_NSETS; s++) {
                if (!(set_mask & (1u << s))) {
                    continue;
                }
                for (uint64_t bits = GCX_SET(p, s, w); bits; bits &= bits - 1) {
                    fn(p, w * 64 + (unsigned)__builtin_ctzll(bits), s, arg);
                }
            }
        }
    }
}

/* ---- maintenance (never during a collection) ------------------------------- */

static void
forget_lists(void)
{
    for (int l = 0; l < GCX_NLISTS; l++) {
        gcx_pagevec_t *v = &gcx_table.lists[l];
        for (Py_ssize_t i = 0; i < v->len; i++) {
            v->items[i]->on_list[l] = 0;
        }
        v->len = 0;
    }
}

void
gcx_table_rebuild_lists(void)
{
    forget_lists();
    for (Py_ssize_t i = 0; i < gcx_table.pages.len; i++) {
        gcx_page_t *p = gcx_table.pages.items[i];
        if (p->count[GCX_GEN0]) {
            note_list(p, GCX_GEN0);
        }
        if (p->count[GCX_GEN1]) {
            note_list(p, GCX_GEN1);
        }
    }
}

static bool
page_empty(const gcx_page_t *p)
{
    uint32_t n = 0;
    for (int s = 0; s < GCX_NSETS; s++) {
        n += p->count[s];
    }
    return n == 0;
}

/* Free page i, on no list: the last page takes its index. */
static void
free_at(Py_ssize_t i)
{
    gcx_pagevec_t *pages = &gcx_table.pages;
    gcx_page_t *p = pages->items[i];
    index_remove(p->key);
    gcx_slot_t *c = &gcx_table.cache[p->key & (GCX_CACHE_SIZE - 1)];
    if (c->key == p->key) {
        c->key = 0;       /* T6: the cache names no freed page */
        c->page = NULL;
    }
    gcx_page_t *moved = pages->items[--pages->len];
    pages->items[i] = moved;
    moved->index = (uint32_t)i;
    gcx_mem_free(p);
}

void
gcx_table_free_empty_pages(void)
{
    gcx_pagevec_t *pages = &gcx_table.pages;
    forget_lists();   /* they may name pages freed below */
    bool freed = false;
    for (Py_ssize_t i = 0; i < pages->len;) {
        if (page_empty(pages->items[i])) {
            filter_clear(pages->items[i]->key);
            free_at(i);
            freed = true;
        }
        else {
            i++;
        }
    }
    if (freed) {
        /* T7: a cleared bit may be the alias of a page that stays */
        for (Py_ssize_t i = 0; i < pages->len; i++) {
            filter_set_page(pages->items[i]);
        }
    }
    gcx_table_rebuild_lists();
}

/* Free page i if it holds no record and is on no list (an incremental
 * cycle's sweep, which passes every page: incremental.c); the last page
 * then takes index i.  Never during a collection.  Its bit stays set in
 * the page filter (T7 asks no more than the pages there are; a stale bit
 * only sends a free down the slower path until a resync rebuilds the
 * filter). */
bool
gcx_table_free_if_empty(Py_ssize_t i)
{
    gcx_page_t *p = gcx_table.pages.items[i];
    if (!page_empty(p) || p->on_list[GCX_LIST_YOUNG] || p->on_list[GCX_LIST_MIDDLE]) {
        return false;
    }
    free_at(i);
    return true;
}

size_t
gcx_table_bytes(void)
{
    size_t b = (gcx_table.mask + 1) * sizeof(gcx_slot_t);
    b += (size_t)gcx_table.pages.cap * sizeof(gcx_page_t *);
    b += (size_t)gcx_table.pages.len * sizeof(gcx_page_t);
    for (int l = 0; l < GCX_NLISTS; l++) {
        b += (size_t)gcx_table.lists[l].cap * sizeof(gcx_page_t *);
    }
    return b;
}

static int
check_fail(const char *what, gcx_page_t *p)
{
    PyErr_Format(PyExc_AssertionError, "gcx table invariant broken: %s (page %p)",
                 what, p ? (void *)(p->key << GCX_PAGE_SHIFT) : NULL);
    return -1;
}

/* ---- resync (tracer.c) --------------------------------------------------------- */

/* A resync marks every object CPython lists as seen, then drops the records
 * of what it did not see.  What it saw: seen[page index] (T5). */
static uint64_t (*seen)[GCX_WORDS];
static Py_ssize_t seen_cap;

/* Room in seen for page index i, the new part zero; false if there is none. */
static bool
seen_room(Py_ssize_t i)
{
    if (i < seen_cap) {
        return true;
    }
    Py_ssize_t cap = seen_cap > 0 ? seen_cap : 64;
    while (cap <= i) {
        cap *= 2;
    }
    uint64_t (*grown)[GCX_WORDS] = gcx_mem_realloc(seen, (size_t)cap * sizeof(*seen));
    if (grown == NULL) {
        return false;
    }
    memset(grown + seen_cap, 0, (size_t)(cap - seen_cap) * sizeof(*seen));
    seen = grown;
    seen_cap = cap;
    return true;
}

void
gcx_table_resync_begin(void)
{
    gcx_table.alloc_failed = false;
    GCX_ASSERT(seen == NULL);
    /* the pages there are, and a quarter more for those the resync makes */
    if (!seen_room(gcx_table.pages.len + gcx_table.pages.len / 4)) {
        gcx_table.alloc_failed = true;   /* each page gets its room as met, or none */
    }
}

/* op is in CPython's lists: 1 if it has a record, 0 if not, -1 if its page
 * or the room to note it could not be made (alloc_failed is set). */
int
gcx_table_seen(PyObject *op)
{
    uintptr_t a = (uintptr_t)op;
    gcx_page_t *p = gcx_page_get(gcx_addr_key(a));
    if (p == NULL) {
        return -1;
    }
    if (!seen_room((Py_ssize_t)p->index)) {
        gcx_table.alloc_failed = true;
        return -1;
    }
    unsigned slot = gcx_addr_slot(a);
    gcx_bit_set(seen[p->index], slot);
    return gcx_set_of_slot(p, slot) >= 0;
}

/* With drop, records not seen go (all of a page's where there was no room
 * to note what was seen on it); the seen bits go. */
void
gcx_table_resync_end(bool drop)
{
    static const uint64_t none[GCX_WORDS];
    for (Py_ssize_t i = 0; drop && i < gcx_table.pages.len; i++) {
        gcx_page_t *p = gcx_table.pages.items[i];
        const uint64_t *saw = i < seen_cap ? seen[i] : none;
        for (int s = 0; s < GCX_NSETS; s++) {
            uint32_t n = 0;
            for (unsigned w = 0; w < GCX_WORDS; w++) {
                GCX_SET(p, s, w) &= saw[w];
                n += (uint32_t)__builtin_popcountll(GCX_SET(p, s, w));
            }
            gcx_table.total[s] -= p->count[s] - n;
            p->count[s] = n;
        }
    }
    gcx_mem_free(seen);
    seen = NULL;
    seen_cap = 0;
}

/* After a collection of generations 0..g: every record there was promoted
 * or freed, so pages may have emptied and left the lists' sets (T4). */
void
gcx_table_settle(int generation)
{
    if (generation == GCX_NGENS - 1) {
        gcx_table_free_empty_pages();   /* rebuilds the lists too */
    }
    else if (gcx_table.alloc_failed) {
        gcx_table_rebuild_lists();   /* a page may be missing from a list (T4) */
    }
    else {
        /* every record of generations 0..g was promoted or freed; what
         * finalizers made since is on the lists already (note_list) */
        for (int l = 0; l <= generation; l++) {
            gcx_pagevec_t *v = &gcx_table.lists[l];
            int set = l == GCX_LIST_YOUNG ? GCX_GEN0 : GCX_GEN1;
            Py_ssize_t keep = 0;
            for (Py_ssize_t i = 0; i < v->len; i++) {
                gcx_page_t *p = v->items[i];
                if (p->count[set]) {
                    v->items[keep++] = p;
                }
                else {
                    p->on_list[l] = 0;
                }
            }
            v->len = keep;
        }
    }
}

int
gcx_table_check(void)
{
    Py_ssize_t total[GCX_NSETS] = {0};
    if (seen != NULL) {
        return check_fail("T5 seen bits outside a resync", NULL);
    }
    for (Py_ssize_t i = 0; i < gcx_table.pages.len; i++) {
        gcx_page_t *p = gcx_table.pages.items[i];
        if (p->index != (uint32_t)i) {
            return check_fail("T3 page index", p);
        }
        if (gcx_page_find(p->key) != p) {
            return check_fail("T3 page missing from index", p);
        }
        if (!gcx_page_maybe(p->key)) {
            return check_fail("T7 page missing from the page filter", p);
        }
        if (gcx_set_of_slot(p, 0) >= 0 && !gcx_page_maybe(p->key - 1)) {
            return check_fail("T7 first slot's record, page before not in the filter", p);
        }
        for (unsigned w = 0; w < GCX_WORDS; w++) {
            for (int a = 0; a < GCX_NSETS; a++) {
                for (int b = a + 1; b < GCX_NSETS; b++) {
                    if (GCX_SET(p, a, w) & GCX_SET(p, b, w)) {
                        return check_fail("T1 record in two sets", p);
                    }
                }
            }
        }
        for (int s = 0; s < GCX_NSETS; s++) {
            uint32_t n = 0;
            for (unsigned w = 0; w < GCX_WORDS; w++) {
                n += (uint32_t)__builtin_popcountll(GCX_SET(p, s, w));
            }
            if (n != p->count[s]) {
                return check_fail("T2 page count", p);
            }
            total[s] += n;
        }
        if (p->count[GCX_GEN0] && !p->on_list[GCX_LIST_YOUNG]) {
            return check_fail("T4 young page not listed", p);
        }
        if (p->count[GCX_GEN1] && !p->on_list[GCX_LIST_MIDDLE]) {
            return check_fail("T4 middle page not listed", p);
        }
    }
    for (int s = 0; s < GCX_NSETS; s++) {
        if (total[s] != gcx_table.total[s]) {
            return check_fail("T2 set total", NULL);
        }
    }
    if (gcx_table.used != (size_t)gcx_table.pages.len) {
        return check_fail("T3 index size", NULL);
    }
    for (unsigned c = 0; c < GCX_CACHE_SIZE; c++) {
        gcx_slot_t e = gcx_table.cache[c];
        if (e.key != 0 && e.page != index_probe(e.key)) {
            return check_fail("T6 lookup cache disagrees with the index", e.page);
        }
    }
    return 0;
}
