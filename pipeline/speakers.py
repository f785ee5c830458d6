"""Who speaks when (audio), and who is the interviewer (every input).

Diarization
    :func:`embed_windows` cuts the recording into sliding windows (``window_s``,
    ``hop_s``) and embeds each with resemblyzer's :class:`VoiceEncoder` (a 3-layer LSTM,
    CPU, loaded once per process). :func:`diarize` keeps the windows that lie in speech
    (the times Whisper found words, or webrtcvad), clusters them spectrally with the
    number of speakers chosen by the eigengap (1 to ``max_speakers``), merges clusters
    whose voices are too alike, smooths the labels with a majority filter, and returns
    :class:`SpeakerSpan` runs. The embedding can run in a thread while Whisper decodes
    (:class:`EmbeddingJob`).

Turns
    :func:`build_turns` gives every word the speaker of the span that overlaps it most,
    cuts the words into sentence-like chunks, gives each chunk its majority speaker and
    merges consecutive chunks of one speaker into :class:`~pipeline.records.Turn`.

Roles
    :func:`assign_roles` scores each speaker on label name, questions, share of words
    and speaking first (see its docstring).
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pipeline.config import SpeakersConfig
from pipeline.labels import INTERVIEWEE, INTERVIEWER
from pipeline.records import Transcript, Turn, Word

if TYPE_CHECKING:
    from pipeline.transcribe import AsrResult

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000  # resemblyzer's rate
SPEAKER_PREFIX = "SPEAKER_"
MIN_WINDOWS = 6  # fewer speech windows than this: one speaker, nothing to cluster
MIN_SPEECH_IN_WINDOW = 0.5  # share of a window that must be speech for it to count
MERGE_MARGIN = 0.035  # clusters closer than their own cohesion by this are one speaker
MERGE_SIMILARITY = 0.88  # clusters whose mean voices are this close are one speaker
MIN_CLUSTER_S = 2.0  # a "speaker" heard for less than this is folded into its neighbour
MIN_RUN_S = 1.5  # a speaker run shorter than this is smoothed away
SENTENCE_END = (".", "?", "!", "…")
SEGMENT_PAUSE_S = 0.5  # a Whisper segment boundary with this pause ends a chunk
WORD_PAUSE_S = 1.0  # any pause this long between words ends a chunk
SPLIT_RUN_S = 1.2  # another voice this long inside one chunk starts a new turn


def speaker_name(number: int) -> str:
    """``SPEAKER_1``, ``SPEAKER_2``, ... (numbered from 1, by first appearance)."""
    return f"{SPEAKER_PREFIX}{number}"


@dataclass(slots=True)
class SpeakerSpan:
    """A stretch of time attributed to one speaker."""

    start: float
    end: float
    speaker: str


@dataclass(slots=True)
class SpeakerWindows:
    """Voice embeddings of sliding windows: ``starts``/``ends`` in seconds, rows L2-normed."""

    starts: np.ndarray
    ends: np.ndarray
    embeddings: np.ndarray


# ---------------------------------------------------------------------------- embedding

_ENCODER = None
_ENCODER_LOCK = threading.Lock()


def _encoder():
    """resemblyzer's VoiceEncoder on CPU, loaded once per process (weights ship with it)."""
    global _ENCODER
    with _ENCODER_LOCK:
        if _ENCODER is None:
            with warnings.catch_warnings():  # resemblyzer imports a deprecated scipy path
                warnings.simplefilter("ignore", DeprecationWarning)
                from resemblyzer import VoiceEncoder

            _ENCODER = VoiceEncoder(device="cpu", verbose=False)
            _ENCODER.eval()
        return _ENCODER


def _to_16k(audio: np.ndarray, sr: int) -> np.ndarray:
    wav = np.asarray(audio, dtype=np.float32)
    if sr != SAMPLE_RATE:
        import librosa

        wav = librosa.resample(wav, orig_sr=sr, target_sr=SAMPLE_RATE)
    return wav


def _mel_frames(wav: np.ndarray):
    """resemblyzer's log-free mel spectrogram (25 ms window, 10 ms step, 40 bands), as a
    torch tensor of shape ``(frames, 40)``; computed with torch (same values as its
    librosa version, without librosa's slow first call)."""
    import librosa
    import torch

    n_fft, hop = SAMPLE_RATE * 25 // 1000, SAMPLE_RATE * 10 // 1000
    bank = torch.from_numpy(librosa.filters.mel(sr=SAMPLE_RATE, n_fft=n_fft, n_mels=40))
    spec = torch.stft(
        torch.from_numpy(wav), n_fft=n_fft, hop_length=hop, window=torch.hann_window(n_fft),
        center=True, pad_mode="constant", return_complex=True,
    ).abs() ** 2
    return (bank @ spec).T.contiguous()


def embed_windows(audio: np.ndarray, cfg: SpeakersConfig, sr: int = SAMPLE_RATE) -> SpeakerWindows:
    """Embed every ``cfg.window_s`` window, every ``cfg.hop_s``, over the whole recording.

    The mel spectrogram is computed once and sliced (10 ms frames), so the cost is one
    LSTM pass per window, in batches. torch runs on one thread here: the embedding runs
    beside Whisper, which has the other cores (and one thread is faster for this small
    LSTM anyway: ~2 s for 178 s of audio on the 2-core dev machine).
    """
    import torch

    encoder = _encoder()
    from resemblyzer.audio import normalize_volume

    wav = _to_16k(audio, sr)
    if np.any(wav):  # digital silence would become NaN
        wav = normalize_volume(wav, -30, increase_only=True).astype(np.float32)
    win = max(1, int(round(cfg.window_s * 100)))
    hop = max(1, int(round(cfg.hop_s * 100)))
    empty = np.zeros(0, dtype=np.float32)
    if len(wav) < win * SAMPLE_RATE // 100 or not np.any(wav):
        return SpeakerWindows(empty, empty, np.zeros((0, 256), dtype=np.float32))
    threads = torch.get_num_threads()
    chunks = []
    with _ENCODER_LOCK, torch.inference_mode():
        torch.set_num_threads(1)
        try:
            mel = _mel_frames(wav)
            first = np.arange(0, len(mel) - win + 1, hop)
            for i in range(0, len(first), 64):
                batch = torch.stack([mel[f : f + win] for f in first[i : i + 64]])
                chunks.append(encoder(batch).numpy())
        finally:
            torch.set_num_threads(threads)
    starts = (first / 100.0).astype(np.float32)
    return SpeakerWindows(starts, starts + np.float32(win / 100.0), np.concatenate(chunks))


class EmbeddingJob:
    """:func:`embed_windows` in a background thread (torch releases the GIL).

    ``start()`` then ``result()``; ``result()`` returns ``None`` if embedding failed,
    so a diarization problem never loses the transcript.
    """

    def __init__(self, audio: np.ndarray, cfg: SpeakersConfig, sr: int = SAMPLE_RATE):
        self._args = (audio, cfg, sr)
        self._result: SpeakerWindows | None = None
        self._thread = threading.Thread(target=self._run, name="speaker-embedding", daemon=True)

    def _run(self) -> None:
        try:
            self._result = embed_windows(*self._args)
        except Exception:  # diarization is optional, the transcript is not
            log.exception("speaker embedding failed; the recording stays one speaker")

    def start(self) -> EmbeddingJob:
        self._thread.start()
        return self

    def result(self) -> SpeakerWindows | None:
        self._thread.join()
        return self._result


# ---------------------------------------------------------------------------- speech

def speech_regions(asr: AsrResult, max_gap: float = 0.5) -> list[tuple[float, float]]:
    """Where Whisper heard words, as merged ``(start, end)`` intervals."""
    regions: list[tuple[float, float]] = []
    for w in sorted(asr.words, key=lambda w: w.start):
        if regions and w.start - regions[-1][1] <= max_gap:
            regions[-1] = (regions[-1][0], max(regions[-1][1], w.end))
        else:
            regions.append((w.start, w.end))
    return regions


def _vad_regions(audio: np.ndarray, sr: int) -> list[tuple[float, float]]:
    """Speech intervals from webrtcvad (30 ms frames), when no ASR times are at hand."""
    import webrtcvad

    audio = _to_16k(audio, sr)
    vad = webrtcvad.Vad(2)
    frame = int(SAMPLE_RATE * 0.03)
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    flags = [
        vad.is_speech(pcm[i : i + frame].tobytes(), SAMPLE_RATE)
        for i in range(0, len(pcm) - frame + 1, frame)
    ]
    regions: list[tuple[float, float]] = []
    for k, is_speech in enumerate(flags):
        if not is_speech:
            continue
        start, end = k * 0.03, (k + 1) * 0.03
        if regions and start - regions[-1][1] <= 0.3:
            regions[-1] = (regions[-1][0], end)
        else:
            regions.append((start, end))
    return regions


def _speech_share(starts: np.ndarray, ends: np.ndarray, regions: list[tuple[float, float]]):
    share = np.zeros(len(starts))
    for a, b in regions:
        share += np.clip(np.minimum(ends, b) - np.maximum(starts, a), 0, None)
    return share / np.maximum(ends - starts, 1e-6)


# ---------------------------------------------------------------------------- clustering

def _affinity(emb: np.ndarray) -> np.ndarray:
    """Cosine affinity, pruned to each row's nearest neighbours and symmetrised.

    Pruning (keep the top 20% per row, at least 5) sharpens the block structure so the
    eigengap of the Laplacian shows the number of voices.
    """
    sim = np.clip(emb @ emb.T, 0.0, 1.0)
    n = len(sim)
    keep = min(n, max(5, int(0.2 * n)))
    pruned = np.zeros_like(sim)
    idx = np.argsort(-sim, axis=1)[:, :keep]
    rows = np.arange(n)[:, None]
    pruned[rows, idx] = sim[rows, idx]
    return np.maximum(pruned, pruned.T)


def _spectral_labels(emb: np.ndarray, max_speakers: int, seed: int = 0) -> np.ndarray:
    """Spectral clustering with the number of clusters from the eigengap (1..max)."""
    from scipy.linalg import eigh
    from sklearn.cluster import KMeans

    aff = _affinity(emb)
    deg = aff.sum(axis=1)
    d = 1.0 / np.sqrt(np.maximum(deg, 1e-10))
    lap = np.eye(len(aff)) - d[:, None] * aff * d[None, :]
    kmax = min(max_speakers, len(aff) - 1)
    vals, vecs = eigh(lap, subset_by_index=[0, kmax])
    gaps = np.diff(vals)  # gaps[k-1] = lambda_{k+1} - lambda_k
    k = int(np.argmax(gaps[:kmax])) + 1
    if k == 1:
        return np.zeros(len(emb), dtype=int)
    feats = vecs[:, :k]
    feats = feats / np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-10)
    return KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(feats)


def _merge_clusters(emb: np.ndarray, labels: np.ndarray, min_windows: int) -> np.ndarray:
    """Fold clusters that are too small or too alike into their closest neighbour.

    Two clusters are one voice when their mean embeddings are closer to each other than
    the windows of each are to their own mean, by :data:`MERGE_MARGIN` (the eigengap
    sometimes splits one long monologue in two). Measured: one speaker split in two
    gives +0.06 over the mean cohesion; two real voices of one radio recording +0.006;
    two synthetic voices -0.25. Any pair above :data:`MERGE_SIMILARITY` is merged too:
    a very steady (synthetic) voice split by sentence gives 0.90 with a cohesion of
    0.95, while two real voices of one recording measured 0.64 to 0.86.
    """
    labels = labels.copy()
    while True:
        ids = list(np.unique(labels))
        if len(ids) <= 1:
            return labels
        cents = np.stack([emb[labels == c].mean(axis=0) for c in ids])
        cents /= np.linalg.norm(cents, axis=1, keepdims=True)
        cohesion = np.array([np.mean(emb[labels == c] @ cents[k]) for k, c in enumerate(ids)])
        sim = cents @ cents.T
        excess = sim - (cohesion[:, None] + cohesion[None, :]) / 2
        np.fill_diagonal(sim, -1)
        np.fill_diagonal(excess, -1)
        sizes = np.array([(labels == c).sum() for c in ids])
        small = int(np.argmin(sizes))
        i, j = np.unravel_index(int(np.argmax(excess)), excess.shape)
        if sizes[small] < min_windows:
            src, dst = ids[small], ids[int(np.argmax(sim[small]))]
        elif excess[i, j] >= MERGE_MARGIN or sim[i, j] >= MERGE_SIMILARITY:
            src, dst = (ids[i], ids[j]) if sizes[i] < sizes[j] else (ids[j], ids[i])
        else:
            return labels
        labels[labels == src] = dst


def _smooth(labels: np.ndarray, min_run: int) -> np.ndarray:
    """Remove label flicker: a run shorter than ``min_run`` windows takes the label of its
    longer neighbouring run, shortest runs first (a median filter for categories that
    cannot shift a boundary back and forth)."""
    labels = labels.copy()
    while True:
        cuts = np.flatnonzero(np.diff(labels)) + 1
        bounds = np.concatenate([[0], cuts, [len(labels)]])
        runs = list(zip(bounds[:-1], bounds[1:], strict=True))
        if len(runs) <= 1:
            return labels
        k = min(range(len(runs)), key=lambda r: runs[r][1] - runs[r][0])
        start, end = runs[k]
        if end - start >= min_run:
            return labels
        neighbours = [r for r in (k - 1, k + 1) if 0 <= r < len(runs)]
        best = max(neighbours, key=lambda r: runs[r][1] - runs[r][0])
        labels[start:end] = labels[runs[best][0]]


def diarize(
    audio: np.ndarray,
    cfg: SpeakersConfig,
    sr: int = SAMPLE_RATE,
    *,
    speech: list[tuple[float, float]] | None = None,
    windows: SpeakerWindows | None = None,
) -> list[SpeakerSpan]:
    """Who speaks when: spans labelled ``SPEAKER_1..n`` by first appearance.

    ``speech`` (intervals in seconds, e.g. :func:`speech_regions` of the ASR result)
    says which windows hold speech; without it webrtcvad decides. ``windows`` reuses
    embeddings computed beforehand (:class:`EmbeddingJob`). A clip too short to cluster
    gives one span covering all speech; no speech at all gives ``[]``.
    """
    if speech is None:
        speech = _vad_regions(audio, sr)
    if not speech:
        return []
    if windows is None:
        windows = embed_windows(audio, cfg, sr)
    share = _speech_share(windows.starts, windows.ends, speech)
    keep = np.flatnonzero(share >= MIN_SPEECH_IN_WINDOW)
    if len(keep) < MIN_WINDOWS:
        return [SpeakerSpan(float(speech[0][0]), float(speech[-1][1]), speaker_name(1))]
    emb = windows.embeddings[keep]
    from threadpoolctl import threadpool_limits

    # One BLAS/OpenMP thread: these matrices are small (a few hundred windows), and
    # threads spinning beside Whisper cost seconds (measured: eigh 2.6 s vs 9 ms).
    with threadpool_limits(limits=1):
        labels = _spectral_labels(emb, cfg.max_speakers)
    min_windows = max(2, int(round(MIN_CLUSTER_S / cfg.hop_s)))
    labels = _merge_clusters(emb, labels, min_windows)
    labels = _smooth(labels, max(1, int(np.ceil(MIN_RUN_S / cfg.hop_s))))

    starts, ends = windows.starts[keep], windows.ends[keep]
    centers = (starts + ends) / 2.0
    names: dict[int, str] = {}
    spans: list[SpeakerSpan] = []
    for i, lab in enumerate(labels.tolist()):
        if lab not in names:
            names[lab] = speaker_name(len(names) + 1)
        start = float(starts[i]) if i == 0 else float((centers[i - 1] + centers[i]) / 2)
        end = float(ends[i]) if i == len(labels) - 1 else float((centers[i] + centers[i + 1]) / 2)
        if spans and spans[-1].speaker == names[lab]:
            spans[-1].end = end
        else:
            spans.append(SpeakerSpan(start, end, names[lab]))
    return spans


# ---------------------------------------------------------------------------- turns

def _word_speaker(word: Word, spans: list[SpeakerSpan], starts: list[float], default: str) -> str:
    """The speaker of the span overlapping the word most (the nearest one if none does).

    ``spans`` are in time order and do not overlap; ``starts`` are their start times.
    """
    if not spans:
        return default
    hi = bisect.bisect_left(starts, word.end)  # spans from hi on start after the word
    best, best_overlap = None, 0.0
    k = hi - 1
    while k >= 0 and spans[k].end > word.start:
        overlap = min(word.end, spans[k].end) - max(word.start, spans[k].start)
        if overlap > best_overlap:
            best, best_overlap = spans[k].speaker, overlap
        k -= 1
    if best is not None:
        return best
    mid = (word.start + word.end) / 2
    near = [spans[j] for j in (hi - 1, hi) if 0 <= j < len(spans)]
    return min(near, key=lambda s: max(s.start - mid, mid - s.end, 0.0)).speaker


def _chunks(asr: AsrResult) -> list[list[Word]]:
    """Sentence-like runs of words: cut after . ? ! …, and at long pauses."""
    chunks: list[list[Word]] = []
    current: list[Word] = []
    prev: Word | None = None
    for seg_index, seg in enumerate(asr.segments):
        for k, word in enumerate(seg.words):
            if current and prev is not None:
                pause = word.start - prev.end
                seg_break = k == 0 and seg_index > 0 and pause >= SEGMENT_PAUSE_S
                if seg_break or pause >= WORD_PAUSE_S:
                    chunks.append(current)
                    current = []
            current.append(word)
            prev = word
            if word.text.rstrip("»\"')]").endswith(SENTENCE_END):
                chunks.append(current)
                current = []
    if current:
        chunks.append(current)
    return chunks


def _join_text(words: list[Word]) -> str:
    return " ".join(w.text.strip() for w in words if w.text.strip())


def _split_at_speaker_changes(chunk: list[Word], labels: list[str]) -> list[list[Word]]:
    """Cut a chunk where its words change speaker for at least :data:`SPLIT_RUN_S`.

    Whisper often leaves a question unpunctuated before the answer starts; a long run
    of another voice inside one "sentence" is then a real turn change. Shorter runs
    (a misplaced window, a one-word overlap) are folded into their longer neighbour.
    """
    runs = [[0, 1]]
    for i in range(1, len(chunk)):
        if labels[i] == labels[i - 1]:
            runs[-1][1] = i + 1
        else:
            runs.append([i, i + 1])

    def length(run: list[int]) -> float:
        return chunk[run[1] - 1].end - chunk[run[0]].start

    while len(runs) > 1:
        k = min(range(len(runs)), key=lambda r: length(runs[r]))
        if length(runs[k]) >= SPLIT_RUN_S:
            break
        neighbours = [r for r in (k - 1, k + 1) if 0 <= r < len(runs)]
        j = max(neighbours, key=lambda r: length(runs[r]))
        lo, hi = sorted((k, j))
        runs[lo:hi + 1] = [[runs[lo][0], runs[hi][1]]]
    return [chunk[a:b] for a, b in runs]


def build_turns(asr: AsrResult, spans: list[SpeakerSpan]) -> list[Turn]:
    """Speaker turns from recognised words and diarization spans.

    Each word gets the speaker of its most-overlapping span. Words are cut into
    sentence-like chunks (after . ? ! …, at long pauses, and where another voice holds
    the floor for :data:`SPLIT_RUN_S` or more); each chunk gets the speaker holding most
    of its word time, so one misplaced window does not split a sentence; consecutive
    chunks of one speaker form a turn. Without spans (diarization off, or a clip too
    short) everything is ``SPEAKER_1``. Words are copied, with ``speaker`` set.
    """
    default = speaker_name(1)
    spans = sorted(spans, key=lambda s: s.start)
    starts = [s.start for s in spans]
    turns: list[Turn] = []
    for sentence in _chunks(asr):
        labels = [_word_speaker(w, spans, starts, default) for w in sentence]
        weights = {id(w): lab for w, lab in zip(sentence, labels, strict=True)}
        for chunk in _split_at_speaker_changes(sentence, labels):
            weight: Counter[str] = Counter()
            for w in chunk:
                weight[weights[id(w)]] += max(w.end - w.start, 0.01)
            speaker = weight.most_common(1)[0][0]
            words = [Word(w.start, w.end, w.text, w.probability, speaker) for w in chunk]
            if turns and turns[-1].speaker == speaker:
                turns[-1].words.extend(words)
                turns[-1].end = words[-1].end
            else:
                turns.append(Turn(len(turns), speaker, "", words[0].start, words[-1].end, words))
    for turn in turns:
        turn.text = _join_text(turn.words)
    return turns


# ---------------------------------------------------------------------------- roles

def _fold(text: str) -> str:
    """Lower case without accents: 'Enquêtrice' -> 'enquetrice'."""
    norm = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in norm if not unicodedata.combining(c))


INTERVIEWER_NAMES = frozenset(
    """intervieweur intervieweuse interviewer interviewers int itw q question questions
    enqueteur enqueteuse enquetrice moderator moderateur moderatrice animateur animatrice
    chercheur chercheuse researcher journaliste facilitateur facilitatrice host
    interrogateur interrogatrice consultant consultante ux""".split()
)
INTERVIEWEE_NAMES = frozenset(
    """r rep reponse reponses client cliente clients participant participante p
    repondant repondante interviewe interviewee enquete enquetee customer user
    utilisateur utilisatrice usager usagere candidat candidate temoin sujet
    respondent prospect acheteur acheteuse""".split()
)

_QUESTION_START = re.compile(
    r"^(?:(?:et|alors|donc|euh|ok|okay|d'accord|bon|bah|ben|mais|puis|du coup|"
    r"et du coup|tres bien|super|merci)[\s,]+)*"
    r"(?:est-ce|qu'est-ce|comment|pourquoi|quand|quel|quelle|quels|quelles|combien|"
    r"ou est|ou etes|ou avez|qui|quoi|lequel|laquelle|lesquels|a quel|a quelle|de quel|"
    r"par quoi|pour quoi|racontez|raconte|parlez|dites|decrivez|expliquez|pouvez-vous|"
    r"pourriez-vous|vous pouvez|tu peux|vous pourriez|vous vous souvenez|"
    r"vous souvenez-vous|c'etait quand|c'etait comment|qu'avez|qu'est)\b"
)
_INVERSION = re.compile(r"^(?:\w+ ){0,3}?\w+-(?:t-)?(?:vous|tu|il|elle|ils|elles|on)\b")
_SENTENCE_SPLIT = re.compile(r"(?<=[.?!…])\s+")


def is_question(sentence: str) -> bool:
    """A French question or interview prompt: ends with '?', starts with a question word
    (est-ce que, qu'est-ce, comment, pourquoi, quel, combien...), an inversion
    ("avez-vous"), or an interview prompt ("racontez-moi", "pouvez-vous")."""
    text = _fold(sentence.strip()).replace("’", "'")
    if not text:
        return False
    if text.rstrip(" »\"").endswith("?"):
        return True
    return bool(_QUESTION_START.match(text) or _INVERSION.match(text))


def _label_prior(label: str) -> float:
    """+1 for an interviewer-like label, -1 for an interviewee-like one, else 0."""
    tokens = re.findall(r"[a-z]+", _fold(label))
    if any(t in INTERVIEWER_NAMES for t in tokens):
        return 1.0
    if any(t in INTERVIEWEE_NAMES for t in tokens):
        return -1.0
    return 0.0


def role_scores(transcript: Transcript) -> dict[str, float]:
    """The interviewer score of each speaker (see :func:`assign_roles`)."""
    sentences: dict[str, list[str]] = {}
    words: Counter[str] = Counter()
    order: list[str] = []
    for turn in transcript.turns:
        if turn.speaker not in order:
            order.append(turn.speaker)
        sentences.setdefault(turn.speaker, []).extend(
            s for s in _SENTENCE_SPLIT.split(turn.text.strip()) if s.strip()
        )
        words[turn.speaker] += len(turn.text.split())
    for spk in transcript.speakers:
        if spk not in order:
            order.append(spk)
    total = max(sum(words.values()), 1)
    scores: dict[str, float] = {}
    for rank, spk in enumerate(order):
        sents = sentences.get(spk, [])
        questions = sum(is_question(s) for s in sents) / max(len(sents), 1)
        share = words[spk] / total
        scores[spk] = (
            3.0 * _label_prior(spk) + 2.0 * questions + 1.0 * (1.0 - share)
            + (0.5 if rank == 0 else 0.0)
        )
    return scores


def assign_roles(transcript: Transcript, cfg: SpeakersConfig) -> dict[str, str]:
    """Map every speaker to ``interviewer`` or ``interviewee``; exactly one interviewer
    when there are two speakers or more.

    * ``cfg.interviewer_label`` set: the speaker with that label (case-insensitive,
      accents ignored) is the interviewer, all others interviewees. If no speaker has
      it, the guess below applies.
    * One speaker (a monologue): interviewee.
    * Otherwise the highest score is the interviewer, where for each speaker::

          score = 3 * label + 2 * questions + 1 * (1 - word_share) + 0.5 * first

      ``label`` is +1 for interviewer-like names (Intervieweur, Interviewer,
      Enquêteur/Enquêtrice, INT, Q, Modérateur, Animateur, Chercheur...), -1 for
      interviewee-like ones (R, Client(e), Participant, P3, Répondant...), 0 for
      anything else (Speaker 1, first names, SPEAKER_2); ``questions`` is the share of
      the speaker's sentences that are questions (:func:`is_question`); ``word_share``
      is the speaker's share of all words (the interviewer speaks less); ``first`` is 1
      for the speaker who speaks first. A label settles the matter unless the
      behaviour strongly disagrees; without labels, questions dominate.
    """
    speakers: list[str] = []
    for spk in [*transcript.speakers, *(t.speaker for t in transcript.turns)]:
        if spk not in speakers:
            speakers.append(spk)
    if not speakers:
        return {}
    interviewer: str | None = None
    if cfg.interviewer_label:
        wanted = _fold(cfg.interviewer_label.strip())
        interviewer = next((s for s in speakers if _fold(s.strip()) == wanted), None)
        if interviewer is None:
            log.warning(
                "%s: speakers.interviewer_label %r matches no speaker (%s); guessing",
                transcript.interview_id, cfg.interviewer_label, ", ".join(speakers),
            )
    if interviewer is None and len(speakers) > 1:
        scores = role_scores(transcript)
        interviewer = max(speakers, key=lambda s: scores.get(s, float("-inf")))
    return {s: INTERVIEWER if s == interviewer else INTERVIEWEE for s in speakers}
