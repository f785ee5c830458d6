"""Cache: keys follow content and config, writes are atomic, damaged files are recomputed."""

from __future__ import annotations

import pytest

from pipeline.cache import atomic_write, atomic_write_text, file_hash, read_cached, write_cached


def test_interrupted_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "sentences.csv"
    atomic_write_text(target, "old complete content\n")

    def crash(tmp):
        tmp.write_text("half a fi", encoding="utf-8")
        raise KeyboardInterrupt  # the user pressed Ctrl-C mid-write

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, crash)
    assert target.read_text(encoding="utf-8") == "old complete content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["sentences.csv"]


def test_cached_payload_only_for_its_key(tmp_path):
    path = tmp_path / "x.json"
    write_cached(path, "k1", {"value": 1})
    assert read_cached(path, "k1") == {"key": "k1", "value": 1}
    assert read_cached(path, "k2") is None  # other input or other config: recompute
    path.write_text('{"key": "k1", "val', encoding="utf-8")  # damaged by hand
    assert read_cached(path, "k1") is None


def test_file_hash_follows_content_not_name(tmp_path):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    a.write_bytes(b"RIFF1234")
    b.write_bytes(b"RIFF1234")
    assert file_hash(a) == file_hash(b)
    b.write_bytes(b"RIFF1235")
    assert file_hash(a) != file_hash(b)


def test_atomic_writes_are_readable_by_others(tmp_path):
    """Outputs follow the umask like any file the user makes, not mkstemp's 0600."""
    import stat

    from pipeline import cache
    from pipeline.cache import atomic_write_text

    atomic_write_text(tmp_path / "a.csv", "x")
    assert stat.S_IMODE((tmp_path / "a.csv").stat().st_mode) == 0o666 & ~cache._UMASK
    assert stat.S_IMODE((tmp_path / "a.csv").stat().st_mode) & 0o044  # others can read
