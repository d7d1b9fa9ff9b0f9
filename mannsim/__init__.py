"""mannsim: run Turing machines with a language model as the CPU (Schuurmans 2023)."""
__version__ = "0.1.0"
