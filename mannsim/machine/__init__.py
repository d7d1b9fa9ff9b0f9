"""Turing machines: the model, the reference simulator, and file formats."""
from .formats import dump, load, parse
from .model import L, Machine, R, S, Transition
from .simulator import Config, Result, Stepper, configurations, run, run_naive

__all__ = ["L", "R", "S", "Machine", "Transition", "Config", "Result", "Stepper",
           "configurations", "run", "run_naive", "load", "dump", "parse"]
