/* debug.h: assertion levels, chosen by the build (setup.py's GCX_BUILD).
 *
 *   GCX_DEBUG   build     what is checked
 *   0           release   nothing
 *   1           -         GCX_ASSERT: cheap facts, O(1) where they stand
 *   2           -         GCX_ASSERT_INTERNAL: facts about every object of
 *                         a phase, in its loops, and the validators between
 *                         a collection's phases (region.c), O(region)
 *   3           debug,    GCX_ASSERT_EXPENSIVE: the whole invariant checker
 *               asan      (check.c) after collections, O(table), amortised
 *                         over their work on a large table
 *
 * A failed assertion prints what failed and where, and aborts: a broken
 * collector invariant is a use-after-free waiting to happen, never an
 * exception to catch.  gcx._gcx.check() runs the checker at any level and
 * raises AssertionError instead.
 */
#ifndef GCX_DEBUG_H
#define GCX_DEBUG_H

#ifndef GCX_DEBUG
#  define GCX_DEBUG 0
#endif

void gcx_assert_failed(const char *what, const char *file, int line);   /* check.c */

#define GCX_ASSERT_AT(level, cond)                                            \
    do {                                                                      \
        if (GCX_DEBUG >= (level) && !(cond)) {                                \
            gcx_assert_failed(#cond, __FILE__, __LINE__);                     \
        }                                                                     \
    } while (0)

#define GCX_ASSERT(cond) GCX_ASSERT_AT(1, cond)
#define GCX_ASSERT_INTERNAL(cond) GCX_ASSERT_AT(2, cond)
#define GCX_ASSERT_EXPENSIVE(cond) GCX_ASSERT_AT(3, cond)

#endif
