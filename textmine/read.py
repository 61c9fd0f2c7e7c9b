"""Read an analyst's opinion file into a table of strings and map its columns to roles.

``read_table`` turns a CSV/TSV/TXT or XLSX file into a :class:`Table` whose frame holds
only strings, indexed by the row number a spreadsheet shows for each record, so that every
later message can point the analyst at the right row. ``resolve_columns`` finds which
column holds the opinion text, the office, the rating and so on, from the header names
listed in ``corpora/columns.toml``.

Rules worth knowing:

* Text files: the encoding is forced with ``encoding`` or detected (BOM, then strict
  UTF-8, then GB18030, which covers GBK and GB2312). The delimiter is sniffed from the
  header among ``,`` tab ``;`` ``|``. Quoted fields may hold delimiters, doubled quotes
  and newlines; a record with an embedded newline is still one row.
* Leading blank rows and one-cell title rows above the header ("2023年度群众评议意见汇总")
  are skipped; ``Table.header_row`` says where the header was found.
* Blank rows at the end of the file are dropped. Blank rows between data rows are kept with
  their row number (they are rejected downstream as empty opinions, so nothing disappears
  silently).
* Text files are streamed: a block of bytes is decoded at a time, split into lines and
  parsed, and every _CHUNK_ROWS records become string columns, so a million opinions never
  exist as Python strings all at once (benchmarks/read.py). A file whose bytes the stream
  cannot decode is read again whole (GB18030/Big5 detection and the messages naming a line).
"""
from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import datetime as dt
import difflib
import gc
import io
import itertools
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator, Mapping

import pandas as pd

from .clean import in_gb2312
from .datafiles import line_of_key as _line_of_key
from .datafiles import load_toml
from .errors import ColumnError, DataFileError, InputError
from .resources import corpus_path


ROLES: tuple[str, ...] = (
    "text", "office", "satisfaction", "group", "evaluator", "name", "phone", "date",
    "title", "likes", "id",
)
TEXT_SUFFIXES = (".csv", ".tsv", ".txt")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
DELIMITERS = (",", "\t", ";", "|")

_CONTAINMENT_ROLES = ("text", "office")
_VETO_TABLE = "containment_veto"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGIC = b"PK\x03\x04"
# Stream names that only an encrypted OOXML package carries inside its OLE2 container.
_ENCRYPTION_MARKERS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))
_BOMS = (  # longest first: the UTF-32 LE BOM begins with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_STRIP = "\ufeff\u200b"
_MAX_TITLE_ROWS = 3
_MAX_HEADER_NAME = 40  # a "header" cell longer than this is data, not a column name
_SNIFF_LIMIT = 65536
_MAX_CELL = 64 * 1024 * 1024  # characters; a longer "cell" is a quote that never closes
_FIRST_BYTES = 1 << 20  # a text file's first read: encoding, blank-file check (>= 4096 for the UTF-16 guess)
_BLOCK_BYTES = 1 << 20  # then it is read and decoded this many bytes at a time
_HEAD_CHARS = _SNIFF_LIMIT + 16  # decoded before parsing: BOM, "sep=" line and the header to sniff
_PIECE_CHARS = 1 << 20  # a text decoded whole is split into lines this many characters at a time
_CHUNK_ROWS = 50_000  # records held as Python lists before they become string columns
_HEADER_LOOKAHEAD = _MAX_TITLE_ROWS + 3  # filled rows that settle where the header is
_LINE_RE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_SEP_LINE_RE = re.compile(r"sep=(.)(?:\r\n|\n|\r)")
_BLANK_RE = re.compile(r"\s*")
_BIG5_SUSPECT_SHARE = 0.5  # GBK text: > 0.95 of its characters are GB2312; Big5 read as GBK: ~0.3


@dataclass(frozen=True, eq=False)
class Table:
    """An opinion file read as strings.

    ``frame`` has one str column per header name, missing cells as ``""``, and an index
    named ``row`` holding the row number a spreadsheet shows for each record (the header
    is usually row 1, so the first data row is 2).
    """

    frame: pd.DataFrame
    path: Path
    encoding: str | None  # detected or forced; None for xlsx
    sheet: str | None  # xlsx sheet name; None for text files
    delimiter: str | None  # None for xlsx
    header_row: int = 1

    @property
    def source(self) -> str:
        """Name the file, and the sheet for a workbook, as messages should show it."""
        return f"{self.path} (sheet {self.sheet})" if self.sheet is not None else str(self.path)


@dataclass(frozen=True)
class ColumnAliases:
    """Header names that identify each role, in order, plus containment vetoes."""

    names: Mapping[str, tuple[str, ...]]
    veto: Mapping[str, tuple[str, ...]]
    source: str = "<memory>"


# --------------------------------------------------------------------------- reading


def read_table(path: str | Path, *, encoding: str | None = None,
               sheet: str | int | None = None) -> Table:
    """Read a .csv/.tsv/.txt or .xlsx/.xlsm opinion file into a :class:`Table` of strings.

    encoding: force the text encoding (ignored for workbooks); detected when None.
    sheet: workbook sheet by name or 1-based number (a digit string counts as a number when
        no sheet has that name); the first sheet when None. Ignored for text files.
    Raises InputError for every problem the analyst can fix.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return _read_text(path, suffix, encoding)
    data = _read_bytes(path)
    if suffix in XLSX_SUFFIXES:
        return _read_xlsx(path, data, sheet)
    if suffix == ".xls":
        raise InputError(f"{path}: .xls (Excel 97-2003) files are not supported; "
                         "open it in Excel or WPS and save it as .xlsx")
    kind = f"'{suffix}'" if suffix else "without an extension"
    raise InputError(f"{path}: unsupported file type {kind}; "
                     "textmine reads .csv, .tsv, .txt, .xlsx and .xlsm files")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _file_error(path, exc) from None


def _file_error(path: Path, exc: OSError) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{path}: no such file")
    if isinstance(exc, IsADirectoryError):
        return InputError(f"{path} is a directory, not a file")
    return InputError(f"{path}: cannot read the file ({exc.strerror or exc})")


class _Fallback(Exception):
    """The streaming reader met something only the whole-file reader handles exactly."""


def _read_text(path: Path, suffix: str, encoding: str | None) -> Table:
    """Read a text file as a stream of decoded pieces; the whole file at once when needed.

    The stream decodes a block of bytes at a time with the encoding the first bytes imply
    (forced, byte-order mark, NUL pattern of UTF-16, else UTF-8). When that is not the whole
    story — a byte that does not decode (GB18030, Big5, or a message naming the bad line),
    a file starting with a megabyte of blanks — the file is read again whole and decoded
    as before; both feed the same parser, so the table and every message are the same.
    """
    try:
        with open(path, "rb") as handle:
            return _read_stream(path, handle, suffix, encoding)
    except _Fallback:
        pass
    except OSError as exc:
        raise _file_error(path, exc) from None
    data = _read_bytes(path)
    if not data or data.isspace():
        raise InputError(f"{path} is empty")
    text, used_encoding = _decode(path, data, encoding)
    del data  # the text is all the parser needs
    return _parse_text(path, suffix, used_encoding, text, iter(()), complete=True)


def _read_stream(path: Path, handle: BinaryIO, suffix: str, encoding: str | None) -> Table:
    first = handle.read(_FIRST_BYTES)
    complete = len(first) < _FIRST_BYTES
    if not first or first.isspace():
        if complete:
            raise InputError(f"{path} is empty")
        raise _Fallback
    if encoding is not None:
        codec = used_encoding = _lookup_codec(path, encoding)
        skip = 0
    else:
        codec, used_encoding, skip = _codec_of_start(first)
    try:
        decoder = codecs.getincrementaldecoder(codec)()
    except (LookupError, TypeError):
        raise _Fallback from None
    blocks = itertools.chain((first[skip:],), iter(lambda: handle.read(_BLOCK_BYTES), b""))
    del first
    pieces = _decoded_pieces(decoder, blocks)
    head, complete = _take_head(pieces)
    return _parse_text(path, suffix, used_encoding, head, pieces, complete=complete)


def _codec_of_start(data: bytes) -> tuple[str, str, int]:
    """Return the codec, the encoding name to report and the BOM length, as _detect would
    choose them if the whole file decodes (UTF-8 when nothing else is implied)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return ("utf-8" if name == "utf-8-sig" else name), name, len(bom)
    utf16 = _guess_bomless_utf16(data)
    if utf16:
        return utf16, utf16, 0
    return "utf-8", "utf-8", 0


def _decoded_pieces(decoder, blocks: Iterable[bytes]) -> Iterator[str]:
    try:
        for block in blocks:
            piece = decoder.decode(block)
            if piece:
                yield piece
        piece = decoder.decode(b"", True)
    except Exception:  # a byte that does not decode; an incremental decoder that is stricter than
        raise _Fallback from None  # decoding whole (UTF-16 without a BOM): decode the whole file
    if piece:
        yield piece


def _take_head(pieces: Iterator[str]) -> tuple[str, bool]:
    """Join the first pieces until they hold _HEAD_CHARS characters; True if that is all."""
    parts: list[str] = []
    length = 0
    for piece in pieces:
        parts.append(piece)
        length += len(piece)
        if length >= _HEAD_CHARS:
            return "".join(parts), False
    return "".join(parts), True


def _parse_text(path: Path, suffix: str, used_encoding: str, head: str, rest: Iterator[str], *,
                complete: bool) -> Table:
    """Parse the text ``head`` + ``rest``; ``complete`` says that ``head`` is all of it."""
    start = 1 if head.startswith("\ufeff") else 0
    if _BLANK_RE.fullmatch(head, start):
        if complete:
            raise InputError(f"{path} is empty")
        raise _Fallback
    # Excel writes a "sep=;" line to declare the delimiter and does not show it as a row.
    declared = _SEP_LINE_RE.match(head, start)
    if declared:
        delimiter = declared.group(1)
        start = declared.end()
    else:
        delimiter = _sniff_delimiter(head[start:start + _SNIFF_LIMIT], suffix)
    pieces = itertools.chain(_slices(head, start, _PIECE_CHARS), rest)
    frame, header_row = _parse_table(path, pieces, delimiter)
    return Table(frame=frame, path=path, encoding=used_encoding, sheet=None,
                 delimiter=delimiter, header_row=header_row)


def _slices(text: str, start: int, size: int) -> Iterator[str]:
    for position in range(start, len(text), size):
        yield text[position:position + size]


def _decode(path: Path, data: bytes, encoding: str | None) -> tuple[str, str]:
    """Return the text and the encoding used: ``encoding`` if given, else detected."""
    if encoding is not None:
        codec = _lookup_codec(path, encoding)
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError as exc:
            line, shown = _failure_position(data, codec, exc)
            try:
                detected = _detect(data)[1]
            except _Undecodable:
                detected = None
            if detected and detected != codec:
                hint = f"the file looks like {detected} — pass --encoding {detected} or leave --encoding out"
            else:
                hint = "pass --encoding with the file's real encoding (e.g. gb18030, utf-16, big5)"
            raise InputError(f"{path}: line {line} cannot be decoded as {codec} "
                             f"(bytes {shown}); {hint}") from None
    try:
        return _detect(data)
    except _Undecodable as exc:
        raise InputError(f"{path}: {exc}; pass --encoding with the file's encoding "
                         "(e.g. --encoding big5) or save it as UTF-8") from None


class _Undecodable(Exception):
    """No detection rule could decode the bytes; the message says where it failed."""


def _detect(data: bytes) -> tuple[str, str]:
    """Decode by BOM, then BOM-less UTF-16, then strict UTF-8, then GB18030."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            codec = "utf-8" if name == "utf-8-sig" else name  # positions relative to the body
            body = data[len(bom):]
            try:
                return body.decode(codec), name
            except UnicodeDecodeError as exc:
                line, shown = _failure_position(body, codec, exc)
                raise _Undecodable(f"line {line} is not valid {codec.upper()} although the file "
                                   f"starts with a {codec.upper()} byte-order mark (bytes {shown})") from None
    utf16 = _guess_bomless_utf16(data)
    if utf16:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_line, utf8_bytes = _failure_position(data, "utf-8", exc)
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        gb_line, gb_bytes = _failure_position(data, "gb18030", exc)
    else:
        # Big5 (traditional, Taiwan/Hong Kong) bytes are mostly valid GB18030 too, but read
        # that way they give rare characters outside GB2312; real GBK text hardly has any.
        if _gb2312_share(text) < _BIG5_SUSPECT_SHARE:
            try:
                return data.decode("big5"), "big5"
            except UnicodeDecodeError:
                pass
        return text, "gb18030"
    raise _Undecodable(
        f"the encoding is neither UTF-8 (line {utf8_line}: bytes {utf8_bytes}) "
        f"nor GB18030/GBK (line {gb_line}: bytes {gb_bytes})")


def _gb2312_share(text: str) -> float:
    """Share of the Chinese characters of ``text`` (first 20,000) that GB2312 can encode."""
    cjk = [ch for ch in text[:20000] if ord(ch) >= 0x3400 and not 0xFF00 <= ord(ch) <= 0xFFEF
           and unicodedata.category(ch) in ("Lo", "Co")]
    if len(cjk) < 10:
        return 1.0
    encodable = sum(1 for ch in cjk if in_gb2312(ch))
    return encodable / len(cjk)


def _guess_bomless_utf16(data: bytes) -> str | None:
    """Name a UTF-16 codec when the NUL bytes say so; text in other encodings has none."""
    sample = data[:4096]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    if odd > len(sample) // 20 and even == 0:
        return "utf-16-le"
    if even > len(sample) // 20 and odd == 0:
        return "utf-16-be"
    return None


def _lookup_codec(path: Path, encoding: str) -> str:
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise InputError(f"{path}: unknown encoding {encoding!r}; "
                         "use a name such as utf-8, gb18030, gbk, utf-16 or big5")
    return info.name


def _failure_position(data: bytes, codec: str, exc: UnicodeDecodeError) -> tuple[int, str]:
    """Return the 1-based line of a decoding failure and the offending bytes in hex."""
    before = data[: exc.start].decode(codec, errors="replace")
    line = len(re.split(r"\r\n|\r|\n", before))
    shown = " ".join(f"{b:02x}" for b in data[exc.start: max(exc.end, exc.start + 1)][:4])
    return line, shown


def _sniff_delimiter(text: str, suffix: str) -> str:
    """Pick the delimiter that occurs most often, outside quotes, in the header line.

    A header without any delimiter means one column; the default then is tab for .tsv and
    .txt (Excel's text exports) and comma for .csv. Later lines are never consulted: in a
    one-column file they hold opinions, whose commas are not delimiters.
    """
    preferred = ("\t",) + tuple(d for d in DELIMITERS if d != "\t") if suffix == ".tsv" else DELIMITERS
    counts = _header_delimiter_counts(text)
    best = max(preferred, key=lambda d: counts[d])  # ties go to the earlier delimiter
    if counts[best]:
        return best
    return "," if suffix == ".csv" else "\t"


def _header_delimiter_counts(text: str) -> dict[str, int]:
    """Count delimiters outside quotes in the first non-blank logical line."""
    counts = dict.fromkeys(DELIMITERS, 0)
    in_quotes = False
    seen_content = False
    for ch in text[:_SNIFF_LIMIT]:
        if ch == '"':
            in_quotes = not in_quotes
        elif not in_quotes and ch in "\r\n":
            if seen_content:
                break
            counts = dict.fromkeys(DELIMITERS, 0)
            continue
        elif not in_quotes and ch in counts:
            counts[ch] += 1
        if not ch.isspace():
            seen_content = True
    return counts


class _LineFeed:
    """The physical lines of a text given in pieces, split as ``io.StringIO(text,
    newline="").readlines()`` splits the whole text (after LF, CRLF or a lone CR).

    Lines are produced a piece at a time; the pieces still holding lines of the record being
    parsed are kept, so that the end-of-file quote check can read the last record's lines.
    """

    def __init__(self, pieces: Iterator[str]):
        self._pieces = pieces
        self._kept: collections.deque[tuple[int, list[str]]] = collections.deque()  # (first line number, lines)
        self._count = 0

    def __iter__(self) -> Iterator[str]:
        return itertools.chain.from_iterable(self._batches())

    def _batches(self) -> Iterator[list[str]]:
        carry: list[str] = []
        for piece in self._pieces:
            cut = _after_last_break(piece)
            if not cut:
                carry.append(piece)
                continue
            if carry:
                prefix = "".join(carry)
                piece, cut, carry = prefix + piece, cut + len(prefix), []
            yield self._keep(_LINE_RE.findall(piece, 0, cut))
            if cut < len(piece):
                carry.append(piece[cut:])
        if carry:
            yield self._keep(_LINE_RE.findall("".join(carry)))

    def _keep(self, lines: list[str]) -> list[str]:
        self._kept.append((self._count + 1, lines))
        self._count += len(lines)
        return lines

    def forget(self, before: int) -> None:
        """Drop kept pieces whose lines all come before line number ``before``."""
        while self._kept and self._kept[0][0] + len(self._kept[0][1]) <= before:
            self._kept.popleft()

    def tail(self, first: int) -> list[str]:
        """Return the lines from line number ``first`` (not forgotten) to the last one read."""
        lines: list[str] = []
        for number, batch in self._kept:
            if number + len(batch) > first:
                lines.extend(batch[max(0, first - number):])
        return lines

    def drain(self) -> None:
        """Decode the rest of the text, so that an encoding problem further on still wins."""
        for _ in self._pieces:
            pass


def _after_last_break(piece: str) -> int:
    """Index just after the last complete line break of ``piece``; 0 when it has none.

    A CR at the very end is not complete: the next piece may start with the LF of a CRLF.
    """
    end = len(piece) - 1 if piece.endswith("\r") else len(piece)
    return max(piece.rfind("\n", 0, end), piece.rfind("\r", 0, end)) + 1


class _Columns:
    """The body rows of a text table, turned into string columns a chunk of rows at a time.

    Only the rows of the current chunk exist as Python lists and strings; earlier chunks are
    already compact (Arrow-backed string arrays under pandas 3). Blank rows wait in
    ``pending`` until a filled row follows them: blank rows at the end of the file are not
    part of the table.
    """

    def __init__(self, source: str, header: list[str], header_index: int, chunk_rows: int):
        self.source = source
        self.header = header
        self.size = len(header)  # a text file's rows may not fill more cells than the header has
        self.first_row = header_index + 2
        self.width = max((i + 1 for i in _filled_or_named(header)), default=0)
        self.pending: list[list[str]] = []
        self.chunk_rows = chunk_rows
        self.flush_at = chunk_rows
        self.rows = 0
        self.failure: str | None = None  # the first row wider than the header, raised after parsing
        self._strings = _StringChunks()
        self._chunks: list[list[object]] = [[] for _ in header]

    def widen(self, record: list[str], row: int, first: int, last: int) -> None:
        """Take in a record with more fields than ``width``: wider, or wider than the header."""
        used = max((i + 1 for i in _filled(record)), default=0)
        if used > self.size:
            if self.failure is None:
                spans = f" (lines {first}–{last} of the file)" if last > first else ""
                self.failure = (f"{self.source}: row {row}{spans} has {len(record)} fields but the "
                                f"header has {self.size}; check the delimiter or quoting")
        elif used > self.width:
            self.width = used

    def flush(self, *, final: bool = False) -> None:
        """Turn the pending rows up to the last filled one into column chunks."""
        pending, size = self.pending, self.size
        keep = len(pending)
        while keep and _is_blank(pending[keep - 1]):
            keep -= 1
        if keep and self.failure is None:
            values = [row if len(row) == size else (row + [""] * size)[:size] for row in pending[:keep]]
            for chunks, cells in zip(self._chunks, zip(*values)):
                chunks.append(self._strings.chunk(cells))
            self.rows += keep
        del pending[:keep]
        if final or self.failure is not None:
            pending.clear()  # blank rows at the end, or rows of a table that is refused
        self.flush_at = len(pending) + self.chunk_rows

    def frame(self) -> pd.DataFrame:
        names = _column_names(self.header, self.width, self.source)
        index = pd.RangeIndex(self.first_row, self.first_row + self.rows, name="row")
        columns = {name: self._strings.join(chunks) for name, chunks in zip(names, self._chunks)}
        return pd.DataFrame(columns, index=index, copy=False)


class _StringChunks:
    """Make string arrays of the dtype ``astype(str)`` gives, from tuples of Python strings.

    Under pandas 3 that dtype is Arrow-backed: cells go straight into pyarrow arrays (4x faster
    than ``pd.array``) and the chunks of a column become one chunked array without a copy
    (20 chunks for a million rows). Joining them into one array measured ~150 MB more at the
    peak, for little: ``to_numpy``/``tolist``, which the job applies first, take the same time
    (a boolean filter is slower on chunks: 0.3 s instead of 0.06 s for a million rows).
    """

    def __init__(self):
        self.dtype = pd.Series([""], dtype=object).astype(str).dtype
        self.arrow = isinstance(self.dtype, pd.StringDtype) and self.dtype.storage == "pyarrow"
        if self.arrow:
            import pyarrow

            self._pa = pyarrow

    def chunk(self, cells: tuple[str, ...]) -> object:
        if self.arrow:
            return self._pa.array(cells, type=self._pa.large_string())
        return pd.array(list(cells), dtype=self.dtype)

    def join(self, chunks: list[object]):
        if self.arrow:
            values = self._pa.chunked_array(chunks, type=self._pa.large_string())
            return pd.arrays.ArrowStringArray(values, dtype=self.dtype)
        return pd.concat([pd.Series(chunk, copy=False) for chunk in chunks], ignore_index=True).array


def _parse_table(path: Path, pieces: Iterator[str], delimiter: str) -> tuple[pd.DataFrame, int]:
    """Parse records from text pieces into a str frame indexed by spreadsheet row number.

    Records are read one at a time: the header is found among the first rows (blank rows and
    up to _MAX_TITLE_ROWS title rows skipped), every body row is checked against its width,
    and rows become columns _CHUNK_ROWS at a time. Errors are raised in the order a
    whole-file parse finds them: a record that cannot be parsed, a quote left open at the
    end, an empty file, a header without data, a row wider than the header, a duplicate name.
    """
    source = str(path)
    feed = _LineFeed(pieces)
    reader = csv.reader(feed, delimiter=delimiter, quotechar='"', doublequote=True)
    head: list[tuple[list[str], int, int]] = []  # (record, first line, last line) until the header is known
    filled = 0
    columns: _Columns | None = None
    number = consumed = first = 0
    try:
        with _field_limit(_MAX_CELL), _gc_paused():  # a 1 MB opinion is one legitimate cell
            for record in reader:
                first, consumed = consumed + 1, reader.line_num
                number += 1
                if columns is not None:
                    if len(record) > columns.width:
                        columns.widen(record, number, first, consumed)
                    columns.pending.append(record)
                    if len(columns.pending) >= columns.flush_at:
                        columns.flush()
                        feed.forget(first)
                    continue
                head.append((record, first, consumed))
                if not _is_blank(record):
                    filled += 1
                    if filled == _HEADER_LOOKAHEAD:
                        columns = _start_columns(source, head, _CHUNK_ROWS)
                        head = []
            if columns is None and filled:
                columns = _start_columns(source, head, _CHUNK_ROWS)
    except csv.Error as exc:
        feed.drain()
        row = number + 1
        if "field larger than field limit" in str(exc):
            raise InputError(
                f"{path}: row {row} (from line {consumed + 1}) has a cell longer than "
                f"{csv.field_size_limit()} characters — most likely a double quote (\") opens a "
                "field that is never closed; fix the quoting") from None
        raise InputError(f"{path}: row {row} (from line {consumed + 1}) cannot be parsed "
                         f"({exc}); check the quoting") from None
    if consumed > first and _ends_inside_quotes(feed.tail(first), delimiter):
        raise InputError(
            f"{path}: row {number}: a double quote (\") on line {first} opens a field that "
            f"is never closed, so lines {first}–{consumed} were read as one cell; fix the quoting")
    if columns is None:
        raise InputError(f"{source} is empty")
    columns.flush(final=True)
    if columns.failure is not None:
        raise InputError(columns.failure)
    if not columns.rows:
        raise InputError(f"{source} has a header row but no data rows")
    return columns.frame(), columns.first_row - 1


def _start_columns(source: str, head: list[tuple[list[str], int, int]], chunk_rows: int) -> _Columns:
    """Find the header among the first records and take the records after it as body rows."""
    rows = [record for record, _, _ in head]
    last = len(rows)
    while last and _is_blank(rows[last - 1]):
        last -= 1
    header_index = _find_header(rows[:last], same_width=True)
    columns = _Columns(source, rows[header_index], header_index, chunk_rows)
    for row, (record, first, last_line) in enumerate(head[header_index + 1:], header_index + 2):
        if len(record) > columns.width:
            columns.widen(record, row, first, last_line)
        columns.pending.append(record)
    return columns


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while records are parsed, and restore it.

    A million records are millions of new lists and strings, none in a reference cycle;
    the collector would walk them again and again (it tripled the parse time).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _field_limit(limit: int):
    """Raise the csv module's cell-size limit for one parse and restore it afterwards.

    The limit is process-wide in the csv module (there is no per-reader setting), so it is
    put back as soon as the file is parsed.
    """
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, min(limit, _MAX_CELL)))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _ends_inside_quotes(lines: list[str], delimiter: str) -> bool:
    try:
        with _field_limit(sum(map(len, lines)) + 1):
            for _ in csv.reader(lines, delimiter=delimiter, strict=True):
                pass
    except csv.Error as exc:
        return "unexpected end of data" in str(exc)
    return False


def _read_xlsx(path: Path, data: bytes, sheet: str | int | None) -> Table:
    if not data:
        raise InputError(f"{path} is empty")
    if data.startswith(_OLE2_MAGIC):
        message = f"{path} is password-protected (encrypted); save an unprotected copy"
        if not any(marker in data for marker in _ENCRYPTION_MARKERS):
            message += " — or, if it is an old .xls workbook renamed to .xlsx, save it as .xlsx"
        raise InputError(message)
    if not data.startswith(_ZIP_MAGIC):
        raise InputError(f"{path} is not a valid .xlsx file (it is not a zip archive)")
    import openpyxl  # only workbooks need it

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged package
        raise InputError(f"{path} is not a valid .xlsx file ({type(exc).__name__}: {exc})") from None
    try:
        name = _choose_sheet(path, workbook, sheet)
        worksheet = workbook[name]
        if not hasattr(worksheet, "iter_rows"):
            raise InputError(f"{path}: sheet {name} is a chart, not a table; pass --sheet with "
                             f"another sheet ({', '.join(workbook.sheetnames)})")
        # Some writers record wrong dimensions; without a reset read-only mode truncates rows.
        worksheet.reset_dimensions()
        try:
            rows = [[_cell_text(value) for value in values]
                    for values in worksheet.iter_rows(min_row=1, values_only=True)]
        except Exception as exc:  # damaged sheet XML
            raise InputError(f"{path} is not a valid .xlsx file: sheet {name} cannot be read "
                             f"({type(exc).__name__}: {exc})") from None
    finally:
        workbook.close()
    frame, header_row = _build_table(path, rows, source=f"{path} (sheet {name})")
    return Table(frame=frame, path=path, encoding=None, sheet=name, delimiter=None,
                 header_row=header_row)


def _choose_sheet(path: Path, workbook, sheet: str | int | None) -> str:
    names = list(workbook.sheetnames)
    listing = ", ".join(names)
    if sheet is None:
        tables = [n for n in names if hasattr(workbook[n], "iter_rows")]
        if not tables:
            raise InputError(f"{path} has no worksheet with cells (sheets: {listing})")
        return tables[0]
    if isinstance(sheet, str):
        if sheet in names:
            return sheet
        stripped = [n for n in names if n.strip() == sheet.strip()]
        if len(stripped) == 1:
            return stripped[0]
        if not sheet.strip().isdigit():
            raise InputError(f"{path}: no sheet named {sheet!r}; sheets are {listing} — "
                             "pass --sheet with one of them")
        sheet = int(sheet.strip())
    if isinstance(sheet, bool) or not isinstance(sheet, int):
        raise InputError(f"{path}: --sheet must be a sheet name or number, got {sheet!r}")
    if not 1 <= sheet <= len(names):
        raise InputError(f"{path}: there is no sheet number {sheet}; the workbook has "
                         f"{len(names)} sheet(s), numbered from 1: {listing}")
    return names[sheet - 1]


def _cell_text(value: object) -> str:
    """Render a workbook cell value as the text an analyst would expect to see."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer() and abs(value) < 1e16:  # beyond 2**53 the digits are noise
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


# ------------------------------------------------------------------ shared table shape


def _is_blank(row: list[str]) -> bool:
    return all(not cell.strip() for cell in row)


def _filled(row: list[str]) -> list[int]:
    return [i for i, cell in enumerate(row) if cell.strip()]


def _looks_like_title(row: list[str]) -> bool:
    return _filled(row) == [0]


def _looks_like_header(row: list[str]) -> bool:
    names = [row[i].strip() for i in _filled(row)]
    return (len(names) >= 2 and len(set(names)) == len(names)
            and all(len(n) <= _MAX_HEADER_NAME and "\n" not in n for n in names))


def _find_header(rows: list[list[str]], *, same_width: bool) -> int:
    """Return the index of the header row: skip blank rows and one-cell title rows.

    same_width: for text files a title row must have as many fields as the header below it
    ("标题,,," as spreadsheets export it); otherwise a one-column file whose first opinion
    contains a comma would lose its header.
    """
    index = 0
    for _ in range(_MAX_TITLE_ROWS + 1):
        while index < len(rows) and _is_blank(rows[index]):
            index += 1
        following = index + 1
        while following < len(rows) and _is_blank(rows[following]):
            following += 1
        if (following < len(rows) and _looks_like_title(rows[index])
                and _looks_like_header(rows[following])
                and (not same_width or len(rows[index]) == len(rows[following]))):
            index = following
            continue
        break
    return index


def _column_letter(number: int) -> str:
    """Return the spreadsheet letter of a 1-based column number (1 → A, 27 → AA)."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _clean_header(name: str) -> str:
    return name.strip().strip(_HEADER_STRIP).strip()


def _build_table(path: Path, rows: list[list[str]], *, source: str) -> tuple[pd.DataFrame, int]:
    """Shape a workbook's rows into a str frame indexed by spreadsheet row number.

    A cell beyond the header's last name is an unnamed column (列N), not an error as in a
    text file (see _Columns).
    """
    while rows and _is_blank(rows[-1]):
        rows = rows[:-1]
    if not rows:
        raise InputError(f"{source} is empty")
    header_index = _find_header(rows, same_width=False)
    raw_header = rows[header_index]
    body = rows[header_index + 1:]
    if not body:
        raise InputError(f"{source} has a header row but no data rows")

    width = max((i + 1 for i in _filled_or_named(raw_header)), default=0)
    for row in body:
        width = max(width, max((i + 1 for i in _filled(row)), default=0))
    names = _column_names(raw_header, width, source)
    values = [row if len(row) == width else (row + [""] * width)[:width] for row in body]
    index = pd.Index(range(header_index + 2, header_index + 2 + len(body)), name="row")
    frame = pd.DataFrame(values, columns=names, index=index, dtype=object).astype(str)
    return frame, header_index + 1


def _column_names(raw_header: list[str], width: int, source: str) -> list[str]:
    """Name ``width`` columns from the header cells (列N for a blank one); refuse duplicates."""
    names = []
    for position in range(width):
        name = _clean_header(raw_header[position]) if position < len(raw_header) else ""
        names.append(name or f"列{position + 1}")
    positions: dict[str, list[int]] = {}
    for position, name in enumerate(names, 1):
        positions.setdefault(name, []).append(position)
    for name, where in positions.items():
        if len(where) > 1:
            letters = " and ".join(_column_letter(p) for p in where)
            raise InputError(f"{source}: column {name} appears more than once in the header "
                             f"(columns {letters}); rename one of them")
    return names


def _filled_or_named(header: list[str]) -> list[int]:
    return [i for i, cell in enumerate(header) if _clean_header(cell)]


# ------------------------------------------------------------------ column roles


def load_column_aliases(path: str | Path | None = None) -> ColumnAliases:
    """Read and validate a column-name file; the shipped ``columns.toml`` when None."""
    path = Path(path) if path is not None else corpus_path("columns.toml")
    data, text = load_toml(path, "column-name file")

    def fail(line: int, message: str) -> DataFileError:
        return DataFileError(f"{path}:{line}: {message}")

    names: dict[str, tuple[str, ...]] = {}
    veto: dict[str, tuple[str, ...]] = {}
    seen: dict[str, tuple[str, int]] = {}
    veto_line = _line_of_table(text, _VETO_TABLE)
    for key, value in data.items():
        line = veto_line if key == _VETO_TABLE else _line_of_key(text, key)
        if key == _VETO_TABLE:
            if not isinstance(value, dict):
                raise fail(line, f"[{_VETO_TABLE}] must be a table of role = [words]")
            for role, words in value.items():
                role_line = _line_of_key(text, role, veto_line)
                if role not in _CONTAINMENT_ROLES:
                    raise fail(role_line, f"[{_VETO_TABLE}] {role!r}: only "
                               f"{' and '.join(_CONTAINMENT_ROLES)} are matched by containment")
                veto[role] = _string_list(words, fail, role_line, f"[{_VETO_TABLE}] {role}")
            continue
        if key not in ROLES:
            raise fail(line, f"unknown role {key!r}; roles are {', '.join(ROLES)}")
        names[key] = _string_list(value, fail, line, key)
        for name in names[key]:
            name_line = _line_of_value(text, name, line)
            normal = _normal(name)
            if normal in seen:
                other, other_line = seen[normal]
                raise fail(name_line, f"{name!r} is listed for both {other} (line {other_line}) "
                           f"and {key}; a header name can identify one role only")
            seen[normal] = (key, name_line)
    if not names.get("text"):
        raise fail(1, "no names for role 'text'; the opinion column could never be detected")
    return ColumnAliases(names={r: names.get(r, ()) for r in ROLES},
                         veto={r: veto.get(r, ()) for r in _CONTAINMENT_ROLES},
                         source=str(path))


def _string_list(value: object, fail, line: int, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise fail(line, f"{what} must be a list of non-empty strings, got {value!r}")
    return tuple(v.strip() for v in value)


def _line_of_table(text: str, table: str) -> int:
    table_re = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]")
    for number, line in enumerate(text.splitlines(), 1):
        if table_re.match(line):
            return number
    return 1


def _line_of_value(text: str, value: str, start_line: int) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if number >= start_line and (f'"{value}"' in line or f"'{value}'" in line):
            return number
    return start_line


def _normal(name: str) -> str:
    """Fold a header name for matching: NFKC, simplified characters, no whitespace, case-insensitive."""
    from .clean import to_simplified

    return re.sub(r"\s+", "", to_simplified(unicodedata.normalize("NFKC", name))).casefold()


def _contains(header: str, candidate: str) -> bool:
    # An ASCII name must stand as a word: "unit" is not the office in "community".
    if candidate.isascii():
        return re.search(rf"(?<![a-z0-9]){re.escape(candidate)}(?![a-z0-9])", header) is not None
    return candidate in header


def _option(role: str) -> str:
    return f"--{role}-col"


def resolve_columns(table: Table, *, aliases: ColumnAliases | None = None,
                    **explicit: str | None) -> dict[str, str | None]:
    """Map each role in ROLES to a column of ``table``, or None when it has none.

    explicit: role=column pairs (``text="留言"``) that override detection; None means
        detect, "" means the role has no column. Every other role is detected from the
        header names in ``aliases`` (the shipped ``columns.toml`` when None): exact names
        first, then for text and office a header containing a name. A column serves one
        role only; roles are resolved in ROLES order.
    Raises ColumnError when an explicit column is missing or no text column is found.
    """
    unknown = sorted(set(explicit) - set(ROLES))
    if unknown:
        raise TypeError(f"resolve_columns() got unknown role(s) {', '.join(unknown)}; "
                        f"roles are {', '.join(ROLES)}")
    aliases = aliases if aliases is not None else load_column_aliases()
    columns = [str(c) for c in table.frame.columns]
    listing = ", ".join(columns)
    result: dict[str, str | None] = dict.fromkeys(ROLES)
    claimed: dict[str, str] = {}
    fixed = {role: value for role, value in explicit.items() if value is not None}

    for role in ROLES:
        if role not in fixed:
            continue
        wanted = fixed[role].strip()
        if not wanted:
            if role == "text":
                raise ColumnError(f"{table.source}: {_option('text')} cannot be empty; "
                                  f"columns are {listing}")
            continue
        column = _find_named(wanted, columns)
        if column is None:
            suggestion = _suggest(role, wanted, columns, aliases, table)
            hint = f"pass {_option(role)} {suggestion}" if suggestion else \
                f"pass {_option(role)} with one of them"
            raise ColumnError(f"{table.source}: column {wanted} not found; "
                              f"columns are {listing} — {hint}")
        if column in claimed:
            raise ColumnError(f"{table.source}: column {column} is given for both "
                              f"{_option(claimed[column])} and {_option(role)}; "
                              "a column can serve one role only")
        result[role] = column
        claimed[column] = role

    free = [c for c in columns if c not in claimed]
    detected = _detect_roles(free, aliases, skip=set(fixed))
    result.update(detected)

    if result["text"] is None:
        longest = _longest_text_column(table, [c for c in columns if c not in detected.values()
                                               and c not in claimed])
        hint = f" ({longest} has the longest values)" if longest else ""
        raise ColumnError(f"{table.source}: no opinion-text column found; columns are "
                          f"{listing} — pass {_option('text')} with the column that holds "
                          f"the opinions{hint}")
    if "text" not in fixed:  # a column the analyst named is taken as given (its numbers are rejected rows)
        _check_text_is_not_numbers(table, result["text"], [c for c in columns if c != result["text"]])
    return result


_NUMBER_RE = re.compile(r"\s*[-+]?[\d,，.．]+\s*%?\s*")


def _check_text_is_not_numbers(table: Table, column: str, others: list[str]) -> None:
    """Refuse a text column that holds only numbers: the wrong column was taken."""
    values = table.frame[column].astype(str)
    filled = values[values.str.strip() != ""]
    if filled.empty or not filled.map(lambda v: _NUMBER_RE.fullmatch(v) is not None).all():
        return
    rows = ", ".join(str(r) for r in filled.index[:3]) + (" …" if len(filled) > 3 else "")
    longest = _longest_text_column(table, others)
    hint = f" ({longest} has the longest values)" if longest else ""
    raise ColumnError(f"{table.source}: column {column} holds only numbers (rows {rows}), not opinion "
                      f"text — pass {_option('text')} with the column that holds the opinions{hint}")


def _find_named(wanted: str, columns: list[str]) -> str | None:
    if wanted in columns:
        return wanted
    folded = [c for c in columns if _normal(c) == _normal(wanted)]
    return folded[0] if len(folded) == 1 else None


def _detect_roles(columns: list[str], aliases: ColumnAliases, skip: set[str]) -> dict[str, str]:
    """Detect roles among ``columns``: exact names for every role, then containment."""
    normal = {c: _normal(c) for c in columns}
    taken: set[str] = set()
    found: dict[str, str] = {}
    for role in ROLES:
        if role in skip:
            continue
        for candidate in aliases.names.get(role, ()):
            target = _normal(candidate)
            match = next((c for c in columns if c not in taken and normal[c] == target), None)
            if match is not None:
                found[role] = match
                taken.add(match)
                break
    for role in _CONTAINMENT_ROLES:
        if role in skip or role in found:
            continue
        vetoes = [_normal(v) for v in aliases.veto.get(role, ())]
        for candidate in aliases.names.get(role, ()):
            target = _normal(candidate)
            match = next((c for c in columns if c not in taken and _contains(normal[c], target)
                          and not any(v in normal[c] for v in vetoes)), None)
            if match is not None:
                found[role] = match
                taken.add(match)
                break
    return found


def _suggest(role: str, wanted: str, columns: list[str], aliases: ColumnAliases,
             table: Table) -> str | None:
    """Name the column the analyst probably meant: a near spelling, else the detected one."""
    close = difflib.get_close_matches(wanted, columns, n=1, cutoff=0.5)
    if close:
        return close[0]
    detected = _detect_roles(columns, aliases, skip=set()).get(role)
    if detected is not None:
        return detected
    return _longest_text_column(table, columns) if role == "text" else None


def _longest_text_column(table: Table, columns: list[str]) -> str | None:
    best, best_length = None, 0.0
    for column in columns:
        lengths = table.frame[column].str.len()
        filled = lengths[lengths > 0]
        mean = float(filled.mean()) if len(filled) else 0.0
        if mean > best_length:
            best, best_length = column, mean
    return best
