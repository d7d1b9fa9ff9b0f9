"""Every resource limit mannsim applies to input it does not trust, in one place.

SECURITY.md names each limit with its number and the test that holds it. The numbers fit
together: a run's head stays within ``MAX_TAPE_SPAN`` cells of cell 0, so a MEMORY holds at
most ``2 * MAX_TAPE_SPAN + 1`` cells plus the program's keys, which is below ``MAX_KEYS``;
the span cap therefore ends a run (one error line) before the key cap could.
"""
from __future__ import annotations

#: Farthest cell from 0 a head may start on or reach (every cell visited is a MEMORY key).
MAX_TAPE_SPAN = 1 << 20
#: Most cells of an initial tape (how far a run on a backend may then reach is MAX_TAPE_SPAN; how
#: large the reference simulator's tape array may grow is MAX_SIM_TAPE_ARRAY).
MAX_TAPE_CELLS = 1 << 20
#: Most (state, symbol) cells of a transition table (wildcards are expanded into it).
MAX_TABLE = 1 << 16
#: Most states, and most symbols, of a machine.
MAX_STATES = 1 << 14
MAX_SYMBOLS = 1 << 10
#: Longest name (state, symbol, machine name), in characters.
MAX_NAME = 256
#: Most YAML nodes after aliases are expanded (an alias bomb expands exponentially).
MAX_YAML_NODES = 100_000
#: Most characters the list keys of one turingmachine.io document may turn into (a list of
#: aliases to one long string would otherwise multiply it); a table within the limits needs far
#: fewer. And the longest mapping key, once turned into text.
MAX_JOINED_TEXT = 1 << 20
MAX_KEY_TEXT = 1 << 16
#: Most A symbols and most E symbols of a bi-tag system, and most symbols of its word.
MAX_BITAG_SYMBOLS = 512
MAX_BITAG_WORD = 1 << 16
#: Largest U15,2 tape a compilation may produce (cells).
MAX_COMPILED_CELLS = 1 << 20
#: Most cost-model evaluations one compilation's symbol-numbering search makes (each is
#: O(rules)): a large system keeps its frequency order refined as far as this goes.
MAX_RENUMBER_EVALUATIONS = 4000
#: Most A and E symbols (together) a Turing machine's compilation to a bi-tag system may reach.
MAX_CHAIN_SYMBOLS = 4000
#: Most bi-tag steps of the direct run that profiles a compilation (symbol usage, the
#: productions used): a system that halts within them is pruned, merged and renumbered.
MAX_PROFILE_STEPS = 200_000
#: Most bi-tag steps of the direct run whose profile the renumbering prices numberings on.
MAX_RENUMBER_PROFILE_STEPS = 10**6
#: Longest model answer (characters); longer answers are a divergence.
MAX_ANSWER = 4096
#: Default step limit of a run on a backend (cycles, one model call each); ``--max-steps``
#: overrides it.
DEFAULT_BACKEND_STEPS = 10**7
#: Default step limit of a direct run of a bi-tag system (bi-tag steps, on the interpreter, no
#: model): ``mannsim compile`` and ``mannsim decode`` run a .bitag file this far.
DEFAULT_BITAG_STEPS = 10**6
#: Default step limit of a direct run of the bi-tag system compiled from a Turing machine
#: (bi-tag steps, on the interpreter, no model): ``mannsim compile`` and ``mannsim decode`` run
#: the chain this far.
DEFAULT_CHAIN_STEPS = 10**7
#: Default step limit of ``mannsim decode``'s reference run of U15,2; ``--max-steps`` overrides
#: it.
DEFAULT_U15_STEPS = 10**10
#: Most keys a MEMORY may hold: the whole span of cells plus room for any program's keys.
MAX_KEYS = 2 * MAX_TAPE_SPAN + 1 + 2 * MAX_STATES + 16
#: Largest file read as a machine, a bi-tag system or a certificate (bytes).
MAX_FILE_BYTES = 16 << 20
#: Longest trace line (bytes).
MAX_TRACE_LINE = 16 << 20
#: Largest HTTP response body accepted from a server (bytes).
MAX_RESPONSE_BYTES = 1 << 20
#: Most bytes the meta blocks of one compact trace (header, prompts, cases, whole records) may
#: decompress to in all, checked from the block index before anything is decompressed. The
#: biggest traces this project writes hold well under 1 MiB of them (README, Traces); a bomb of
#: 64 MiB blocks needs only about 3 KB of file per block.
MAX_TRACE_META = 64 << 20
#: Most reference-machine steps a trace reader replays to check a compact trace's snapshots
#: against the machine (from the initial configuration, each snapshot in turn): every snapshot
#: of a trace of up to this many cycles is checked before a view uses it; past it, a view that
#: starts from a snapshot says it is unchecked.
MAX_VERIFY_STEPS = 1 << 24
#: Largest tape array the fast reference simulator (``mannsim.machine.simulator.run``, i.e.
#: ``mannsim run`` on the reference backend) allocates, in cells of one byte (256 MiB); the run
#: stops with an error before its array would grow past it. A reference run is not held to
#: MAX_TAPE_SPAN, which bounds a run on a backend (whose MEMORY keeps every cell visited): this
#: cap, 128 times the 2 * MAX_TAPE_SPAN cells of that span, bounds only the simulator's memory.
MAX_SIM_TAPE_ARRAY = 1 << 28
#: Default step limit of a reference run (``mannsim.machine.simulator.run``, and ``mannsim run``
#: on the reference backend); ``--max-steps`` overrides it.
DEFAULT_REFERENCE_STEPS = 10**9
#: Most distinct prompts a run remembers: their answers with ``--memo``, their trace hashes
#: always (a run has few distinct prompts; past this many it asks or hashes again).
MAX_MEMO = 1 << 16
