"""Find the interviews in a drop folder and read transcripts (.txt, .vtt, .srt) into turns.

Each file is one interview and its stem is the ``interview_id``. Input files are only
ever read, never written. Text is decoded as UTF-8 (with or without BOM), then
Windows-1252, which is what Word and Excel on Windows save.

Transcript conventions handled (see ``shared/domain.md``):

* ``Label: text`` per turn, labels such as ``Intervieweur``, ``Q``, ``R``, ``Speaker 1``,
  ``P3`` or first names; an optional ``[hh:mm:ss]`` or ``hh:mm:ss`` timestamp before
  (or right after) the label; lines without a label continue the previous turn.
* WebVTT and SRT cues, the speaker in a ``<v Name>`` tag or a ``Name:`` prefix; cues of
  the same speaker in a row are merged into one turn.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import IngestConfig
from pipeline.errors import E_EMPTY, E_ENCODING, E_NO_TURNS, E_UNKNOWN_EXT, InputError
from pipeline.records import Transcript, Turn

log = logging.getLogger("jtbd")


@dataclass(frozen=True, slots=True)
class InterviewFile:
    """One interview found in the drop folder."""

    interview_id: str
    path: Path
    kind: str  # "audio" or "text"


def discover(input_dir: Path, cfg: IngestConfig) -> tuple[list[InterviewFile], list[InputError]]:
    """List the interviews of a folder (sorted, non-recursive) and the files that are not.

    Unknown extensions come back as errors rather than being silently skipped, so the
    researcher learns that ``notes.docx`` was not analysed. A recording and a transcript
    with the same stem (``a.mp3`` and ``a.txt``) are one interview: the transcript wins,
    since a researcher who dropped it beside the audio corrected the machine transcript.
    Two transcripts (or two recordings) with the same stem are reported.
    """
    input_dir = Path(input_dir)
    if not input_dir.is_dir():
        raise InputError(input_dir, "the input folder does not exist or is not a folder")
    audio = {e.lower() for e in cfg.audio_extensions}
    text = {e.lower() for e in cfg.transcript_extensions}
    found: dict[str, InterviewFile] = {}
    errors: list[InputError] = []
    for path in sorted(input_dir.iterdir()):
        if not path.is_file():
            continue
        if cfg.ignore_hidden and path.name.startswith((".", "~$")):
            continue
        ext = path.suffix.lower()
        if ext in audio:
            kind = "audio"
        elif ext in text:
            kind = "text"
        else:
            errors.append(
                InputError(
                    path,
                    E_UNKNOWN_EXT.format(
                        ext=ext or path.name,
                        audio=" ".join(sorted(audio)),
                        text=" ".join(sorted(text)),
                    ),
                )
            )
            continue
        item = InterviewFile(path.stem, path, kind)
        previous = found.get(path.stem)
        if previous is None:
            found[path.stem] = item
        elif previous.kind != kind:
            # A corrected transcript dropped beside its recording: the normal way to fix
            # a machine transcript, so the transcript is used and nothing is reported.
            text_file = item if kind == "text" else previous
            found[path.stem] = text_file
            log.info(
                "%s: using the transcript %s, not the recording", path.stem, text_file.path.name
            )
        else:
            errors.append(
                InputError(
                    path,
                    f"same interview id as {previous.path.name}, which is used; rename one of them",
                )
            )
    return sorted(found.values(), key=lambda f: f.interview_id), errors


def read_text(path: Path) -> str:
    """Decode a text file: UTF-8 (BOM or not) first, then Windows-1252."""
    raw = Path(path).read_bytes()
    if not raw.strip():
        raise InputError(path, E_EMPTY)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything; latin-1 would be a guess
        raise InputError(path, E_ENCODING)
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")


_TS = r"\[?\(?(?P<ts>\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d{1,3})?)\)?\]?"
# A label: 1 to 4 words (letters, digits, spaces, dots, apostrophes, hyphens), then ':'.
_LABEL = r"(?P<label>[^\W\d_][\w .'’\-]{0,30}?|\d{1,3})"
_TURN_RE = re.compile(
    rf"^\s*(?:{_TS}\s*[-–]?\s*)?{_LABEL}\s*(?:{_TS.replace('ts', 'ts2')}\s*)?[:：]\s*(?P<text>.*)$"
)
_TS_ONLY_RE = re.compile(rf"^\s*{_TS}\s*[-–]?\s*(?P<text>.*)$")


def parse_timestamp(value: str) -> float:
    """``01:02:03.5`` / ``02:03`` → seconds."""
    value = value.replace(",", ".")
    parts = [float(p) for p in value.split(":")]
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def _label_ok(label: str) -> bool:
    words = label.split()
    if not words or len(words) > 4:
        return False
    # "Alors voilà ce que je pense : ..." must not become a label: labels are short
    # and either capitalised, upper case, or a known short form.
    first = words[0]
    return first[:1].isupper() or first.isdigit() or label.lower() in {"q", "r", "int", "rep"}


def parse_txt(text: str, path: Path, interview_id: str) -> Transcript:
    """Parse ``Label: text`` lines (see the module docstring) into turns."""
    turns: list[Turn] = []
    for raw_line in text.split("\n"):
        line = raw_line.strip()
        if not line:
            continue
        match = _TURN_RE.match(line)
        if match and _label_ok(match.group("label").strip()):
            ts = match.group("ts") or match.group("ts2")
            turns.append(
                Turn(
                    index=len(turns),
                    speaker=match.group("label").strip(),
                    text=match.group("text").strip(),
                    start=parse_timestamp(ts) if ts else None,
                )
            )
            continue
        ts_only = _TS_ONLY_RE.match(line)
        content = ts_only.group("text").strip() if ts_only else line
        if turns:
            turns[-1].text = f"{turns[-1].text} {content}".strip()
        # Text before the first label has no speaker: it cannot be attributed, so it
        # is kept only if no labelled turn follows (checked below).
        elif content:
            turns.append(Turn(index=0, speaker="", text=content))
    labelled = [t for t in turns if t.speaker]
    if not labelled:
        raise InputError(path, E_NO_TURNS)
    turns = [t for t in turns if t.speaker and t.text]
    for i, t in enumerate(turns):
        t.index = i
    _fill_ends(turns)
    return Transcript(interview_id=interview_id, source=str(path), kind="text", turns=turns)


_CUE_TIME_RE = re.compile(
    r"(?P<a>\d{1,2}:\d{2}(?::\d{2})?[.,]\d{1,3}|\d{1,2}:\d{2}:\d{2})\s*-->\s*"
    r"(?P<b>\d{1,2}:\d{2}(?::\d{2})?[.,]\d{1,3}|\d{1,2}:\d{2}:\d{2})"
)
_VOICE_RE = re.compile(r"<v(?:\.[\w.-]+)?\s+(?P<name>[^>]+)>(?P<text>.*?)(?:</v>|$)", re.S)
_TAG_RE = re.compile(r"</?[^>]+>")
_PREFIX_RE = re.compile(rf"^\s*{_LABEL}\s*:\s*(?P<text>.+)$", re.S)


def parse_cues(text: str, path: Path, interview_id: str) -> Transcript:
    """Parse WebVTT or SRT cues; the speaker comes from ``<v Name>`` or a ``Name:`` prefix."""
    blocks = re.split(r"\n\s*\n", text.strip())
    turns: list[Turn] = []
    last_speaker = ""
    for block in blocks:
        lines = [ln for ln in block.split("\n") if ln.strip()]
        time_idx = next((i for i, ln in enumerate(lines) if _CUE_TIME_RE.search(ln)), None)
        if time_idx is None:
            continue  # WEBVTT header, NOTE, STYLE blocks
        match = _CUE_TIME_RE.search(lines[time_idx])
        start, end = parse_timestamp(match.group("a")), parse_timestamp(match.group("b"))
        body = "\n".join(lines[time_idx + 1 :]).strip()
        if not body:
            continue
        speaker = ""
        voice = _VOICE_RE.search(body)
        if voice:
            speaker = voice.group("name").strip()
            body = _VOICE_RE.sub(lambda m: m.group("text"), body)
        body = _TAG_RE.sub("", body).replace("\n", " ").strip()
        if not speaker:
            prefix = _PREFIX_RE.match(body)
            if prefix and _label_ok(prefix.group("label").strip()):
                speaker, body = prefix.group("label").strip(), prefix.group("text").strip()
        speaker = speaker or last_speaker or "Speaker"
        if turns and turns[-1].speaker == speaker:
            turns[-1].text = f"{turns[-1].text} {body}".strip()
            turns[-1].end = end
        else:
            turns.append(Turn(index=len(turns), speaker=speaker, text=body, start=start, end=end))
        last_speaker = speaker
    if not turns:
        raise InputError(path, E_NO_TURNS)
    return Transcript(interview_id=interview_id, source=str(path), kind="text", turns=turns)


def _fill_ends(turns: list[Turn]) -> None:
    """A timestamped turn ends where the next timestamped one starts."""
    for current, following in zip(turns, turns[1:], strict=False):
        if current.start is not None and following.start is not None and current.end is None:
            current.end = following.start


def read_transcript(path: Path, interview_id: str | None = None) -> Transcript:
    """Read one transcript file into a :class:`Transcript` (turns with speakers)."""
    path = Path(path)
    interview_id = interview_id or path.stem
    text = read_text(path)
    if path.suffix.lower() in {".vtt", ".srt"}:
        transcript = parse_cues(text, path, interview_id)
    else:
        transcript = parse_txt(text, path, interview_id)
    transcript.speakers = list(dict.fromkeys(t.speaker for t in transcript.turns))
    times = [t.end or t.start for t in transcript.turns if (t.end or t.start) is not None]
    transcript.duration = max(times) if times else None
    return transcript


def format_timestamp(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def transcript_to_txt(transcript: Transcript) -> str:
    """Write turns back as ``[hh:mm:ss] Label: text`` lines, the format :func:`parse_txt` reads.

    A researcher can fix a machine transcript in any editor and drop it back into the
    input folder in place of the audio.
    """
    lines = []
    for turn in transcript.turns:
        stamp = f"[{format_timestamp(turn.start)}] " if turn.start is not None else ""
        lines.append(f"{stamp}{turn.speaker}: {turn.text}")
    return "\n".join(lines) + "\n"
