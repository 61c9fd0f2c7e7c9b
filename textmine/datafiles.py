"""Read the project's data files (TOML, word lists) with ``FILE:LINE`` error messages."""
from __future__ import annotations

import re
from pathlib import Path

from .errors import DataFileError

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover
    import tomli as tomllib


def read_text(path: Path, what: str) -> str:
    """Return a UTF-8 data file's text, or raise DataFileError naming the file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataFileError(f"{path}: cannot read {what} ({exc.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataFileError(f"{path}:{line}: {what} must be UTF-8") from None


def load_toml(path: Path, what: str) -> tuple[dict, str]:
    """Parse a TOML data file; return the data and its text (for line look-ups)."""
    text = read_text(path, what)
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = match.group(1) if match else len(text.splitlines()) or 1  # "at end of document"
        raise DataFileError(f"{path}:{line}: invalid TOML in {what}: {exc}") from None


def table_lines(text: str, table: str) -> list[int]:
    """Return the line numbers of every ``[[table]]`` header, in order."""
    header = re.compile(rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]")
    return [n for n, line in enumerate(text.splitlines(), 1) if header.match(line)]


def line_of_key(text: str, key: str, start_line: int = 1) -> int:
    """Return the first line at or after ``start_line`` that assigns ``key``."""
    key_re = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*=""")
    for number, line in enumerate(text.splitlines(), 1):
        if number >= start_line and key_re.match(line):
            return number
    return start_line


def read_word_list(path: Path, what: str) -> list[str]:
    """Read a one-entry-per-line list; ``#`` starts a comment, blank lines are skipped."""
    words = []
    for line in read_text(path, what).splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            words.append(entry)
    return words
