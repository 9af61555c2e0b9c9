import numpy as np
import pytest

from vocal_xai.data import pipeline
from vocal_xai.models.dcgan import PRESETS, Generator, evaluation


@pytest.mark.slow
def test_plot_samples_writes_a_figure(tmp_path):
    rng = np.random.default_rng(0)
    labels = (np.arange(400) >= 200).astype(np.int32)
    split = pipeline.SplitFeatures(
        ["a"], [rng.normal(-5, 2, (400, 80)).astype(np.float32)], [labels]
    )
    generator = Generator(np.full(80, -5.0), np.ones(80), **PRESETS["dcgan_tiny"]["generator"])
    png = evaluation.plot_samples(generator, split, tmp_path / "s.png", per_class=3)
    import matplotlib.image

    image = matplotlib.image.imread(png)
    assert image.shape[0] > 300 and image.shape[1] > 400
    assert image[..., :3].std() > 0.05  # not a blank canvas
