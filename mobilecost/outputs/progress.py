"""A progress bar for long command-line work: on stderr (a terminal), shown only once the work takes over a second."""

from __future__ import annotations

import time

SHOW_AFTER_S = 1.0


class StepProgress:
    """A rich progress bar on stderr that appears only once the work has taken more than a second.

    Called with a short text after each finished step; cleared when the work ends."""

    def __init__(self, total: int, description: str):
        self.clock = time.monotonic
        self.start = self.clock()
        self.total, self.description, self.done = total, description, 0
        self.progress = self.task = None

    def __call__(self, text: str = "") -> None:
        self.done += 1
        if self.progress is None and self.clock() - self.start > SHOW_AFTER_S:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(stderr=True)
            if not console.is_terminal:  # a log file or a pipe gets no bar (not even its blank line)
                self.start = float("inf")
                return
            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), console=console, transient=True)
            self.progress.start()
            self.task = self.progress.add_task(self.description, total=self.total)
        if self.progress is not None:
            self.progress.update(self.task, completed=self.done, description=f"{self.description}: {text}")

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.stop()
