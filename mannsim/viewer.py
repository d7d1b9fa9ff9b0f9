"""``mannsim trace view``: an interactive step-through viewer for traces (Textual).

Each cycle shows the step, state, head, symbol read, the tape around the head (from the
reference machine, which the trace's checks tie to MEMORY), the prompt with its constant boot
folded away (collapsible), the raw model answer, what it parsed to, the reference check,
latency, tokens and whether it came from the cache. The trace is indexed, not parsed, when
opened, so a 40,000-cycle trace opens at once.
"""
from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Collapsible, Footer, Input, Static

from .errors import MannsimError
from .safe_text import one_line, printable
from .trace import Cycle, TraceIndex
from .trace.views import cycle_view, cycle_writes

HELP = """\
keys
  → / n        next cycle            ← / p        previous cycle
  + / -        jump 10               pgdn / pgup  jump 100
  home / end   first / last cycle    g            go to cycle …
  space        play / pause          [ / ]        slower / faster
  d            first divergence      s / r        search forward / backward:
                                                  STATE, STATE SYMBOL, or @CELL
  ?            this help             q            quit"""
#: Cycles per second of play mode, chosen with [ and ].
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000)


class TraceViewer(App[None]):
    CSS = """
    #title { background: $primary; color: $text; padding: 0 1; }
    #status, #tape, #answer, #check { padding: 0 1; }
    #ask { dock: bottom; display: none; }
    #help { display: none; padding: 1 2; border: round $accent; }
    """
    BINDINGS = [
        Binding("right,n", "move(1)", "next"), Binding("left,p", "move(-1)", "prev"),
        Binding("plus,equals_sign", "move(10)", "+10", show=False),
        Binding("minus", "move(-10)", "-10", show=False),
        Binding("pagedown", "move(100)", "+100", show=False),
        Binding("pageup", "move(-100)", "-100", show=False),
        Binding("home", "first", "first", show=False), Binding("end", "last", "last", show=False),
        Binding("g", "ask('goto')", "go to"), Binding("d", "divergence", "divergence"),
        Binding("space", "play", "play/pause"),
        Binding("left_square_bracket", "speed(-1)", "slower", show=False),
        Binding("right_square_bracket", "speed(1)", "faster", show=False),
        Binding("s", "ask('search')", "search"), Binding("r", "ask('back')", "search back"),
        Binding("question_mark", "help", "help"), Binding("q", "quit", "quit"),
    ]

    def __init__(self, index: TraceIndex, start: int = 1, follow: bool = False) -> None:
        super().__init__()
        self.ix = index
        self.follow = follow
        self.k = min(max(1, start), max(1, len(index)))
        self.asking: str | None = None
        self.message = ""
        self.playing = False
        self.speed = 3  # index into SPEEDS
        self._play_timer: Timer | None = None
        self._carry = 0.0

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        with VerticalScroll():
            yield Static(id="status")
            yield Static(id="tape")
            yield Static(id="check")
            yield Static(id="answer")
            with Collapsible(title="prompt (boot folded)", collapsed=False, id="prompt-box"):
                yield Static(id="prompt")
            yield Static(HELP, id="help")
        yield Input(id="ask")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_view()
        if self.follow:
            self.set_interval(0.5, self.reload)

    def reload(self) -> None:
        """Follow a trace that is being written: re-index it, and stay on the last cycle if
        that is where the view was."""
        at_end = self.k >= len(self.ix)
        try:
            fresh = TraceIndex(self.ix.path)
        except Exception:  # noqa: BLE001 - a half-written file: try again at the next tick
            return
        fresh.continue_from(self.ix)  # what was checked stays checked: no replay from cycle 0
        self.ix.close()
        self.ix = fresh
        self.go(len(fresh) if at_end else self.k, "following the run" if fresh.end is None
                else f"run ended: {fresh.end.reason}")

    # -- rendering -----------------------------------------------------------------------
    def texts(self) -> dict[str, str]:
        """What the screen shows, as plain text by panel (used by the tests)."""
        return {name: str(self.query_one(f"#{name}", Static).content)
                for name in ("title", "status", "tape", "check", "answer", "prompt")}

    def refresh_view(self) -> None:
        n = len(self.ix)
        head = self.ix.header
        title = (f"{head.program_name or self.ix.path} on {head.backend_name}   "
                 f"cycle {self.k:,} / {n:,}")
        if self.message:
            title += f"   — {self.message}"
        self.query_one("#title", Static).update(Text(one_line(title, 300)))
        if n == 0:
            self.query_one("#status", Static).update("(no cycles in this trace)")
            return
        try:
            v = cycle_view(self.ix, self.k, radius=self.radius())
        except MannsimError as e:  # a bad record in a hostile trace: say so, keep the viewer
            self.query_one("#status", Static).update(Text(one_line(f"cannot show cycle "
                                                                   f"{self.k}: {e}", 400),
                                                          style="bold red"))
            return
        self.query_one("#status", Static).update(Text(one_line(
            f"step {self.k}   state {v.get('state')}   head {v.get('head')}   read "
            f"{v.get('read')}   latency {float(v.get('ms') or 0):.3f} ms   tokens "
            f"{v.get('tin', 0)} in / {v.get('tout', 0)} out   "
            + ("cached" if v.get("cached") else "model call"), 400)))
        tape = Text("")
        pad = " " * 6
        head_col = len(pad)
        line = Text("tape  ")
        for c, sym in v["tape"]:
            if c == v.get("head"):
                head_col = len(line.plain)
            line.append(sym, style="bold reverse" if c == v.get("head") else "")
        state = one_line(v.get("state"), 40)
        tape.append(" " * head_col + f"▼ {state}\n", style="bold cyan")  # the state on the tape
        tape.append_text(line)
        tape.append("\n" + " " * head_col + f"^ cell {v.get('head')}")
        self.query_one("#tape", Static).update(tape)
        ok = v.get("check") == "ok"
        checked = v.get("checked") or {}
        problems = checked.get("problems") or []
        if not ok:
            check = Text("check ✗ diverged from the reference machine", style="bold red")
        elif problems:
            check = Text("check ! the record disagrees with the reference machine: "
                         + one_line("; ".join(problems), 400), style="bold red")
        elif checked.get("verified"):
            check = Text("check ✓ matches the reference machine", style="green")
        else:
            check = Text("check ? recorded ok, not checked here ("
                         + ("the tape comes from an unchecked snapshot"
                            if checked.get("config") == "snapshot" else
                            "the trace's dialect is not a shipped one") + ")", style="yellow")
        d = v.get("divergence")
        if d:
            check.append(f"\n  {one_line(d.get('reason'))}\n  expected "
                         f"{one_line(d.get('expected'), 400)}\n  actual   "
                         f"{one_line(d.get('actual'), 400)}")
        self.query_one("#check", Static).update(check)
        answer = Text("answer  ")
        answer.append(one_line(repr(v.get("answer")), 600), style="cyan")
        answer.append(f"\nwrites  {one_line(cycle_writes(self.ix, Cycle.from_json(v)), 600)}")
        self.query_one("#answer", Static).update(answer)
        self.query_one("#prompt", Static).update(Text(printable(v.get("prompt_block") or "")))

    def radius(self) -> int:
        """Cells shown each side of the head: as many as the terminal is wide."""
        width = self.size.width or 80
        wide = self.ix.machine().word_symbols if len(self.ix) else False
        return max(8, (width - 10) // (2 * (2 if wide else 1)))

    def on_resize(self, event: events.Resize) -> None:
        if len(self.ix):
            self.refresh_view()

    # -- actions -------------------------------------------------------------------------
    def go(self, k: int, message: str = "") -> None:
        self.k = min(max(1, k), max(1, len(self.ix)))
        self.message = message
        self.refresh_view()

    def action_move(self, delta: int) -> None:
        self.go(self.k + delta)

    def action_first(self) -> None:
        self.go(1)

    def action_last(self) -> None:
        self.go(len(self.ix))

    def action_divergence(self) -> None:
        try:
            k = self.ix.first_divergence()
        except MannsimError as e:
            self.go(self.k, f"cannot search: {e}")
            return
        if k is None:
            self.go(self.k, "no divergence in this trace")
        else:
            self.go(k, f"first divergence: cycle {k}")

    def action_play(self) -> None:
        self.playing = not self.playing and self.k < len(self.ix)
        if self.playing and self._play_timer is None:
            self._play_timer = self.set_interval(0.05, self._tick)
        elif not self.playing and self._play_timer is not None:
            self._play_timer.stop()
            self._play_timer = None
        self.go(self.k, f"playing at {SPEEDS[self.speed]:,} cycles/s" if self.playing else "paused")

    def _tick(self) -> None:
        self._carry += SPEEDS[self.speed] * 0.05
        steps = int(self._carry)
        self._carry -= steps
        if steps:
            self.go(self.k + steps, f"playing at {SPEEDS[self.speed]:,} cycles/s")
        if self.k >= len(self.ix):
            self.action_play()

    def action_speed(self, delta: int) -> None:
        self.speed = min(len(SPEEDS) - 1, max(0, self.speed + delta))
        self.go(self.k, f"speed {SPEEDS[self.speed]:,} cycles/s")

    def action_help(self) -> None:
        box = self.query_one("#help", Static)
        box.display = not box.display

    def action_ask(self, what: str) -> None:
        self.asking = what
        box = self.query_one("#ask", Input)
        box.placeholder = ("go to cycle:" if what == "goto" else
                           f"search {'back' if what == 'back' else 'forward'}: STATE, "
                           "STATE SYMBOL, or @CELL")
        box.value = ""
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        box = self.query_one("#ask", Input)
        box.display = False
        value = event.value.strip()
        if self.asking == "goto":
            try:
                self.go(int(value.replace(",", "")))
            except ValueError:
                self.go(self.k, f"not a cycle number: {value!r}")
        elif self.asking in ("search", "back"):
            self.search(value, -1 if self.asking == "back" else 1)
        self.asking = None

    def search(self, query: str, direction: int = 1) -> None:
        """The next (or previous) cycle in STATE, in STATE reading SYMBOL, or with the head on
        @CELL, wrapping around."""
        words = query.split()
        if not words:
            return
        cell = None
        if words[0].startswith("@"):
            try:
                cell = int(words[0][1:])
            except ValueError:
                self.go(self.k, f"not a cell: {words[0]!r}")
                return
        state = None if cell is not None else words[0]
        symbol = words[1] if len(words) > 1 and cell is None else None
        n = len(self.ix)
        try:
            for step in range(1, n + 1):
                k = (self.k - 1 + direction * step) % n + 1
                rec = self.ix.cycle(k)
                if (cell is not None and rec.head == cell) or (
                        cell is None and rec.state == state
                        and (symbol is None or rec.read == symbol)):
                    self.go(k, f"{query} at cycle {k}")
                    return
        except MannsimError as e:
            self.go(self.k, f"cannot search: {e}")
            return
        self.go(self.k, f"{query!r} never occurs")

    def search_state(self, state: str) -> None:
        self.search(state, 1)
