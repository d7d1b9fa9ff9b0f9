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
    if "dialect" in options and not _takes(cls, "dialect"):
        options.pop("dialect")  # offered to every backend; only some read prompts themselves
    accepted = accepted_options(cls)
    unknown = [k for k in options if k in USER_OPTIONS and accepted is not None
               and k not in accepted]
    if unknown:
        flag = "--" + unknown[0].replace("_", "-")
        takes = ", ".join("--" + k.replace("_", "-") for k in sorted(accepted)) or "no options"
        raise BackendError(f"backend {name!r} does not take {flag} (it takes {takes})")
    return cls(**options)


def describe(name: str) -> str:
    """A backend's one-line description (its class docstring's first line) and the options it
    takes, without instantiating it; a backend that cannot be imported says why."""
    module, _, attr = registry().get(name, ":").partition(":")
    try:
        cls = getattr(import_module(module), attr)
    except Exception as e:  # noqa: BLE001 - a broken third-party backend is reported, not raised
        return f"(cannot be loaded: {type(e).__name__}: {e})"
    doc = (cls.__doc__ or "").strip().splitlines()
    opts = accepted_options(cls)
    takes = "any options" if opts is None else (
        ", ".join("--" + o.replace("_", "-") for o in sorted(opts)) or "no options")
    return f"{doc[0] if doc else '(no description)'} Options: {takes}."


#: Options mannsim itself passes (not typed by the user): ``stop`` to every backend,
#: ``dialect`` (the run's prompt dialect) to a backend whose constructor takes it.
INTERNAL_OPTIONS = ("stop", "dialect")


def _takes(cls, name: str) -> bool:
    import inspect
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False
    return name in params


#: The backend options a user types (the command line's flags); each must be one the chosen
#: backend takes. Other keyword options (tests, benchmarks) go to the constructor as they are.
USER_OPTIONS = ("model", "device", "dtype", "threads", "allow_pickle", "online", "base_url", "api_key",
                "api_mode", "timeout", "retries")


def accepted_options(cls) -> set[str] | None:
    """The user options a backend class takes: its ``OPTIONS``, else its constructor's named
    parameters (None: it takes anything, ``**kwargs``)."""
    declared = getattr(cls, "OPTIONS", None)
    if declared is not None:
        return set(declared)
    import inspect
    try:
        params = inspect.signature(cls).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return {p.name for p in params if p.name not in INTERNAL_OPTIONS}


__all__ = ["MAX_ANSWER", "Backend", "BackendError", "Completion", "GROUP", "USER_OPTIONS", "load_backend",
           "registry"]
