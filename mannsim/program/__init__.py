"""Prompt programs: a machine plus a dialect, compiled into a MEMORY image, and decoded back."""
from .compiler import HALT, Case, Program, compile_program, render_listing
from .dialect import Dialect, available, load_dialect

__all__ = ["HALT", "Case", "Program", "compile_program", "render_listing", "Dialect", "available",
           "load_dialect"]
