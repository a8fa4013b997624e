/* schedule.c: when collections run, and which generation.
 *
 * Start at gcx_schedule_on_alloc (gcx.h: how an allocation asks for a
 * collection) and run_pending (how the request is served).  The collector
 * itself is reached only through the function registered at init
 * (gcx_schedule_init), so this file sits below everything that collects.
 *
 * The policy is CPython 3.13's: count[0] rises with every container
 * created and falls with every container freed; past threshold[0] a
 * collection is due.  Collecting generation g adds one to count[g+1] and
 * zeroes count[0..g]; young_count_since_full adds up generation 0's
 * count at each young collection since the last full one, past
 * threshold[0] rounded to whole thresholds (counted_young: a policy that
 * collects generation 0 or 1 early reads the stdlib's count of generation
 * 2 from it, in allocations).  The oldest generation whose
 * count exceeds its threshold is collected, the oldest only when
 * long_lived_pending exceeds 1/GCX_LONG_LIVED_RATIO of long_lived_total
 * (issue #4074).  In safe mode a young collection also waits for
 * 1/GCX_SAFE_SPACING of the containers that survived the last collection.
 *
 * Where automatic collections run: the tracer never collects (R4 of
 * tracer.c).  Crossing the threshold queues one pending call that
 * whichever thread holds the GIL runs at its next eval-breaker check: the
 * allocating thread, as in CPython, so a main thread blocked in join(),
 * sleep() or a C call does not hold collection up (Py_AddPendingCall would
 * wait for the main thread; see compat.h).  Finalizers and callbacks run on
 * that thread.
 *
 * gcx_sched is written here alone (and by the inline counting functions in
 * gcx.h's section for this file).
 *
 * Invariants:
 *  G1  at most one gcx collection at a time (collecting), and none while the
 *      stdlib collector runs (stdlib_collecting, set from gc.callbacks, or
 *      CPython's own flag set), except the one at the start of a
 *      collection CPython's own trigger started (G10), in the thread that
 *      serves it there.  While one runs CPython's own "collecting"
 *      flag is set too, where lists.c found it: CPython then starts no
 *      collection of its own (the stdlib's gc.collect() returns 0, as a
 *      nested one does), and profilers that read the interpreter's state
 *      from outside (3.15's profiling.sampling shows a <GC> frame) see a
 *      collection running.
 *  G2  scheduled is set from the moment a collection is requested until the
 *      pending call has served the request (so that what a policy allocates
 *      while it decides does not queue a second call).
 *  G3  The count of generation 0 that decides is *young: gcx's own
 *      count[0], or, while gcx is the process's collector and the stdlib's
 *      automatic collection is off, CPython's own (its generation 0
 *      count, which CPython keeps whether or not its collector runs: up at
 *      every container allocated, down at every container whose memory is
 *      freed, and neither for those reused from or parked on its free
 *      lists).  Then gcx collects when the stdlib would have, at the same
 *      thresholds, and get_count() says what the stdlib's would; gcx's
 *      collections zero it, as the stdlib's do.
 *  G4  A policy (gcx/policy.py) replaces the decision, not the bracket:
 *      while one is set, the pending call hands it the generations the
 *      stdlib's rule would take (with and without the oldest) and the
 *      policy collects through gcx.collect, the one entry point.  It may
 *      move the young trigger (the count at which an allocation asks for
 *      the pending call) away from threshold[0]; threshold[0] == 0 still
 *      turns automatic collection off, as in the stdlib.  A request that
 *      ends without a collection (the policy declined, a region held it)
 *      backs off: the next is asked one trigger's worth of allocations
 *      later (ask_at), not at the next allocation.  One that ran a
 *      collection, or found one running (another thread's, whose
 *      finalizers let the GIL go), does not: the first allocation past the
 *      trigger after it asks, as the stdlib schedules a collection at the
 *      first allocation past its threshold once none runs (with threads
 *      allocating during collections, backing off there let generation 0
 *      grow to several thresholds: a tenth of the stdlib's collections,
 *      each 2-3 times as long, benchmarks/bench_threads.py).
 *      A request is never served inside another's service (serving): the
 *      policy is Python code, whose calls into the core (gc.set_threshold
 *      when it moves the trigger, anything that allocates) may reach an
 *      eval-breaker check and run a request queued meanwhile, which would
 *      call the policy again inside its own call; that request backs off,
 *      and the policy's own decision stands.  (module.c does not call the
 *      policy from a thread within a few calls of its recursion limit,
 *      where Python code cannot run: it collects the young generation the
 *      stdlib's rule finds due instead.)
 *  G5  While a no-GC region holds automatic collection (held > 0) the
 *      pending call collects nothing itself; it counts the request
 *      (held_requests) and hands it to the policy if one is set, which
 *      collects nothing while held either (gcx/policy.py: it checks the
 *      region's byte budget).  The outermost region's end asks again.
 *  G6  In lists mode an allocation learns that a collection is due from
 *      the allocator wrapper, which compares *young with ask_at only when
 *      look_in, counted down at every object allocation, reaches zero
 *      (tracer.c, births_due).  *young rises by at most one per object
 *      allocation, so the wrapper sets look_in to no more than the
 *      allocations *young needs to reach ask_at, except while the read
 *      or the collection a look would ask for is queued already: then no
 *      allocation looks (parked) until that pending call has run, and it
 *      ends by setting look_in to 1; whatever else may bring
 *      that point nearer (a collection's new ask_at, thresholds, a
 *      trigger, enabling, a count put back, the count in use changed)
 *      sets look_in to 1 here: the next allocation looks.  A look that
 *      finds *young past the young trigger, no request made yet, notes it
 *      (crossed): the next request is made whatever *young is by then, as
 *      the stdlib's collection, scheduled at that allocation, runs and
 *      picks its generation at the next eval-breaker check.  A look that
 *      finds it at the trigger, not past, looks again at the next
 *      allocation rather than parking.
 *  G8  The stdlib asks for a collection when a container is allocated
 *      while the count exceeds threshold[0]; gc.enable() and
 *      gc.set_threshold() ask for nothing themselves.  gcx's requests come
 *      from any object allocation in lists mode (the wrapper, G6, and its
 *      births reads), so after enabling or setting thresholds a request
 *      waits until *young differs from what it was then (young_floor): a
 *      container was allocated since (or freed: then *young is below the
 *      threshold, or a container allocated later brings the request).  A
 *      container made and freed between two looks leaves *young where it
 *      was, so the floor also goes after FLOOR_REFUSALS_MAX requests it
 *      refused (each a pending call, at most one per eval-breaker check).
 *  G7  A policy that collects generation 0 before threshold 0, once the
 *      young list holds a number of pages, moves the young trigger down
 *      to look at it (gcx/_budget.py); most looks find the pages short of
 *      it, and calling the Python policy costs 10-25 us.  While a young
 *      limit is set, a pending call that finds no no-GC region open, the
 *      stdlib's rule asking for no full collection and *young at most
 *      threshold[0] hands the policy nothing until the young list holds
 *      young_limit.pages pages (counted by the function the module
 *      registered: this file reads no table) and *young has reached
 *      young_limit.from_count; the request backs off as in G4.
 *  G9  In lists mode births wait for the read before the collection
 *      (gcx_schedule_reads_wait) while *young is CPython's count,
 *      automatic collection is on and no policy or young limit is set:
 *      then nothing between collections needs gcx's count of births or
 *      the young records, and a container that dies before the
 *      collection is never recorded.  Otherwise they are read every few
 *      hundred allocations (tracer.c, births_look).  Whatever changes the
 *      answer makes the next allocation look (G6).
 *  G10 Where *young is CPython's count, automatic collection is on, no
 *      no-GC region is open and collections pay no resync
 *      (gcx_schedule_cpython_may_trigger), CPython's own trigger may
 *      replace the wrapper's looks (tracer.c, K1-K4), with or without a
 *      policy: CPython's collector is on at the count past which a
 *      request would be made (gcx_schedule_cpython_threshold: the young
 *      trigger, or ask_at where a request backed off), asks for its
 *      collection of generation 0 when the count passes it, exactly when
 *      gcx_schedule_request would, and the request is served at that
 *      collection's start (gcx_schedule_cpython_triggered), inside it,
 *      as the pending call serves it: CPython's flag (G1) is set already
 *      and stays its own.  The count, which CPython's collection zeroes,
 *      is carried over it, whether gcx collected or not.  Every change
 *      of the answer or of that count (a control, ask_at moved) tells the
 *      function registered with gcx_schedule_on_change.
 *  G11 A policy's own code is not traced: serve calls it with its
 *      thread's tracing suspended (PyThreadState_EnterTracing), so that
 *      sys.settrace, sys.setprofile and sys.monitoring see none of its
 *      frames, as they see nothing of the stdlib collector, which is C;
 *      a collection it runs resumes tracing from gcx_schedule_begin to
 *      gcx_schedule_end, so that the callbacks, finalizers and weakref
 *      callbacks run there are traced as the stdlib's collections have
 *      them traced.  (Its frames are still on the stack those see.)
 */
#include "gcx.h"

gcx_schedule_t gcx_sched;

static struct {
    gcx_collector_fn collect;    /* the collector (collection.c) */
    PyInterpreterState *interp;  /* where pending calls are queued */
    bool safe_mode;              /* collections pay an O(heap) resync */
    gcx_policy_fn policy;        /* G4: NULL for the stdlib's rule */
    gcx_flag_fn cpython_collecting;   /* G1: CPython's flag, or NULL */
    void (*changed)(void);       /* G10: told when what may_trigger says may change */
} env;

static void changed(void);

/* G6: an allocation found generation 0's count past the young trigger
 * (threshold 0, or a policy's), with no request made yet.  The
 * stdlib schedules its collection at such an allocation and picks the
 * generation when it runs: a C call that passes threshold 0 and
 * frees what it made before it returns still brings a collection, of
 * generation 1 if its count is past threshold 1 (serve: the rule at that
 * moment), or of none.  So a request is made, once, whatever the count is
 * by then; the flag goes with it. */
static bool crossed;

static struct {                  /* G7 */
    Py_ssize_t pages;            /* 0: none */
    int from_count;
    gcx_pages_fn young_pages;
} young_limit;

/* ---- the policy ------------------------------------------------------------ */

static Py_ssize_t
effective_threshold0(void)
{
    Py_ssize_t t = gcx_sched.trigger;
    if (env.safe_mode) {
        /* Every safe-mode collection starts with an O(live heap) resync;
         * spacing them by a fraction of the heap that survived the last one
         * keeps the cost per allocation constant. */
        Py_ssize_t scaled = gcx_sched.survivors / GCX_SAFE_SPACING;
        if (scaled > t) {
            t = scaled;
        }
    }
    return t;
}

/* The generation the stdlib's rule takes now, none older than `oldest`,
 * or -1. */
static int
select_generation(int oldest)
{
    for (int i = oldest; i >= 0; i--) {
        Py_ssize_t threshold = i == 0 ? effective_threshold0() : gcx_sched.threshold[i];
        int count = i == 0 ? *gcx_sched.young : gcx_sched.count[i];
        if (count > threshold) {
            if (i == GCX_NGENS - 1
                && gcx_sched.long_lived_pending
                   < gcx_sched.long_lived_total / GCX_LONG_LIVED_RATIO) {
                continue;
            }
            return i;
        }
    }
    return -1;
}

/* ---- the allocator wrapper's looks (G6) ----------------------------------------- */

/* look_in counts down from `armed`; `passed` keeps what it counted before
 * it was set again here, so that the wrapper learns every allocation. */
static struct {
    int armed;
    unsigned passed;
} look;

static void
look_bank(void)
{
    int counted = look.armed - gcx_sched.look_in;
    look.passed += counted > 0 ? (unsigned)counted : 0;
    look.armed = gcx_sched.look_in;
}

unsigned
gcx_schedule_allocs_counted(void)
{
    look_bank();
    unsigned n = look.passed;
    look.passed = 0;
    return n;
}

void
gcx_schedule_look_within(int most)
{
    look_bank();
    int next = most;
    if (gcx_sched.enabled) {
        /* *young rises by at most one per allocation */
        long gap = (long)gcx_sched.ask_at - *gcx_sched.young;
        if (gap < next) {
            next = (int)gap;
        }
    }
    look.armed = gcx_sched.look_in = next > 0 ? next : 1;
}

void
gcx_schedule_look_parked(void)
{
    look_bank();
    look.armed = gcx_sched.look_in = INT_MAX;
}

/* ---- automatic collection ------------------------------------------------------ */

/* The count at which an allocation asks for a collection again (and
 * CPython's trigger with it, G10). */
static void
rearm(void)
{
    gcx_sched.ask_at = gcx_sched.trigger;
    gcx_schedule_look_within(1);   /* the next allocation looks */
    changed();
}

/* G7: nothing for the policy to decide yet. */
static bool
below_young_limit(int due)
{
    if (young_limit.pages <= 0 || due == GCX_NGENS - 1 || gcx_sched.held > 0) {
        return false;
    }
    int count = *gcx_sched.young;
    return count <= gcx_sched.threshold[0]
           && (count < young_limit.from_count || young_limit.young_pages() < young_limit.pages);
}

/* G11: the thread whose tracing a policy's call suspended (NULL: none),
 * and whether a collection the call runs has resumed it. */
static PyThreadState *untraced;
static bool untraced_resumed;

/* A request served (G4, G5), where it is due and no collection runs: the
 * stdlib's rule's collection, or the policy's decision. */
static void
serve(void)
{
    int generation = select_generation(GCX_NGENS - 1);
    if (gcx_sched.held > 0) {
        gcx_sched.held_requests++;                        /* G5 */
    }
    if (env.policy != NULL) {
        if (!below_young_limit(generation)) {
            PyThreadState *ts = PyThreadState_Get();
            PyThreadState_EnterTracing(ts);               /* G11 */
            untraced = ts;
            env.policy(generation, select_generation(GCX_NGENS - 2));   /* G4 */
            untraced = NULL;
            PyThreadState_LeaveTracing(ts);
        }
    }
    else if (generation >= 0 && gcx_sched.held == 0) {
        (void)env.collect(generation);
    }
}

/* ... and after it, a request that found the count still at ask_at
 * backs off (G4). */
static void
back_off(void)
{
    if (*gcx_sched.young >= gcx_sched.ask_at) {
        /* (a negative threshold 0: the stdlib asks at every
         * allocation, and so does gcx) */
        long long at = (long long)*gcx_sched.young
                       + (gcx_sched.trigger > 0 ? gcx_sched.trigger
                          : gcx_sched.trigger < 0 ? 0 : 1);
        gcx_sched.ask_at = at > INT_MAX ? INT_MAX : (int)at;
        changed();
    }
}

static bool serving;   /* G4: a request is being served ... */
static unsigned long serving_thread;   /* ... by this thread */

static bool
may_serve(void)
{
    return gcx_sched.enabled && !gcx_sched.collecting && !gcx_sched.stdlib_collecting
           && !serving;
}

static void
serve_once(void)
{
    serving = true;
    serving_thread = PyThread_get_thread_ident();
    serve();
    serving = false;
}

/* Collections begun (gcx_schedule_begin), to tell whether a request's
 * service ran one. */
static unsigned long begun;

/* After a request's service: back off (G4) unless a collection began (its
 * count starts again from 0: what other threads, or its finalizers,
 * allocated since asks again as soon as it passes the trigger, as the
 * stdlib schedules its next collection at the first allocation past the
 * threshold) or one was running (the first allocation past the trigger
 * after it ends asks, as under the stdlib). */
static void
after_service(unsigned long begun_before, bool busy)
{
    if (begun == begun_before && !busy) {
        back_off();
    }
}

static int
run_pending(void *arg)
{
    if (gcx_sched.scheduled) {
        unsigned long before = begun;
        bool busy = gcx_sched.collecting || gcx_sched.stdlib_collecting;
        if (may_serve()) {
            serve_once();
        }
        after_service(before, busy);
        gcx_sched.scheduled = 0;      /* G2: served */
        gcx_schedule_look_within(1);  /* G6: looks may have been parked */
    }
    return 0;
}

#define FLOOR_REFUSALS_MAX 10000   /* G8 */

/* What any request needs: automatic collection on, none queued (G2), no
 * collection running (G1). */
static bool
may_request(void)
{
    return gcx_sched.enabled && gcx_sched.threshold[0] != 0 && !gcx_sched.scheduled
           && !gcx_sched.collecting && !gcx_sched.stdlib_collecting;
}

int
gcx_schedule_look_crossed(void)
{
    /* past it, as the stdlib's rule says (count > threshold); not once a
     * request is made (G2: its pending call decides, as the stdlib's
     * scheduled collection does), nor during a collection */
    Py_ssize_t t = effective_threshold0();
    int where = *gcx_sched.young > t ? 1 : *gcx_sched.young == t ? 0 : -1;
    if (where > 0 && may_request()) {
        crossed = true;
    }
    return where;
}

/* The slow path of gcx_schedule_on_alloc (gcx.h): past the threshold. */
void
gcx_schedule_request(void)
{
    if (!may_request()
        || (!crossed && (*gcx_sched.young < gcx_sched.ask_at
                         || *gcx_sched.young <= effective_threshold0()))) {
        return;
    }
    if (*gcx_sched.young == gcx_sched.young_floor
        && ++gcx_sched.floor_refusals <= FLOOR_REFUSALS_MAX) {
        return;                               /* G8: no container since */
    }
    gcx_sched.young_floor = INT_MIN;
    gcx_sched.scheduled = 1;
    crossed = false;
    if (gcx_add_pending_call(env.interp, run_pending, NULL, 0) != 0) {
        gcx_sched.scheduled = 0;   /* queue full: ask again next time */
    }
}

/* ---- a collection's bracket -------------------------------------------------- */

/* What a young collection at generation 0's count `young` adds to
 * young_count_since_full: the count itself below threshold[0], else the
 * nearest whole number of thresholds, so that the collections the
 * stdlib's rule runs count one threshold each however far past it the
 * count got before the pending call ran, and a collection after
 * automatic collection was off counts the thresholds it waited for. */
static Py_ssize_t
counted_young(int young)
{
    int t = gcx_sched.threshold[0];
    if (young <= 0 || t <= 0) {
        return young > 0 ? young : 0;
    }
    return young < t ? young : (Py_ssize_t)t * ((young + t / 2) / t);
}

/* The thread serving a request inside CPython's collection, which its own
 * trigger started (G10), or 0: CPython's flag is set already, and stays
 * set for it.  Only for that thread: the policy it calls is Python code,
 * which can let the GIL go, and another thread's collection must then be
 * refused by the flag, as the stdlib refuses a gc.collect() while another
 * thread's collection runs its callbacks. */
static unsigned long cpythons_thread;

static bool
in_cpythons(void)
{
    return cpythons_thread != 0 && cpythons_thread == PyThread_get_thread_ident();
}

bool
gcx_schedule_begin(void)
{
    bool inside = in_cpythons();
    if (gcx_sched.collecting || gcx_sched.stdlib_collecting
        || (env.cpython_collecting != NULL && !inside && env.cpython_collecting(-1))) {
        return false;
    }
    gcx_sched.collecting = true;
    begun++;
    if (env.cpython_collecting != NULL && !inside) {
        (void)env.cpython_collecting(1);
    }
    if (untraced != NULL && untraced == PyThreadState_Get()) {
        PyThreadState_LeaveTracing(untraced);             /* G11 */
        untraced_resumed = true;
    }
    return true;
}

void
gcx_schedule_counts_for(int generation)
{
    if (generation + 1 < GCX_NGENS) {
        gcx_sched.count[generation + 1]++;
        gcx_sched.young_count_since_full += counted_young(*gcx_sched.young);
    }
    else {
        gcx_sched.young_count_since_full = 0;
    }
    for (int i = 0; i <= generation; i++) {
        gcx_sched.count[i] = 0;
    }
    *gcx_sched.young = 0;
    rearm();
}

void
gcx_schedule_count_young(int *cpython_count)
{
    gcx_sched.young = cpython_count != NULL ? cpython_count : &gcx_sched.count[0];
    rearm();
}

/* install(): the stdlib's schedule carries over (G3).  Its counts of
 * generations 1 and 2 become gcx's, so that gcx's middle and full
 * collections come when the stdlib's would have, and generation 0's is
 * set where it is CPython's (gcx/_install.py says what the three are). */
void
gcx_schedule_adopt_counts(int c0, int c1, int c2)
{
    if (gcx_sched.young != &gcx_sched.count[0]) {   /* CPython's */
        *gcx_sched.young = c0;
    }
    gcx_sched.count[1] = c1;
    gcx_sched.count[2] = c2;
    rearm();
}

void
gcx_schedule_counts(int out[GCX_NGENS])
{
    for (int i = 0; i < GCX_NGENS; i++) {
        out[i] = gcx_sched.count[i];
    }
    out[0] = *gcx_sched.young;
}

/* Generation 0's count (G3), and putting it back: a sweep step
 * (collection.c, gcx_collect_within) frees old objects only, and CPython's
 * count drops at every container freed, so a step that freed more than the
 * program allocated since the last one would hold young collections off
 * for as long as steps run; the step puts back the count it found. */
int
gcx_schedule_young(void)
{
    return *gcx_sched.young;
}

void
gcx_schedule_set_young(int count)
{
    *gcx_sched.young = count;
    gcx_schedule_look_within(1);   /* the next allocation looks */
}

/* An incremental cycle's end, after a whole sweep: generation 2 was
 * collected (in slices), the young generations were not. */
void
gcx_schedule_counts_for_cycle(void)
{
    gcx_sched.count[GCX_NGENS - 1] = 0;
    gcx_sched.young_count_since_full = 0;
}

/* The long-lived rule's figures after an incremental cycle (incremental.c):
 * what it found alive, and what entered generation 2 unexamined meanwhile. */
void
gcx_schedule_long_lived(Py_ssize_t total, Py_ssize_t pending)
{
    gcx_sched.long_lived_total = total;
    gcx_sched.long_lived_pending = pending;
}

void
gcx_schedule_survived(int generation, Py_ssize_t tracked)
{
    if (generation == GCX_NGENS - 2) {
        gcx_sched.long_lived_pending += tracked;
    }
    else if (generation == GCX_NGENS - 1) {
        gcx_sched.long_lived_pending = 0;
        gcx_sched.long_lived_total = tracked;
    }
}

void
gcx_schedule_end(Py_ssize_t survivors)
{
    gcx_sched.survivors = survivors;
    gcx_sched.collecting = false;
    if (untraced_resumed) {
        untraced_resumed = false;
        PyThreadState_EnterTracing(untraced);             /* G11 */
    }
    if (env.cpython_collecting != NULL && !in_cpythons()) {
        (void)env.cpython_collecting(0);
    }
}

/* ---- the controls ----------------------------------------------------------------- */

/* G10: what may_trigger says may have changed. */
static void
changed(void)
{
    if (env.changed != NULL) {
        env.changed();
    }
}

/* G8: a request waits for *young to move from where it is now. */
static void
set_floor(void)
{
    gcx_sched.young_floor = *gcx_sched.young;
    gcx_sched.floor_refusals = 0;
}

void
gcx_schedule_enable(bool on)
{
    gcx_sched.enabled = on;
    set_floor();
    gcx_schedule_look_within(1);   /* the next allocation looks */
    changed();
}

void
gcx_schedule_set_thresholds(const int t[GCX_NGENS])
{
    for (int i = 0; i < GCX_NGENS; i++) {
        gcx_sched.threshold[i] = t[i];
    }
    set_floor();
    if (!gcx_sched.trigger_set) {
        gcx_sched.trigger = t[0];
    }
    rearm();
}

/* ---- policies (G4, G5) ----------------------------------------------------------- */

void
gcx_schedule_set_policy(gcx_policy_fn policy)
{
    env.policy = policy;
    gcx_schedule_look_within(1);   /* G9: whether reads go between may change */
    changed();
}

/* gcx counts generation 0 as CPython does (G3) and collects automatically:
 * what both G9 and G10 start from. */
static bool
automatic_on_cpythons_count(void)
{
    return gcx_sched.young != &gcx_sched.count[0] && gcx_sched.enabled
           && gcx_sched.threshold[0] > 0;
}

/* G9: do births wait for the read before a collection? */
bool
gcx_schedule_reads_wait(void)
{
    return automatic_on_cpythons_count() && env.policy == NULL && young_limit.pages <= 0;
}

/* G10: may CPython's own trigger serve?  There, while no no-GC region
 * holds collection and collections pay no resync. */
bool
gcx_schedule_cpython_may_trigger(void)
{
    return automatic_on_cpythons_count() && gcx_sched.held == 0 && !env.safe_mode;
}

/* ... the count of generation 0 past which it asks: where a request
 * would be made (gcx_schedule_request), past the trigger and at ask_at */
int
gcx_schedule_cpython_threshold(void)
{
    Py_ssize_t t = effective_threshold0();
    if ((Py_ssize_t)gcx_sched.ask_at - 1 > t) {
        t = (Py_ssize_t)gcx_sched.ask_at - 1;
    }
    return t > INT_MAX ? INT_MAX : t < 1 ? 1 : (int)t;
}

/* What CPython's collection will zero as it goes on: generation 0's count
 * after gcx's request was served inside it. */
static int carried;

/* ... it asked, and CPython's collection of generation 0 is starting:
 * serve the request inside it, as the pending call would (the stdlib's
 * rule's collection, or the policy's decision), the count carried over
 * CPython's zeroing whether or not gcx collected; a request that
 * collected nothing backs off, and CPython's threshold with it. */
void
gcx_schedule_cpython_triggered(void)
{
    crossed = false;
    unsigned long before = begun;
    if (may_serve()) {
        cpythons_thread = PyThread_get_thread_ident();
        serve_once();
        cpythons_thread = 0;
    }
    after_service(before, false);
    carried = *gcx_sched.young > 0 ? *gcx_sched.young : 0;
}

/* ... and has stopped, having zeroed the count: what it held after gcx's
 * collection counts, as the stdlib's own count keeps what its finalizers
 * allocate. */
void
gcx_schedule_cpython_stopped(void)
{
    if (carried > 0) {
        *gcx_sched.young += carried;
        carried = 0;
        gcx_schedule_look_within(1);
    }
}

/* The young trigger: n > 0 replaces threshold[0] as the count at which a
 * collection is asked for; 0 gives it back to threshold[0]. */
void
gcx_schedule_set_trigger(int n)
{
    gcx_sched.trigger_set = n > 0;
    gcx_sched.trigger = n > 0 ? n : gcx_sched.threshold[0];
    rearm();
    gcx_schedule_request();
}

/* G7: pages 0 turns the young limit off. */
void
gcx_schedule_set_young_limit(Py_ssize_t pages, int from_count, gcx_pages_fn young_pages)
{
    young_limit.pages = pages > 0 ? pages : 0;
    young_limit.from_count = from_count;
    young_limit.young_pages = young_pages;
    gcx_schedule_look_within(1);   /* G9 */
    changed();
}

/* The generation the stdlib's rule takes now (-1 none), none older than
 * `oldest`. */
int
gcx_schedule_due(int oldest)
{
    return select_generation(oldest);
}

/* Enter (+1) or leave (-1) a no-GC region; at the end of the outermost
 * one, a request that came meanwhile is asked again.  Returns the depth. */
int
gcx_schedule_hold(int delta)
{
    gcx_sched.held += delta;
    if (gcx_sched.held < 0) {
        gcx_sched.held = 0;
    }
    if (gcx_sched.held == 0 && delta < 0) {
        rearm();   /* (which tells, G10) */
        gcx_schedule_request();
    }
    else {
        changed();
    }
    return gcx_sched.held;
}

/* The thread the stdlib's collection runs in (its "start" callback's). */
static unsigned long stdlib_thread;

void
gcx_schedule_set_stdlib_collecting(bool on)
{
    gcx_sched.stdlib_collecting = on;
    stdlib_thread = on ? PyThread_get_thread_ident() : 0;
}

/* Generations 0 and 1 were moved into 2 (heap.c, gcx_heap_age): their
 * counts go, and what moved counts as survivors of young collections
 * that entered generation 2 since the last full one. */
void
gcx_schedule_aged(Py_ssize_t moved)
{
    gcx_sched.long_lived_pending += moved;
    gcx_sched.count[0] = gcx_sched.count[1] = 0;
    *gcx_sched.young = 0;
    rearm();
}

/* freeze() empties the generations, and their counts with them. */
void
gcx_schedule_reset_counts(void)
{
    for (int i = 0; i < GCX_NGENS; i++) {
        gcx_sched.count[i] = 0;
    }
    gcx_sched.young_count_since_full = 0;
    *gcx_sched.young = 0;
    rearm();
}

/* In the child of a fork(): a collection the parent had queued may never
 * run there (CPython signals a pending call through the eval-breaker bits
 * of the parent's threads, and only the forking thread survives), and
 * while it counts as queued no other is asked for.  Forget it and ask
 * again if one is due; should the old call run after all, it finds nothing
 * scheduled and does nothing. */
void
gcx_schedule_after_fork(void)
{
    gcx_sched.scheduled = 0;
    if (serving && serving_thread != PyThread_get_thread_ident()) {
        serving = false;   /* the policy's call ran in a thread that is gone */
    }
    if (cpythons_thread != PyThread_get_thread_ident()) {
        cpythons_thread = 0;   /* ... and so did CPython's collection */
    }
    bool cpythons = env.cpython_collecting != NULL && env.cpython_collecting(-1);
    if (!gcx_sched.collecting
        && (gcx_sched.stdlib_collecting ? stdlib_thread != PyThread_get_thread_ident()
            : cpythons)) {
        /* forked while another thread was in a stdlib collection (with
         * CPython's own trigger serving, one that finds its lists empty,
         * whose callbacks are Python code that can let the GIL go, before
         * gcx's hook set the bracket or after): that thread is gone, and
         * with it the end of the collection, which would clear CPython's
         * flag and gcx's bracket.  Until cleared, CPython would start none
         * in the child and gcx neither (G1). */
        gcx_sched.stdlib_collecting = false;
        stdlib_thread = 0;
        if (env.cpython_collecting != NULL) {
            (void)env.cpython_collecting(0);
        }
    }
    rearm();
    gcx_schedule_request();
}

/* ---- set-up ------------------------------------------------------------------ */

/* G10: fn is told whenever what gcx_schedule_cpython_may_trigger says may
 * have changed (NULL: no one). */
void
gcx_schedule_on_change(void (*fn)(void))
{
    env.changed = fn;
}

int
gcx_schedule_init(gcx_collector_fn collect, PyInterpreterState *interp, bool safe_mode,
                  gcx_flag_fn cpython_collecting)
{
    env.collect = collect;
    env.interp = interp;
    env.cpython_collecting = cpython_collecting;
    gcx_sched.young_floor = INT_MIN;
    env.safe_mode = safe_mode;
    gcx_sched.threshold[0] = GCX_THRESHOLD0;
    gcx_sched.threshold[1] = GCX_THRESHOLD1;
    gcx_sched.threshold[2] = GCX_THRESHOLD2;
    gcx_sched.trigger = GCX_THRESHOLD0;
    gcx_sched.ask_at = GCX_THRESHOLD0;
    gcx_sched.enabled = false;
    gcx_sched.young = &gcx_sched.count[0];
    gcx_schedule_look_within(1);   /* the next allocation looks */
    return 0;
}
