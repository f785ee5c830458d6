#!/usr/bin/env python3
"""Regenerate a synthetic two-speaker interview recording from a turns file.

The turns file is plain UTF-8 text, one turn per line, ``Label: text``
(the same format as the transcripts in ``data/recordings/``). It is the
ground truth of the recording. The first label met is spoken with voice A,
the second with voice B; a turns file with more than two labels is refused.

Each turn is synthesised with espeak-ng, resampled to 16 kHz mono 16-bit with
sox, and the turns are joined with ``--gap`` seconds of digital silence
between them (plus a short lead-in and tail). The output format follows the
extension of ``OUT`` (``.ogg`` vorbis, ``.flac`` or ``.wav``). With
``--segments`` a tab-separated file ``start  end  speaker  text`` (seconds)
records where each turn lies in the output. sox runs with ``-R`` (repeatable
dither), so with the same espeak-ng and sox versions a rerun gives the same bytes.

Needs the ``espeak-ng`` and ``sox`` programs (Debian/Ubuntu:
``apt-get install espeak-ng sox libsox-fmt-all``).

Examples (from the repository root)::

    python scripts/make_sample_audio.py
    python scripts/make_sample_audio.py tests/data/audio/two_voices.turns.txt \\
        tests/data/audio/two_voices.wav --segments tests/data/audio/two_voices.segments.tsv
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TURNS = ROOT / "scripts" / "sample_audio" / "entretien_audio_velo.turns.txt"
DEFAULT_OUT = ROOT / "data" / "recordings" / "entretien_audio_velo.ogg"

SAMPLE_RATE = 16000
LEAD_IN_S = 0.3


@dataclass(frozen=True)
class Voice:
    """espeak-ng settings for one speaker."""

    name: str  # espeak-ng voice, language + variant
    pitch: int  # -p, 0..99
    speed: int  # -s, words per minute


# Voice A: first label of the turns file (the interviewer); voice B: the second.
# A female and a male variant, far apart in pitch, so the two speakers differ clearly.
# The test suite asserts the length and words of tests/data/audio/two_voices.wav:
# changing a voice changes them.
VOICES = (
    Voice(name="fr+f3", pitch=65, speed=155),
    Voice(name="fr+m3", pitch=35, speed=150),
)

TURN = re.compile(r"^\s*([^:]{1,40}?)\s*:\s*(.+?)\s*$")


def read_turns(path: Path) -> list[tuple[str, str]]:
    """Return the (label, text) turns of a ``Label: text`` file, in order."""
    turns = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        match = TURN.match(line)
        if not match:
            raise SystemExit(f"{path}:{n}: expected 'Label: text', got {line!r}")
        turns.append((match.group(1), match.group(2)))
    if not turns:
        raise SystemExit(f"{path}: no turns")
    return turns


def run(cmd: list[str]) -> str:
    """Run a command, fail loudly with its stderr."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError:
        raise SystemExit(
            f"{cmd[0]} not found: apt-get install espeak-ng sox libsox-fmt-all"
        ) from None
    if proc.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(cmd)}\n{proc.stderr}")
    return proc.stdout


def duration(wav: Path) -> float:
    """Length in seconds of an audio file, from soxi."""
    return float(run(["soxi", "-D", str(wav)]).strip())


def make_audio(
    turns_path: Path, out: Path, gap: float = 0.4, segments: Path | None = None
) -> float:
    """Synthesise ``turns_path`` into ``out``; return the output's duration in seconds."""
    turns = read_turns(turns_path)
    labels = list(dict.fromkeys(label for label, _ in turns))
    if len(labels) > len(VOICES):
        raise SystemExit(f"{turns_path}: {len(labels)} speakers, at most {len(VOICES)} supported")
    voice_of = dict(zip(labels, VOICES[: len(labels)], strict=True))

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        silence = tmp / "gap.wav"
        lead = tmp / "lead.wav"
        fmt = ["-r", str(SAMPLE_RATE), "-c", "1", "-b", "16"]
        run(["sox", "-R", "-n", *fmt, str(silence), "trim", "0", f"{gap}"])
        run(["sox", "-R", "-n", *fmt, str(lead), "trim", "0", f"{LEAD_IN_S}"])

        parts, rows, t = [lead], [], LEAD_IN_S
        for i, (label, text) in enumerate(turns):
            voice = voice_of[label]
            text_file = tmp / f"turn{i:03d}.txt"
            text_file.write_text(text, encoding="utf-8")
            raw, wav = tmp / f"turn{i:03d}_raw.wav", tmp / f"turn{i:03d}.wav"
            speak = ["espeak-ng", "-v", voice.name, "-p", str(voice.pitch), "-s", str(voice.speed)]
            run([*speak, "-f", str(text_file), "-w", str(raw)])
            run(["sox", "-R", str(raw), *fmt, str(wav)])
            if i:
                parts.append(silence)
                t += gap
            length = duration(wav)
            rows.append((t, t + length, label, text))
            parts.append(wav)
            t += length
        parts.append(lead)

        out.parent.mkdir(parents=True, exist_ok=True)
        # Join, then normalise to -3 dBFS so both voices are clearly audible.
        run(["sox", "-R", *map(str, parts), *fmt, str(out), "gain", "-n", "-3"])

    if segments is not None:
        segments.parent.mkdir(parents=True, exist_ok=True)
        lines = ["start\tend\tspeaker\ttext"]
        lines += [f"{s:.3f}\t{e:.3f}\t{label}\t{text}" for s, e, label, text in rows]
        segments.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return duration(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "turns", nargs="?", type=Path, default=DEFAULT_TURNS, help="Label: text turns file"
    )
    parser.add_argument(
        "out", nargs="?", type=Path, default=DEFAULT_OUT, help=".ogg, .flac or .wav to write"
    )
    parser.add_argument(
        "--gap", type=float, default=0.4, help="silence between turns, seconds (default 0.4)"
    )
    parser.add_argument(
        "--segments", type=Path, default=None, help="also write turn times as TSV here"
    )
    args = parser.parse_args(argv)
    seconds = make_audio(args.turns, args.out, gap=args.gap, segments=args.segments)
    print(f"{args.out}: {seconds:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
