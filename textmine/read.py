"""Read an analyst's opinion file into a table of strings and map its columns to roles.

``read_table`` turns a CSV/TSV/TXT or XLSX file into a :class:`Table` whose frame holds
only strings, indexed by the row number a spreadsheet shows for each record, so that every
later message can point the analyst at the right row. ``read_chunks`` opens the same file
as a :class:`ChunkedTable` that yields that frame a chunk of rows at a time, so that a
million opinions never sit in memory at once; ``read_table`` is its chunks joined.
``resolve_columns`` finds which column holds the opinion text, the office, the rating and
so on, from the header names listed in ``corpora/columns.toml``.

Rules worth knowing:

* Text files: the encoding is forced with ``encoding`` or detected (BOM, then BOM-less
  UTF-16 by its NUL bytes, then UTF-8, else GB18030, which covers GBK and GB2312, or Big5).
  The delimiter is sniffed from the header among ``,`` tab ``;`` ``|``. Quoted fields may
  hold delimiters, doubled quotes and newlines; a record with an embedded newline is still
  one row.
* Leading blank rows and one-cell title rows above the header ("2023年度群众评议意见汇总")
  are skipped; ``Table.header_row`` says where the header was found.
* The columns are the header's cells up to its last name (a blank name is 列N), plus a
  column the first rows fill beyond it; a later row filling a cell the header does not name
  is refused, as a row with more cells than the header is.
* Blank rows at the end of the file are dropped. Blank rows between data rows are kept with
  their row number (they are rejected downstream as empty opinions, so nothing disappears
  silently).
* Text files are streamed in every encoding: a block of bytes is decoded at a time, split
  into lines and parsed, and every ``chunk_rows`` rows become Arrow-backed string columns,
  so only one chunk of rows exists as Python strings (benchmarks/read.py). Detection reads
  UTF-8 until a byte says otherwise; a file that is ASCII up to its first GBK byte switches
  to GB18030 there, but one whose UTF-8 text is followed by bytes that are not UTF-8 mixes
  encodings and is refused, naming the line and byte offset.
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
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Mapping

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
    def columns(self) -> list[str]:
        """The column names, in order."""
        return [str(c) for c in self.frame.columns]

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


class ChunkedTable:
    """An opinion file opened for reading a chunk of rows at a time (see :func:`read_chunks`).

    ``path``, ``sheet``, ``delimiter``, ``header_row`` and ``source`` are as in :class:`Table`;
    ``columns`` lists the column names, known when the file is opened. ``encoding`` is the
    encoding of the bytes decoded so far: a file that is plain ASCII for its first megabytes
    says ``utf-8`` until a GB18030/GBK (or Big5) byte shows up further on, then the name of
    that encoding (the ASCII read before decodes the same in both).

    Iterating yields DataFrames of at most ``chunk_rows`` rows, with the columns, dtypes and
    index (``row``, spreadsheet row numbers) of :func:`read_table`'s frame; concatenated they
    are that frame. A ChunkedTable is read once: iterating it a second time raises
    RuntimeError (call :func:`read_chunks` again to read the file again). The file stays
    open until the last chunk is read, the iterator is dropped or :meth:`close` is called;
    use it in a ``with`` block when the chunks may not all be read.
    """

    def __init__(self, *, path: Path, sheet: str | None, delimiter: str | None, header_row: int,
                 columns: list[str], chunks: Iterator[pd.DataFrame], encoding: str | None = None,
                 stream: "_TextStream | None" = None, handle: BinaryIO | None = None):
        self.path = path
        self.sheet = sheet
        self.delimiter = delimiter
        self.header_row = header_row
        self._columns = tuple(columns)
        self._chunks = chunks
        self._encoding = encoding
        self._stream = stream
        self._handle = handle
        self._started = False

    @property
    def encoding(self) -> str | None:
        """Detected or forced encoding of the bytes decoded so far; None for xlsx."""
        return self._stream.encoding if self._stream is not None else self._encoding

    @property
    def columns(self) -> list[str]:
        """The column names, in order."""
        return list(self._columns)

    @property
    def source(self) -> str:
        """Name the file, and the sheet for a workbook, as messages should show it."""
        return f"{self.path} (sheet {self.sheet})" if self.sheet is not None else str(self.path)

    def __iter__(self) -> Iterator[pd.DataFrame]:
        if self._started:
            raise RuntimeError(f"{self.source}: the chunks of this table were already read; "
                               "call read_chunks() again to read the file again")
        self._started = True
        return self._iterate()

    def _iterate(self) -> Iterator[pd.DataFrame]:
        try:
            yield from self._chunks
        finally:
            self.close()

    def close(self) -> None:
        """Close the file (and stop the chunks); harmless when already closed."""
        chunks, self._chunks = self._chunks, iter(())
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        if self._handle is not None:
            self._handle.close()

    def __enter__(self) -> "ChunkedTable":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ChunkedTable({self.source!r}, columns={list(self._columns)!r})"


def read_chunks(path: str | Path, *, encoding: str | None = None, sheet: str | int | None = None,
                chunk_rows: int = 50_000) -> ChunkedTable:
    """Open a .csv/.tsv/.txt or .xlsx/.xlsm opinion file to read it ``chunk_rows`` rows at a time.

    encoding, sheet: as for :func:`read_table`.
    chunk_rows: most rows per chunk (a positive integer).

    Opening a text file reads only its first blocks: the encoding, the delimiter, the header
    and the first rows. Every problem :func:`read_table` reports is an InputError with the
    same message, raised on opening when the start of the file shows it, else while the
    chunks are read, when the part of the file that has it is reached — after the rest of the
    file is parsed, so that the problem reported is the one a whole-file read would report
    first (a byte that does not decode, then a record that cannot be parsed or a quote left
    open, then a row wider than the header). A workbook is read whole when opened (sheets hold
    at most ~1 M rows) and served in chunks the same way.
    """
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ValueError(f"read_chunks(): chunk_rows must be a positive integer, got {chunk_rows!r}")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return _open_text(path, suffix, encoding, chunk_rows)
    if suffix in XLSX_SUFFIXES:
        table = _read_xlsx(path, _read_bytes(path), sheet)
        frame = table.frame
        chunks = (frame.iloc[start:start + chunk_rows] for start in range(0, len(frame), chunk_rows))
        return ChunkedTable(path=path, sheet=table.sheet, delimiter=None, header_row=table.header_row,
                            columns=[str(c) for c in frame.columns], chunks=chunks)
    _read_bytes(path)  # a missing file or a folder is named as such before its type
    if suffix == ".xls":
        raise InputError(f"{path}: .xls (Excel 97-2003) files are not supported; "
                         "open it in Excel or WPS and save it as .xlsx")
    kind = f"'{suffix}'" if suffix else "without an extension"
    raise InputError(f"{path}: unsupported file type {kind}; "
                     "textmine reads .csv, .tsv, .txt, .xlsx and .xlsm files")


def read_table(path: str | Path, *, encoding: str | None = None,
               sheet: str | int | None = None) -> Table:
    """Read a .csv/.tsv/.txt or .xlsx/.xlsm opinion file into a :class:`Table` of strings.

    encoding: force the text encoding (ignored for workbooks); detected when None.
    sheet: workbook sheet by name or 1-based number (a digit string counts as a number when
        no sheet has that name); the first sheet when None. Ignored for text files.
    Raises InputError for every problem the analyst can fix. The chunks of
    :func:`read_chunks` joined (string columns stay Arrow chunked arrays, no copy).
    """
    with read_chunks(path, encoding=encoding, sheet=sheet, chunk_rows=_CHUNK_ROWS) as table:
        frames = list(table)
    frame = frames[0] if len(frames) == 1 else pd.concat(frames)
    return Table(frame=frame, path=table.path, encoding=table.encoding, sheet=table.sheet,
                 delimiter=table.delimiter, header_row=table.header_row)


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


def _open_text(path: Path, suffix: str, encoding: str | None, chunk_rows: int) -> ChunkedTable:
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise _file_error(path, exc) from None
    try:
        stream = _TextStream(path, handle, encoding)
        parser = _TextParser(path, suffix, stream, chunk_rows)
        return ChunkedTable(path=path, sheet=None, delimiter=parser.delimiter,
                            header_row=parser.header_row, columns=parser.names,
                            chunks=parser.chunks(), stream=stream, handle=handle)
    except BaseException:
        handle.close()
        raise


# ------------------------------------------------------------------ decoding


class _TextStream:
    """The text of a file, decoded a block of bytes at a time: iterate for the pieces.

    The encoding is forced, or implied by a byte-order mark or the NUL bytes of BOM-less
    UTF-16, or detected: UTF-8 until proven otherwise. A run of bytes from the first
    non-ASCII byte on is held back until it has shown enough UTF-8 to be trusted
    (_TRUST_EXTRA bytes beyond one per character, _TRUST_BYTES held, or the end of the
    file); if it does not decode before that, the file is GB18030 (GBK, GB2312) — or Big5
    when most of its Chinese characters would be rare ones outside GB2312 — from that byte
    on, and the ASCII text before it decodes the same either way. A byte that does not
    decode after the UTF-8 was trusted is an error: the file mixes encodings.

    Positions for messages: the line (1-based, counted as ``str.splitlines`` would count
    LF, CR and CRLF) of the text given out so far, and the byte offset in the file.
    """

    def __init__(self, path: Path, handle: BinaryIO, encoding: str | None):
        self.path = path
        self._handle = handle
        self._offset = 0  # file offset of the next byte given to a decoder
        self._breaks = 0  # line breaks in the text given out
        self._cr = False  # that text ends with a CR (an LF after it completes a CRLF)
        self._chars = 0  # characters given out
        self._held: list[bytes] = []  # the UTF-8 run being tried (detected encoding only)
        self._held_text: list[str] = []
        self._held_size = self._held_extra = 0
        self._probe = None
        self._utf8_failure = ("", "")  # line and bytes where UTF-8 failed, for messages
        self._error: InputError | None = None  # raised when more text is asked for
        first = self._read(_FIRST_BYTES)
        if encoding is not None:
            self.encoding = _lookup_codec(path, encoding)
            self._mode = "forced"
            self._codec = _bomless_native(self.encoding, first)
        else:
            self._codec, self.encoding, skip = _codec_of_start(first)
            whole = len(first) < _FIRST_BYTES
            if self._codec.startswith("utf-16") and not skip and not _decodes(first, self._codec, whole):
                self._codec = self.encoding = "utf-8"  # NUL bytes, but not UTF-16: detect as usual
            first = first[skip:]
            self._offset = skip
            self._mode = "bom" if skip else ("auto" if self._codec == "utf-8" else "utf16")
        self._decoder = None if self._mode == "auto" else _incremental(path, self._codec)
        self._first = first

    def __iter__(self) -> Iterator[str]:
        block, self._first = self._first, b""
        while block:
            piece = self._decode(block, False)
            if piece:
                yield piece
            block = self._read(_BLOCK_BYTES)
        piece = self._decode(b"", True)
        if piece:
            yield piece

    def _read(self, size: int) -> bytes:
        try:
            return self._handle.read(size)
        except OSError as exc:
            raise _file_error(self.path, exc) from None

    def _decode(self, block: bytes, final: bool) -> str:
        if self._error is not None:
            raise self._error
        if self._probe is not None or self._mode == "auto":
            return self._tentative(block, final)
        try:
            text = self._decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            raise self._failure(exc, block) from None
        except UnicodeError as exc:  # a codec's own complaint without a position
            raise InputError(f"{self.path}: cannot be decoded as {self.encoding} ({exc}); pass "
                             "--encoding with the file's real encoding (e.g. gb18030, utf-16, big5)") from None
        self._offset += len(block)
        return self._emit(text)

    def _tentative(self, block: bytes, final: bool) -> str:
        """Decode as UTF-8 while the bytes are ASCII; hold a non-ASCII run until it is trusted."""
        head = ""
        if self._probe is None:
            match = None if block.isascii() else _HIGH_BYTE_RE.search(block)
            if match is None:
                self._offset += len(block)
                return self._emit(block.decode("ascii"))
            head = self._emit(block[:match.start()].decode("ascii"))
            self._offset += match.start()
            block = block[match.start():]
            self._probe = codecs.getincrementaldecoder("utf-8")()
        at = self._offset + self._held_size  # file offset of block[0]
        self._held.append(block)
        self._held_size += len(block)
        try:
            text = self._probe.decode(block, final)
        except UnicodeDecodeError as exc:
            return head + self._switch(at - (len(exc.object) - len(block)) + exc.start, exc, final)
        self._held_text.append(text)
        self._held_extra += len(block) - len(text)
        if not (final or self._held_extra >= _TRUST_EXTRA or self._held_size >= _TRUST_BYTES):
            return head
        text = "".join(self._held_text)
        self._mode, self._decoder, self._probe = "utf-8", self._probe, None
        self._offset += self._held_size
        self._held, self._held_text, self._held_size = [], [], 0
        return head + self._emit(text)

    def _switch(self, failed_at: int, exc: UnicodeDecodeError, final: bool) -> str:
        """The held run is not UTF-8: decode it, and the rest, as GB18030 (or Big5)."""
        raw = b"".join(self._held)
        position = failed_at - self._offset
        shown = _shown(raw, position, position + max(1, exc.end - exc.start))
        before = raw[:position].decode("utf-8")  # complete and valid up to the bad byte
        line = self._line_after(before)
        self._held, self._held_text, self._held_size, self._probe = [], [], 0, None
        if position - len(before) >= _TRUST_EXTRA or position >= _TRUST_BYTES:
            # the text before the bad byte was plenty of UTF-8: give it out, then report
            self._mode, self._offset = "utf-8", self._offset + position
            self._error = self._mixed(line, failed_at, shown)
            return self._emit(before)
        self._utf8_failure = (line, shown)
        codec = "gb18030"
        if self._chars < _SHARE_CHARS:
            # Big5 (traditional, Taiwan/Hong Kong) bytes are mostly valid GB18030 too, but read
            # that way they give rare characters outside GB2312; real GBK text hardly has any.
            sample = raw[:4 * _SHARE_CHARS].decode("gb18030", "replace")[:_SHARE_CHARS - self._chars]
            if _gb2312_share(sample) < _BIG5_SUSPECT_SHARE:
                try:
                    codecs.getincrementaldecoder("big5")().decode(raw, final)
                    codec = "big5"
                except UnicodeDecodeError:
                    pass
        self.encoding = self._codec = self._mode = codec
        self._decoder = _incremental(self.path, codec)
        return self._decode(raw, final)

    def _failure(self, exc: UnicodeDecodeError, block: bytes) -> InputError:
        data = exc.object if isinstance(exc.object, bytes) else block
        start = self._offset - (len(data) - len(block))  # file offset of data[0]
        line = self._line_after(data[:exc.start].decode(self._codec, "replace"))
        shown = _shown(data, exc.start, max(exc.end, exc.start + 1))
        path, codec = self.path, self.encoding
        if self._mode == "forced":
            detected = _detected_encoding(path)
            if detected and detected != codec:
                hint = f"the file looks like {detected} — pass --encoding {detected} or leave --encoding out"
            else:
                hint = "pass --encoding with the file's real encoding (e.g. gb18030, utf-16, big5)"
            return InputError(f"{path}: line {line} cannot be decoded as {codec} (bytes {shown}); {hint}")
        advice = "pass --encoding with the file's encoding (e.g. --encoding big5) or save it as UTF-8"
        name = self._codec.upper()
        if self._mode == "bom":
            return InputError(f"{path}: line {line} is not valid {name} although the file starts with "
                              f"a {name} byte-order mark (bytes {shown}); {advice}")
        if self._mode == "utf16":
            return InputError(f"{path}: line {line} is not valid {name} (bytes {shown}) although the NUL "
                              f"bytes of its start look like {name} without a byte-order mark; {advice}")
        if self._mode == "utf-8":
            return self._mixed(line, start + exc.start, shown)
        if self._mode == "gb18030":
            utf8_line, utf8_shown = self._utf8_failure
            return InputError(f"{path}: the encoding is neither UTF-8 (line {utf8_line}: bytes {utf8_shown}) "
                              f"nor GB18030/GBK (line {line}: bytes {shown}); {advice}")
        return InputError(f"{path}: line {line} is not valid Big5 (bytes {shown}) although the text before "
                          f"it reads as Big5 (traditional Chinese); {advice}")

    def _mixed(self, line: int, offset: int, shown: str) -> InputError:
        return InputError(f"{self.path}: line {line} (byte offset {offset}) is not valid UTF-8 (bytes {shown}) "
                          "although the text before it is UTF-8 with non-ASCII characters: the file mixes "
                          "encodings (e.g. rows pasted from a GBK file); save it again with one encoding, as UTF-8")

    def _emit(self, text: str) -> str:
        if text:
            breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
            if self._cr and text[0] == "\n":
                breaks -= 1
            self._cr = text[-1] == "\r"
            self._breaks += breaks
            self._chars += len(text)
        return text

    def _line_after(self, text: str) -> int:
        """The 1-based line at the end of the text given out so far followed by ``text``."""
        breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
        if self._cr and text[:1] == "\n":
            breaks -= 1
        return self._breaks + breaks + 1


_HIGH_BYTE_RE = re.compile(rb"[\x80-\xff]")
_TRUST_EXTRA = 64  # bytes beyond one per character (~32 Chinese characters) that make UTF-8 certain
_TRUST_BYTES = 1 << 20  # ... or this many bytes held (a few accented letters in ASCII text)
_SHARE_CHARS = 20000  # characters from the start of the text that decide Big5 against GBK


def _decodes(data: bytes, codec: str, final: bool) -> bool:
    """True if ``data`` decodes with ``codec`` (a sequence cut at its end allowed unless final)."""
    try:
        codecs.getincrementaldecoder(codec)().decode(data, final)
    except UnicodeDecodeError:
        return False
    return True


def _shown(data: bytes, start: int, end: int) -> str:
    return " ".join(f"{b:02x}" for b in data[start:end][:4])


def _incremental(path: Path, codec: str):
    try:
        return codecs.getincrementaldecoder(codec)()
    except (LookupError, TypeError):
        raise InputError(f"{path}: encoding {codec!r} cannot be read a block at a time; "
                         "use a name such as utf-8, gb18030, gbk, utf-16 or big5") from None


def _bomless_native(codec: str, first: bytes) -> str:
    """The codec to decode a forced ``codec`` with: Python's incremental UTF-16/32 decoders
    want a byte-order mark where decoding a whole file takes the machine's byte order."""
    boms = {"utf-16": (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE),
            "utf-32": (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)}.get(codec)
    if boms is None or first.startswith(boms):
        return codec
    return f"{codec}-{'le' if sys.byteorder == 'little' else 'be'}"


def _detected_encoding(path: Path) -> str | None:
    """The encoding detection would choose for the file, or None when nothing decodes it."""
    try:
        with open(path, "rb") as handle:
            stream = _TextStream(path, handle, None)
            for _ in stream:
                pass
            return stream.encoding
    except (InputError, OSError):
        return None


def _codec_of_start(data: bytes) -> tuple[str, str, int]:
    """Return the codec, the encoding name to report and the BOM length implied by the
    first bytes (UTF-8, to be confirmed, when nothing else is implied)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return ("utf-8" if name == "utf-8-sig" else name), name, len(bom)
    utf16 = _guess_bomless_utf16(data)
    if utf16:
        return utf16, utf16, 0
    return "utf-8", "utf-8", 0


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


# ------------------------------------------------------------------ parsing text


def _take_head(pieces: Iterator[str]) -> tuple[str, bool]:
    """Join the first pieces until they hold _HEAD_CHARS characters past any blank start;
    True if that is all of the text."""
    parts: list[str] = []
    length = 0
    content = False
    for piece in pieces:
        parts.append(piece)
        length += len(piece)
        if not content:
            rest = piece[1:] if not length - len(piece) and piece.startswith("\ufeff") else piece
            content = bool(rest) and not rest.isspace()
        if content and length >= _HEAD_CHARS:
            return "".join(parts), False
    return "".join(parts), True


def _slices(text: str, start: int, size: int) -> Iterator[str]:
    for position in range(start, len(text), size):
        yield text[position:position + size]


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


class _StringArrays:
    """Make string arrays of the dtype ``astype(str)`` gives, from tuples of Python strings.

    Under pandas 3 that dtype is Arrow-backed: cells go straight into pyarrow arrays (4x faster
    than ``pd.array``), and :func:`pandas.concat` joins the chunks' arrays into one chunked
    array without a copy (20 chunks for a million rows). Joining them into one array measured
    ~150 MB more at the peak, for little: ``to_numpy``/``tolist``, which the job applies
    first, take the same time (a boolean filter is slower on chunks: 0.3 s instead of 0.06 s
    for a million rows).
    """

    def __init__(self):
        self.dtype = pd.Series([""], dtype=object).astype(str).dtype
        self.arrow = isinstance(self.dtype, pd.StringDtype) and self.dtype.storage == "pyarrow"
        if self.arrow:
            import pyarrow

            self._pa = pyarrow

    def array(self, cells: tuple[str, ...]):
        if self.arrow:
            values = self._pa.chunked_array([self._pa.array(cells, type=self._pa.large_string())])
            return pd.arrays.ArrowStringArray(values, dtype=self.dtype)
        return pd.array(list(cells), dtype=self.dtype)


class _TextParser:
    """Parse a decoded text into chunks of a str frame indexed by spreadsheet row number.

    Records are read one at a time with the csv module. On opening, the header is found
    among the first records (blank rows and up to _MAX_TITLE_ROWS title rows skipped) and
    the columns are named: the header's cells up to its last name, and any further cell the
    first rows fill (列N). Then every body row is checked against the header and the rows
    become columns ``chunk_rows`` at a time; blank rows wait until a filled row follows
    them, as blank rows at the end of the file are not part of the table.

    Errors come in the order a whole-file parse finds them: a byte that does not decode, a
    record that cannot be parsed, a quote left open at the end, an empty file, a row wider
    than the header (or filling a column the header does not name), a header without data,
    a duplicate name. A wide row stops the chunks; the rest of the file is parsed (and
    dropped) before it is reported, so that an earlier-ranked problem further on wins.
    """

    def __init__(self, path: Path, suffix: str, stream: _TextStream, chunk_rows: int):
        self.path = path
        self.source = str(path)
        self.chunk_rows = chunk_rows
        pieces = iter(stream)
        head, complete = _take_head(pieces)
        start = 1 if head.startswith("\ufeff") else 0
        if _BLANK_RE.fullmatch(head, start):
            raise InputError(f"{path} is empty")
        # Excel writes a "sep=;" line to declare the delimiter and does not show it as a row.
        declared = _SEP_LINE_RE.match(head, start)
        if declared:
            self.delimiter = declared.group(1)
            start = declared.end()
        else:
            self.delimiter = _sniff_delimiter(head[start:start + _SNIFF_LIMIT], suffix)
        self.feed = _LineFeed(itertools.chain(_slices(head, start, _PIECE_CHARS), pieces))
        del head
        self.reader = csv.reader(self.feed, delimiter=self.delimiter, quotechar='"', doublequote=True)
        self.number = self.first = self.consumed = 0  # records read; lines of the last record
        self.failure: str | None = None  # the first row wider than the header
        self.pending: list[list[str]] = []  # body rows not yet in a chunk
        self.flush_at = chunk_rows
        self.rows = 0  # body rows given out in chunks
        self.last: list[pd.DataFrame] | None = None  # the last chunks, once the text is all parsed
        self.names: list[str] | None = None
        self._strings = _StringArrays()
        self._open()

    # -- opening: the header and the first rows

    def _open(self) -> None:
        head: list[tuple[list[str], int, int]] = []  # (record, first line, last line)
        filled = 0
        reader = self.reader
        ended = False
        try:
            with _field_limit(_MAX_CELL), _gc_paused():  # a 1 MB opinion is one legitimate cell
                for record in reader:
                    self.first, self.consumed = self.consumed + 1, reader.line_num
                    self.number += 1
                    head.append((record, self.first, self.consumed))
                    if not _is_blank(record):
                        filled += 1
                        if filled == _HEADER_LOOKAHEAD:
                            break
                else:
                    ended = True
        except csv.Error as exc:
            raise self._parse_error(exc) from None
        if ended:  # the whole text was parsed while looking for the header
            self._check_quotes()
            if not filled:
                raise InputError(f"{self.source} is empty")
            self._start(head)
            self.last = self._finish()
        else:
            self._start(head)
            self.names = _column_names(self.header, self.width, self.source)

    def _start(self, head: list[tuple[list[str], int, int]]) -> None:
        """Find the header among the first records and take the records after it as body rows."""
        rows = [record for record, _, _ in head]
        last = len(rows)
        while last and _is_blank(rows[last - 1]):
            last -= 1
        header_index = _find_header(rows[:last], same_width=True)
        self.header = rows[header_index]
        self.header_row = header_index + 1
        self.next_row = header_index + 2
        self.size = len(self.header)  # a text file's rows may not fill more cells than the header has
        self.width = max((i + 1 for i in _filled_or_named(self.header)), default=0)
        self.width_fixed = False  # the first rows may still add unnamed columns (列N)
        for row, (record, first, last_line) in enumerate(head[header_index + 1:], header_index + 2):
            if len(record) > self.width:
                self._widen(record, row, first, last_line)
            self.pending.append(record)
        self.width_fixed = True

    # -- the chunks

    def chunks(self) -> Iterator[pd.DataFrame]:
        if self.last is not None:
            yield from self.last
            return
        yield from self._cut()
        while self.last is None:
            yield from self._parse_some()
        yield from self.last

    def _parse_some(self) -> list[pd.DataFrame]:
        """Parse records until a chunk is ready (its frames), or to the end of the text."""
        reader, pending, width, flush_at = self.reader, self.pending, self.width, self.flush_at
        number, first, consumed = self.number, self.first, self.consumed  # locals: a million rows
        try:
            with _field_limit(_MAX_CELL), _gc_paused():
                for record in reader:
                    first, consumed = consumed + 1, reader.line_num
                    number += 1
                    if len(record) > width:
                        self._widen(record, number, first, consumed)
                    pending.append(record)
                    if len(pending) >= flush_at:
                        self.number, self.first, self.consumed = number, first, consumed
                        frames = self._cut()
                        flush_at = self.flush_at
                        if frames:
                            self.feed.forget(first)
                            return frames
        except csv.Error as exc:
            self.number, self.first, self.consumed = number, first, consumed
            raise self._parse_error(exc) from None
        self.number, self.first, self.consumed = number, first, consumed
        self._check_quotes()
        self.last = self._finish()
        return []

    def _cut(self) -> list[pd.DataFrame]:
        """Turn the pending rows up to the last filled one into chunks of chunk_rows rows."""
        pending, size = self.pending, self.chunk_rows
        if self.failure is not None:
            pending.clear()  # rows of a table that is refused
            self.flush_at = size
            return []
        keep = len(pending)
        while keep and _is_blank(pending[keep - 1]):
            keep -= 1
        frames = []
        taken = 0
        while keep - taken >= size:
            frames.append(self._frame(pending[taken:taken + size]))
            taken += size
        del pending[:taken]
        self.flush_at = len(pending) + size - (keep - taken)
        return frames

    def _finish(self) -> list[pd.DataFrame]:
        """The last chunks, once all records are parsed; raise the problems found on the way."""
        pending = self.pending
        keep = len(pending)
        while keep and _is_blank(pending[keep - 1]):
            keep -= 1
        del pending[keep:]  # blank rows at the end
        if self.failure is not None:
            raise InputError(self.failure)
        if not self.rows and not pending:
            raise InputError(f"{self.source} has a header row but no data rows")
        if self.names is None:
            self.names = _column_names(self.header, self.width, self.source)
        frames = [self._frame(pending[start:start + self.chunk_rows])
                  for start in range(0, len(pending), self.chunk_rows)]
        pending.clear()
        return frames

    def _frame(self, rows: list[list[str]]) -> pd.DataFrame:
        size, width = self.size, self.width
        values = [row if len(row) == size else (row + [""] * size)[:size] for row in rows]
        columns = {name: self._strings.array(cells)
                   for name, cells in zip(self.names, itertools.islice(zip(*values), width))}
        index = pd.RangeIndex(self.next_row, self.next_row + len(rows), name="row")
        self.next_row += len(rows)
        self.rows += len(rows)
        return pd.DataFrame(columns, index=index, copy=False)

    # -- problems

    def _widen(self, record: list[str], row: int, first: int, last: int) -> None:
        """Take in a record with more fields than ``width``: wider, or wider than the header."""
        used = max((i + 1 for i in _filled(record)), default=0)
        if used <= self.width or self.failure is not None:
            return
        spans = f" (lines {first}–{last} of the file)" if last > first else ""
        if used > self.size:
            self.failure = (f"{self.source}: row {row}{spans} has {len(record)} fields but the "
                            f"header has {self.size}; check the delimiter or quoting")
        elif self.width_fixed:
            letter = _column_letter(used)
            self.failure = (f"{self.source}: row {row}{spans} has a value in column {letter}, which has "
                            f"no name in the header (row {self.header_row}) and is empty in the rows "
                            f"above; give column {letter} a name in the header or delete the value")
        else:
            self.width = used

    def _check_quotes(self) -> None:
        if self.consumed > self.first and _ends_inside_quotes(self.feed.tail(self.first), self.delimiter):
            raise InputError(
                f"{self.path}: row {self.number}: a double quote (\") on line {self.first} opens a field "
                f"that is never closed, so lines {self.first}–{self.consumed} were read as one cell; "
                "fix the quoting")

    def _parse_error(self, exc: csv.Error) -> InputError:
        self.feed.drain()  # a byte further on that does not decode is reported first
        row, line = self.number + 1, self.consumed + 1
        if "field larger than field limit" in str(exc):
            return InputError(
                f"{self.path}: row {row} (from line {line}) has a cell longer than "
                f"{csv.field_size_limit()} characters — most likely a double quote (\") opens a "
                "field that is never closed; fix the quoting")
        return InputError(f"{self.path}: row {row} (from line {line}) cannot be parsed "
                          f"({exc}); check the quoting")


@contextlib.contextmanager
def _gc_paused():
    """Pause the cyclic garbage collector while records are parsed, and restore it.

    A million records are millions of new lists and strings, none in a reference cycle;
    the collector would walk them again and again (it tripled the parse time). It runs
    again between chunks, while the caller works on them.
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
    """Raise the csv module's cell-size limit while records are parsed and restore it.

    The limit is process-wide in the csv module (there is no per-reader setting), so it is
    put back before a chunk is handed out.
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


def resolve_columns(table: Table | ChunkedTable, *, aliases: ColumnAliases | None = None,
                    **explicit: str | None) -> dict[str, str | None]:
    """Map each role in ROLES to a column of ``table``, or None when it has none.

    table: a :class:`Table`, or a :class:`ChunkedTable` before its chunks are read. Only a
        Table's values are looked at: it refuses a detected text column holding only
        numbers, and hints at the column with the longest values in its messages; a
        ChunkedTable is resolved from its header names alone.

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
    columns = table.columns
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
    # a column the analyst named is taken as given (its numbers are rejected rows)
    if "text" not in fixed and isinstance(table, Table):
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
             table: Table | ChunkedTable) -> str | None:
    """Name the column the analyst probably meant: a near spelling, else the detected one."""
    close = difflib.get_close_matches(wanted, columns, n=1, cutoff=0.5)
    if close:
        return close[0]
    detected = _detect_roles(columns, aliases, skip=set()).get(role)
    if detected is not None:
        return detected
    return _longest_text_column(table, columns) if role == "text" else None


def _longest_text_column(table: Table | ChunkedTable, columns: list[str]) -> str | None:
    if not isinstance(table, Table):
        return None  # the values are not read yet
    best, best_length = None, 0.0
    for column in columns:
        lengths = table.frame[column].str.len()
        filled = lengths[lengths > 0]
        mean = float(filled.mean()) if len(filled) else 0.0
        if mean > best_length:
            best, best_length = column, mean
    return best
