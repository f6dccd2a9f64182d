"""Transcripts: files parsed into speaker turns attributed to informant codes.

A transcript is a ``.txt``, ``.md`` or ``.docx`` file of turns written ``CODE: text`` at the
start of a line, with optional YAML front matter. The text is normalised once (BOM dropped,
LF line ends, Unicode NFC) and every offset in rta is a Unicode code point into that
normalised text, end exclusive; line numbers are 1-based lines of the same text. The
normalised text is what the project stores, so every quote can be checked against it later.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rta.errors import RtaError
from rta.fsutil import sha256_text
from rta.informants import INTERVIEWER_ROLE, Informant, LabelError, Registry
from rta.labels import HEAD_LINES, TIMESTAMP_AFTER, head_of, looks_like_label
from rta.labels import resolve as resolve_label
from rta.yamlutil import LINE_KEY, load_yaml_text, strip_lines

SUPPORTED_SUFFIXES = (".txt", ".md", ".docx")



@dataclass(slots=True)
class Turn:
    """One speaker turn. ``start``/``end`` select ``text`` from the transcript's normalised
    text; the interviewer's turns have ``code`` None and role ``intervjuer``."""

    n: int
    speaker: str
    code: str | None
    role: str | None
    group: str | None
    start: int
    end: int
    line_start: int
    line_end: int
    text: str
    timestamp: str | None = None

    @property
    def is_interviewer(self) -> bool:
        return self.role == INTERVIEWER_ROLE

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass
class Transcript:
    """A parsed transcript: normalised text, its hash, metadata and turns."""

    id: str
    path: Path | None
    text: str
    sha256: str
    turns: list[Turn]
    metadata: dict[str, Any] = field(default_factory=dict)
    declared: list[Informant] = field(default_factory=list)

    @property
    def informant_turns(self) -> list[Turn]:
        return [t for t in self.turns if not t.is_interviewer]

    @property
    def informants(self) -> list[str]:
        seen: dict[str, None] = {}
        for t in self.informant_turns:
            seen.setdefault(t.code or "", None)
        return list(seen)

    @property
    def words(self) -> int:
        return sum(t.words for t in self.turns)

    def line_of(self, offset: int) -> int:
        """1-based line number of a code-point offset."""
        return self.text.count("\n", 0, offset) + 1


# Unicode format characters (category Cf: zero-width space, bidi marks and overrides, soft
# hyphen, BOM, ...) are invisible, and one before or inside a speaker label hides the label
# from the parser. Normalisation drops them everywhere, except the zero-width (non-)joiners
# that some scripts and emoji need. The ranges are Unicode 15.1's Cf; a test checks them
# against the running Python's unicodedata.
_FORMAT_CHARS = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b\u200e\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
# Unicode's own line and paragraph separators are line breaks.
_LINE_BREAKS = re.compile("\r\n|[\r\u2028\u2029]")
# Control characters other than tab and line feed: refused (see check_characters).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# Transcripts larger than this are refused: a real interview is well under 1 MB of text.
MAX_TRANSCRIPT_BYTES = 50 * 1024 * 1024


def normalise_text(text: str) -> str:
    """BOM and other Unicode format characters dropped, CRLF/CR (and U+2028/U+2029) to LF,
    Unicode NFC: the text rta stores and every offset refers to."""
    # Each step copies the text only when it changes something (large files, low memory).
    if _LINE_BREAKS.search(text):
        text = _LINE_BREAKS.sub("\n", text)
    if not text.isascii():
        if _FORMAT_CHARS.search(text):
            text = _FORMAT_CHARS.sub("", text)
        if not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
    return text


def check_characters(text: str, path: Any = "<text>") -> None:
    """Refuse NUL and other control characters (tab and line feed are fine), naming line and
    column: they are invisible in an editor, break XML exports and can steer a terminal."""
    m = _CONTROL.search(text)
    if m is None:
        return
    line_start = text.rfind("\n", 0, m.start()) + 1
    line = text.count("\n", 0, m.start()) + 1
    column = m.start() - line_start + 1
    ch = m.group()
    hint = "remove it in a text editor (it is invisible in most) and add the file again"
    if "\x80" <= ch <= "\x9f":
        hint = "the file may be Windows-1252 read as Latin-1: re-run with --encoding cp1252, or " + hint
    raise RtaError(
        f"control character U+{ord(ch):04X} at line {line}, column {column}",
        path=path,
        line=line,
        hint=hint,
    )


def read_text(path: str | Path, encoding: str = "utf-8") -> str:
    """Read a transcript file (``.txt``, ``.md``, ``.docx``) and return its normalised text."""
    path = Path(path)
    if not path.exists():
        raise RtaError("file not found", path=path, hint="check the path and the file name")
    if path.is_dir():
        raise RtaError(
            "is a directory, expected a transcript file",
            path=path,
            hint=f"pass the files inside it, e.g. {path}/*.txt",
        )
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise RtaError(
            f"unsupported file type '{suffix or '(none)'}'",
            path=path,
            hint="transcripts must be .txt, .md or .docx",
        )
    size = path.stat().st_size
    if size > MAX_TRANSCRIPT_BYTES:
        raise RtaError(
            f"the file is {size / 1024 / 1024:.0f} MB; transcripts over "
            f"{MAX_TRANSCRIPT_BYTES // 1024 // 1024} MB are refused",
            path=path,
            hint="split it into one file per interview",
        )
    if suffix == ".docx":
        text = normalise_text(_read_docx(path))
        if len(text) > MAX_TRANSCRIPT_BYTES:
            raise RtaError(
                f"the Word file holds more than {MAX_TRANSCRIPT_BYTES // 1024 // 1024} MB of text",
                path=path,
                hint="split it into one file per interview",
            )
        return text
    data = path.read_bytes()
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RtaError(
            f"not valid {encoding} (byte 0x{data[exc.start]:02x} at line {line})",
            path=path,
            line=line,
            hint="if it was saved on Windows, re-run with --encoding cp1252 (or --encoding latin-1)",
        ) from None
    except LookupError:
        raise RtaError(f"unknown encoding '{encoding}'", path=path, hint="try utf-8, cp1252 or latin-1") from None
    return normalise_text(text)


def open_docx(path: Path) -> Any:
    """A python-docx Document, or an RtaError naming the file (transcripts and manuscripts)."""
    try:
        import docx  # python-docx
    except ImportError:  # pragma: no cover - a dependency of rta
        raise RtaError("reading .docx needs python-docx", path=path, hint="pip install python-docx") from None
    try:
        return docx.Document(str(path))
    except Exception as exc:  # zipfile.BadZipFile, KeyError, ...
        raise RtaError(f"cannot read Word file: {exc}", path=path, hint="open and re-save it in Word as .docx") from None


def _read_docx(path: Path) -> str:
    return "\n".join(_docx_lines(open_docx(path)))


# A table cell that holds only a speaker label (``S1``, ``R 2.1``, ``Intervjuer``, ``Va:``) or
# only a timestamp: Word transcripts are often typed as a table of (time,) speaker and text.
_LABEL_CELL = re.compile(r"[^\s:]{1,15}(?: [^\s:]{1,6})?:?")
_TIME_CELL = re.compile(r"[\[(]?\d{1,2}:\d{2}(?::\d{2})?[\])]?")


def _docx_lines(document: Any) -> list[str]:
    """Paragraphs and table rows of a Word document in reading order. A row of (speaker, text)
    or (time, speaker, text) cells becomes a turn line ``SPEAKER: [time] text``; any other row
    becomes its cells' text joined by spaces."""
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
            continue
        for row in block.rows:
            cells: list[Any] = []
            for cell in row.cells:  # a merged cell is listed once per grid column it spans
                if not cells or cell._tc is not cells[-1]._tc:
                    cells.append(cell)
            texts = [c.text.strip() for c in cells if c.text.strip()]
            if len(texts) >= 3 and _TIME_CELL.fullmatch(texts[0]) and _LABEL_CELL.fullmatch(texts[1]):
                stamp = texts[0].strip("[]()")
                lines.append(f"{texts[1].rstrip(':')}: [{stamp}] " + " ".join(texts[2:]))
            elif len(texts) >= 2 and _LABEL_CELL.fullmatch(texts[0]):
                lines.append(f"{texts[0].rstrip(':')}: " + " ".join(texts[1:]))
            elif texts:
                lines.append(" ".join(texts))
    return lines


def parse_file(path: str | Path, registry: Registry, encoding: str = "utf-8") -> Transcript:
    """Parse a transcript file against an informant registry."""
    path = Path(path)
    text = read_text(path, encoding=encoding)
    return parse_text(text, registry, path=path, default_id=path.stem)


def parse_text(
    text: str,
    registry: Registry,
    path: str | Path | None = None,
    default_id: str | None = None,
) -> Transcript:
    """Parse normalised (or raw) transcript text into turns.

    Every line that looks like a speaker label (:mod:`rta.labels`) starts a turn of the
    speaker it names, or the file is refused: an unknown or ambiguous label, text before the
    first label, control characters, malformed front matter or no turns at all raise
    :class:`RtaError` naming the file and line. Linear in the size of the text.
    """
    text = normalise_text(text)
    shown = path if path is not None else "<text>"
    check_characters(text, shown)
    if _NONSPACE.search(text) is None:
        raise RtaError("the transcript is empty", path=shown, line=1, hint="check that the right file was given")
    metadata, body_offset, declared = _front_matter(text, shown, registry)
    reg = registry.with_declared(declared)
    interviewer_extra = [str(metadata["interviewer"])] if metadata.get("interviewer") else []

    starts = _line_starts(text)
    turns: list[Turn] = []
    unlabelled = _unlabelled_speaker(metadata, reg, interviewer_extra, text, shown)
    # The label just found: (label, line start offset, content start offset, informant, stamp);
    # its turn is built when the next label (or the end of the text) says where it ends.
    current: tuple[str, int, int, Informant | None, str | None] | None = None
    seen: dict[str, tuple[str, Informant | None] | None] = {}  # raw label -> (label, informant)
    # Only lines with a label-shaped start can start a turn: one regex scan finds them.
    for m in HEAD_LINES.finditer(text, body_offset):
        ls = m.start()
        head = _match_label(m, reg, interviewer_extra, shown, bisect_right(starts, ls), seen)
        if head is None:
            continue
        if current is None:
            if unlabelled is None:
                _check_nothing_before(text, body_offset, ls, starts, shown)
            else:
                turns.extend(_paragraph_turns(text, body_offset, ls, unlabelled, starts))
        else:
            turns.append(_make_turn(text, len(turns) + 1, current, ls, starts))
        label, after, informant, stamp = head
        current = (label, ls, after, informant, stamp)
    if current is None and unlabelled is not None:
        turns.extend(_paragraph_turns(text, body_offset, len(text), unlabelled, starts))
    if current is None and not turns:
        if unlabelled is None:
            _check_nothing_before(text, body_offset, len(text), starts, shown)
        raise RtaError(
            "no speaker turns found",
            path=shown,
            line=_line_of(text, body_offset),
            hint="write each turn as 'CODE: text' at the start of a line, e.g. 'S1: Ja, ...'",
        )
    if current is not None:
        turns.append(_make_turn(text, len(turns) + 1, current, len(text), starts))
    tid = str(metadata.get("id") or default_id or "transcript")
    return Transcript(
        id=tid,
        path=Path(path) if path is not None else None,
        text=text,
        sha256=sha256_text(text),
        turns=turns,
        metadata=metadata,
        declared=declared,
    )


def _make_turn(
    text: str, n: int, found: tuple[str, int, int, Informant | None, str | None], limit: int, starts: list[int]
) -> Turn:
    """Turn ``n``: from after its label (and a timestamp right after the colon) to ``limit``,
    surrounding whitespace trimmed."""
    label, _line_start, start, informant, timestamp = found
    # skip spaces/tabs, then an optional timestamp right after the colon
    while start < limit and text[start] in " \t":
        start += 1
    m = TIMESTAMP_AFTER.match(text, start, limit)
    if m:
        timestamp = timestamp or m.group("a") or m.group("b")
        start = m.end()
    # the turn's text may begin on a following line
    while start < limit and text[start].isspace():
        start += 1
    end = limit
    while end > start and text[end - 1].isspace():
        end -= 1
    if informant is None:
        code, role, group = None, INTERVIEWER_ROLE, None
    else:
        code, role, group = informant.code, informant.role, informant.group
    return Turn(
        n=n,
        speaker=label,
        code=code,
        role=role,
        group=group,
        start=start,
        end=end,
        line_start=bisect_right(starts, start),
        line_end=bisect_right(starts, max(start, end - 1)),
        text=text[start:end],
        timestamp=timestamp,
    )


def _unlabelled_speaker(metadata: dict[str, Any], registry: Registry, interviewer_extra: list[str], text: str,
                        path: Any) -> tuple[str, Informant | None] | None:
    """The speaker of text no label introduces, from front matter ``unlabelled_speaker: NAME``
    (sources from other tools without speaker labels; ``rta import-qdpx`` writes it), or None."""
    name = metadata.get("unlabelled_speaker")
    if name is None or not str(name).strip():
        return None
    label = str(name).strip()
    try:
        return label, resolve_label(label, registry, interviewer_extra)
    except LabelError as exc:
        raise RtaError(f"front matter `unlabelled_speaker`: {exc.message}", path=path,
                       line=_yaml_key_line(text, "unlabelled_speaker"), hint=exc.hint) from None


_BLANK_LINE = re.compile(r"\n[ \t]*\n")


def _paragraph_turns(text: str, lo: int, hi: int, speaker: tuple[str, Informant | None],
                     starts: list[int]) -> list[Turn]:
    """Turns of the unlabelled speaker between ``lo`` and ``hi``: one per paragraph (lines up to a
    blank line), or one per line when the text there has no blank line at all."""
    label, informant = speaker
    cuts = [m.start() for m in _BLANK_LINE.finditer(text, lo, hi)]
    if not cuts:
        cuts = [m.start() for m in _NEWLINE.finditer(text, lo, hi)]
    out: list[Turn] = []
    begin = lo
    for end in [*cuts, hi]:
        s, e = begin, end
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            code, role, group = ((None, INTERVIEWER_ROLE, None) if informant is None
                                 else (informant.code, informant.role, informant.group))
            out.append(Turn(n=len(out) + 1, speaker=label, code=code, role=role, group=group, start=s, end=e,
                            line_start=bisect_right(starts, s), line_end=bisect_right(starts, max(s, e - 1)),
                            text=text[s:e]))
        begin = end
    return out


def _line_starts(text: str) -> list[int]:
    """The offset where each line begins."""
    return [0, *(m.end() for m in _NEWLINE.finditer(text))]


_NEWLINE = re.compile("\n")
_NONSPACE = re.compile(r"\S")


def _check_nothing_before(text: str, body_offset: int, first_label: int, starts: list[int], path: Any) -> None:
    """Refuse text between the front matter and the first speaker label: no one said it."""
    m = _NONSPACE.search(text, body_offset, first_label)
    if m:
        raise RtaError(
            "text before the first speaker label",
            path=path,
            line=bisect_right(starts, m.start()),
            hint="every turn must start with a label such as 'S1: ' or 'I: ' at the start of a line",
        )


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _match_label(
    m: re.Match[str],
    registry: Registry,
    interviewer_extra: list[str],
    path: Any,
    line_no: int,
    seen: dict[str, tuple[str, Informant | None] | None],
) -> tuple[str, int, Informant | None, str | None] | None:
    """If the line-start match ``m`` is a turn's start, return (label, offset after ':',
    informant or None for the interviewer, timestamp written before the colon). A line that
    looks like a label the registry cannot place is an error, never text of the previous turn.
    ``seen`` remembers the verdict per label text: a transcript has few distinct labels."""
    raw = m.group("label")
    if raw in seen:
        verdict = seen[raw]
    else:
        head = head_of(m)
        verdict = None
        if head is not None and looks_like_label(head.label, registry, interviewer_extra):
            try:
                verdict = (head.label, resolve_label(head.label, registry, interviewer_extra))
            except LabelError as exc:
                raise RtaError(exc.message, path=path, line=line_no, hint=exc.hint) from None
        seen[raw] = verdict
    if verdict is None:
        return None
    stamp = m.group("ts1") or m.group("ts2")
    return verdict[0], m.end(), verdict[1], stamp.strip("[]()") if stamp else None


def _front_matter(text: str, path: Any, registry: Registry) -> tuple[dict[str, Any], int, list[Informant]]:
    """Parse an optional ``---`` YAML block at the top. Returns metadata, body offset and
    informants declared for this transcript."""
    if not text.startswith("---\n") and text.rstrip("\n") != "---":
        return {}, 0, []
    end = None
    pos = 4
    while True:
        nl = text.find("\n", pos)
        line = text[pos:] if nl == -1 else text[pos:nl]
        if line.rstrip() in ("---", "..."):
            end = pos
            body = len(text) if nl == -1 else nl + 1
            break
        if nl == -1:
            break
        pos = nl + 1
    if end is None:
        raise RtaError(
            "front matter is not closed",
            path=path,
            line=1,
            hint="end the YAML block with a line containing only '---'",
        )
    raw = load_yaml_text(text[4:end], path=path, line_offset=1)
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise RtaError(
            "front matter must be key: value pairs",
            path=path,
            line=2,
            hint="for example 'id: k1-skoleeier' and 'date: 2021-03-12'",
        )
    _check_front_matter_types(raw, text, path)
    declared: list[Informant] = []
    for item in raw.get("informants") or []:
        if isinstance(item, dict):
            line = (item.get(LINE_KEY) or 0) + 1
            code = item.get("code")
            if not code:
                raise RtaError("an informant declaration needs a `code`", path=path, line=line)
            role = item.get("role")
            known = registry.informant(str(code))
            if role is None and known is None:
                roles = registry.matching_roles(str(code))
                role = roles[0][0].key if len(roles) == 1 else None
            if known is None and role not in registry.role_order():
                raise RtaError(
                    f"informant {code}: unknown role {role!r}",
                    path=path,
                    line=line,
                    hint=f"use one of {registry.role_order()}",
                )
            if known is None:
                attrs = strip_lines({k: v for k, v in item.items() if k not in ("code", "role", "group")})
                declared.append(Informant(str(code), str(role), item.get("group"), attrs))
        elif item is not None:
            code = str(item)
            if registry.informant(code) is None:
                roles = registry.matching_roles(code)
                if len(roles) == 1:
                    role, m = roles[0]
                    declared.append(Informant(code, role.key, raw.get("group") or role.group_of(m)))
                else:
                    raise RtaError(
                        f"front matter declares informant {code}, which matches no role in the registry",
                        path=path,
                        line=_yaml_key_line(text, "informants"),
                        hint="declare it as {code: ..., role: ...} or fix the code",
                    )
    meta = strip_lines(raw)
    if "id" in meta and (not isinstance(meta["id"], (str, int)) or not str(meta["id"]).strip()):
        raise RtaError("front matter `id` must be a non-empty text", path=path, line=_yaml_key_line(text, "id"))
    return meta, body, declared


_SCALAR = (str, int, float)
# Front matter keys rta reads, and the types it accepts for them.
_SCALAR_KEYS = ("id", "date", "group", "interviewer", "title", "place", "language", "unlabelled_speaker")


def _check_front_matter_types(raw: dict[str, Any], text: str, path: Any) -> None:
    """Refuse values of the wrong type in front matter before anything uses them: a list
    where a text is expected would otherwise end up as a speaker's group or crash later."""
    for key in _SCALAR_KEYS:
        value = raw.get(key)
        if value is not None and not isinstance(value, _SCALAR) or isinstance(value, bool):
            raise RtaError(
                f"front matter `{key}` must be a single value, not {_kind(value)}",
                path=path,
                line=_yaml_key_line(text, key),
                hint=f"write it as `{key}: some text`",
            )
    informants = raw.get("informants")
    if informants is None:
        return
    if not isinstance(informants, list):
        raise RtaError(
            f"front matter `informants` must be a list, not {_kind(informants)}",
            path=path,
            line=_yaml_key_line(text, "informants"),
            hint="for example `informants: [R5.1]` or `informants: [{code: R5.1, role: skoleleder}]`",
        )
    for item in informants:
        if item is None or isinstance(item, _SCALAR) and not isinstance(item, bool):
            continue
        line = (item.get(LINE_KEY) or 0) + 1 if isinstance(item, dict) else _yaml_key_line(text, "informants")
        if not isinstance(item, dict):
            raise RtaError(
                f"each entry of `informants` must be a code or a mapping, not {_kind(item)}",
                path=path,
                line=line,
                hint="for example `- R5.1` or `- {code: R5.1, role: skoleleder, group: kommune 5}`",
            )
        for key in ("code", "role", "group"):
            value = item.get(key)
            if value is not None and (not isinstance(value, _SCALAR) or isinstance(value, bool)):
                raise RtaError(
                    f"informant `{key}` must be a single value, not {_kind(value)}",
                    path=path,
                    line=line,
                    hint=f"write it as `{key}: some text`",
                )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "a number" if isinstance(value, (int, float)) else f"a {type(value).__name__}"


def _yaml_key_line(text: str, key: str) -> int | None:
    m = re.search(rf"^{re.escape(key)}\s*:", text, re.MULTILINE)
    return _line_of(text, m.start()) if m else None
