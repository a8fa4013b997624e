"""Argument errors as CPython raises them for the stdlib gc functions.

gcx's gc functions (gcx/__init__.py) are written with their real Python
signatures.  Python's own argument binding would reject bad calls with
Python's messages ("collect() takes from 0 to 1 positional arguments but 2
were given"); the stdlib's functions are C functions whose argument parsing
(Modules/gcmodule.c and its clinic file) says something else, and says it
differently from one CPython version to the next (3.12: "'gen' is an invalid
keyword argument for collect()"; 3.13: "collect() got an unexpected keyword
argument 'gen'").  So each gcx function is wrapped by one of the decorators
below, which checks the *shape* of the call (how many arguments, which
keywords) and, for a bad one, raises the message the running interpreter's
own gc function gives: the first time a call of some shape is refused, the
stdlib function of the same name is asked, with a bad call of that shape,
what it says (see _refusal), and the answer is kept.  (Asking when gcx is
imported would charge every process for errors few ever make.)  The
converters below do what the C converters do with the values, with the
same messages.

Each helper names the C routine whose errors it reproduces.
"""

from __future__ import annotations

import _operator as operator     # operator.index itself, without loading operator.py
import sys

from . import _stdlib

# Nothing here imports typing, functools, struct or collections at run time:
# gcx's import is paid by every fresh process that installs it (see the
# notes in gcx/__init__.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, SupportsIndex, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])

INT_MAX = 2**31 - 1                     # C int; 32 bits on every CPython platform
INT_MIN = -2**31
SSIZE_MAX = sys.maxsize
SSIZE_MIN = -sys.maxsize - 1
_HEAPTYPE = 1 << 9                      # Py_TPFLAGS_HEAPTYPE


def _long_max() -> int:
    """LONG_MAX, the largest C long: 64 bits on Linux, 32 on Windows.  Asked
    of struct only for a value outside the C int range, which needs it."""
    import struct
    return (1 << (8 * struct.calcsize("l") - 1)) - 1


def _generate_suggestions(candidates: Iterable[str], item: str) -> str | None:
    """CPython's own "Did you mean" routine (not public; 3.12, which suggests
    nothing for an unknown keyword, lacks it: then None)."""
    try:
        from _suggestions import _generate_suggestions as generate  # type: ignore[import-not-found]
    except ImportError:
        return None
    result: str | None = generate(candidates, item)
    return result


# ------------------------------------------------------------------------------
# Values.

def _has_slot(tp: type, name: str) -> bool:
    """True if the type (not its metaclass) defines the special method ``name``,
    i.e. if the matching C slot of ``tp`` is filled."""
    return any(name in vars(base) for base in tp.__mro__)


def tp_name(obj: object) -> str:
    """``Py_TYPE(obj)->tp_name`` as C code prints it with ``'%.200s'``.

    Python has no attribute for tp_name (for a static type it is the dotted
    name; for a class statement, the bare name; for a type made from a spec,
    the spec's dotted name), so have CPython print it: operator.index() of
    an object without __index__, or memoryview() of one without the buffer
    protocol, fails with exactly this formatting of the name, and runs none
    of the object's own code.
    """
    tp = type(obj)
    target: Any = obj             # whatever it is: the probe's failure is the point
    probe: Callable[[Any], object] | None
    if not _has_slot(tp, "__index__"):
        probe = operator.index
        prefix, suffix = "'", "' object cannot be interpreted as an integer"
    elif not _has_slot(tp, "__buffer__"):
        probe = memoryview
        prefix, suffix = "memoryview: a bytes-like object is required, not '", "'"
    else:
        probe = None
    if probe is not None:
        try:
            probe(target)
        except TypeError as exc:
            text = str(exc)
            if text.startswith(prefix) and text.endswith(suffix):
                return text[len(prefix):len(text) - len(suffix)]
    # An index-able buffer (no such type in CPython itself): best effort.
    if tp.__flags__ & _HEAPTYPE or tp.__module__ == "builtins":
        name = tp.__name__
    else:
        name = f"{tp.__module__}.{tp.__name__}"
    return name.encode("utf-8", "surrogatepass")[:200].decode("utf-8", "replace")


def as_int(obj: SupportsIndex) -> int:
    """Convert like ``PyLong_AsInt`` (clinic's ``int`` converter)."""
    value = obj if type(obj) is int else operator.index(obj)
    if not INT_MIN <= value <= INT_MAX:
        raise OverflowError("Python int too large to convert to C int")
    return value


def as_int_i_format(obj: SupportsIndex) -> int:
    """Convert like ``PyArg_ParseTuple``'s ``"i"`` format (via PyLong_AsLong)."""
    value = obj if type(obj) is int else operator.index(obj)
    if INT_MIN <= value <= INT_MAX:
        return value
    long_max = _long_max()
    if not -long_max - 1 <= value <= long_max:
        raise OverflowError("Python int too large to convert to C long")
    if value > INT_MAX:
        raise OverflowError("signed integer is greater than maximum")
    raise OverflowError("signed integer is less than minimum")


def as_optional_ssize_t(obj: SupportsIndex | None, default: int) -> int:
    """Convert like ``_Py_convert_optional_to_ssize_t``: None means ``default``."""
    if obj is None:
        return default
    if type(obj) is not int and not _has_slot(type(obj), "__index__"):
        raise TypeError(f"argument should be integer or None, not '{tp_name(obj)}'")
    value = obj if type(obj) is int else operator.index(obj)
    if not SSIZE_MIN <= value <= SSIZE_MAX:
        raise OverflowError(f"cannot fit '{tp_name(obj)}' into an index-sized integer")
    return value


# ------------------------------------------------------------------------------
# What the stdlib says.  A decorator asks the stdlib's function of the same
# name what it says for each shape of bad call, the first time a call of
# that shape comes; the probes pass only values that the C converters refuse
# as well, so that no probe could run the function even if its argument
# parsing accepted the shape.

_REFUSED = object()                      # no C converter takes it
_UNKNOWN = "gcx_probe_keyword"           # no gc function's keyword, nor near one


def _refusal(name: str, *args: object, **kwargs: object) -> str:
    """The message of the TypeError the stdlib's ``gc.<name>`` raises for
    this call, which its argument parsing must refuse."""
    try:
        getattr(_stdlib, name)(*args, **kwargs)
    except TypeError as exc:
        return str(exc)
    raise AssertionError(f"gc.{name} accepted a call gcx takes for a bad one")


def _said(name: str, *args: object, **kwargs: object) -> Callable[[], str]:
    """``_refusal(name, *args, **kwargs)``, asked on the first call of the
    function returned, which keeps the answer."""
    kept: list[str] = []

    def text() -> str:
        if not kept:
            kept.append(_refusal(name, *args, **kwargs))
        return kept[0]
    return text


def _counting(name: str, *args: object, **kwargs: object) -> Callable[[int], str]:
    """The stdlib's message for calls of this shape, as a function of how
    many arguments a call gives: the probe's own count ("(2 given)") is
    replaced by the call's."""
    text = _said(name, *args, **kwargs)
    probe = f"({len(args) + len(kwargs)} given)"
    return lambda given: text().replace(probe, f"({given} given)")


def _unexpected_keyword(name: str, keyword: str) -> Callable[[str], str]:
    """The stdlib's message for a call of ``<name>(keyword=default)`` that
    names an unknown keyword, as a function of that keyword: the probe's
    unknown name is replaced by the call's.  Where the stdlib suggests the
    right keyword for a near miss (3.13+: "... Did you mean 'generation'?"),
    the suggestion is added when CPython's own suggestion routine would
    make it; the probe with a near miss (the keyword less its last letter)
    says whether, and with what words, the stdlib suggests."""
    near = keyword[:-1]
    said_unknown, said_near = _said(name, **{_UNKNOWN: _REFUSED}), _said(name, **{near: _REFUSED})

    def message(unknown: str) -> str:
        text, near_text = said_unknown(), said_near()
        plain = text.replace(_UNKNOWN, near)
        suggestion = near_text[len(plain):] if near_text.startswith(plain) else ""
        said = text.replace(_UNKNOWN, unknown)
        if suggestion and _generate_suggestions([keyword], unknown):
            said += suggestion
        return said
    return message


# ------------------------------------------------------------------------------
# Shapes of calls.  Each decorator returns a wrapper with the function's
# name, module and docstring, and the function's signature as text, without
# annotations (the stdlib's functions have none), for inspect.signature().
# (inspect itself is not imported: it costs two dozen modules.)
# get_referrers and get_referents are no wrappers but built-in functions
# (src/module.c).

_CO_VARARGS = 0x04


def _params(func: Callable[..., Any]) -> tuple[str, ...]:
    """The names of the function's positional parameters."""
    code = func.__code__
    return code.co_varnames[:code.co_argcount]


def _text_signature(func: Callable[..., Any]) -> str:
    """``func``'s signature as inspect.signature() prints it, annotations left
    out; for functions of positional parameters and ``*args`` only."""
    code = func.__code__
    names = _params(func)
    defaults: tuple[object, ...] = func.__defaults__ or ()
    first_default = len(names) - len(defaults)
    parts = []
    for i, name in enumerate(names):
        parts.append(name if i < first_default
                     else f"{name}={defaults[i - first_default]!r}")
        if i + 1 == code.co_posonlyargcount:
            parts.append("/")
    if code.co_flags & _CO_VARARGS:
        parts.append("*" + code.co_varnames[code.co_argcount + code.co_kwonlyargcount])
    return "(" + ", ".join(parts) + ")"


_NOTHING = object()


# functools.WRAPPER_ASSIGNMENTS of the running CPython (3.14 made it copy
# __annotate__ instead of __annotations__); tests/test_api.py compares.
WRAPPER_ASSIGNMENTS = ("__module__", "__name__", "__qualname__", "__doc__",
                       "__annotate__" if sys.version_info >= (3, 14) else "__annotations__",
                       "__type_params__")


def update_wrapper(wrapper: Callable[..., Any], wrapped: Callable[..., Any]) -> None:
    """What ``functools.update_wrapper(wrapper, wrapped)`` does, step for step,
    without importing functools (which imports collections, and the two
    cost a fresh process more than the rest of gcx's Python code)."""
    for attr in WRAPPER_ASSIGNMENTS:
        try:
            value = getattr(wrapped, attr)
        except AttributeError:
            pass
        else:
            setattr(wrapper, attr, value)
    wrapper.__dict__.update(getattr(wrapped, "__dict__", {}))
    wrapper.__wrapped__ = wrapped  # type: ignore[attr-defined]


def _wrapper(func: F, wrapper: Callable[..., Any]) -> F:
    """``wrapper``, dressed as ``func``.  Each wrapper deletes its ``**kwargs``
    dict before it calls ``func``: from 3.14 on CPython tracks every dict
    from birth, empty ones too, so while ``func`` ran (get_objects() above
    all) the call's own dict would be one more tracked object that the
    stdlib's C function, called without a wrapper, never makes."""
    update_wrapper(wrapper, func)
    del wrapper.__wrapped__  # type: ignore[attr-defined]
    wrapper.__text_signature__ = _text_signature(func)  # type: ignore[attr-defined]
    dressed: F = wrapper  # type: ignore[assignment]
    return dressed


def noargs(func: F) -> F:
    """``METH_NOARGS``: ``gc.<name>()`` takes no arguments."""
    name = func.__name__
    no_keywords = _said(name, x=_REFUSED)
    too_many = _counting(name, _REFUSED)

    def call(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(no_keywords())
        if args:
            raise TypeError(too_many(len(args)))
        del kwargs          # see _wrapper
        return func()
    return _wrapper(func, call)


def one_arg(func: F) -> F:
    """``METH_O``: ``gc.<name>(obj, /)``, exactly one positional argument."""
    name = func.__name__
    no_keywords = _said(name, x=_REFUSED)
    not_one = _counting(name)

    def call(*args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs:
            del kwargs      # see _wrapper
            return func(args[0])
        if kwargs:
            raise TypeError(no_keywords())
        raise TypeError(not_one(len(args)))
    return _wrapper(func, call)


def one_optional_arg(func: F) -> F:
    """``_PyArg_UnpackKeywords`` for ``<name>(keyword=default)``: one argument,
    by position or by name, or none (the function's default then)."""
    name = func.__name__
    (keyword,) = _params(func)
    too_many = _counting(name, _REFUSED, _REFUSED)
    too_many_keywords = _counting(name, **{keyword: _REFUSED, _UNKNOWN: _REFUSED})
    unexpected = _unexpected_keyword(name, keyword)

    def call(*args: Any, **kwargs: Any) -> Any:
        given = len(args) + len(kwargs)
        if given > 1:
            raise TypeError((too_many if args else too_many_keywords)(given))
        if given == 0 or args or keyword in kwargs:
            value = args[0] if args else kwargs.pop(keyword, _NOTHING)
            del kwargs      # see _wrapper
            return func() if value is _NOTHING else func(value)
        raise TypeError(unexpected(next(iter(kwargs))))
    return _wrapper(func, call)


def c_int_groups(func: F) -> F:
    """``PyArg_ParseTuple(args, "i|ii")`` with the stdlib's own count check,
    for ``set_threshold(threshold0, [threshold1, [threshold2]])``: 1 to 3
    positional arguments, each converted to a C int here, so the function
    receives ints (and None for the ones not given).  On 3.12 the stdlib
    parses straight into its thresholds, so those before a bad argument
    are set when it raises: so are gcx's."""
    name = func.__name__
    most = len(_params(func))
    no_keywords = _said(name, x=_REFUSED)
    too_few = _counting(name)
    too_many = _counting(name, *[_REFUSED] * (most + 1))

    def call(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(no_keywords())
        if not 1 <= len(args) <= most:
            raise TypeError((too_few if not args else too_many)(len(args)))
        del kwargs          # see _wrapper
        converted = []
        for arg in args:
            try:
                converted.append(as_int_i_format(arg))
            except BaseException:
                if _PARSES_INTO_STATE and converted:
                    func(*converted)
                raise
        return func(*converted)
    return _wrapper(func, call)


_PARSES_INTO_STATE = sys.version_info < (3, 13)
