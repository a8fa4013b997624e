#!/usr/bin/env python3
"""Real extensions in CI (issue 17): the test suites of real extension packages
whose types implement their own GC slots, run under the stdlib collector and
with gcx installed as the process's collector, compared test by test.

By hand, from the repository root (any python3 runs the script; PYTHON is the
CPython 3.13 to test on, by default the one .ci/python313.sh finds):

    python3 .ci/extensions.py [PYTHON] [--src DIR|WHEEL] [--only NAME,...]
                              [--extra] [--keep]

By default it runs greenlet, gevent, msgspec and multidict (what CI runs).
The packages marked "extra" below (wrapt, immutables, pyrsistent,
zope.interface, frozenlist, propcache, yarl, lxml, cffi, aiohttp) are not
run by default, for CI's time: ``--extra`` adds them all, ``--only
NAME,...`` runs the named ones, extra or not.

What it does:

1. makes a virtual environment in a temporary directory with PYTHON, and
   installs into it gcx from the checkout or a wheel (--src, default: this
   script's repository), pytest and the pinned packages below; pip's cache lives in
   $GCX_CACHE/pip (~/.cache/gcx/pip), and the sdists whose tests are used
   are kept in $GCX_CACHE/extensions, so a second run downloads nothing;
2. runs each package's tests (one pytest process per group; gevent's files
   each in their own, as gevent runs them) twice, side by side (--jobs 2):
   "stock" as ``python -m pytest`` and "gcx" as
   ``python -m gcx run -m pytest`` (``--policy SPEC``: ``gcx run --policy
   SPEC``, gcx installed with that policy), from an empty directory (never the
   repository root, whose gcx/ lacks the compiled core).  The plugin
   tests/extensions/gcx_ext_plugin.py, loaded in both with ``-p``, checks at
   session start that gcx is (or is not) the process's collector and records
   every test's outcome: passed, failed, skipped, xfailed, xpassed, error;
   unraisable exceptions (a finalizer or weakref callback that raised) are
   errors in both runs (``-W error::pytest.PytestUnraisableExceptionWarning``)
   so that a finalizer run at the wrong moment shows;
3. when a group's gcx run differs from its stock run, runs it on stock again
   (--stock-runs, 2 in all by default): a test counts as differing only when
   its gcx outcome is none of its stock outcomes;
4. prints one line per package ("greenlet 3.5.6: 172 tests, 0 differ") and
   each differing test, and exits 1 when a test differs, when the gcx run
   crashes (a signal, a timeout, a process that ended before pytest's
   session did, an exit status that failing tests do not explain) or when
   the stock run cannot run at all.

tests/extensions/flaky.txt lists the tests proven flaky on stock: they are
reported when they differ but do not fail the step.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(REPO, "tests", "extensions")
PYTEST = "pytest==9.2.0"

# Each package: what to install, where its tests come from, how to run them.
#   tests: "wheel" (shipped inside the installed package: the rootdir is the
#          package's directory in site-packages) or "sdist" (the tests/
#          folder of the package's sdist, copied into the work directory:
#          the rootdir is that copy's parent, which holds no source)
#   groups: one pytest process each: a list of paths relative to the rootdir,
#           or {"paths": [...], "args": [...], "env": {...}} for a group with
#           its own arguments and environment
#   args: more pytest arguments, every group's (--ignore=... relative to the
#         rootdir)
#   ini: the [pytest] section used instead of the package's own (markers the
#        conftest needs, ...)
#   deselect: a regular expression on node ids, deselected
#   sdist_dirs: the sdist's folders copied (default ["tests"]), paths kept
#   extra: not run by default (CI's time): --extra or --only NAME runs it
PACKAGES = [
    {
        # greenlet: its type has tp_is_gc (a suspended greenlet, whose C stack
        # holds references no tp_traverse reports, says it is not
        # collectable), tp_traverse and tp_clear, and a tp_dealloc that
        # resurrects a live greenlet to throw GreenletExit into it.
        "name": "greenlet",
        "requirements": ["greenlet[test]==3.5.6"],
        "tests": "wheel",
        # greenlet's leak checks (each test run again until the object
        # counts settle, a collection each time) triple the suite's time:
        # on in the files about collection, off in the rest.
        # test_gc.py alone: its test_finalizer_crash (a suspended greenlet in
        # a dropped cycle) is what a collector ignoring tp_is_gc breaks.
        "groups": [
            ["tests/test_gc.py"],
            ["tests/test_leaks.py", "tests/test_weakref.py",
             "tests/test_greenlet_trash.py"],
            {"paths": ["tests"],
             "args": ["--ignore=tests/test_gc.py",
                      "--ignore=tests/test_leaks.py",
                      "--ignore=tests/test_weakref.py",
                      "--ignore=tests/test_greenlet_trash.py"],
             "env": {"GREENLET_SKIP_LEAKCHECKS": "1"}},
        ],
    },
    {
        # gevent: Cython extension types (Greenlet, the hub, libev loop and
        # watchers, queues, locals) with Cython's generated tp_traverse and
        # tp_clear, all on greenlet.  Its suite is meant to run one file per
        # process; these files run offline in a few seconds each.
        "name": "gevent",
        "requirements": ["gevent==26.9.0"],
        "tests": "wheel",
        "groups": [["tests/test__%s.py" % name] for name in (
            "greenlet", "event", "queue", "local", "timeout", "semaphore",
            "api", "greenletset", "iwait", "joinall", "exc_info",
            "hub_join", "order", "util", "api_timeout", "lock", "hub",
            "issue330", "issue607")],
    },
    {
        # msgspec: Struct types with tp_traverse and tp_clear, a dealloc that
        # calls tp_finalize (__del__ on Struct subclasses), gc=False structs
        # that untrack themselves, GC'd decoder/encoder and type-info caches.
        "name": "msgspec",
        "requirements": ["msgspec==0.23.0"],
        "tests": "sdist",
        "groups": [["tests/unit"]],
        "args": ["--ignore=tests/unit/test_cpylint.py"],   # reads the C source
    },
    {
        # multidict: C MultiDict/CIMultiDict, their proxies, views and
        # iterators, each with tp_traverse and tp_clear (heap types), and
        # tests of finalizers that re-enter the dict.  The pure-Python
        # variant's tests are deselected; the benchmark, mypy, release-notes,
        # subprocess leak and callgrind tests need more than pytest.
        "name": "multidict",
        "requirements": ["multidict==7.2.1"],
        "tests": "sdist",
        "groups": [["tests"]],
        "args": ["--ignore-glob=*benchmarks.py", "--ignore=tests/test_mypy.py",
                 "--ignore=tests/test_release_notes_md.py",
                 "--ignore=tests/test_leaks.py",
                 "--ignore=tests/test_callgrind_driver.py",
                 "-m", "not hypothesis"],
        "ini": """\
[pytest]
filterwarnings = error
xfail_strict = true
empty_parameter_set_mark = xfail
markers =
    leaks: memory leak tests
    hypothesis: Hypothesis-based property/fuzz tests
    capi: C API tests
    expensive: slow under emulation
    threaded: concurrency tests
    benchmark_shard_2: benchmarks
""",
        "deselect": r"\[(?:[^\]]*-)?py(?:-[^\]]*)?\]$",
    },
    # ---- extra: not run by default (CI's time); --extra or --only NAME ----
    # Each ran with no difference on 3.13.5 and 3.14.10 (stock rule and
    # policy=PauseBudget,ms=1.0) on 2026-12-08.  Left out: pydantic-core
    # (pip cannot read its sdist's metadata offline: maturin asks cargo for
    # crates, so its tests cannot be had the way the others' are).
    {
        # wrapt: the C ObjectProxy, FunctionWrapper, BoundFunctionWrapper,
        # _FunctionWrapperBase (tp_traverse and tp_clear over the wrapped
        # object, the instance, the wrapper, the parent), weak function
        # proxies whose callbacks run when the wrapped object dies.
        "name": "wrapt",
        "extra": True,
        "requirements": ["wrapt==2.5.2"],
        "tests": "sdist",
        "groups": [["tests/core"]],
    },
    {
        # immutables: the HAMT Map (C): map objects, their nodes (bitmap,
        # array, collision), mutations, views and iterators, all GC'd with
        # tp_traverse/tp_clear.  No wheel for 3.14: built from the sdist
        # there.  --noconftest: the conftest only loads mypy's test plugin.
        "name": "immutables",
        "extra": True,
        "requirements": ["immutables==0.21"],
        "tests": "sdist",
        "groups": [["tests"]],
        "args": ["--noconftest", "--ignore=tests/test_mypy.py"],
    },
    {
        # pyrsistent: the C PVector (pvectorc: vectors, their nodes, evolvers
        # and iterators with tp_traverse).  0.20.0 has only a pure-Python
        # wheel for 3.13+ (no pvectorc): built from the sdist (a few
        # seconds).  The hypothesis state machine is left out.
        "name": "pyrsistent",
        "extra": True,
        "requirements": ["--no-binary=pyrsistent", "pyrsistent==0.20.0"],
        "tests": "sdist",
        "groups": [["tests"]],
        "args": ["--ignore=tests/hypothesis_vector_test.py"],
        # SIGSEGV under the stock collector too, every time, on 3.13.5 (not
        # 3.14.10): pvectorc's PVectorEvolver.extend, pyrsistent's bug
        # (python3.13 -c "import pvectorc; pvectorc.pvector().evolver()
        # .extend([None] * 2)" crashes): the ten tests that reach it
        "deselect": r"::(?:test_set_with_relocation"
                    r"|test_evolver_update_with_relocation"
                    r"|test_insert_and_get_many_elements|test_segfault_issue_52"
                    r"|(?:test_evolver_extend|test_evolver_len"
                    r"|test_evolver_assign_and_read_with_negative_indices"
                    r"|test_no_dependencies_between_evolvers_from_the_same_pvector"
                    r"|test_pvectors_produced_from_the_same_evolver_do_not_interfere"
                    r"|test_evolver_returns_itself_on_evolving_operations)"
                    r"\[pvectorc\])$",
    },
    {
        # zope.interface: the C optimizations (_zope_interface_coptimizations):
        # SpecificationBase, InterfaceBase, ObjectSpecificationDescriptor,
        # ClassProvidesBase, LookupBase/VerifyingBase with their caches
        # (dicts of weakrefs and specs), tp_traverse and tp_clear.
        "name": "zope.interface",
        "extra": True,
        "requirements": ["zope.interface==8.7", "zope.testing==6.2"],
        "tests": "wheel",
        "groups": [["tests"], ["common/tests"]],
    },
    {
        # frozenlist: the Cython FrozenList (holds a list).  The
        # pure-Python variant's tests run too (they are few).
        "name": "frozenlist",
        "extra": True,
        "requirements": ["frozenlist==1.8.0"],
        "tests": "sdist",
        "groups": [["tests"]],
    },
    {
        # propcache: Cython cached_property/under_cached_property (hold the
        # wrapped function and name), on instances' __dict__ / _cache.
        "name": "propcache",
        "extra": True,
        "requirements": ["propcache==0.5.4"],
        "tests": "sdist",
        "groups": [["tests"]],
        "args": ["--ignore=tests/test_benchmarks.py",
                 "--ignore=tests/test_pep517_backend.py"],
        "ini": """\
[pytest]
xfail_strict = true
empty_parameter_set_mark = xfail
markers =
    c_extension: tests of the C extension
""",
    },
    {
        # yarl: Cython _Quoter/_Unquoter, URL objects whose cached
        # properties (propcache) and multidict queries make small cycles.
        # The benchmarks and the hypothesis and pydantic tests are left out.
        "name": "yarl",
        "extra": True,
        "requirements": ["yarl==1.25.1", "multidict==7.2.1",
                         "propcache==0.5.4"],
        "tests": "sdist",
        "groups": [["tests"]],
        "args": ["--ignore-glob=*benchmarks.py",
                 "--ignore=tests/test_quoting_hypothesis.py",
                 "--ignore=tests/test_pydantic.py"],
    },
    {
        # lxml: Cython proxies (_Element, _Document, _ElementTree, iterators,
        # parsers, XSLT, objectify), each holding its document: a proxy
        # freed while live is a use-after-free of libxml2 nodes.  Tests
        # from the sdist's src/lxml/tests (unittest suites).
        "name": "lxml",
        "extra": True,
        "requirements": ["lxml==6.2.1"],
        "tests": "sdist",
        "sdist_dirs": ["src/lxml/tests"],
        "groups": [
            ["src/lxml/tests/test_etree.py"],
            ["src/lxml/tests/test_elementtree.py",
             "src/lxml/tests/test_classlookup.py",
             "src/lxml/tests/test_nsclasses.py",
             "src/lxml/tests/test_pyclasslookup.py"],
            ["src/lxml/tests/test_objectify.py",
             "src/lxml/tests/test_xslt.py",
             "src/lxml/tests/test_xpathevaluator.py",
             "src/lxml/tests/test_incremental_xmlfile.py",
             "src/lxml/tests/test_xmlpullparser.py",
             "src/lxml/tests/test_sax.py"],
        ],
        # the abstract bases (_ETreeTestCaseBase, ...: their etree is None)
        # and each module's test_suite() (unittest's, reads doc/) are not tests
        "deselect": r"::_\w+::|::test_suite$",
    },
    {
        # cffi: _cffi_backend's CData objects (owning and not), FFI and
        # Lib objects (tp_traverse/tp_clear), ffi.gc() destructors, callbacks
        # holding Python callables.  Its backend's own tests (src/c) and
        # two test files that need no C compiler.
        "name": "cffi",
        "extra": True,
        "requirements": ["cffi==2.1.1"],
        "tests": "sdist",
        "sdist_dirs": ["src/c/test_c.py", "testing"],
        "groups": [["src/c/test_c.py"],
                   ["testing/cffi0/test_ffi_backend.py",
                    "testing/cffi1/test_ffi_obj.py"]],
        # TestBitfield compiles modules into the shared tests folder (with
        # setuptools only): the stock and gcx runs, side by side, wrote the
        # same file ("file too short")
        "deselect": r"::TestBitfield::",
    },
    {
        # aiohttp: the Cython HTTP parsers (HttpRequestParser,
        # HttpResponseParser: callbacks, messages, payloads) and websocket
        # reader.  The pure-Python parsers' tests run too.
        "name": "aiohttp",
        "extra": True,
        "requirements": ["aiohttp==3.14.5"],
        "tests": "sdist",
        "groups": [["tests/test_http_parser.py",
                    "tests/test_websocket_parser.py"]],
        "ini": """\
[pytest]
xfail_strict = true
empty_parameter_set_mark = xfail
markers =
    autobahn: Autobahn testsuite
    dev_mode: dev mode
    internal: internal
    skip_blockbuster: no blockbuster
""",
    },
]

# --selftest: the harness itself, on a tiny suite in tests/extensions whose
# gcx run must differ in exactly these tests and crash in the second group.
SELFTEST = {
    "name": "selftest",
    "requirements": [],
    "tests": "repo",
    "groups": [["suite_selftest.py"], ["suite_selftest_crash.py"]],
}
SELFTEST_DIFFER = {"suite_selftest.py::test_differs",
                   "suite_selftest.py::test_unraisable_differs",
                   "suite_selftest_crash.py::test_crash",
                   "suite_selftest_crash.py::test_after"}
SELFTEST_CRASH = "killed by SIGSEGV while running suite_selftest_crash.py::test_crash"

COMMON_ARGS = ["-q", "-rfE", "-p", "no:cacheprovider", "-p", "gcx_ext_plugin",
               "-W", "error::pytest.PytestUnraisableExceptionWarning",
               "-o", "faulthandler_timeout=120"]
FAILING = {"failed", "error"}
# Worse outcome wins when a test has several reports (setup, call, teardown,
# subtests).
# an exception's line in a traceback (in an exception group's too)
EXC_LINE = re.compile(r"^[ |]*(?:[A-Za-z_][\w.]*\.)?[A-Z]\w*"
                      r"(?:Error|Exception|Warning|Exit|Interrupt)\w*(?::|$)")
RANK = {"passed": 0, "skipped": 1, "xfailed": 2, "xpassed": 3, "failed": 4,
        "error": 5}


def log(msg):
    print(msg, flush=True)


def run(cmd, **kw):
    """Run cmd, raising with its output on failure."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True, **kw)
    if r.returncode:
        sys.stdout.write(r.stdout)
        raise SystemExit("extensions: failed (%d): %s" % (r.returncode,
                                                          " ".join(cmd)))
    return r.stdout


def find_python():
    """The interpreter to test on when none is given."""
    return subprocess.run(["bash", os.path.join(REPO, ".ci", "python313.sh")],
                          stdout=subprocess.PIPE, check=True,
                          universal_newlines=True).stdout.strip()


def load_flaky():
    """{(package, test id): reason} from tests/extensions/flaky.txt."""
    flaky = {}
    path = os.path.join(HERE, "flaky.txt")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.split("#", 1)
                reason = line[1].strip() if len(line) > 1 else ""
                fields = line[0].split()
                if len(fields) == 2:
                    flaky[tuple(fields)] = reason
    return flaky


# ------------------------------------------------------------------------------
# Set-up: the venv, the packages, the sdists' tests.

def setup(args, work, packages):
    venv = os.path.join(work, "venv")
    py = os.path.join(venv, "bin", "python")
    env = dict(os.environ, PIP_CACHE_DIR=args.cache_dir + "/pip",
               PIP_DISABLE_PIP_VERSION_CHECK="1")
    t0 = time.time()
    run([args.python, "-m", "venv", venv])
    reqs = [PYTEST] + [r for p in packages for r in p["requirements"]]
    run([py, "-m", "pip", "install", "-q", args.src] + reqs, env=env)
    versions = json.loads(run([py, "-c", """if 1:
        import json, sys
        from importlib.metadata import version
        print(json.dumps({n: version(n) for n in sys.argv[1:]}))""",
        "gcx", "pytest"] + [p["name"] for p in packages if p["requirements"]]))
    versions.setdefault("selftest", "-")
    sdists = os.path.join(args.cache_dir, "extensions", "sdists")
    os.makedirs(sdists, exist_ok=True)
    for p in packages:
        if p["tests"] == "repo":
            p["rootdir"] = HERE
            continue
        if p["tests"] == "wheel":
            p["rootdir"] = run([py, "-c", "import os, importlib.util as u; "
                                "print(os.path.dirname(u.find_spec(%r).origin))"
                                % p["name"]]).strip()
            continue
        # the sdist (kept in the cache: pip download reuses a file already
        # there), and its tests/ alone copied into the work directory
        name, version = p["name"], versions[p["name"]]
        tarball = [f for f in os.listdir(sdists)
                   if f.lower().startswith("%s-%s." % (name, version))
                   and f.endswith(".tar.gz")]
        if not tarball:
            run([py, "-m", "pip", "download", "-q", "--no-deps",
                 "--no-binary", ":all:", "-d", sdists,
                 "%s==%s" % (name, version)], env=env)
            tarball = [f for f in os.listdir(sdists)
                       if f.lower().startswith("%s-%s." % (name, version))
                       and f.endswith(".tar.gz")]
        root = os.path.join(work, "src-" + name)
        os.makedirs(root)
        dirs = [d.split("/") for d in p.get("sdist_dirs", ["tests"])]
        with tarfile.open(os.path.join(sdists, tarball[0])) as tar:
            members = [m for m in tar.getmembers()
                       if any(m.name.split("/")[1:1 + len(d)] == d
                              for d in dirs)]
            for m in members:
                m.name = m.name.split("/", 1)[1]
            if hasattr(tarfile, "data_filter"):
                tar.extractall(root, members=members, filter="data")
            else:
                tar.extractall(root, members=members)
        p["rootdir"] = root
    log("set-up: %s, gcx %s, pytest %s, %s (%.0fs)" % (
        run([py, "-c", "import platform; print(platform.python_version())"]
            ).strip(), versions["gcx"], versions["pytest"],
        ", ".join("%s %s" % (p["name"], versions[p["name"]]) for p in packages),
        time.time() - t0))
    return py, versions


# ------------------------------------------------------------------------------
# Runs.

class Run:
    """One pytest process: a group of a package under a collector."""

    def __init__(self, package, group_index, collector, attempt, work):
        self.package, self.group_index = package, group_index
        self.collector, self.attempt = collector, attempt
        stem = "%s-%d-%s-%d" % (package["name"], group_index, collector,
                                attempt)
        self.results = os.path.join(work, "results", stem + ".jsonl")
        self.logfile = os.path.join(work, "logs", stem + ".log")
        self.rc = None
        self.timed_out = False
        self.seconds = 0.0
        self.outcomes = {}        # test id -> outcome
        self.started = None       # the test running when the process ended
        self.finished = False     # pytest's session ended (exitstatus seen)
        self.exitstatus = None
        self.session = None       # the plugin's line: which collector

    @property
    def group(self):
        """{"paths": [...], "args": [...], "env": {...}}"""
        g = self.package["groups"][self.group_index]
        return g if isinstance(g, dict) else {"paths": g}

    def execute(self, py, work, timeout, policy=None):
        p = self.package
        cwd = os.path.join(work, "cwd")          # empty: nothing to import
        ini = os.path.join(work, "ini-%s.ini" % p["name"])
        cmd = [py, "-m", "pytest"] if self.collector == "stock" else \
              [py, "-m", "gcx", "run"] + (["--policy", policy] if policy else []) \
              + ["-m", "pytest"]
        cmd += COMMON_ARGS + ["-c", ini, "--rootdir", p["rootdir"]]
        group = self.group
        cmd += [a if not a.startswith("--ignore") else
                a.replace("=", "=" + p["rootdir"] + "/", 1)
                for a in p.get("args", []) + group.get("args", [])]
        cmd += [os.path.join(p["rootdir"], path) for path in group["paths"]]
        env = dict(os.environ, GCX_EXT_EXPECT=self.collector,
                   GCX_EXT_RESULTS=self.results, PYTHONPATH=HERE,
                   PYTHONFAULTHANDLER="1", COLUMNS="200",
                   # no third-party plugin (gcx's own among them)
                   PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
        env.pop("PYTHONSTARTUP", None)
        env.update(group.get("env", {}))
        if p.get("deselect"):
            env["GCX_EXT_DESELECT"] = p["deselect"]
        t0 = time.time()
        with open(self.logfile, "w") as out:
            out.write("$ " + " ".join(cmd) + "\n")
            out.flush()
            proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out,
                                    stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL,
                                    start_new_session=True)
            try:
                self.rc = proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.timed_out = True
                os.killpg(proc.pid, signal.SIGKILL)
                self.rc = proc.wait()
        self.seconds = time.time() - t0
        self.parse()
        return self

    def parse(self):
        if not os.path.exists(self.results):
            return
        with open(self.results, encoding="utf-8") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue          # a line cut short by a crash
                if "session" in rec:
                    self.session = rec["line"]
                elif "started" in rec:
                    self.started = rec["started"]
                elif "finished" in rec:
                    self.started = None
                elif "id" in rec:
                    old = self.outcomes.get(rec["id"])
                    if old is None or RANK[rec["outcome"]] > RANK[old]:
                        self.outcomes[rec["id"]] = rec["outcome"]
                elif "exitstatus" in rec:
                    self.finished = True
                    self.exitstatus = rec["exitstatus"]

    def problem(self):
        """Why this run is not a normal pytest run, or None."""
        if self.timed_out:
            where = " in %s" % self.started if self.started else ""
            return "timed out%s" % where
        if self.rc < 0:
            try:
                name = signal.Signals(-self.rc).name
            except ValueError:
                name = "signal %d" % -self.rc
            where = " while running %s" % self.started if self.started else ""
            return "killed by %s%s" % (name, where)
        if not os.path.exists(self.results):
            return "exited %d before the session started" % self.rc
        if not self.finished:
            where = " while running %s" % self.started if self.started else ""
            return "exited %d before pytest's session ended%s" % (self.rc,
                                                                   where)
        if self.rc not in (0, 1):
            return "pytest exited %d" % self.rc
        failing = any(o in FAILING for o in self.outcomes.values())
        if self.rc == 1 and not failing:
            return "exited 1 with no failing test"
        if self.rc == 0 and failing:
            return "exited 0 with failing tests"
        return None

    def log_tail(self, n=25):
        """The start of a fatal error's report (faulthandler's: the signal
        and the innermost frames), else the log's last lines."""
        with open(self.logfile, errors="replace") as f:
            lines = f.readlines()
        for i, line in enumerate(lines):
            at = line.find("Fatal Python error")
            if at >= 0:
                return "".join([line[at:]] + lines[i + 1:i + n])
        return "".join(lines[-n:])

    def explain(self, test_id, most=8):
        """The "E" and exception lines of a test's failure in this run's log
        (distinct ones), or its -rfE short summary line."""
        head = ".".join(test_id.split("::")[1:])
        header = re.compile(r"_+ (?:ERROR at \w+ of )?%s _+$" % re.escape(head))
        found, section, seen, summary = False, [], set(), None
        with open(self.logfile, errors="replace") as f:
            for line in f:
                line = line.rstrip()
                if header.match(line):
                    found, section, seen = True, [], set()
                elif found and re.match(r"(_{3,}|={3,}) ", line):
                    found = False
                elif found and (line.startswith("E ") or EXC_LINE.match(line)):
                    line = line.lstrip(" |")
                    key = re.sub(r"0x[0-9a-f]+", "0x", line)
                    if key not in seen:
                        seen.add(key)
                        section.append(line)
                elif re.match(r"(FAILED|ERROR) ", line) and test_id in line:
                    summary = line
        lines = section[:most] or ([summary] if summary else [])
        return lines


def compare(runs_stock, run_gcx):
    """The tests whose gcx outcome is none of the stock outcomes:
    [(test id, [stock outcomes], gcx outcome)]."""
    ids = set(run_gcx.outcomes)
    for r in runs_stock:
        ids |= set(r.outcomes)
    differ = []
    for tid in sorted(ids):
        got = run_gcx.outcomes.get(tid, "missing")
        stock = [r.outcomes.get(tid, "missing") for r in runs_stock]
        if got not in stock:
            differ.append((tid, stock, got))
    return differ


def count(outcomes):
    totals = {}
    for o in outcomes.values():
        totals[o] = totals.get(o, 0) + 1
    return ", ".join("%d %s" % (totals[k], k) for k in RANK if k in totals)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("python", nargs="?",
                    help="the CPython 3.13 to test on (default: "
                         ".ci/python313.sh's)")
    ap.add_argument("--src", default=os.environ.get("GCX_SRC", REPO),
                    help="the gcx source or wheel to install (default: this checkout)")
    ap.add_argument("--only", help="comma-separated package names (extra "
                                   "ones too)")
    ap.add_argument("--extra", action="store_true",
                    help="also the packages marked extra (not run by default)")
    ap.add_argument("--jobs", type=int, default=2,
                    help="pytest processes at once (default 2)")
    ap.add_argument("--stock-runs", type=int, default=2,
                    help="stock runs at most of a group whose gcx run "
                         "differs (default 2)")
    ap.add_argument("--timeout", type=float, default=600,
                    help="seconds for one pytest process (default 600)")
    ap.add_argument("--cache-dir", default=os.environ.get(
        "GCX_CACHE", os.path.expanduser("~/.cache/gcx")))
    ap.add_argument("--selftest", action="store_true",
                    help="check the harness on tests/extensions/suite_selftest*.py "
                         "instead: it must report their planted differences "
                         "and crash")
    ap.add_argument("--policy", metavar="SPEC",
                    help="the gcx runs install gcx with this policy "
                         "(gcx run --policy SPEC, e.g. policy=PauseBudget,ms=1.0)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory (venv, logs) and say where")
    args = ap.parse_args()
    args.python = args.python or os.environ.get("GCX_EXT_PYTHON") \
        or find_python()
    args.src = os.path.abspath(args.src)
    packages = [SELFTEST] if args.selftest else \
        [p for p in PACKAGES if args.extra or not p.get("extra")]
    if args.only:
        names = args.only.split(",")
        packages = [p for p in PACKAGES if p["name"] in names]
        if len(packages) != len(names):
            ap.error("--only: known packages are %s"
                     % ", ".join(p["name"] for p in PACKAGES))
    start = time.time()
    work = tempfile.mkdtemp(prefix="gcx-extensions-")
    try:
        status, report = check(args, work, packages)
        if args.selftest:
            differ, crashes = report["selftest"]
            ok = set(differ) == SELFTEST_DIFFER and crashes == [SELFTEST_CRASH]
            log("selftest: the harness %s" % (
                "found the planted differences and crash" if ok else
                "did NOT report what was planted: differ %s, crashes %s"
                % (sorted(differ), crashes)))
            status = 0 if ok else 1
    finally:
        if args.keep:
            log("work directory kept: %s (logs in %s/logs)" % (work, work))
        else:
            shutil.rmtree(work, ignore_errors=True)
    log("extensions: %s in %.0fs" % ("ok" if status == 0 else "FAILED",
                                     time.time() - start))
    return status


def check(args, work, packages):
    for sub in ("cwd", "logs", "results"):
        os.makedirs(os.path.join(work, sub))
    py, versions = setup(args, work, packages)
    for p in packages:
        with open(os.path.join(work, "ini-%s.ini" % p["name"]), "w") as f:
            f.write(p.get("ini", "[pytest]\n"))
    flaky = load_flaky()

    # stock and gcx runs of every group, in the order listed, --jobs at a time
    pool = concurrent.futures.ThreadPoolExecutor(max(1, args.jobs))
    runs = {}          # (package name, group index) -> {"stock": [...], "gcx": run}
    futures = []
    for p in packages:
        for gi in range(len(p["groups"])):
            for collector in ("stock", "gcx"):
                r = Run(p, gi, collector, 1, work)
                slot = runs.setdefault((p["name"], gi), {"stock": [], "gcx": None})
                if collector == "stock":
                    slot["stock"].append(r)
                else:
                    slot["gcx"] = r
                futures.append(pool.submit(r.execute, py, work, args.timeout, args.policy))
    for f in futures:
        f.result()

    # a group whose gcx run differs (or crashed): stock again, to tell a
    # flaky test from a difference
    def differs(slot):
        return compare(slot["stock"], slot["gcx"]) or slot["gcx"].problem()
    for attempt in range(2, args.stock_runs + 1):
        again = [(key, slot) for key, slot in runs.items()
                 if differs(slot) and not slot["stock"][0].problem()]
        futures = []
        for (name, gi), slot in again:
            p = next(p for p in packages if p["name"] == name)
            r = Run(p, gi, "stock", attempt, work)
            slot["stock"].append(r)
            futures.append(pool.submit(r.execute, py, work, args.timeout, args.policy))
        for f in futures:
            f.result()
    pool.shutdown()

    # the report
    status = 0
    report = {}
    log("")
    sessions = {slot["gcx"].session for slot in runs.values()} - {None}
    for line in sorted(sessions):
        log(line.replace("gcx_ext_plugin: ", "gcx runs: ", 1))
    for p in packages:
        name = p["name"]
        slots = [runs[(name, gi)] for gi in range(len(p["groups"]))]
        tests, differ, ignored, problems = 0, [], [], []
        stock_all, gcx_all = {}, {}
        seconds = {"stock": 0.0, "gcx": 0.0}
        for slot in slots:
            g = slot["gcx"]
            for r in slot["stock"]:
                seconds["stock"] += r.seconds
            seconds["gcx"] += g.seconds
            stock_all.update(slot["stock"][0].outcomes)
            gcx_all.update(g.outcomes)
            tests += len(set(g.outcomes) | set(slot["stock"][0].outcomes))
            for tid, stock, got in compare(slot["stock"], g):
                (ignored if (name, tid) in flaky else differ).append(
                    (tid, stock, got, g))
            for r in slot["stock"][:1]:
                why = r.problem()
                if why:
                    problems.append(("stock", r, why))
            why = g.problem()
            if why:
                problems.append(("gcx", g, why))
        status |= bool(differ or problems)
        report[name] = ([d[0] for d in differ],
                        [why for c, r, why in problems if c == "gcx"])
        crashes = len([x for x in problems if x[0] == "gcx"])
        log("%s %s: %d tests, %d differ%s%s   [stock: %s; gcx: %s; %.0fs + %.0fs]"
            % (name, versions[name], tests, len(differ),
               ", %d crashed" % crashes if crashes else "",
               ", %d flaky ignored" % len(ignored) if ignored else "",
               count(stock_all), count(gcx_all),
               seconds["stock"], seconds["gcx"]))
        for tid, stock, got, g in differ:
            log("  DIFFERS %s: stock %s, gcx %s" % (tid, "/".join(stock), got))
            for line in g.explain(tid):
                log("      " + line)
        for tid, stock, got, g in ignored:
            log("  flaky (ignored: %s) %s: stock %s, gcx %s"
                % (flaky[(name, tid)], tid, "/".join(stock), got))
        for collector, r, why in problems:
            log("  %s %s run of %s: %s (%s)" % (
                "CRASH:" if collector == "gcx" else "BROKEN:", collector,
                " ".join(r.group["paths"]), why, os.path.basename(r.logfile)))
            log("    " + r.log_tail().replace("\n", "\n    ").rstrip())
    return status, report


if __name__ == "__main__":
    sys.exit(main())
