"""Backends, found by name through the ``mannsim.backends`` entry-point group.

A third-party package adds one by declaring, in its own ``pyproject.toml``::

    [project.entry-points."mannsim.backends"]
    mybackend = "my_package.module:MyBackend"

where ``MyBackend`` implements :class:`mannsim.backends.base.Backend` and declares its
contract (:mod:`mannsim.backends.contract`) as class attributes::

    @dataclass(frozen=True)
    class MyOptions:
        model: str | None = None              # a user option: --model
        retries: int = 3                      # --retries
        warmup: bool = tuning(False)          # for code only, no flag

    class MyBackend:
        \"\"\"One line that `mannsim backends` shows.\"\"\"
        name = "mybackend"
        Options = MyOptions                   # NoOptions when it takes none
        takes_dialect = False                 # True: it is given the run's dialect
        thread_safe = False                   # True: concurrent complete() calls are safe

        def __init__(self, options: MyOptions, *, stop: Sequence[str] = ("\\n",)): ...

:func:`load_backend` checks the options given against ``Options`` (an option it does not
declare is a one-line error naming the ones it does), builds ``MyBackend(MyOptions(...),
stop=...)``, and adds ``dialect=`` only where ``takes_dialect`` is declared (the caller's, or
the default dialect's when the caller names none). A class written to the earlier contract
(built as ``MyBackend(**options)``, an ``OPTIONS`` tuple or just constructor keywords, a
``dialect`` parameter) still loads: :mod:`mannsim.backends.legacy` derives its contract.
"""
from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from ..program.dialect import DEFAULT_DIALECT, Dialect, load_dialect
from ..safe_text import one_line
from . import legacy
from .base import Backend, BackendError, Completion
from .contract import Contract, NoOptions, declared, flag, tuning

GROUP = "mannsim.backends"
#: Built-ins, also registered as entry points in pyproject.toml (this table lets a source
#: checkout run without being installed).
BUILTIN = {
    "symbolic": "mannsim.backends.symbolic:SymbolicBackend",
    "hf": "mannsim.backends.hf:HFBackend",
    "openai": "mannsim.backends.openai_backend:OpenAIBackend",
}


def registry() -> dict[str, str]:
    """Backend name -> "module:object" for everything installed."""
    found = dict(BUILTIN)
    for ep in entry_points(group=GROUP):
        found[ep.name] = ep.value
    return found


def contract_of(cls: Any) -> Contract:
    """What a backend class declares (or, for one written to the earlier contract, what
    :mod:`.legacy` derives)."""
    return declared(cls) or legacy.derive(cls)


@cache
def _default_dialect() -> Dialect:
    return load_dialect(DEFAULT_DIALECT, allow_path=False)


def load_backend(name: str, *, stop: Sequence[str] | None = None, dialect: Any = None,
                 **options: Any) -> Backend:
    """Instantiate the backend called ``name`` with ``options`` (``stop``: the dialect's stop
    strings; ``dialect``: the run's dialect, or eval's list of them, given only to a backend
    that declares ``takes_dialect``)."""
    target = registry().get(name)
    if target is None:
        raise BackendError(f"unknown backend {name!r} (installed: {', '.join(sorted(registry()))})")
    module, _, attr = target.partition(":")
    try:
        cls = getattr(import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise BackendError(f"backend {name!r} cannot be loaded: {e}") from None
    contract = contract_of(cls)
    flags = contract.flags
    unknown = [k for k in options if (contract.accepts is not None and k not in contract.accepts)
               or (flags is not None and k in _user_flags() and k not in flags)]
    if unknown:
        takes = ", ".join(flag(k) for k in flags or ()) or "no options"
        raise BackendError(f"backend {name!r} does not take {flag(unknown[0])} (it takes {takes})")
    internal: dict[str, Any] = {} if stop is None else {"stop": stop}
    if contract.takes_dialect:
        internal["dialect"] = _default_dialect() if dialect is None else dialect
    try:
        return contract.make(options, internal)
    except TypeError as e:  # a third party's class that does not fit its own declarations
        raise BackendError(f"backend {name!r} cannot be built as it declares: "
                           f"{one_line(e, 200)}") from None


@cache
def _user_flags() -> frozenset[str]:
    """The options the command line passes (the built-in backends' flags): each must be one a
    backend lists, even one that takes anything else from code."""
    found: set[str] = set()
    for target in BUILTIN.values():
        module, _, attr = target.partition(":")
        found.update(contract_of(getattr(import_module(module), attr)).flags or ())
    return frozenset(found)


def describe(name: str) -> str:
    """A backend's one-line description (its class docstring's first line) and the options it
    takes, without instantiating it; a backend that cannot be imported says why."""
    module, _, attr = registry().get(name, ":").partition(":")
    try:
        cls = getattr(import_module(module), attr)
        contract = contract_of(cls)
    except Exception as e:  # noqa: BLE001 - a broken third-party backend is reported, not raised
        return f"(cannot be loaded: {type(e).__name__}: {e})"
    doc = (cls.__doc__ or "").strip().splitlines()
    takes = "any options" if contract.flags is None else (
        ", ".join(flag(o) for o in contract.flags) or "no options")
    return f"{doc[0] if doc else '(no description)'} Options: {takes}."


__all__ = ["Backend", "BackendError", "Completion", "Contract", "GROUP", "NoOptions", "contract_of",
           "describe", "load_backend", "registry", "tuning"]
