"""Backends, found by name through the ``mannsim.backends`` entry-point group.

A third-party package adds one by declaring, in its own ``pyproject.toml``::

    [project.entry-points."mannsim.backends"]
    mybackend = "my_package.module:MyBackend"

where ``MyBackend(**options)`` implements :class:`mannsim.backends.base.Backend`.
"""
from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points

from .base import MAX_ANSWER, Backend, BackendError, Completion

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


def load_backend(name: str, **options) -> Backend:
    """Instantiate the backend called ``name`` with ``options``."""
    target = registry().get(name)
    if target is None:
        raise BackendError(f"unknown backend {name!r} (installed: {', '.join(sorted(registry()))})")
    module, _, attr = target.partition(":")
    try:
        cls = getattr(import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise BackendError(f"backend {name!r} cannot be loaded: {e}") from None
    return cls(**options)


__all__ = ["MAX_ANSWER", "Backend", "BackendError", "Completion", "GROUP", "load_backend",
           "registry"]
