import logging

import numpy as np
import pytest
from helpers import tone_song, write_filelists, write_song

from vocal_xai.data import corpus as corpus_lib
from vocal_xai.errors import AudioDecodeError, CorpusError, ParameterError

S = corpus_lib.Segment


def test_reads_valid_corpus(tiny_corpus):
    corpus = corpus_lib.read_corpus(tiny_corpus)
    assert [s.name for s in corpus.songs("train")] == ["s0"]
    song = corpus.songs("valid")[0]
    assert song.sample_rate == 22050 and song.channels == 1
    assert song.duration == pytest.approx(6.0)
    assert song.segments[1] == S(2.0, 4.0, True)
    with pytest.raises(ParameterError, match="split='dev'"):
        corpus.songs("dev")


def test_frame_labels_follow_frame_centres():
    segments = (S(0.0, 1.0, False), S(1.0, 2.0, True))
    labels = corpus_lib.frame_labels(segments, 140)
    times = (np.arange(140) * 315 + 512) / 22050
    np.testing.assert_array_equal(labels, ((times >= 1.0) & (times < 2.0)).astype(int))
    assert labels.dtype == np.int32


def test_lab_round_trip(tmp_path):
    segments = (S(0.0, 1.25, False), S(1.25, 3.5, True))
    path = tmp_path / "x.lab"
    path.write_text(corpus_lib.format_lab(segments))
    assert corpus_lib.parse_lab(path) == segments


@pytest.mark.parametrize(
    "text, line, pattern",
    [
        ("0 1 sing\n1 x nosing\n", 2, "non-numeric 'x'"),
        ("0 1 sing\n1 2 speech\n", 2, "received 'speech'"),
        ("-1 1 sing\n", 1, "finite time >= 0; received '-1'"),
        ("0 nan sing\n", 1, "finite time >= 0; received 'nan'"),
        ("0 2 sing\n1 3 nosing\n", 2, "must not overlap; received start=1.0"),
        ("2 3 sing\n0 1 nosing\n", 2, "sorted by start time; received start=0.0"),
        ("1 1 sing\n", 1, "end > start"),
        ("0 1\n", 1, "expected 3 fields"),
        ("0 1 sing\n\n1 2 nosing extra\n", 3, "received 4"),
    ],
)
def test_bad_lab_lines(tmp_path, text, line, pattern):
    path = tmp_path / "bad.lab"
    path.write_text(text)
    with pytest.raises(CorpusError, match=pattern) as info:
        corpus_lib.parse_lab(path)
    assert info.value.line == line
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_empty_lab(tmp_path):
    path = tmp_path / "empty.lab"
    path.write_text("\n")
    with pytest.raises(CorpusError, match="at least one segment"):
        corpus_lib.parse_lab(path)


@pytest.mark.parametrize("name", ["../evil", "sub/song", "a\\b", ".."])
def test_filelist_rejects_paths(tmp_path, name):
    path = tmp_path / "train"
    path.write_text(f"ok\n{name}\n")
    with pytest.raises(CorpusError, match="plain song name") as info:
        corpus_lib.read_filelist(path)
    assert info.value.line == 2 and repr(name) in str(info.value)


def test_missing_audio(tiny_corpus):
    (tiny_corpus / "audio" / "s1.flac").unlink()
    with pytest.raises(CorpusError, match="no audio file for song 's1'"):
        corpus_lib.read_corpus(tiny_corpus)


def test_missing_labels_and_filelist(tiny_corpus):
    (tiny_corpus / "labels" / "s2.lab").unlink()
    with pytest.raises(CorpusError, match="s2.lab: missing label file"):
        corpus_lib.read_corpus(tiny_corpus)
    (tiny_corpus / "filelists" / "valid").unlink()
    with pytest.raises(CorpusError, match="missing filelist for split 'valid'"):
        corpus_lib.read_corpus(tiny_corpus, splits=("valid",))
    with pytest.raises(CorpusError, match="does not exist"):
        corpus_lib.read_corpus(tiny_corpus / "nowhere")


@pytest.mark.parametrize("label_end, pattern", [(4.0, "end at 4.000 s"), (9.0, "end at 9.000 s")])
def test_labels_must_end_near_audio_end(tmp_path, label_end, pattern):
    segments = (S(0.0, 2.0, False), S(2.0, label_end, True))
    write_song(tmp_path, "a", tone_song(6.0), 22050, segments)
    write_filelists(tmp_path, {"train": ["a"]})
    with pytest.raises(CorpusError, match=pattern) as info:
        corpus_lib.read_corpus(tmp_path, splits=("train",))
    assert info.value.line == 2 and "lasts 6.000 s" in str(info.value)


def test_labels_within_tolerance_are_accepted(tmp_path):
    segments = (S(0.0, 2.0, False), S(2.0, 6.5, True))
    write_song(tmp_path, "a", tone_song(6.0), 22050, segments)
    write_filelists(tmp_path, {"train": ["a"]})
    corpus = corpus_lib.read_corpus(tmp_path, splits=("train",))
    assert corpus.songs("train")[0].segments[-1].end == 6.5


def test_undecodable_audio_raises_or_is_skipped(tiny_corpus, caplog):
    bad = tiny_corpus / "audio" / "s0.flac"
    bad.write_bytes(b"not audio at all" * 64)
    with pytest.raises(
        AudioDecodeError,
        match="s0.flac: can't decode audio.*; to leave undecodable files out "
        r"with a warning, pass --skip_undecodable \(skip_undecodable=True",
    ):
        corpus_lib.read_corpus(tiny_corpus)
    with caplog.at_level(logging.WARNING):
        corpus = corpus_lib.read_corpus(tiny_corpus, skip_undecodable=True)
    assert corpus.songs("train") == ()
    assert [p.name for p in corpus.skipped] == ["s0.flac"]
    assert "Skipped 1 undecodable audio file(s)" in caplog.text and "s0.flac" in caplog.text
