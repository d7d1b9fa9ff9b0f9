"""``mannsim eval``: a backend's report card, verify over a suite of machines.

The suite (:mod:`.suite`) is the shipped programs plus N random machines from each named
distribution:

- ``training``: drawn like the embedded model's training data (`mannsim.train.data`): 2-7
  states named by a capital, two characters or a short word; 2-4 symbols, digits or a pool of
  letters and punctuation.
- ``human``: machines written the way people write them: 2-7 states named by words joined with
  ``_`` or ``-``, often with digits (``carry_halt_``, ``seek_left2``, ``done_23``); 2-5 symbols
  such as ``#``, ``X``, ``a``, ``y``, ``_``, ``0``, ``1``.
- ``large``: 8-10 states with names of up to 16 characters (letters, digits, ``_`` and ``-``
  anywhere), 5-8 symbols from a wide printable set.

Every case a backend fails is put in one class of a taxonomy (:func:`classify`, :mod:`.taxonomy`):
over-long, format error, wrong branch, copy error in the state name, wrong symbol, wrong move,
other. Each failure example names its machine by an id (``human:1000003:17``: the 18th machine
of the human distribution with seed 1000003; ``programs:bb5``) from which :func:`machine_from_id`
draws it again (``mannsim eval --rerun ID``).

The card (:func:`make_card`, :mod:`.card`; rendered by :mod:`.render` and :mod:`.chart`) records
what a citation needs: the backend's identity, mannsim's version, the date, seed, dialects (with
their sha256), key policy, wall time, ms per case, tokens where the backend reports them, and
Wilson 95% intervals (:func:`wilson`, :mod:`.stats`) on every rate; :func:`compare`
(:mod:`.comparison`) sets two cards side by side with Newcombe's interval on each difference.
:func:`evaluate` (:mod:`.run`) runs it all.
"""
from .card import CARD_KIND, CARD_VERSION, Card, Cell, make_card, rerun_command, utc_now, who
from .chart import plot, plot_figure
from .comparison import CardError, compare, differences, read_card
from .render import duration, example_where, facts, failures_text, markdown
from .run import BatchMetered, ConcurrentBackend, Metered, Progress, check_concurrency, evaluate
from .stats import Z95, diff_text, newcombe, rate_cells, rate_json, rate_text, wilson
from .suite import (
    DEFAULT_SEED,
    DISTRIBUTIONS,
    MAX_INDEX,
    draw,
    machine_from_id,
    machine_id,
    random_machine,
    shipped_machines,
    suites,
)
from .taxonomy import CLASSES, classify

__all__ = ["CARD_KIND", "CARD_VERSION", "CLASSES", "DEFAULT_SEED", "DISTRIBUTIONS", "MAX_INDEX",
           "Z95", "BatchMetered", "Card", "CardError", "Cell", "ConcurrentBackend", "Metered",
           "Progress", "check_concurrency", "classify", "compare", "diff_text", "differences",
           "draw", "duration", "evaluate", "example_where", "facts", "failures_text",
           "machine_from_id", "machine_id", "make_card", "markdown", "newcombe", "plot",
           "plot_figure", "random_machine", "rate_cells", "rate_json", "rate_text", "read_card",
           "rerun_command", "shipped_machines", "suites", "utc_now", "who", "wilson"]
