"""The error types for bad user input (exit code 2) and failed endpoint checks (exit code 1)."""

from __future__ import annotations

from collections.abc import Iterable


class SettingsError(Exception):
    """Bad input: names the stack, the key, what is wrong and what would be right, on one line."""

    def __init__(self, stack: str, key: str, problem: str, fix: str) -> None:
        self.stack = stack
        self.key = key
        self.problem = problem
        self.fix = fix
        super().__init__(str(self))

    def __reduce__(self) -> tuple[type[SettingsError], tuple[str, str, str, str]]:
        # Rebuilt from its parts when a forked planning worker sends it back to the parent.
        return SettingsError, (self.stack, self.key, self.problem, self.fix)

    def __str__(self) -> str:
        # "-": a command-line problem, not a stack's.
        where = "" if self.stack == "-" else f"stack {self.stack}: "
        text = f"{where}{self.key}: {self.problem}; {self.fix}"
        # The contract is one line on stderr, whatever the user typed into the stack file: no
        # line breaks, and no control characters that could rewrite the user's terminal.
        line = " ".join(text.split())
        return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in line)


class EndpointError(Exception):
    """A live endpoint failed a check: one line on stderr, exit code 1 (the input was fine)."""

    def __str__(self) -> str:
        # One line, as for SettingsError: the text may quote what a server answered.
        line = " ".join(str(self.args[0] if self.args else "").split())
        return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in line)


# Up to this many valid values, a hint lists them all; beyond, the nearest few by edit distance.
ALL_CHOICES_UP_TO = 12
NEAREST = 5


def choices(value: object, valid: Iterable[object]) -> str:
    """The valid values for a 'use one of' hint: all of them, or the nearest to `value` in spelling.

    Nearest means fewest single-letter edits (Levenshtein distance, ignoring case), ties in the
    order given, so that `hftoken` suggests hfToken first.
    """
    names = list(dict.fromkeys(str(choice) for choice in valid))
    if len(names) <= ALL_CHOICES_UP_TO:
        return ", ".join(names)
    typed = str(value).lower()[:200]
    nearest = sorted(names, key=lambda name: edit_distance(typed, name.lower()))[:NEAREST]
    return f"{', '.join(nearest)} (the nearest of {len(names)})"


def edit_distance(a: str, b: str) -> int:
    """How many single-character insertions, deletions or substitutions turn `a` into `b`."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]
