"""The explain session's paths and cache keys."""

from vocal_xai.data import corpus as corpus_lib
from vocal_xai.data import synthetic
from vocal_xai.explain import session


def test_default_corpus_lives_in_the_cache_folder(tmp_path):
    path = session.default_corpus_dir(tmp_path)
    assert path == tmp_path / "corpora" / f"synthetic-v{synthetic.DEFAULT_VERSION}"


def test_reference_cache_key_follows_the_detector_and_the_valid_files(tiny_corpus, tmp_path):
    songs = corpus_lib.read_corpus(tiny_corpus).songs("valid")
    detector = {"path": "saved_models/detector/4", "content": "abc"}
    folder, key = session.reference_cache(detector, songs, tmp_path)
    assert folder == tmp_path / "reference"
    assert key["detector"] == "saved_models/detector/4" and key["content"] == "abc"
    assert "output" not in key
    _, other_model = session.reference_cache({**detector, "content": "abd"}, songs, tmp_path)
    assert other_model["content"] != key["content"]
    _, logit = session.reference_cache(detector, songs, tmp_path, detector_output="logit")
    assert logit["output"] == "logit"
    # The same path with other contents is another key.
    songs[0].label_path.write_text(songs[0].label_path.read_text() + "\n")
    _, edited = session.reference_cache(detector, songs, tmp_path)
    assert edited["valid"] != key["valid"]
