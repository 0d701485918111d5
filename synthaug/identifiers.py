"""Identifier columns: detected, never modelled, regenerated fresh in the same format.

An identifier (an employee number, a customer key, a UUID) carries no distribution worth
learning, and modelling it as a category replays real values verbatim and costs a one-hot
slot per row. A column of kind ``"id"`` is therefore set aside before the model sees the
table; synthetic rows get fresh identifiers from its :class:`IdentifierFormat`:

* integers: consecutive values above the largest input value, with as many digits where
  there is room;
* text: the common prefix and suffix of the inputs around a middle whose per-position
  character classes (digits, hex, letters, ...) and length are learnt; the middles are
  consecutive values of that mixed-radix number above the largest input middle of the
  longest length (or one position longer when that leaves too little room).

Either way no output equals an input value and no two outputs in one draw are equal; the
first value of a draw is placed at random in the free range, so separate draws rarely overlap.
Under differential privacy nothing is read from the values: the format is a public default
(:meth:`IdentifierFormat.public`).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from .exceptions import DataValidationError

#: fewer present values than this are never taken as identifiers (too little evidence)
MIN_IDENTIFIER_ROWS = 20
#: share of distinct values from which a text column is identifier-like
TEXT_DISTINCT_SHARE = 0.95
MAX_IDENTIFIER_LENGTH = 64
_NAME_PATTERN = re.compile(r"(^|[_\s\-.])(id|uuid|guid|key|no|nr|num|number|code)$", re.IGNORECASE)
_CAMEL_PATTERN = re.compile(r"[a-z0-9](Id|ID|Uuid|UUID|Key|No|Nr|Num|Number|Code)$")
_CLASSES = (
    string.digits,
    "0123456789abcdef",
    "0123456789ABCDEF",
    string.ascii_lowercase,
    string.ascii_uppercase,
    string.digits + string.ascii_lowercase,
    string.digits + string.ascii_uppercase,
    string.ascii_uppercase + string.ascii_lowercase,
    string.digits + string.ascii_uppercase + string.ascii_lowercase,
)
_INT64_ROOM = 2**62
_PUBLIC_TEXT_LENGTH = 16
_PUBLIC_INTEGER_DIGITS = 16


def has_identifier_name(name: str) -> bool:
    """``id``, ``customer_id``, ``EmployeeNumber``, ``order-no``, ... (the name alone)."""
    return bool(_NAME_PATTERN.search(name) or _CAMEL_PATTERN.search(name))


def looks_like_identifier(series: pd.Series) -> bool:
    """Whether a column reads as an identifier: integers all distinct, with an identifier-like
    name or filling a near-consecutive range (a saved row index); or text with almost every
    value distinct, no whitespace (free text is not an identifier) and at most 64 characters."""
    present = series.dropna()
    n = len(present)
    dtype = series.dtype
    if n < MIN_IDENTIFIER_ROWS or pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return False
    if pd.api.types.is_integer_dtype(dtype):
        if present.nunique() != n:
            return False
        span = float(present.max()) - float(present.min()) + 1
        return span <= 2 * n or has_identifier_name(str(series.name))
    if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)):
        return False
    if pd.api.types.infer_dtype(present, skipna=True) != "string":
        return False
    text = present.astype(str)
    if text.nunique() < TEXT_DISTINCT_SHARE * n or text.str.len().max() > MAX_IDENTIFIER_LENGTH:
        return False
    return not bool(text.str.contains(r"\s", regex=True).any())


def _char_class(chars: np.ndarray) -> str:
    """The smallest standard class holding every character of ``chars``, else those characters."""
    seen = set(chars.tolist())
    for alphabet in _CLASSES:
        if seen <= set(alphabet):
            return alphabet
    return "".join(sorted(seen))


def _common_prefix(values: np.ndarray) -> str:
    """The common prefix of ``values`` (that of the smallest and largest, in sorted order)."""
    ordered = np.sort(values)
    first, last = str(ordered[0]), str(ordered[-1])
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size]


@dataclass
class IdentifierFormat:
    """How fresh identifiers of one column are written (see module docstring).

    ``kind`` is ``"integer"`` (then ``next_free`` and ``digits`` apply) or ``"text"`` (then
    ``prefix``, ``suffix``, one alphabet per middle position, and ``next_free``: the first
    free middle value at that length, or 0 when every middle of that length is free).
    """

    kind: str
    dtype: str
    next_free: int = 0
    digits: int = 1
    prefix: str = ""
    suffix: str = ""
    alphabets: tuple[str, ...] = ()

    # ------------------------------------------------------------------ learning
    @classmethod
    def learn(cls, series: pd.Series) -> IdentifierFormat:
        """The format of an identifier column's values (non-private fits only)."""
        present = series.dropna()
        if len(present) == 0:
            raise DataValidationError(f"identifier column {series.name!r} is entirely missing; drop it")
        if pd.api.types.is_integer_dtype(series.dtype):
            high = int(present.max())
            return cls("integer", str(series.dtype), next_free=high + 1, digits=len(str(abs(high))))
        if pd.api.types.is_numeric_dtype(series.dtype):
            raise DataValidationError(
                f"column {series.name!r} is declared kind 'id' but holds non-integer numbers; identifiers are integers or text"
            )
        return cls._learn_text(present.astype(str).to_numpy(dtype=str), str(series.dtype))

    @classmethod
    def _learn_text(cls, values: np.ndarray, dtype: str) -> IdentifierFormat:
        prefix = _common_prefix(values)
        rest = pd.Series(values).str[len(prefix) :]
        suffix = _common_prefix(rest.str[::-1].to_numpy(dtype=str))[::-1]
        middles = rest.str[: -len(suffix)] if suffix else rest
        lengths = middles.str.len().to_numpy()
        width = max(int(lengths.max()), 1)
        longest = middles[lengths == width].to_numpy(dtype=f"U{width}")
        if lengths.min() == lengths.max() and len(longest):
            chars = longest.view("U1").reshape(len(longest), width)
            alphabets = tuple(_char_class(chars[:, j]) for j in range(width))
        else:
            pooled = np.asarray(list("".join(middles.tolist())) or ["0"])
            alphabets = (_char_class(pooled),) * width
        fmt = cls("text", dtype, prefix=prefix, suffix=suffix, alphabets=alphabets)
        fmt.next_free = fmt._value(str(np.sort(longest)[-1])) + 1 if len(longest) else 0
        return fmt

    @classmethod
    def public(cls, dtype: str) -> IdentifierFormat:
        """The format of a differentially private fit, read from nothing but the dtype: 16-digit
        integers, or 16 lower-case hex characters."""
        if pd.api.types.is_integer_dtype(pd.api.types.pandas_dtype(dtype)):
            return cls("integer", dtype, next_free=10 ** (_PUBLIC_INTEGER_DIGITS - 1), digits=_PUBLIC_INTEGER_DIGITS)
        return cls("text", dtype, alphabets=(_CLASSES[1],) * _PUBLIC_TEXT_LENGTH)

    # ------------------------------------------------------------------ the mixed-radix middle
    def _value(self, middle: str) -> int:
        value = 0
        for char, alphabet in zip(middle, self.alphabets, strict=True):
            value = value * len(alphabet) + alphabet.index(char)
        return value

    def _space(self, alphabets: tuple[str, ...]) -> int:
        return int(np.prod([len(a) for a in alphabets], dtype=object))

    # ------------------------------------------------------------------ drawing
    def draw(self, n_rows: int, u: float) -> IdentifierDraw:
        """A draw of ``n_rows`` fresh identifiers starting at a place given by ``u`` in [0, 1)."""
        if self.kind == "integer":
            digits, low = self.digits, self.next_free
            while 10**digits - low < n_rows:
                digits += 1
            start = low + int(u * (10**digits - low - n_rows + 1))
            if start + n_rows > 2**63:
                raise DataValidationError(f"no room for {n_rows} fresh 64-bit identifiers above {low - 1}")
            return IdentifierDraw(self, start, self.alphabets)
        alphabets, low = self.alphabets, self.next_free
        while self._space(alphabets) - low < n_rows:  # every input middle is shorter: all of the space is free
            alphabets, low = (alphabets[0], *alphabets), 0
        return IdentifierDraw(self, low + int(u * (self._space(alphabets) - low - n_rows + 1)), alphabets)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "alphabets": list(self.alphabets), "next_free": str(self.next_free)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IdentifierFormat:
        return cls(**{**data, "alphabets": tuple(data["alphabets"]), "next_free": int(data["next_free"])})


@dataclass
class IdentifierDraw:
    """One draw of consecutive fresh identifiers; :meth:`values` renders any slice of it."""

    format: IdentifierFormat
    start: int
    alphabets: tuple[str, ...]

    def values(self, begin: int, end: int) -> pd.Series:
        """Identifiers ``begin`` to ``end - 1`` of the draw, in the column's dtype."""
        from .transform.columns import restore_dtype

        if self.format.kind == "integer":
            numbers = np.arange(self.start + begin, self.start + end, dtype=np.int64)
            return restore_dtype(pd.Series(numbers), self.format.dtype)
        middles = self._middles(self.start + begin, end - begin)
        text = np.char.add(np.char.add(self.format.prefix, middles), self.format.suffix)
        return restore_dtype(pd.Series(text.astype(object)), self.format.dtype)

    def _middles(self, first: int, count: int) -> np.ndarray:
        """Middles ``first .. first + count - 1`` written in the mixed radix of ``alphabets``:
        the low positions (product below 2**62) vectorised, the high ones once per carry."""
        radices = [len(a) for a in self.alphabets]
        n_low, room = 0, 1
        while n_low < len(radices) and room * radices[-1 - n_low] <= _INT64_ROOM:
            room *= radices[-1 - n_low]
            n_low += 1
        low = (first % room) + np.arange(count, dtype=np.int64)
        carry = low >= room
        low = low - carry * room
        chars = np.empty((count, n_low), dtype="U1")
        for j in range(n_low):
            alphabet = np.asarray(list(self.alphabets[len(radices) - 1 - j]))
            low, index = np.divmod(low, radices[len(radices) - 1 - j])
            chars[:, n_low - 1 - j] = alphabet[index]
        low_text = chars.view(f"U{n_low}").ravel() if n_low else np.full(count, "", dtype="U1")
        high = first // room
        heads = [self._high_text(high + c, len(radices) - n_low) for c in (0, 1)]
        return np.char.add(np.where(carry, heads[1], heads[0]), low_text)

    def _high_text(self, value: int, n_high: int) -> str:
        chars = []
        for alphabet in reversed(self.alphabets[:n_high]):
            value, index = divmod(value, len(alphabet))
            chars.append(alphabet[index])
        return "".join(reversed(chars))


def identifier_columns(frame: pd.DataFrame, declared: Any, *, private: bool, exclude: tuple[str, ...] = ()) -> list[str]:
    """The identifier columns of ``frame``: those the ``declared`` schema gives kind ``"id"``;
    without a declared schema (and not ``private``: detection reads values) the detected ones,
    with an :class:`~synthaug.exceptions.IdentifierColumnWarning` naming them."""
    if declared is not None:
        return [spec.name for spec in declared if spec.kind == "id" and spec.name in frame.columns]
    if private:
        return []
    found = [str(c) for c in frame.columns if str(c) not in exclude and looks_like_identifier(frame[c])]
    if found:
        consequence = "not modelled: synthetic rows get fresh identifiers in the same format, never an input value"
        warn_identifiers(found, consequence, stacklevel=5)
    return found


def warn_identifiers(columns: list[str], consequence: str, *, stacklevel: int = 3) -> None:
    import warnings

    from .exceptions import IdentifierColumnWarning

    overrides = ", ".join(f"{c!r}: {{'kind': 'categorical'}}" for c in columns[:3])
    warnings.warn(
        f"column(s) {columns} look like identifiers (almost every value distinct); {consequence}. To model such a "
        f"column instead, declare its kind in the schema, e.g. {{{overrides}}}",
        IdentifierColumnWarning,
        stacklevel=stacklevel,
    )


def learn_formats(frame: pd.DataFrame, columns: list[str], *, private: bool) -> dict[str, IdentifierFormat]:
    """The format of each identifier column: learnt from its values, or public under DP."""
    if private:
        return {c: IdentifierFormat.public(str(frame[c].dtype)) for c in columns}
    return {c: IdentifierFormat.learn(frame[c].rename(c)) for c in columns}
