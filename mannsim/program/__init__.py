"""Prompt programs: a machine plus a dialect, compiled into a MEMORY image, and decoded back."""
from .compiler import (
    DEFAULT_KEYS,
    HALT,
    KEY_POLICIES,
    Case,
    KeyPolicy,
    Program,
    compile_program,
    render_listing,
)
from .dialect import DEFAULT_DIALECT, Dialect, available, load_dialect

__all__ = ["DEFAULT_DIALECT", "DEFAULT_KEYS", "HALT", "KEY_POLICIES", "Case", "KeyPolicy",
           "Program", "compile_program", "render_listing", "Dialect", "available",
           "load_dialect"]
