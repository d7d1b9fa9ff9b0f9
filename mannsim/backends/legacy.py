"""Backends written to the contract before declared options: their contract, derived.

Until typed options, a third-party backend was an entry point to a class built as
``MyBackend(**options)``, which said what it takes by an ``OPTIONS`` tuple or by its
constructor's named parameters alone (``**kwargs``: anything), and got the run's dialect when
its constructor has a ``dialect`` parameter. Such a class (one with no ``Options``) keeps
working: :func:`derive` reads the same things from it. This module is the only place that
looks at a constructor's signature; a backend that declares ``Options`` (see :mod:`.contract`)
is never inspected.

- options: ``OPTIONS`` when it has one (its user options: a command-line flag it does not list
  is refused), plus the constructor's other named parameters, or anything from code when the
  constructor takes ``**kwargs``; without ``OPTIONS``, the named parameters, all user options;
  a ``**kwargs`` constructor without ``OPTIONS`` takes any option;
- ``takes_dialect``: the constructor has a ``dialect`` parameter;
- ``thread_safe``: as declared (:func:`mannsim.backends.base.thread_safe`);
- built as ``cls(**options, stop=..., dialect=...)``: ``stop`` when the caller names it,
  ``dialect`` where it takes one (the caller's, else the default dialect's).
"""
from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from .base import Backend
from .base import thread_safe as declares_thread_safe
from .contract import Contract

#: Keyword arguments mannsim itself passes; never options.
INTERNAL = ("stop", "dialect")


def derive(cls: Any) -> Contract:
    """The contract of ``cls``, a backend class that declares no ``Options``."""
    try:
        params = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):  # no readable signature: it takes anything
        params = None
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    named = frozenset(p.name for p in params or () if p.kind in kinds) - set(INTERNAL)
    open_ended = params is None or any(p.kind is p.VAR_KEYWORD for p in params)
    listed = getattr(cls, "OPTIONS", None)
    accepts: frozenset[str] | None
    flags: tuple[str, ...] | None
    if listed is not None:  # its user options; a ``**kwargs`` constructor takes any from code
        accepts = None if open_ended else frozenset(listed) | named
        flags = tuple(sorted(listed))
    elif open_ended:
        accepts = flags = None
    else:
        accepts, flags = named, tuple(sorted(named))

    def make(given: Mapping[str, Any], internal: Mapping[str, Any]) -> Backend:
        instance: Backend = cls(**given, **internal)
        return instance

    return Contract(accepts=accepts, flags=flags,
                    takes_dialect=any(p.name == "dialect" for p in params or ()),
                    thread_safe=declares_thread_safe(cls), make=make)
