"""The real-recordings check: the manifest, the shares and verdicts, the
Keras and SavedModel paths agreeing, the evaluation entry and the CLI."""

import csv
import json
import math
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from helpers import run_ok, script_env, tone_song

from vocal_xai import predict, spectral, zoo
from vocal_xai.data import corpus as corpus_lib
from vocal_xai.errors import CorpusError, ParameterError
from vocal_xai.models.detector import SVDNet, real_check, task

ROOT = pathlib.Path(__file__).resolve().parents[2]
REAL = ROOT / "real_recordings"
SECONDS = 2.0


def constant_detector(probability, seed=0):
    """A tiny SVDNet whose every frame has ``probability``."""
    rng = np.random.default_rng(seed)
    model = SVDNet.from_preset("svdnet_tiny", rng.normal(-4, 1, 80), rng.uniform(0.5, 2, 80))
    head = model.get_layer("logit")
    head.kernel.assign(np.zeros(head.kernel.shape, np.float32))
    head.bias.assign([math.log(probability / (1 - probability))])
    return model


def write_recordings(folder, rows=None):
    """A folder of 2-second wav files and their manifest."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows = rows or [
        ("inst.wav", "instrumental", "a tone"),
        ("song.wav", "song", "another tone"),
        ("talk.wav", "speech", "a third tone"),
    ]
    for i, (name, _, _) in enumerate(rows):
        sf.write(folder / name, tone_song(SECONDS, seed=i, freq=220.0 * (i + 1)), 22050)
    with (folder / real_check.MANIFEST).open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(real_check.COLUMNS)
        writer.writerows(rows)
    return folder


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    return write_recordings(tmp_path_factory.mktemp("real"))


def test_shipped_manifest_lists_every_recording_with_its_licence():
    recordings = real_check.read_manifest(REAL)
    names = {r.name for r in recordings}
    assert names == {p.name for p in REAL.glob("*.ogg")} and len(names) == 8
    kinds = [r.kind for r in recordings]
    assert (kinds.count("instrumental"), kinds.count("song"), kinds.count("speech")) == (4, 1, 3)
    readme = (REAL / "README.md").read_text()
    for r in recordings:
        assert r.path.with_suffix(".txt").is_file(), r.name
        assert f"`{r.name}`" in readme, r.name
    for licence in ("CC BY 3.0", "CC BY 4.0", "Public Domain"):
        assert licence in readme
    assert real_check.default_folder() == REAL


def test_targets_and_verdicts():
    assert real_check.target("instrumental") == "<= 10 %"
    assert real_check.target("song") == ">= 60 %"
    assert real_check.target("speech") == "none"
    assert real_check.verdict("instrumental", 0.10) is True
    assert real_check.verdict("instrumental", 0.1001) is False
    assert real_check.verdict("song", 0.60) is True
    assert real_check.verdict("song", 0.5999) is False
    assert real_check.verdict("speech", 0.0) is None and real_check.verdict("speech", 1.0) is None
    with pytest.raises(ParameterError, match="Received: kind='singing'"):
        real_check.verdict("singing", 0.5)
    with pytest.raises(ParameterError, match="Received: share_vocal=1.5"):
        real_check.verdict("song", 1.5)


def test_summarise_counts_frames_strictly_above_the_threshold():
    recording = real_check.Recording(pathlib.Path("x.wav"), "instrumental", "x")
    result = real_check.summarise(recording, [0.2, 0.5, 0.51, 0.9])
    assert result.frames == 4 and result.share_vocal == 0.5
    assert result.mean_probability == pytest.approx(0.5275, abs=1e-12)
    assert result.passed is False and result.target == "<= 10 %"
    assert real_check.summarise(recording, [0.2, 0.5, 0.51, 0.9], threshold=0.95).passed is True
    with pytest.raises(ParameterError, match="Received: threshold=1.0"):
        real_check.summarise(recording, [0.2], threshold=1.0)
    with pytest.raises(ParameterError, match=r"Received: shape=\(0,\)"):
        real_check.summarise(recording, [])
    # A recording too short to have frames away from its ends: all are ends.
    assert result.share_vocal_ends == 0.5


def test_the_ends_are_the_frames_predicted_from_padded_excerpts():
    recording = real_check.Recording(pathlib.Path("x.wav"), "instrumental", "x")
    p = np.full(300, 0.1)
    p[:57], p[-10:] = 0.9, 0.9  # the whole first end, 10 frames of the last
    result = real_check.summarise(recording, p)
    assert result.share_vocal == pytest.approx(67 / 300)
    assert result.share_vocal_ends == pytest.approx(67 / 114)
    p[57] = 0.9  # the first frame after the first end
    assert real_check.summarise(recording, p).share_vocal_ends == pytest.approx(67 / 114)
    table = real_check.format_table([result])
    assert table.splitlines()[0].endswith("vocal at the ends")
    assert table.splitlines()[1].endswith("58.8%")


@pytest.mark.parametrize(
    "probability, share, verdicts",
    [(0.3, 0.0, [True, False, None]), (0.8, 1.0, [False, True, None])],
)
def test_constant_detector_gives_known_shares(recordings, probability, share, verdicts):
    results = real_check.check(constant_detector(probability), recordings)
    assert [r.file for r in results] == ["inst.wav", "song.wav", "talk.wav"]
    frames = spectral.num_frames(int(SECONDS * 22050))
    for r, passed in zip(results, verdicts):
        assert r.frames == frames
        assert r.share_vocal == share
        assert r.mean_probability == pytest.approx(probability, abs=1e-6)
        assert r.passed is passed
    summary = real_check.report(results, 0.5, recordings)
    assert (summary["targets_met"], summary["targets"]) == (1, 2)
    assert json.loads(json.dumps(summary))["recordings"][1]["share_vocal"] == share


@pytest.mark.slow
def test_keras_path_equals_song_predictor(recordings):
    rng = np.random.default_rng(1)
    model = SVDNet.from_preset("svdnet_tiny", rng.normal(-4, 1, 80), rng.uniform(0.5, 2, 80))
    recording = real_check.read_manifest(recordings)[1]
    ours = real_check.keras_probabilities(model)(real_check.load_waveform(recording))
    reference = predict.SongPredictor(model)(recording.path).probability
    assert np.std(reference) > 1e-4  # not a comparison of constants
    np.testing.assert_allclose(ours, reference, atol=1e-6)
    # A threshold in the widest gap between probabilities near the median, so
    # that the 1e-6 between the two paths can't move a frame across it.
    middle = np.sort(reference)[len(reference) // 4 : 3 * len(reference) // 4]
    widest = int(np.argmax(np.diff(middle)))
    assert middle[widest + 1] - middle[widest] > 2e-6
    threshold = float(middle[widest] + middle[widest + 1]) / 2
    result = real_check.check(model, recordings, threshold=threshold)[1]
    assert 0.25 <= result.share_vocal <= 0.75
    assert result.share_vocal == pytest.approx(np.mean(reference > threshold), abs=1e-12)


@pytest.mark.slow
def test_saved_model_frames_agree_with_keras_on_real_speech():
    speech = next(r for r in real_check.read_manifest(REAL) if r.name == "198-209-0000.ogg")
    waveform = real_check.load_waveform(speech)
    version_dir = zoo.resolve("detector")
    keras_p = real_check.keras_probabilities(zoo.load_detector(str(version_dir)))(waveform)
    served_p = real_check.saved_model_probabilities(version_dir)(waveform)
    assert keras_p.shape == served_p.shape == (spectral.num_frames(waveform.size),)
    assert np.std(served_p) > 1e-2
    np.testing.assert_allclose(keras_p, served_p, atol=1e-4, rtol=0)
    by_keras = real_check.summarise(speech, keras_p)
    by_frames = real_check.check(lambda w: served_p, REAL, recordings=[speech])[0]
    assert by_frames.share_vocal == pytest.approx(by_keras.share_vocal, abs=2 / keras_p.size)


def test_missing_folder_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(ParameterError, match="Received: folder="):
        real_check.read_manifest(tmp_path / "nowhere")
    with pytest.raises(ParameterError, match="Received: folder=None"):
        real_check.check(constant_detector(0.5), None)
    with pytest.raises(ParameterError, match="Expected manifest.csv"):
        real_check.read_manifest(tmp_path)
    monkeypatch.setattr(real_check, "_REPOSITORY", tmp_path)
    assert real_check.default_folder() is None


@pytest.mark.parametrize(
    "rows, message",
    [
        ([("a.wav", "singing", "x")], r"manifest.csv:2: expected kind in"),
        ([("a.wav", "song", "x"), ("gone.wav", "song", "y")], r"manifest.csv:3: expected a file"),
        (
            [("a.wav", "song", "x"), ("a.wav", "song", "y")],
            r"manifest.csv:3: expected each file once",
        ),
    ],
)
def test_malformed_manifest_names_the_line(tmp_path, rows, message):
    folder = write_recordings(tmp_path, [("a.wav", "song", "x")])
    with (folder / real_check.MANIFEST).open("w", newline="") as f:
        csv.writer(f).writerows([real_check.COLUMNS, *rows])
    with pytest.raises(CorpusError, match=message):
        real_check.read_manifest(folder)


def test_unlisted_audio_is_an_error(tmp_path):
    folder = write_recordings(tmp_path)
    sf.write(folder / "extra.wav", tone_song(1.0), 22050)
    with pytest.raises(CorpusError, match=r"unlisted \['extra.wav'\]"):
        real_check.read_manifest(folder)


def test_markdown_table(tmp_path):
    def result(kind, share, mean, passed):
        return real_check.RecordingResult(
            f"{kind}.wav", kind, f"a {kind}", 10, share, mean, real_check.target(kind), passed
        )

    one = [result("instrumental", 0.05, 0.1, True), result("song", 0.5, 0.45, False)]
    two = [result("instrumental", 0.2, 0.3, False), result("song", 0.7, 0.65, True)]
    table = real_check.markdown_table({"detector 1": one, "detector 2": two})
    lines = table.strip().split("\n")
    assert lines[0] == "| recording | kind | target | detector 1 | detector 2 |"
    assert (
        lines[2]
        == "| a instrumental | instrumental | <= 10 % | 0.05 (0.10) pass | 0.20 (0.30) fail |"
    )
    assert lines[3] == "| a song | song | >= 60 % | 0.50 (0.45) fail | 0.70 (0.65) pass |"
    assert lines[4] == "| **targets met** | | | 1 of 2 | 1 of 2 |"
    with pytest.raises(ParameterError, match="same recordings"):
        real_check.markdown_table({"detector 1": one, "detector 2": two[:1]})
    card = tmp_path / "card.md"
    card.write_text(f"# card\n\n{real_check.BEGIN}\nold\n{real_check.END}\n\nafter\n")
    real_check.write_markdown(card, {"detector 1": one})
    text = card.read_text()
    assert "old" not in text and "| a song | song | >= 60 % | 0.50 (0.45) fail |" in text
    assert text.endswith(f"{real_check.END}\n\nafter\n")


@pytest.mark.slow
def test_evaluate_adds_the_check_only_when_given(tiny_corpus, recordings, capsys):
    corpus = corpus_lib.read_corpus(tiny_corpus)
    model = constant_detector(0.8)
    plain = task.evaluate(model, corpus)
    assert set(plain) == {"threshold", "median_frames", "valid", "test", "test_unfiltered"}
    checked = task.evaluate(model, corpus, real_recordings=recordings)
    assert {k: v for k, v in checked.items() if k != "real_recordings"} == plain
    real = checked["real_recordings"]
    assert real["threshold"] == 0.5 and (real["targets_met"], real["targets"]) == (1, 2)
    assert [r["share_vocal"] for r in real["recordings"]] == [1.0, 1.0, 1.0]
    task.print_metrics(checked)
    out = capsys.readouterr().out
    assert "threshold 0.50 (fixed)" in out and "targets met: 1 of 2" in out
    assert "inst.wav" in out and "fail" in out


@pytest.mark.slow
def test_cli_writes_json_and_refuses_a_missing_folder(recordings, tmp_path):
    zoo_root = tmp_path / "zoo"
    task.export_detector(constant_detector(0.3), zoo_root, {})
    env = script_env(VOCAL_XAI_ZOO=str(zoo_root))
    tool = str(ROOT / "tools" / "real_check.py")
    out = run_ok(
        [sys.executable, tool, f"--recordings={recordings}", f"--out={tmp_path / 'r.json'}"],
        env=env,
        cwd=tmp_path,
    )
    assert "targets met: 1 of 2" in out.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["threshold"] == 0.5
    (detector,) = report["detectors"]
    assert detector["detector"] == str(zoo_root / "detector" / "1")
    assert [r["share_vocal"] for r in detector["recordings"]] == [0.0, 0.0, 0.0]
    assert [r["passed"] for r in detector["recordings"]] == [True, False, None]

    missing = subprocess.run(
        [sys.executable, tool, f"--recordings={tmp_path / 'nowhere'}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert missing.returncode != 0
    assert "Received: folder=" in missing.stderr and "Traceback" not in missing.stderr


def test_resolve_folder(recordings, tmp_path):
    assert real_check.resolve_folder(None) == REAL
    assert real_check.resolve_folder("") is None
    assert real_check.resolve_folder(str(recordings)) == recordings
    with pytest.raises(ParameterError, match="Received: folder="):
        real_check.resolve_folder(str(tmp_path / "nowhere"))
