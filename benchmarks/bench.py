"""`make bench`: what the pipeline costs on top of transcription, and how fast the text stages are.

Prints, on one audio file of at least 2 minutes:

1. the wall time of a whole ``jtbd run`` (fresh output folder: transcription, speakers,
   sentences, tags, segments, outputs), against faster-whisper called directly
   (batched, same model and options, the faster of CTranslate2's default thread count
   and ours) on the same file, and their ratio (target ≤ 1.1);
   both timings include loading their models, in fresh processes;
2. the time of a second ``jtbd run`` with nothing new (everything cached);
3. text-stage throughput (sentence split + tagging) in sentences per second on the
   transcripts of the sample corpus;
4. peak resident memory of each process.

Usage: ``python benchmarks/bench.py [AUDIO_FILE] [--repeat N]``. The default file is
``../shared/external/audio/smartphone.mp3`` (178 s of real French) when present.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_AUDIO = ROOT.parent / "shared" / "external" / "audio" / "smartphone.mp3"
PY = sys.executable

_MEASURE = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"wall": wall, "rss_mb": rss, "rc": rc.returncode, "err": rc.stderr[-2000:]}))
"""

_DIRECT = """
import sys
from faster_whisper import BatchedInferencePipeline, WhisperModel
from pipeline.config import load_config, resolve_path
from pipeline.transcribe import whisper_threads
cfg = load_config().transcribe
threads = int(sys.argv[2]) if sys.argv[2] != "auto" else whisper_threads(cfg)
model = WhisperModel(str(resolve_path(cfg.model)), device=cfg.device, compute_type=cfg.compute_type,
                     cpu_threads=threads)
pipe = BatchedInferencePipeline(model)
segments, info = pipe.transcribe(sys.argv[1], language=cfg.language, batch_size=cfg.batch_size,
                                 beam_size=cfg.beam_size, vad_filter=True, word_timestamps=True)
n = sum(len(s.words or []) for s in segments)
print(n, info.duration)
"""


def measure(cmd: list[str]) -> dict:
    out = subprocess.run([PY, "-c", _MEASURE, *cmd], capture_output=True, text=True, cwd=ROOT)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["rc"] not in (0,):
        print(f"command failed ({result['rc']}): {' '.join(cmd)}\n{result['err']}", file=sys.stderr)
    return result


def text_throughput() -> tuple[int, float]:
    sys.path.insert(0, str(ROOT))
    from pipeline.config import load_config
    from pipeline.ingest import discover, read_transcript
    from pipeline.nlp import load_nlp
    from pipeline.sentences import split_sentences
    from pipeline.speakers import assign_roles
    from pipeline.tagging import get_tagger

    config = load_config()
    items, _ = discover(ROOT / "data" / "recordings", config.ingest)
    transcripts = [read_transcript(i.path) for i in items if i.kind == "text"]
    nlp = load_nlp(config.nlp.spacy_model)
    tagger = get_tagger(nlp, config.tagging)
    split_sentences(transcripts[0], nlp)  # warm up
    t = time.perf_counter()
    n = 0
    for tr in transcripts:
        tr.roles = assign_roles(tr, config.speakers)
        sentences, docs = split_sentences(tr, nlp, batch_size=config.nlp.batch_size)
        tagger(sentences, docs)
        n += len(sentences)
    return n, time.perf_counter() - t


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("audio", nargs="?", type=Path, default=DEFAULT_AUDIO)
    parser.add_argument("--repeat", type=int, default=1, help="repeat the timings, keep the best")
    args = parser.parse_args()
    if not args.audio.exists():
        print(
            f"error: {args.audio} not found; give an audio file of at least 2 minutes",
            file=sys.stderr,
        )
        return 2
    jtbd = str(Path(PY).parent / "jtbd")
    direct_runs, pipe_runs, cached_runs = [], [], []
    for _ in range(args.repeat):
        # faster-whisper alone at its best: CTranslate2's default threads (0) and ours
        direct_runs.append(measure([PY, "-c", _DIRECT, str(args.audio), "0"]))
        direct_runs.append(measure([PY, "-c", _DIRECT, str(args.audio), "auto"]))
        with tempfile.TemporaryDirectory() as tmp:
            drop = Path(tmp) / "in"
            drop.mkdir()
            shutil.copy(args.audio, drop / args.audio.name)
            cmd = [
                jtbd,
                "run",
                str(drop),
                "--out",
                str(Path(tmp) / "out"),
                "--transcribe.progress",
                "false",
            ]
            pipe_runs.append(measure(cmd))
            cached_runs.append(measure(cmd))
    direct = min(direct_runs, key=lambda r: r["wall"])
    pipe = min(pipe_runs, key=lambda r: r["wall"])
    cached = min(cached_runs, key=lambda r: r["wall"])
    n, secs = text_throughput()
    def timing(r: dict) -> str:
        return f"{r['wall']:7.1f} s   peak RSS {r['rss_mb']:6.0f} MB"

    rows = [
        ("audio file", f"{args.audio}"),
        ("faster-whisper batched, direct", timing(direct)),
        ("jtbd run, whole pipeline", timing(pipe)),
        ("ratio pipeline / direct", f"{pipe['wall'] / direct['wall']:7.2f}   (target <= 1.1)"),
        ("jtbd run again, nothing new", timing(cached)),
        ("text stages (split + tag)", f"{n / secs:7.0f} sentences/s ({n} in {secs:.2f} s)"),
    ]
    for name, value in rows:
        print(f"{name:<32}: {value}")
    return 0 if pipe["rc"] == 0 and direct["rc"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
