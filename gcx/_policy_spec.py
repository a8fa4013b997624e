"""A gcx.Policy written on a command line: ``key=value,key=value``.

``gcx compare --policy SPEC`` takes policies in this form; ``parse()`` turns
one into the keyword arguments of gcx.Policy and has Policy check them, so
a spec is refused for exactly what Policy refuses, with Policy's message.

    key     a keyword parameter of gcx.Policy (full, max_growth, ...), or
            policy=NAME for another policy class of gcx's
            (policy=PauseBudget,ms=1.0: gcx.PauseBudget's parameters)
    value   none                    None
            true, false             a bool (any case)
            123, 50_000             an int
            0.5, 1e-3               a float
            512K, 64M, 1.5G, 2T     bytes, an int (binary multiples: K is
                                    1024; a trailing B or iB may follow)
            a:b:c                   a tuple of such values, one per
                                    generation (max_interval=1:10:60,
                                    min_interval=none:none:5)
            12Q, 5 apples           refused: a number followed by what is
                                    no size
            anything else           the text itself (full=deferred)

The parser is the command line's (gcx/compare.py); it belongs beside
Policy, as a classmethod of it, once gcx/policy.py takes it.
"""

from __future__ import annotations

import re
from typing import Dict, Tuple

from .policy import Policy

__all__ = ["SpecError", "parse", "value", "keywords", "make"]

# The policy classes a spec may name with policy=NAME; Policy is the default.
CLASSES = ("Policy", "PauseBudget")


def _class(name: object) -> type[Policy]:
    if name not in CLASSES:
        raise SpecError(f"policy={name} is not one of gcx's policies ({', '.join(CLASSES)})")
    import gcx
    cls: type[Policy] = getattr(gcx, str(name))
    return cls


def make(kwargs: Dict[str, object]) -> Policy:
    """The policy a parsed spec describes (its "policy" key names the class)."""
    rest = dict(kwargs)
    cls = _class(rest.pop("policy", "Policy"))
    return cls(**rest)  # type: ignore[arg-type]

_SIZE = re.compile(r"(?i)^([0-9][0-9_]*(?:\.[0-9]+)?)\s*([kmgt])(?:i?b)?$")
_SCALES = {"k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
# a number with something after it that is no size: a mistyped size
_NUMBERISH = re.compile(r"^[+-]?[0-9][0-9_.]*\s*[A-Za-z]+$")


class SpecError(ValueError):
    """A spec Policy does not take; its message is one line."""


def keywords(cls: type[Policy] = Policy) -> Tuple[str, ...]:
    """A policy class's keyword parameters, in its order."""
    return tuple(cls().parameters())


def value(text: str) -> object:
    """One value of a spec (see the module's docstring)."""
    if ":" in text:
        return tuple(value(part) for part in text.split(":"))
    lowered = text.strip().lower()
    if lowered == "none":
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    size = _SIZE.match(text.strip())
    if size is not None:
        number, scale = float(size.group(1).replace("_", "")), _SCALES[size.group(2).lower()]
        if number * scale != int(number * scale):
            raise SpecError(f"{text!r} is not a whole number of bytes")
        return int(number * scale)
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if _NUMBERISH.match(text.strip()):
        raise SpecError(f"{text!r} is not a number or a size (512K, 64M, 1.5G, 2T)")
    return text


def parse(spec: str) -> Dict[str, object]:
    """The keyword arguments of gcx.Policy that ``spec`` gives, checked by
    constructing a Policy with them.  Raises SpecError (a ValueError) with
    a one-line message for a malformed spec, an unknown or repeated key,
    and whatever TypeError or ValueError Policy raises."""
    kwargs: Dict[str, object] = {}
    if not spec.strip():
        raise SpecError("empty policy: write key=value[,key=value...]")
    items = spec.split(",")
    named = [i.partition("=")[2].strip() for i in items if i.partition("=")[0].strip() == "policy"]
    cls = _class(named[0]) if named else Policy
    known = keywords(cls)
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise SpecError(f"{item.strip()!r} is not key=value")
        if key == "policy" and key not in kwargs:
            kwargs[key] = text.strip()
            continue
        if key not in known:
            raise SpecError(f"gcx.{cls.__name__} has no parameter {key!r} (it takes "
                            f"{', '.join(known)})")
        if key in kwargs:
            raise SpecError(f"{key} is given twice")
        if not text.strip():
            raise SpecError(f"{key} has no value")
        kwargs[key] = value(text.strip())
    try:
        make(kwargs)
    except (TypeError, ValueError) as exc:
        raise SpecError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    return kwargs
