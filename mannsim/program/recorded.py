"""The program a file (a trace, a certificate) records: its machine compiled with the key policy
and the shipped dialect it names, looked up in one place (:func:`~.dialect.shipped_dialect`)."""
from __future__ import annotations

from ..machine.model import Machine
from .compiler import KeyPolicy, Program, compile_program
from .dialect import DEFAULT_DIALECT, load_dialect, shipped_dialect


def recorded_program(machine: Machine, keys: KeyPolicy, dialect_name: object,
                     dialect_digest: object) -> tuple[Program, bool]:
    """(program, known): ``known`` when the named dialect is shipped with the recorded digest,
    so the program is the one that ran; otherwise the program compiled with the default
    dialect, good for naming MEMORY keys (they depend on the machine and the key policy only),
    never for checking a prompt or an answer."""
    dialect = shipped_dialect(dialect_name, dialect_digest)
    known = dialect is not None
    return compile_program(machine, dialect or load_dialect(DEFAULT_DIALECT), keys), known
