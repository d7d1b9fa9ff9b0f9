"""What a backend class declares, and what :func:`mannsim.backends.load_backend` reads from it.

A backend class declares:

- ``Options``: a frozen dataclass of every option it takes, typed, each with a default. A field
  is a user option (a command-line flag, ``--base-url`` for ``base_url``) unless it is made
  with :func:`tuning` (a knob for code: tests and benchmarks pass it, no flag shows it).
  :class:`NoOptions` for a backend that takes none;
- ``takes_dialect``: ``True`` when it reads prompts itself and needs the run's dialect;
- ``thread_safe``: ``True`` when concurrent ``complete`` calls on one instance are safe.

It is built as ``cls(options, stop=..., dialect=...)``: an instance of its ``Options``, then,
by keyword, the stop strings (when the caller names them) and the dialect (only where it
declares ``takes_dialect``). A class without ``Options`` is read by :mod:`.legacy` instead.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from .base import Backend, BackendError
from .base import thread_safe as declares_thread_safe

T = TypeVar("T")

#: A declared option's field metadata when it is not a command-line flag.
TUNING = {"flag": False}


def tuning(default: T) -> T:
    """An ``Options`` field that is not a command-line flag (tests and benchmarks pass it)."""
    return dataclasses.field(default=default, metadata=TUNING)


@dataclass(frozen=True)
class NoOptions:
    """The options of a backend that takes none."""


#: Builds an instance: (the options given, by name; stop and dialect, as the backend takes them).
Make = Callable[[Mapping[str, Any], Mapping[str, Any]], Backend]


@dataclass(frozen=True)
class Contract:
    """A backend class's declarations, as load_backend and describe use them."""

    #: Every option name it takes (None: any, a legacy ``**kwargs`` constructor).
    accepts: frozenset[str] | None
    #: The ones a user types, as flags (None: any).
    flags: tuple[str, ...] | None
    takes_dialect: bool
    thread_safe: bool
    make: Make


def flag(option: str) -> str:
    """``base_url`` -> ``--base-url``."""
    return "--" + option.replace("_", "-")


def declared(cls: Any) -> Contract | None:
    """The contract ``cls`` declares (None: it declares no ``Options``)."""
    options = getattr(cls, "Options", None)
    if options is None:
        return None
    if not (isinstance(options, type) and dataclasses.is_dataclass(options)):
        raise BackendError(f"backend class {getattr(cls, '__name__', '?')} declares Options that "
                           "are not a dataclass")
    fields = dataclasses.fields(options)

    def make(given: Mapping[str, Any], internal: Mapping[str, Any]) -> Backend:
        instance: Backend = cls(options(**given), **internal)
        return instance

    return Contract(
        accepts=frozenset(f.name for f in fields),
        flags=tuple(sorted(f.name for f in fields if f.metadata.get("flag", True))),
        takes_dialect=getattr(cls, "takes_dialect", False) is True,
        thread_safe=declares_thread_safe(cls),
        make=make)
