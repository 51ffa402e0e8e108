"""A small progress bar for long runs, on stderr, without a tqdm dependency.

The bar appears only when

* the stream is a terminal (``stream.isatty()``): piped or redirected output, CI logs
  and captured test output stay clean, and
* the run has lasted longer than ``delay`` seconds: short runs print nothing.

It is redrawn by a daemon thread a few times per second, because a single judged
claim can run for its whole time budget without reporting back: the elapsed time keeps
moving, so a user sees that the run is alive. The estimate of the total time is computed
from the steps already finished (their mean time, times the number of steps), and shown
only once one has finished: a budget cap is an upper bound, not an estimate (most claims
finish well inside theirs), so it is never shown as one.

Examples
--------
>>> import io
>>> with Progress(total=2, stream=io.StringIO()) as bar:   # not a terminal: silent
...     bar.advance("first")
...     bar.advance("second")
>>> bar.done
2
"""

from __future__ import annotations

import sys
import threading
import time
from typing import IO

from ._validation import check_int, check_real

__all__ = ["Progress"]


def _format_seconds(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:4.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s"


class Progress:
    """Progress over ``total`` steps (claims to judge), drawn on ``stream`` when it is a terminal.

    Parameters
    ----------
    total : int
        Number of steps.
    stream : file-like, optional
        Where to draw (default ``sys.stderr``).
    enabled : bool, optional
        Force the bar on or off; by default on iff ``stream.isatty()``.
    delay : float
        Seconds before the bar first appears (default 2.0).
    expected_seconds : float, optional
        An upper bound on the whole run (e.g. the sum of the time budgets): the estimate
        shown never exceeds it. It is not shown by itself.
    width : int
        Width of the bar in characters.
    interval : float
        Seconds between redraws.
    """

    def __init__(self, total: int, *, stream: IO[str] | None = None, enabled: bool | None = None,
                 delay: float = 2.0, expected_seconds: float | None = None, width: int = 24,
                 interval: float = 0.25):
        self.total = check_int(total, "total", "Progress", min_value=0)
        self.stream = sys.stderr if stream is None else stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty()) if callable(isatty) else False
        self.enabled = bool(enabled)
        self.delay = check_real(delay, "delay", "Progress", ge=0.0)
        self.expected_seconds = (None if expected_seconds is None else
                                 check_real(expected_seconds, "expected_seconds", "Progress", ge=0.0))
        self.width = check_int(width, "width", "Progress", min_value=4)
        self.interval = check_real(interval, "interval", "Progress", gt=0.0)
        self.done = 0
        self.label = ""
        self.started = time.monotonic()
        self._finished_at = self.started  # when the last step finished: the estimate's base
        self.drawn = False
        self._last_len = 0
        self._lock = threading.Lock()
        self._draw_lock = threading.Lock()  # the timer thread and advance() both draw
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if self.enabled:
            self._thread = threading.Thread(target=self._loop, name="theorycheck-progress", daemon=True)
            self._thread.start()

    # -- public -----------------------------------------------------------------------
    def start_step(self, label: str) -> None:
        """Say which step is now running (shown next to the bar)."""
        with self._lock:
            self.label = str(label)

    def advance(self, label: str | None = None, n: int = 1) -> None:
        """Mark ``n`` steps as finished; ``label`` names the step just finished."""
        with self._lock:
            self.done = min(self.total, self.done + n) if self.total else self.done + n
            self._finished_at = time.monotonic()
            if label is not None:
                self.label = str(label)
        if self.enabled and self.elapsed >= self.delay:
            self._draw()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def estimate(self) -> float | None:
        """Estimated total seconds, from the mean time of the finished steps; None before one finished.

        Never below the time already elapsed, never above ``expected_seconds`` when given.
        """
        with self._lock:
            done, total, finished_at = self.done, self.total, self._finished_at
        if done <= 0 or not total:
            return None
        guess = (finished_at - self.started) / done * total
        if self.expected_seconds:
            guess = min(guess, self.expected_seconds)
        return max(guess, self.elapsed)

    def render(self) -> str:
        """The current bar as one line of text (without carriage return)."""
        with self._lock:
            done, total, label = self.done, self.total, self.label
        fraction = done / total if total else 0.0
        elapsed = self.elapsed
        filled = int(round(fraction * self.width))
        bar = "#" * filled + "." * (self.width - filled)
        timing = _format_seconds(elapsed)
        guess = self.estimate() if done < total else None
        if guess is not None:
            timing += f" / ~{_format_seconds(guess)}"
        text = f"[{bar}] {done}/{total} {timing}"
        if label:
            text += f"  {label}"
        return text[:120]

    def close(self) -> None:
        """Stop redrawing and clear the bar line (nothing is left behind on the terminal)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None
        with self._draw_lock:
            self._clear()

    def _clear(self) -> None:
        if self.drawn:
            try:
                self.stream.write("\r" + " " * self._last_len + "\r")
                self.stream.flush()
            except (OSError, ValueError):  # a closed terminal must not fail the run
                pass
            self.drawn = False

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            if self.elapsed >= self.delay:
                self._draw()

    def _draw(self) -> None:
        with self._draw_lock:
            self._draw_locked()

    def _draw_locked(self) -> None:
        if self._stop.is_set():
            return
        line = self.render()
        pad = max(0, self._last_len - len(line))
        try:
            self.stream.write("\r" + line + " " * pad)
            self.stream.flush()
        except (OSError, ValueError):
            self._stop.set()
            return
        self._last_len = len(line)
        self.drawn = True
