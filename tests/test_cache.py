"""Tests of the cache folder and content keys (vocal_xai.cache)."""

import pathlib

from vocal_xai import cache


def test_user_cache_dir_follows_flag_then_environment(monkeypatch, tmp_path):
    monkeypatch.delenv("VOCAL_XAI_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.user_cache_dir() == tmp_path / "xdg" / "vocal_xai"
    monkeypatch.setenv("VOCAL_XAI_CACHE", str(tmp_path / "own"))
    assert cache.user_cache_dir() == tmp_path / "own"
    assert cache.user_cache_dir(tmp_path / "flag") == tmp_path / "flag"
    monkeypatch.delenv("VOCAL_XAI_CACHE")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache.user_cache_dir() == pathlib.Path.home() / ".cache" / "vocal_xai"


def test_keys_follow_content_not_names_or_times(tmp_path):
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"\x00\x01" * 1000)
    b.write_bytes(b"\x00\x01" * 1000)
    key = cache.files_key([a])
    assert cache.files_key([b]) == key  # same bytes elsewhere
    a.write_bytes(a.read_bytes())
    assert cache.files_key([a]) == key  # rewritten, same bytes
    a.write_bytes(b"\x00\x02" * 1000)
    assert cache.files_key([a]) != key
    assert cache.files_key([b], extra={"front_end": 1}) != key


def test_model_fingerprint_changes_with_any_file_of_the_model(tmp_path):
    model = tmp_path / "detector" / "4"
    (model / "variables").mkdir(parents=True)
    (model / "saved_model.pb").write_bytes(b"graph")
    (model / "variables" / "variables.data-00000-of-00001").write_bytes(b"weights")
    key = cache.model_fingerprint(model)
    (model / "variables" / "variables.data-00000-of-00001").write_bytes(b"weightz")
    assert cache.model_fingerprint(model) != key
