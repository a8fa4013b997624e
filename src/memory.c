/* memory.c: the bytes the Python allocators hold, counted where they
 * allocate, for the memory-aware policies (gcx/policy.py).  Never read
 * from RSS: a process's resident size lags what its allocators hold (freed
 * pages are returned late or not at all), and a trigger on it collects as
 * if the threshold were many times larger (CPython gh-148937).
 *
 gcx_memory_init (at import) wraps pymalloc's arena allocator
 * (PyObject_SetArenaAllocator): every block of 512 bytes or less lives in
 * an arena, and the arena's free is told its size, so this count is exact
 * for what was allocated since and costs nothing per object.  The first
 * policy that reads the count (gcx_memory_start) wraps, once:
 *   - the raw domain (PyMem_SetAllocator): pymalloc's fallback for larger
 *     blocks and every PyMem_RawMalloc caller; a block's size is read with
 *     malloc_usable_size;
 *   - the object and memory domains too, when they are the C library's
 *     malloc itself (PYTHONMALLOC=malloc, sanitizer runs), the same way.
 * Native memory that Python objects own (tensors, mapped buffers) reaches
 * no Python allocator; the program declares it (add_memory_pressure).
 * Nor does gcx's own (gcx_mem_malloc, gcx.h: the C library's), but for
 * what of it malloc held when counting began (M4).
 *
 * Invariants:
 *  M1  Counting starts once and never stops: a wrapper is never removed,
 *      since tracemalloc or another hook may have wrapped it since, and
 *      removing it would cut them out of the chain.
 *  M2  malloc_usable_size is asked only of blocks from a domain that, when
 *      wrapped, was the C library's malloc itself (no context, the same
 *      functions as the raw domain's); any other domain (debug hooks,
 *      tracemalloc, another wrapper) is left alone and not counted.
 *  M3  The counts are atomic: the raw domain is called without the GIL.
 *  M4  The arena count is the difference since import (the few arenas of
 *      start-up are not in it; should one be freed, the count would drop
 *      below the truth, and gcx_memory_read never reports less than 0).
 *      The block count starts from what the C library's malloc says it
 *      holds (mallinfo2) when counting begins, so a block allocated before
 *      and freed after is subtracted from a count that included it.
 */
#include "gcx.h"

#if defined(__GLIBC__)
#include <malloc.h>
#define USABLE_SIZE(p) malloc_usable_size(p)
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33)
#define MALLOC_HELD() ({ struct mallinfo2 mi_ = mallinfo2(); \
                         (int64_t)(mi_.uordblks + mi_.hblkhd); })
#endif
#endif

static bool started;
static int64_t arena_bytes, block_bytes, pressure_bytes;    /* M3 */
static PyObjectArenaAllocator arena_next;
/* the wrapped domains' allocators, each the context of its wrapper */
static PyMemAllocatorEx raw_next, mem_next, obj_next;
static unsigned counted_domains;   /* bit d: domain d is counted */

static inline void
add(int64_t *count, int64_t n)
{
    __atomic_fetch_add(count, n, __ATOMIC_RELAXED);
}

static inline int64_t
load(const int64_t *count)
{
    return __atomic_load_n(count, __ATOMIC_RELAXED);
}

/* ---- pymalloc's arenas --------------------------------------------------------- */

static void *
arena_alloc(void *ctx, size_t size)
{
    void *p = arena_next.alloc(arena_next.ctx, size);
    if (p != NULL) {
        add(&arena_bytes, (int64_t)size);
    }
    return p;
}

static void
arena_free(void *ctx, void *p, size_t size)
{
    arena_next.free(arena_next.ctx, p, size);
    add(&arena_bytes, -(int64_t)size);
}

/* ---- blocks of the C library's malloc (M2) ---------------------------------------- */

#ifdef USABLE_SIZE
static void *
block_malloc(void *ctx, size_t n)
{
    const PyMemAllocatorEx *next = ctx;
    void *p = next->malloc(next->ctx, n);
    if (p != NULL) {
        add(&block_bytes, (int64_t)USABLE_SIZE(p));
    }
    return p;
}

static void *
block_calloc(void *ctx, size_t nelem, size_t elsize)
{
    const PyMemAllocatorEx *next = ctx;
    void *p = next->calloc(next->ctx, nelem, elsize);
    if (p != NULL) {
        add(&block_bytes, (int64_t)USABLE_SIZE(p));
    }
    return p;
}

static void *
block_realloc(void *ctx, void *p, size_t n)
{
    const PyMemAllocatorEx *next = ctx;
    int64_t before = p != NULL ? (int64_t)USABLE_SIZE(p) : 0;
    void *q = next->realloc(next->ctx, p, n);
    if (q != NULL) {
        add(&block_bytes, (int64_t)USABLE_SIZE(q) - before);
    }
    return q;
}

static void
block_free(void *ctx, void *p)
{
    const PyMemAllocatorEx *next = ctx;
    if (p != NULL) {
        add(&block_bytes, -(int64_t)USABLE_SIZE(p));
    }
    next->free(next->ctx, p);
}

static bool
same_allocator(const PyMemAllocatorEx *a, const PyMemAllocatorEx *b)
{
    return a->ctx == b->ctx && a->malloc == b->malloc && a->calloc == b->calloc
           && a->realloc == b->realloc && a->free == b->free;
}

/* Wrap `domain` if it is the C library's malloc itself (M2): the raw
 * domain untouched by hooks has no context; another domain is that when it
 * has the raw domain's very functions. */
static void
wrap_if_plain(PyMemAllocatorDomain domain, PyMemAllocatorEx *next,
              const PyMemAllocatorEx *raw)
{
    PyMemAllocatorEx cur;
    PyMem_GetAllocator(domain, &cur);
    if (raw->ctx != NULL || !same_allocator(&cur, raw)) {
        return;
    }
    *next = cur;
    PyMemAllocatorEx mine = {next, block_malloc, block_calloc, block_realloc, block_free};
    PyMem_SetAllocator(domain, &mine);
    counted_domains |= 1u << domain;
}
#endif

/* ---- the interface ----------------------------------------------------------------- */

void
gcx_memory_init(void)
{
    PyObject_GetArenaAllocator(&arena_next);
    PyObjectArenaAllocator mine = {NULL, arena_alloc, arena_free};
    PyObject_SetArenaAllocator(&mine);
}

void
gcx_memory_start(void)
{
    if (started) {
        return;   /* M1 */
    }
    started = true;
#ifdef USABLE_SIZE
    PyMemAllocatorEx raw;
    PyMem_GetAllocator(PYMEM_DOMAIN_RAW, &raw);
    /* the object and memory domains first: they are compared with the raw
     * domain as it was before its own wrapper */
    wrap_if_plain(PYMEM_DOMAIN_OBJ, &obj_next, &raw);
    wrap_if_plain(PYMEM_DOMAIN_MEM, &mem_next, &raw);
    wrap_if_plain(PYMEM_DOMAIN_RAW, &raw_next, &raw);
#ifdef MALLOC_HELD
    if (counted_domains) {
        add(&block_bytes, MALLOC_HELD());   /* M4 */
    }
#endif
#endif
}

void
gcx_memory_pressure(int64_t delta)
{
    add(&pressure_bytes, delta);
}

static int64_t
at_least_zero(int64_t n)
{
    return n < 0 ? 0 : n;    /* M4 */
}

gcx_memory_t
gcx_memory_read(void)
{
    gcx_memory_t m = {
        .started = started,
        .arenas = at_least_zero(load(&arena_bytes)),
        .blocks = at_least_zero(load(&block_bytes)),
        .pressure = at_least_zero(load(&pressure_bytes)),
        .raw_counted = (counted_domains >> PYMEM_DOMAIN_RAW) & 1,
        .objects_counted = (counted_domains >> PYMEM_DOMAIN_OBJ) & 1,
    };
    m.held = m.arenas + m.blocks + m.pressure;
    return m;
}
