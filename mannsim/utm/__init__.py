"""U15,2 specifics: bi-tag systems, their encoding onto U15,2's tape, decoding results."""
from .bitag import Bitag, BitagError, BitagRun, dump, load, parse, run
from .encode import compile_bitag, decode, encode, u15_machine

__all__ = ["Bitag", "BitagError", "BitagRun", "compile_bitag", "decode", "u15_machine", "dump",
           "encode", "load", "parse", "run"]
