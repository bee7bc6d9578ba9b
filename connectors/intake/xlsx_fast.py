"""The streaming reader's table of a plain sheet, computed column-wise: numpy over the XML bytes, Arrow
over the values, no Python call per element or per cell.

The streaming reader (``connectors.intake.xlsx``) calls Python for every XML element, which makes a
300,000-row sheet a minute of work. Most workbooks are plain: the same few element forms repeated, as
Excel, WPS, openpyxl and xlsxwriter write them. This reader reads exactly those forms and returns
``None`` for anything else, so that the streaming reader decides (and reports) every other workbook:

- each part is inflated in chunks counted against the same expansion limits and fed to expat without
  element handlers (well-formed, no DTD, at C speed); the bytes are cut into pieces of whole rows (whole
  ``<si>`` of the shared strings) so that each piece is classified on its own;
- every tag is classified by the bytes after its ``<``. The element names the streaming reader acts on
  (``row c v is t f rPh``, ``si`` in the shared strings) must appear only in these forms: ``<row r="N"``
  with rows strictly increasing from 1 and each closed by ``</row>`` before the next; ``<c r="REF"``
  with optional ``s="N"`` and ``t="KIND"`` in that order, closed at once (``/>``) or followed by
  ``<v>text</v>`` or ``<is><t>text</t></is>`` (``<t xml:space="preserve">`` too) and ``</c>``; each
  reference in its own row, in column order, at most two letters. No formula, phonetic run, rich text,
  comment, CDATA, character reference, carriage return or prefixed element name; text in UTF-8;
- values: the five predefined entities decoded with Arrow; shared strings taken by index; numbers that
  are already in their shortest form (most of them) kept as they are; every other cell (booleans,
  errors, dates, numbers written otherwise) through ``xlsx_cells.cell_text``, the streaming reader's own
  definition, one call per such cell.

The limits are the streaming reader's: where it would refuse (cells, rows × columns, a cell's
characters, shared strings), this reader returns ``None`` before building anything, and the streaming
reader reports the finding. Tests compare both readers on the same bytes.
"""

from __future__ import annotations

import mmap
import queue
import re
import threading
import weakref
from collections.abc import Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol
from xml.parsers import expat

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.intake.headers import check_header
from connectors.intake.limits import IntakeLimits
from connectors.intake.xlsx_cells import cell_text

MAX_ROW = 1_048_576
MAX_CELL_CHARS = 32_767
_PIECE = 4 << 20  # bytes classified at once: big enough for numpy, small enough for the cache
_MAX_PIECE = 64 << 20  # a row (or shared string) longer than this is left to the streaming reader
_PAD = 64  # bytes after each piece, so that look-ahead never leaves the buffer
_SENTINEL = b"<" + bytes(_PAD - 1)
_SENTINEL_BYTES = np.frombuffer(_SENTINEL, dtype=np.uint8)
_CHUNK_ROOM = 8 << 20  # room for the chunks that complete a piece
_MAPPINGS = 8  # mappings kept for reuse
_SCATTER = 1 << 22  # entries of the index that places a piece's values (32 MB)
_JOIN_PIECES = 16  # pieces whose chunks of each column are joined into one, while the next are read

# kinds of the tags outside the elements read here
_OTHER, _ROW, _ROW_END, _IGNORED = range(4)

_SPACE, _LT, _GT, _SLASH, _QUOTE, _EQ, _AMP = 32, 60, 62, 47, 34, 61, 38
_PRESERVE_TAG = b'<t xml:space="preserve">'
_ENCODING = re.compile(rb'^\s*<\?xml[^>]*?encoding\s*=\s*["\']([A-Za-z0-9._-]+)["\']')
_KINDS = {b'inlineStr"': "inlineStr", b's"': "s", b'n"': "n", b'str"': "str", b'b"': "b", b'e"': "e", b'd"': "d"}
_NUMBER = 0  # no t attribute
_KIND_NAMES = ["n", *_KINDS.values()]
_KIND_CODE = {kind: code for code, kind in enumerate(_KIND_NAMES) if code}
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))


class _Book(Protocol):
    limits: IntakeLimits

    def has(self, name: str) -> bool: ...

    def stream(self, name: str) -> Iterator[bytes]: ...


class _NotPlain(Exception):
    pass


def _no_dtd(*_: Any) -> None:
    raise _NotPlain


@dataclass(eq=False)
class _Piece:
    """``n`` bytes of a part, then ``_SENTINEL``, at the start of ``data`` (which may be longer)."""

    data: mmap.mmap
    n: int


class _Mappings:
    """Anonymous mappings for pieces, each reused once its piece is gone and nothing reads its bytes:
    fresh pages cost a fault and the kernel's zeroing each (a fresh mapping per piece read the 300,000-row
    sheet slower than growing a bytearray did; reused ones, faster)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.held: list[tuple[mmap.mmap, weakref.ref[_Piece] | None]] = []

    def take(self, size: int) -> mmap.mmap:
        for i, (mapping, piece) in enumerate(self.held):
            if (piece is None or piece() is None) and len(mapping) >= size and _unread(mapping):
                del self.held[i]
                return mapping
        return mmap.mmap(-1, max(size, self.size))

    def give(self, mapping: mmap.mmap, piece: _Piece | None = None) -> None:
        """``mapping`` is free again once ``piece`` (if any) is gone."""
        self.held.append((mapping, None if piece is None else weakref.ref(piece)))
        if len(self.held) > _MAPPINGS:
            self.held.pop(0)


def _unread(mapping: mmap.mmap) -> bool:
    """Whether no buffer of ``mapping`` is exported (resizing to its size is refused while one is)."""
    try:
        mapping.resize(len(mapping))
    except (BufferError, OSError, SystemError):  # exported, or a system without mremap: not reused
        return False
    return True


def _pieces(book: _Book, part: str, cut: bytes) -> Iterator[_Piece]:
    """The part's bytes in pieces of about ``_PIECE`` that each end just before a ``cut`` (a row, a
    shared string), each followed by ``_SENTINEL``. Each inflated chunk is copied once, into the piece
    being filled, by numpy (without the interpreter lock)."""
    mappings = _Mappings(_PIECE + _CHUNK_ROOM)
    data = mappings.take(0)
    view = np.frombuffer(data, dtype=np.uint8)
    filled = 0
    first = True
    for chunk in book.stream(part):
        if first:
            _utf8_declared(chunk)
            first = False
        if filled + len(chunk) + _PAD > len(data):
            bigger = mappings.take(2 * (filled + len(chunk)) + _PAD)
            grown = np.frombuffer(bigger, dtype=np.uint8)
            grown[:filled] = view[:filled]
            del view
            mappings.give(data)
            data, view = bigger, grown
        view[filled: filled + len(chunk)] = np.frombuffer(chunk, dtype=np.uint8)
        filled += len(chunk)
        if filled < _PIECE:
            continue
        at = data.rfind(cut, 0, filled)
        if at <= 0:
            if filled > _MAX_PIECE:
                raise _NotPlain
            continue
        following = mappings.take(filled - at + _PAD)
        rest = np.frombuffer(following, dtype=np.uint8)
        rest[: filled - at] = view[at:filled]
        view[at: at + _PAD] = _SENTINEL_BYTES
        del view
        piece = _Piece(data, at)
        mappings.give(data, piece)
        yield piece
        del piece
        data, view, filled = following, rest, filled - at
    if filled:
        view[filled: filled + _PAD] = _SENTINEL_BYTES
        del view
        yield _Piece(data, filled)


def _ahead(pieces: Generator[_Piece, None, None], depth: int = 2) -> Iterator[_Piece]:
    """``pieces``, produced on a thread of their own up to ``depth`` ahead of the caller: the sheet is
    inflated and CRC-checked (ISA-L releases the GIL) while the pieces before it are read. An error of
    the producer is raised here, where the next piece was expected; a caller that stops early stops it."""
    slots: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for piece in pieces:
                while not stop.is_set():
                    try:
                        slots.put(("piece", piece), timeout=0.05)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(("end", None))
        except BaseException as exc:  # handed to the caller, which raises it
            slots.put(("error", exc))

    producer = threading.Thread(target=produce, name="xlsx-inflate", daemon=True)
    producer.start()
    try:
        while True:
            kind, value = slots.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while producer.is_alive():  # let a blocked producer see the stop
            try:
                slots.get_nowait()
            except queue.Empty:
                producer.join(0.05)
        pieces.close()


class _Skeleton:
    """Well-formedness at C speed. The elements read here (cells, shared strings) are checked byte by
    byte against their one form, and the text everywhere against the XML rules (characters, entities,
    UTF-8); expat (no handlers, no DTD) reads what is left: the skeleton around them, rows and their
    attributes, every other element. A piece is well-formed when both agree."""

    def __init__(self) -> None:
        self.parser = expat.ParserCreate("utf-8")
        self.parser.StartDoctypeDeclHandler = _no_dtd
        self.parser.EntityDeclHandler = _no_dtd

    def feed(self, tags: _Tags, starts: np.ndarray, stops: np.ndarray) -> None:
        """Feed the piece without the spans ``starts``..``stops`` (sorted, apart), checked already."""
        keep_starts = np.concatenate(([0], stops))
        keep_stops = np.concatenate((starts, [tags.n]))
        try:
            self.parser.Parse(tags.gather(keep_starts, keep_stops), False)
        except expat.ExpatError:
            raise _NotPlain from None

    def close(self) -> None:
        try:
            self.parser.Parse(b"", True)
        except expat.ExpatError:
            raise _NotPlain from None


_ENTITY_NAMES = [np.frombuffer(name, dtype=np.uint8) for name in (b"amp;", b"lt;", b"gt;", b"quot;", b"apos;")]


def _text_rules(data: mmap.mmap, buf: np.ndarray, n: int) -> np.ndarray:
    """Where the piece's entities start, after checking what XML requires of its characters: valid
    UTF-8 without U+FFFE or U+FFFF, no control character but tab and line feed (a carriage return,
    which XML turns into a line feed, is left to the streaming reader, as are character references),
    ``&`` only in a predefined entity, no ``]]>``."""
    head = buf[:n]
    if n and head.min() < 32:  # most pieces hold no control character at all: one reduction says so
        controls = np.count_nonzero(head < 32)
        if controls != np.count_nonzero(head == 9) + np.count_nonzero(head == 10):
            raise _NotPlain
    text = pa.Array.from_buffers(pa.string(), 1, [None, pa.py_buffer(np.array([0, n], dtype=np.int32)),
                                                  pa.py_buffer(data)])
    try:
        text.validate(full=True)
    except pa.ArrowInvalid:
        raise _NotPlain from None
    # each byte below is looked for with memchr first: most pieces hold none of them
    if data.find(b"\xef", 0, n) >= 0:
        ef = np.flatnonzero(head == 0xEF)
        if ((buf[ef + 1] == 0xBF) & (buf[ef + 2] >= 0xBE)).any():
            raise _NotPlain
    if data.find(b"]", 0, n) >= 0:
        bracket = np.flatnonzero(head == 93)
        if ((buf[bracket + 1] == 93) & (buf[bracket + 2] == _GT)).any():
            raise _NotPlain
    if data.find(b"&", 0, n) < 0:
        return np.zeros(0, dtype=np.intp)
    amp = np.flatnonzero(head == _AMP)
    window = buf[amp[:, None] + np.arange(1, 6)]
    known = np.zeros(len(amp), dtype=bool)
    for name in _ENTITY_NAMES:
        known |= (window[:, : len(name)] == name).all(axis=1)
    if not known.all():
        raise _NotPlain
    return amp


def _utf8_declared(head: bytes) -> None:
    """The bytes are UTF-8 only when the part starts with ``<`` (after a UTF-8 BOM) and declares no
    other encoding: expat would read a UTF-16 or GB18030 part, but the values are cut from the bytes."""
    head = head.removeprefix(b"\xef\xbb\xbf")
    if not head.startswith(b"<"):
        raise _NotPlain
    declared = _ENCODING.match(head[:200])
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise _NotPlain


def _word(text: bytes) -> tuple[int, int]:
    """(value, mask) of up to 8 bytes read as one little-endian integer."""
    return int.from_bytes(text, "little"), (1 << (8 * len(text))) - 1


def _byte(words: np.ndarray, k: int) -> np.ndarray:
    """The ``k``-th byte of each 8-byte word."""
    return ((words >> np.uint64(8 * k)) & np.uint64(0xFF)).astype(np.uint8)


def _equals(words: np.ndarray, text: bytes) -> np.ndarray:
    value, mask = _word(text)
    return (words & np.uint64(mask)) == np.uint64(value)


class _Tags:
    """One piece's tags: positions of ``<`` and the 8 bytes from each (``w``: one little-endian
    integer per tag, so that a tag's form is one comparison). Nothing read from a piece is kept before
    ``check_text`` has passed: the tags are classified on one core, the text checked on the other."""

    def __init__(self, piece: _Piece) -> None:
        data, n = piece.data, piece.n
        self.piece = piece  # its mapping is not reused while the tags are read
        # a "<" after the piece ends the last tag's text, and its word ("<" then zero bytes) is the one
        # every look-ahead past the last tag reads: it opens no element
        buf = np.frombuffer(data, dtype=np.uint8)[: n + _PAD]
        self.buf, self.n = buf, n
        self.words = np.ndarray((len(buf) - 8,), "<u8", buf, 0, (1,))
        self.amp: np.ndarray | None = None  # where entities start, once the text is checked
        self.ends = np.flatnonzero(buf[:n + 1] == _LT)  # each tag's text runs to the next "<"
        self.lt = self.ends[:-1]
        self.w = self.words[self.ends]
        w = self.w[:-1]
        self.first = _byte(w, 1)
        if (self.first == 33).any():
            raise _NotPlain  # a comment, CDATA or a declaration
        self.data = data

    def check_text(self) -> None:
        """The piece's text follows XML's rules (``_text_rules``); its entities are found."""
        self.amp = _text_rules(self.data, self.buf, self.n)

    def count(self) -> int:
        return len(self.lt)

    def named(self, word: bytes) -> np.ndarray:
        """The tags (their numbers) that open an element named ``word``, in any form: only the tags
        whose second byte is the name's first are compared."""
        candidates = np.flatnonzero(self.first == word[0])
        w = self.w[candidates]
        return candidates[_equals(w, b"<" + word) & _is_terminator(_byte(w, len(word) + 1))]

    def covered_outside(self, starts: np.ndarray, lengths: np.ndarray, names: dict[bytes, tuple[Any, int]],
                        ) -> tuple[np.ndarray, np.ndarray, int]:
        """The tags outside the elements read here (each ``lengths`` tags from ``starts``), classified
        by ``names`` (name → (kind of its start tag, kind of its end tag), or ``_Refuse``): (their
        indexes, their kinds, how many start tags are of no known name)."""
        outside = np.flatnonzero(_uncovered(len(self.lt), starts, lengths))
        w = self.w[outside]
        first = self.first[outside]
        closing = first == _SLASH
        kinds = np.full(len(outside), _OTHER, dtype=np.int8)
        kinds[first == 63] = _IGNORED  # a processing instruction
        for word, (start_kind, end_kind) in names.items():
            size = len(word)
            after_open, after_close = _byte(w, size + 1), _byte(w, size + 2)
            opening = _equals(w, b"<" + word) & _is_terminator(after_open)
            closed = _equals(w, b"</" + word) & _is_terminator(after_close)
            if start_kind is _Refuse:
                if opening.any() or closed.any():
                    raise _NotPlain  # a formula, rich text, or one of the elements read here outside its place
                continue
            if not ((after_close[closed] == _GT).all() and (after_open[opening] == _SPACE).all()):
                raise _NotPlain  # "</row >", "<row>": legal, and not the forms read here
            kinds[closed] = end_kind
            kinds[opening] = start_kind
        other = kinds == _OTHER
        _no_prefixes(self.data, self.buf, self.lt[outside[other]] + 1 + closing[other])
        return outside, kinds, int(np.count_nonzero(other & ~closing))

    def gather(self, starts: np.ndarray, stops: np.ndarray) -> bytes:
        """The bytes between each start and stop, one after the other."""
        lengths = stops - starts
        total = int(lengths.sum())
        if total == 0:
            return b""
        offsets = np.cumsum(lengths) - lengths
        index = np.repeat(starts - offsets, lengths) + np.arange(total)
        return self.buf[index].tobytes()

    def text(self, tag: np.ndarray, skip: int, *, cells: bool = True) -> pa.Array:
        """The text after each tag (indexes into the tags, in order) as one string array, its first
        ``skip`` bytes (the tag itself) left out, entities decoded. The piece is checked UTF-8 and
        each text runs to a ``<``, so Arrow takes the values straight from the piece's bytes: one
        array whose items are text, gap, text, gap, …, of which the texts are taken."""
        starts, stops = self.lt[tag] + skip, self.ends[tag + 1]
        if cells and len(tag) and (stops - starts).max() > MAX_CELL_CHARS:
            raise _NotPlain  # the streaming reader reports a cell over 32,767 characters
        if len(tag) == 0:
            return pa.array([], pa.string())
        bounds = np.empty(2 * len(tag), dtype=np.int32)
        bounds[0::2], bounds[1::2] = starts, stops
        pieces = pa.StringArray.from_buffers(len(bounds) - 1, pa.py_buffer(bounds), pa.py_buffer(self.buf))
        values = pieces.take(pa.array(np.arange(0, len(bounds), 2, dtype=np.int32)))
        if self.amp is None:
            raise RuntimeError("the piece's text was not checked")
        if len(self.amp):
            escaped = np.flatnonzero(np.searchsorted(self.amp, starts) < np.searchsorted(self.amp, stops))
            if len(escaped):
                decoded = values.take(pa.array(escaped))
                for entity, char in _ENTITIES:
                    decoded = pc.replace_substring(decoded, entity, char)
                mask = np.zeros(len(values), dtype=bool)
                mask[escaped] = True
                values = _merge([values.filter(pa.array(~mask)), decoded], [~mask, mask])
        return values

    def form(self, at: np.ndarray, text: bytes) -> np.ndarray:
        """Whether the tags at ``at`` (indexes, possibly past the last) start with ``text`` (≤ 8 bytes)."""
        return _equals(self.w[_within(at, len(self.w))], text)


def _uncovered(count: int, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Which of ``count`` tags lie outside every span of ``lengths`` tags from ``starts``."""
    free = np.ones(count, dtype=bool)
    if len(lengths) and (lengths == lengths[0]).all():  # one form throughout: no selection per step
        for k in range(int(lengths[0])):
            free[starts + k] = False
        return free
    for k in range(int(lengths.max()) if len(lengths) else 0):
        free[starts[lengths > k] + k] = False
    return free


def _within(at: np.ndarray, size: int) -> np.ndarray:
    """``at`` with indexes past ``size - 1`` read as the last (a look-ahead past the piece's last
    tag); most pieces have none, and then ``at`` is returned as it is."""
    if len(at) == 0 or at.max() < size:
        return at
    return np.minimum(at, size - 1)


def _is_terminator(byte: np.ndarray) -> np.ndarray:
    return (byte == _SPACE) | (byte == _GT) | (byte == _SLASH) | (byte == 9) | (byte == 10)


_NAME = re.compile(rb"[^\s/>]{0,200}")


def _no_prefixes(data: mmap.mmap, buf: np.ndarray, starts: np.ndarray) -> None:
    """No element name among ``starts`` has a prefix: the streaming reader strips it (``x:c`` is a
    cell there), this reader would not."""
    window = buf[starts[:, None] + np.arange(32)]
    terminator = _is_terminator(window)
    colon = window == 58
    found = terminator.any(axis=1)
    length = terminator.argmax(axis=1)
    if (colon.any(axis=1) & (colon.argmax(axis=1) < np.where(found, length, 32))).any():
        raise _NotPlain
    long = starts[~found]
    if len(long) > 1000:
        raise _NotPlain
    for start in long.tolist():
        name = _NAME.match(data, start)
        if name is None or len(name.group()) >= 200 or b":" in name.group():
            raise _NotPlain


class _Refuse:
    """Marks element names whose presence leaves the workbook to the streaming reader."""


# outside the cells (shared strings) only these names may appear, besides names the reader ignores
_SHEET_OUTSIDE: dict[bytes, tuple[Any, int]] = {
    b"row": (_ROW, _ROW_END),
    **{name: (_Refuse, 0) for name in (b"c", b"v", b"is", b"t", b"f", b"rPh")},
}
_STRINGS_OUTSIDE: dict[bytes, tuple[Any, int]] = {name: (_Refuse, 0) for name in (b"si", b"t", b"r", b"rPh")}


def _t_forms(tags: _Tags, t: np.ndarray, words: np.ndarray | None = None) -> np.ndarray:
    """Whether each tag at ``t`` is ``<t>`` or ``<t xml:space="preserve">`` (``words``: the tags' words,
    when gathered already)."""
    if words is None:
        words = tags.w[_within(t, len(tags.w))]
    ok = _equals(words, b"<t>")
    preserved = np.flatnonzero(~ok & _equals(words, _PRESERVE_TAG[:8]))
    if len(preserved):
        at = tags.lt[t[preserved]]
        full = _equals(tags.words[at + 8], _PRESERVE_TAG[8:16]) & _equals(tags.words[at + 16], _PRESERVE_TAG[16:])
        ok[preserved] = full
    return ok


def _t_texts(tags: _Tags, t: np.ndarray, *, cells: bool = True) -> pa.Array:
    """The text of each ``<t>`` or ``<t xml:space="preserve">`` tag (indexes into the tags; forms checked)."""
    plain = tags.buf[tags.lt[t] + 2] == _GT
    if plain.all():
        return tags.text(t, 3, cells=cells)
    return _merge([tags.text(t[plain], 3, cells=cells), tags.text(t[~plain], len(_PRESERVE_TAG), cells=cells)],
                  [plain, ~plain])


def _merge(parts: list[pa.Array], masks: list[np.ndarray]) -> pa.Array:
    """One array from parts that each hold the values where their mask is true, in order."""
    index = np.empty(len(masks[0]), dtype=np.int64)
    size = 0
    for part, mask in zip(parts, masks, strict=True):
        index[mask] = size + np.arange(len(part))
        size += len(part)
    return pa.concat_arrays(parts).take(pa.array(index))


def _shared_strings(book: _Book, part: str | None) -> pa.Array:
    """The shared strings when each is ``<si><t>text</t></si>``."""
    if part is None or not book.has(part):
        return pa.array([], pa.string())
    limits = book.limits
    strings: list[pa.Array] = []
    count = chars = others = 0
    skeleton = _Skeleton()
    for data in _pieces(book, part, b"<si>"):
        tags = _Tags(data)
        tags.check_text()
        si = np.flatnonzero(tags.form(np.arange(tags.count()), b"<si>"))
        if not (_t_forms(tags, si + 1) & tags.form(si + 2, b"</t>") & tags.form(si + 3, b"</si>")).all():
            raise _NotPlain  # rich text, phonetic properties, an empty item
        _, _, other = tags.covered_outside(si, np.full(len(si), 4), _STRINGS_OUTSIDE)
        count += len(si)
        chars += tags.n
        others += other
        # characters ≤ bytes, so under these bounds the streaming reader's limits cannot trip
        if count > limits.max_xlsx_shared_strings or chars > limits.max_xlsx_shared_string_chars \
                or others > 16 * limits.max_xlsx_shared_strings:
            raise _NotPlain
        strings.append(_t_texts(tags, si + 1, cells=False))
        skeleton.feed(tags, tags.lt[si], tags.lt[si + 3] + 5)  # up to after "</si>"
    skeleton.close()
    return pa.concat_arrays(strings) if strings else pa.array([], pa.string())


def _numbers(tags: _Tags, positions: np.ndarray, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """(value, length) of the decimal numbers of 1 to ``digits`` (≤ 7) digits that end in ``"`` at
    each position; anything else is not plain."""
    words = tags.words[positions]
    value = np.zeros(len(positions), dtype=np.int64)
    length = np.zeros(len(positions), dtype=np.int64)
    done = np.zeros(len(positions), dtype=bool)
    valid = np.ones(len(positions), dtype=bool)
    for k in range(digits + 1):
        byte = _byte(words, k)
        quote = ~done & (byte == _QUOTE)
        length[quote] = k
        done |= quote
        active = ~done
        if k == digits:
            valid &= ~active
            break
        digit = byte.astype(np.int64) - 48
        valid &= ~active | ((digit >= 0) & (digit <= 9))
        value = np.where(active, value * 10 + digit, value)
    if not (valid & (length >= 1)).all():
        raise _NotPlain
    return value, length


@dataclass
class _Cells:
    """What one piece's tags say on their own, before it is placed after the pieces before it."""

    tags: _Tags
    at: np.ndarray  # tag numbers of the cells
    span_end: np.ndarray  # where each cell's elements end (after "/>" or "</c>")
    others: int  # elements outside the cells and rows
    rows: np.ndarray | None = None  # the row numbers, strictly increasing; None when the piece has no row
    row_of: np.ndarray | None = None  # each valued cell's row
    column: np.ndarray | None = None  # each valued cell's column
    kind_code: np.ndarray | None = None
    style: np.ndarray | None = None
    raw: pa.Array | None = None  # each valued cell's text as written


@dataclass
class _Rows:
    """A piece's ``<row r="N"`` tags and the row each cell is in."""

    tags: np.ndarray  # tag numbers of the rows
    numbers: np.ndarray  # their row numbers
    owner: np.ndarray  # the index (into ``tags``) of each cell's row


def _rows_of(tags: _Tags, cells: np.ndarray) -> _Rows:
    """The piece's rows (``<row r="N"``, numbers strictly increasing) and the row that holds each
    cell, which must be within one."""
    rows = tags.named(b"row")
    if len(rows) == 0:
        if len(cells):
            raise _NotPlain
        return _Rows(rows, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.intp))
    if not _equals(tags.words[tags.lt[rows]], b'<row r="').all():
        raise _NotPlain
    numbers, _ = _numbers(tags, tags.lt[rows] + 8, 7)
    if (np.diff(numbers) <= 0).any() or numbers[-1] > MAX_ROW:
        raise _NotPlain
    # both are tag numbers in order: the cells that follow each row, up to the next, are its own
    before = np.searchsorted(cells, rows)  # for each row, how many cells come before it
    if before[0] != 0:
        raise _NotPlain  # a cell before the first row
    owner = np.repeat(np.arange(len(rows)), np.diff(before, append=len(cells)))
    return _Rows(rows, numbers, owner)


def _classified(data: _Piece) -> tuple[_Tags, np.ndarray, _Rows, tuple[np.ndarray, ...]]:
    """A piece's tags, its rows, its cells and their references: the part of reading a piece that runs
    on the other core while the piece before is read and placed (about half of the work each way)."""
    tags = _Tags(data)
    cells = tags.named(b"c")
    rows = _rows_of(tags, cells)
    column, reference_end = _references(tags, cells, rows)
    return tags, cells, rows, (column, reference_end)


def _cells(tags: _Tags, cells: np.ndarray, row_tags: _Rows, references: tuple[np.ndarray, ...]) -> _Cells:
    """Read a classified piece's cells (``<c>`` with at most ``<v>`` or ``<is><t>`` inside, within
    rows): everything that needs no earlier piece."""
    tags.check_text()
    lt = tags.lt
    column, reference_end = references
    # the cell tags' attributes are read here, not with the references: the other thread's share of a
    # piece (tags, rows, references) is then about as long as this one's
    kind_code, style, self_closed, tag_end = _attributes(tags, reference_end)
    # content: closed at once, empty, <v>…</v> or <is><t>…</t></is>, then </c>; the words of the tags
    # after each cell gathered once for every form compared with them
    after = {k: tags.w[_within(cells + k, len(tags.w))] for k in range(1, 6)}
    inline = ~self_closed & _equals(after[1], b"<is>") & _t_forms(tags, cells + 2, after[2]) \
        & _equals(after[3], b"</t>") & _equals(after[4], b"</is>") & _equals(after[5], b"</c>")
    every_inline = bool(inline.all())  # a sheet of inline strings (as openpyxl writes): no other form
    if every_inline:
        with_v = np.zeros(len(cells), dtype=bool)
        size = np.full(len(cells), 6)
    else:
        with_v = ~self_closed & _equals(after[1], b"<v>") & _equals(after[2], b"</v>") \
            & _equals(after[3], b"</c>")
        empty = ~self_closed & _equals(after[1], b"</c>")
        if not (self_closed | with_v | inline | empty).all():
            raise _NotPlain
        size = np.where(with_v, 4, np.where(inline, 6, np.where(empty, 2, 1)))
    outside, kinds, others = tags.covered_outside(cells, size, _SHEET_OUTSIDE)
    # rows: <row r="N" ...>, strictly increasing, each closed before the next opens
    rows, row_ends = outside[kinds == _ROW], outside[kinds == _ROW_END]
    if len(rows) != len(row_ends) or (rows > row_ends).any() or (row_ends[:-1] > rows[1:]).any():
        raise _NotPlain
    if not np.array_equal(rows, row_tags.tags):
        raise _NotPlain  # the rows found with the tags are these, which no cell covers
    span_end = np.where(self_closed, tag_end + 2, lt[_within(cells + size - 1, len(lt))] + 4)
    found = _Cells(tags, cells, span_end, others)
    if len(rows) == 0:
        return found
    numbers = row_tags.numbers
    if (cells > row_ends[row_tags.owner]).any():
        raise _NotPlain  # a cell after its row's end, outside any row
    row_of = numbers[row_tags.owner]
    if ((np.diff(row_of) == 0) & (np.diff(column) <= 0)).any():
        raise _NotPlain  # out of order, or twice
    found.rows = numbers
    if every_inline:
        found.row_of, found.column, found.kind_code, found.style = row_of, column, kind_code, style
        found.raw = _t_texts(tags, cells + 2)
        return found
    valued = np.flatnonzero(with_v | inline)
    in_line = inline[valued]
    at = cells[valued]
    if in_line.all():
        raw = _t_texts(tags, at + 2)
    elif not in_line.any():
        raw = tags.text(at + 1, 3)
    else:
        raw = _merge([tags.text(at[~in_line] + 1, 3), _t_texts(tags, at[in_line] + 2)], [~in_line, in_line])
    found.row_of, found.column = row_of[valued], column[valued]
    found.kind_code, found.style, found.raw = kind_code[valued], style[valued], raw
    return found


class _Sheet:
    """The table being built, piece by piece: whole rows at a time, in Arrow chunks per column."""

    def __init__(self, limits: IntakeLimits, strings: pa.Array, date_styles: list[bool], date1904: bool) -> None:
        self.limits = limits
        self.strings = strings
        self.date_styles = np.array([*date_styles, False], dtype=bool)  # the last one: any style beyond
        self.date1904 = date1904
        self.names: list[str] | None = None
        self.width = 0
        self.row = 0  # the last sheet row seen
        self.emitted = 0  # data rows in ``columns``
        self.cells = 0
        self.others = 0
        self.columns: list[list[pa.Array]] = []  # each column's chunks since the last join
        self.joined: list[Future[list[pa.Array]]] = []  # each column's chunks joined, a few pieces at a time
        self.joiner: ThreadPoolExecutor | None = None  # joins chunks in the background when set
        self.skeleton = _Skeleton()

    def piece(self, cells: _Cells) -> None:
        """Place one piece's cells, in order: the counts, the skeleton and the rows run on from the
        pieces before it."""
        tags = cells.tags
        self.cells += len(cells.at)
        self.others += cells.others
        if self.cells > self.limits.max_xlsx_cells or self.others > self.limits.max_xlsx_cells:
            raise _NotPlain
        self.skeleton.feed(tags, tags.lt[cells.at], cells.span_end)  # up to after "/>" or "</c>"
        if cells.rows is None:
            return
        numbers = cells.rows
        first_ok = numbers[0] == 1 if self.row == 0 else numbers[0] > self.row
        if not first_ok:
            raise _NotPlain
        self.row = int(numbers[-1])
        values = self._values(cells.raw, cells.kind_code, cells.style)
        self._rows(cells.row_of, cells.column, values)
        if (self.row - 1) * max(self.width, 1) > self.limits.max_xlsx_cells:
            raise _NotPlain  # the streaming reader counts rows × columns, empty rows too

    def _values(self, raw: pa.Array, kind_code: np.ndarray, style: np.ndarray) -> pa.Array:
        """Each cell's text: strings as they are, shared strings by index, numbers already in shortest
        form as they are, every other cell by ``cell_text``."""
        number = (kind_code == _NUMBER) | (kind_code == _KIND_CODE["n"])
        date = number & self.date_styles[np.minimum(style, len(self.date_styles) - 1)]
        shared = kind_code == _KIND_CODE["s"]
        exact = (kind_code == _KIND_CODE["str"]) | (kind_code == _KIND_CODE["inlineStr"]) | shared
        plain_number = number & ~date
        if plain_number.any():
            exact |= plain_number & _shortest(raw)
        parts = [raw]
        index = np.arange(len(raw), dtype=np.int64)
        size = len(raw)
        if shared.any():
            where = np.flatnonzero(shared)
            indexes = raw.take(pa.array(where))
            if not pc.all(pc.match_substring_regex(indexes, r"^[0-9]{1,9}$")).as_py():
                raise _NotPlain  # the streaming reader reports the bad index where it is
            position = pc.cast(indexes, pa.int64()).to_numpy()
            if (position >= len(self.strings)).any():
                raise _NotPlain
            parts.append(self.strings.take(pa.array(position)))
            index[where] = size + np.arange(len(where))
            size += len(where)
        slow = np.flatnonzero(~exact)
        if len(slow):
            texts = [cell_text(_KIND_NAMES[code], value, bool(is_date), self.date1904)
                     for code, value, is_date in zip(kind_code[slow].tolist(), raw.take(pa.array(slow)).to_pylist(),
                                                     date[slow].tolist(), strict=True)]
            parts.append(pa.array(texts, pa.string()))
            index[slow] = size + np.arange(len(slow))
        if len(parts) == 1:
            return raw
        return pa.concat_arrays(parts).take(pa.array(index))

    def _rows(self, row_of: np.ndarray, column: np.ndarray, values: pa.Array) -> None:
        """Place a piece's values: row 1 is the header; data rows up to the last one with a value
        (empty rows inside the data stay rows, trailing ones wait for a value after them)."""
        present = pc.not_equal(values, "").to_numpy(zero_copy_only=False)  # an empty text is no cell
        if not present.all():
            row_of, column, values = row_of[present], column[present], values.filter(pa.array(present))
        if self.names is None:
            header = row_of == 1
            cells = dict(zip(column[header].tolist(), values.filter(pa.array(header)).to_pylist(), strict=True))
            width = max(cells) + 1 if cells else 0
            self.names = check_header([cells.get(i, "").strip() for i in range(width)])
            self.width = len(self.names)
            self.columns = [[] for _ in range(self.width)]
            row_of, column, values = row_of[~header], column[~header], values.filter(pa.array(~header))
        if len(row_of) == 0:
            return
        if (column >= self.width).any():
            raise _NotPlain  # the streaming reader reports the value beyond the header
        last = int(row_of[-1]) - 1  # data rows up to here
        if last * self.width > self.limits.max_xlsx_cells:
            raise _NotPlain
        count = last - self.emitted
        position = row_of - 2 - self.emitted
        padded = pa.concat_arrays([values, pa.array([""], pa.string())])
        # each (column, row) holds at most one cell (checked when the piece was read): a scatter places
        # every value, the last entry of ``padded`` ("") fills the rest; a sparse sheet (rows far apart)
        # is placed a few columns at a time, so that the index stays within _SCATTER entries
        block = max(1, _SCATTER // max(count, 1))
        cell = np.arange(len(row_of))
        for first in range(0, self.width, block):
            stop = min(first + block, self.width)
            mine = (column >= first) & (column < stop) if block < self.width else slice(None)
            take = np.full((stop - first, count), len(row_of), dtype=np.int64)
            take[column[mine] - first, position[mine]] = cell[mine]
            # one take for the block, column after column; each column is then its own array over its
            # part of the bytes (offsets from 0), as the CSV reader's are
            placed = padded.take(pa.array(take.ravel()))
            offsets = np.frombuffer(placed.buffers()[1], dtype=np.int32, count=len(placed) + 1)
            data = placed.buffers()[2] or pa.py_buffer(b"")
            for j in range(first, stop):
                bounds = offsets[(j - first) * count: (j - first + 1) * count + 1]
                start = int(bounds[0])
                self.columns[j].append(pa.Array.from_buffers(
                    pa.string(), count, [None, pa.py_buffer(bounds - start), data.slice(start, int(bounds[-1]) - start)]))
        self.emitted = last
        if self.joiner is not None and len(self.columns[0]) >= _JOIN_PIECES:
            group, self.columns = self.columns, [[] for _ in range(self.width)]
            self.joined.append(self.joiner.submit(_joined, group))

    def table(self) -> pa.Table:
        """Each column in a chunk per ``_JOIN_PIECES`` pieces: phase 1 looks at a column chunk by chunk,
        and a piece's few thousand rows made a hundred chunks of each (0.1–0.2 s more for phase 1). The
        chunks were joined while the pieces after them were read, so that little is left for the end."""
        self.skeleton.close()
        if self.names is None:
            raise _NotPlain  # an empty sheet: the streaming reader says so
        groups = [joined.result() for joined in self.joined]
        if self.columns and self.columns[0]:
            groups.append(_joined(self.columns))
        arrays = [pa.chunked_array([group[j] for group in groups], pa.string()) for j in range(self.width)]
        return pa.table(arrays, names=self.names)


def _joined(columns: list[list[pa.Array]]) -> list[pa.Array]:
    """Each column's chunks as one array."""
    return [pa.concat_arrays(chunks) for chunks in columns]


_INTEGER = r"^(0|-?[1-9][0-9]{0,17})$"


def _shortest(raw: pa.Array) -> np.ndarray:
    """Number text that Python writes back unchanged: integers of up to 18 digits; decimals with a
    non-zero last digit, at most 15 digits in all (a double keeps 15), in the fixed notation ``repr``
    uses (0.0001 and up)."""
    integer = pc.match_substring_regex(raw, _INTEGER)
    decimal = pc.and_(pc.match_substring_regex(raw, r"^-?([1-9][0-9]*|0)\.[0-9]*[1-9]$"),
                      pc.invert(pc.match_substring_regex(raw, r"^-?0\.0000")))
    digits = pc.subtract(pc.utf8_length(raw), pc.add(pc.cast(pc.starts_with(raw, "-"), pa.int32()), 1))
    short = pc.and_(decimal, pc.less_equal(digits, 15))
    return pc.or_(integer, short).to_numpy(zero_copy_only=False)


_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [(1 << 64) - 1], dtype=np.uint64)


def _decimal_words(numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(word, digits) of each number from 1 to 9,999,999 written in decimal and followed by ``"``: the
    bytes as one little-endian integer, as ``_Tags.words`` reads them, and how many digits."""
    digits = np.ones(len(numbers), dtype=np.int64)
    for k in range(1, 7):
        digits += numbers >= 10**k
    word = np.zeros(len(numbers), dtype=np.uint64)
    rest = numbers.astype(np.uint64)
    for k in range(7):  # the k-th digit from the right sits at byte digits - 1 - k
        place = digits - 1 - k
        shift = (8 * np.maximum(place, 0)).astype(np.uint64)
        word |= np.where(place >= 0, (rest % np.uint64(10) + np.uint64(48)) << shift, np.uint64(0))
        rest //= np.uint64(10)
    return word | (np.uint64(_QUOTE) << (8 * digits).astype(np.uint64)), digits


def _references(tags: _Tags, cells: np.ndarray, rows: _Rows) -> tuple[np.ndarray, np.ndarray]:
    """(column, where the reference ends) of each cell ``<c r="REF"`` whose reference names the row it
    is in (the streaming reader compares the two). Words read at a tag's own ``<`` come from ``tags.w``
    (aligned); each word read elsewhere costs a gather of unaligned words, so each is read once."""
    buf, words = tags.buf, tags.words
    at = tags.lt[cells]
    head = tags.w[cells]  # '<c r="' and the reference's first two characters
    if not _equals(head, b'<c r="').all():
        raise _NotPlain
    l0, l1 = _byte(head, 6), _byte(head, 7)
    first_letter = (l0 >= 65) & (l0 <= 90)
    two = (l1 >= 65) & (l1 <= 90)
    if not first_letter.all():
        raise _NotPlain  # no column letter
    if two.any():
        l2 = buf[at[two] + 8]
        if ((l2 >= 65) & (l2 <= 90)).any():
            raise _NotPlain  # three letters (beyond ZZ: left to the streaming reader)
    first = l0.astype(np.int64) - 64
    column = np.where(two, 26 * first + l1.astype(np.int64) - 64, first) - 1
    digits_at = at + 7 + two
    # the reference's digits are its row's number as written ("A01" is not row 1's) and a quote: one
    # comparison of words per cell, the expected words built per row
    row_words, row_digits = _decimal_words(rows.numbers)
    length = row_digits[rows.owner]
    if not ((words[digits_at] & _LOW_BYTES[length + 1]) == row_words[rows.owner]).all():
        raise _NotPlain
    return column, digits_at + length + 1  # after the reference's closing quote


def _attributes(tags: _Tags, p: np.ndarray) -> tuple[np.ndarray, ...]:
    """(kind code, style, closed at once, where the tag ends) of each cell tag whose reference ends
    at ``p``: `` s="N"`` and `` t="KIND"``, in that order, then ``>`` or ``/>``. A sheet's cells mostly
    share one form, so a test that holds for every cell is applied to all of them without selecting."""
    buf, words = tags.buf, tags.words
    p = p.copy()
    after = words[p]
    style = np.zeros(len(p), dtype=np.int64)
    has_style = _equals(after, b' s="')
    if has_style.any():
        value, size = _numbers(tags, p[has_style] + 4, 5)
        style[has_style] = value
        p[has_style] += 5 + size
        after[has_style] = words[p[has_style]]
    has_type = _equals(after, b' t="')
    if has_type.all():
        kind_code, p = _kinds(words, p, after >> np.uint64(32))
    else:
        kind_code = np.full(len(p), _NUMBER, dtype=np.int8)
        typed = np.flatnonzero(has_type)
        if len(typed):
            kind_code[typed], p[typed] = _kinds(words, p[typed], after[typed] >> np.uint64(32))
    end = buf[p]
    self_closed = (end == _SLASH) & (buf[p + 1] == _GT)
    if not ((end == _GT) | self_closed).all():
        raise _NotPlain  # another attribute, another order, spaces around "="
    return kind_code, style, self_closed, p


def _kinds(words: np.ndarray, p: np.ndarray, name: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(kind code, where the attribute ends) of each `` t="KIND"`` at ``p``, given the attribute's
    bytes 4 to 7 (``name``, the kind's first four characters)."""
    code = np.full(len(p), -1, dtype=np.int8)
    after = p.copy()
    left: np.ndarray | None = None  # the attributes whose kind is not known yet (None: all)
    for word, kind in _KINDS.items():
        names, at = (name, p) if left is None else (name[left], p[left])
        match = _equals(names, word[:4])
        if len(word) > 4:  # 'inlineStr"': its last six bytes gathered only where the first four match
            if match.all():
                match = _equals(words[at + 8], word[4:])
            else:
                candidates = np.flatnonzero(match)
                match[candidates] = _equals(words[at[candidates] + 8], word[4:])
        if left is None and match.all():
            return np.full(len(p), _KIND_CODE[kind], dtype=np.int8), p + 4 + len(word)
        found = np.flatnonzero(match) if left is None else left[match]
        code[found] = _KIND_CODE[kind]
        after[found] = p[found] + 4 + len(word)
        left = np.flatnonzero(~match) if left is None else left[~match]
        if len(left) == 0:
            return code, after
    raise _NotPlain


def read_plain(book: _Book, sheet_part: str, strings_part: str | None, date_styles: list[bool],
               date1904: bool) -> pa.Table | None:
    """The sheet's table of strings, or None when the streaming reader must decide."""
    try:
        strings = _shared_strings(book, strings_part)
        sheet = _Sheet(book.limits, strings, date_styles, date1904)
        # the next piece's tags are classified and its cells read on the other core while this one is
        # placed (numpy and Arrow release the GIL in their loops)
        with ThreadPoolExecutor(1, thread_name_prefix="xlsx-tags") as pool, \
                ThreadPoolExecutor(1, thread_name_prefix="xlsx-columns") as joiner:
            sheet.joiner = joiner
            ahead = None
            for data in _ahead(_pieces(book, sheet_part, b"<row ")):
                classified = pool.submit(_classified, data)
                if ahead is not None:
                    sheet.piece(_cells(*ahead.result()))
                ahead = classified
            if ahead is not None:
                sheet.piece(_cells(*ahead.result()))
            return sheet.table()
    except Exception:  # anything unexpected: the streaming reader decides, exactly
        return None
