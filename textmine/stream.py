"""Keep a large input out of memory while the job runs over it chunk by chunk.

The job needs some facts of every row until the end (which office, which themes, whether
a text repeats an earlier one), but the texts themselves only once, to write them out.
:class:`Interner` stores repeated strings once and rows as small integer codes;
:func:`text_hash` stands in for a text where only equality matters; :class:`Spill`
parks each chunk's finished rows in a temporary file until they are written.
"""
from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import numpy as np
import pandas as pd


class Interner:
    """Number the distinct values seen, in order of first appearance (like
    :func:`pandas.factorize` over all the chunks at once); each value is kept once."""

    def __init__(self):
        self._codes: dict[object, int] = {}
        self._values: list[object] = []
        self._array: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self._values)

    def codes(self, values) -> np.ndarray:
        """The code of each value, adding the new ones."""
        local, distinct = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
        mapping = np.fromiter((self._code(v) for v in distinct), dtype=np.int64, count=len(distinct))
        return mapping[local].astype(np.int32) if len(mapping) else np.zeros(0, dtype=np.int32)

    def _code(self, value: object) -> int:
        code = self._codes.get(value)
        if code is None:
            code = self._codes[value] = len(self._values)
            self._values.append(value)
            self._array = None
        return code

    def values(self, codes: np.ndarray) -> np.ndarray:
        """The values of ``codes`` (an object array sharing the stored strings)."""
        if self._array is None:
            self._array = np.empty(len(self._values), dtype=object)
            self._array[:] = self._values
        return self._array[np.asarray(codes, dtype=np.int64)]


def text_hash(text: str) -> int:
    """A 64-bit digest of ``text``, the same in every process and on every machine
    (unlike :func:`hash`); two different texts share one with probability 2⁻⁶⁴."""
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


class Spill:
    """Frames written one after another to a temporary file and read back in order.

    The file holds only what this job wrote itself (pickled frames keep their dtypes
    exactly); it is deleted on :meth:`close`.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._out = open(self.path, "wb")
        self.chunks = 0

    def write(self, frame: pd.DataFrame) -> None:
        pickle.dump(frame, self._out, protocol=pickle.HIGHEST_PROTOCOL)
        self.chunks += 1

    def __iter__(self):
        self._out.flush()
        with open(self.path, "rb") as handle:
            for _ in range(self.chunks):
                yield pickle.load(handle)

    def close(self) -> None:
        self._out.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> "Spill":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()
