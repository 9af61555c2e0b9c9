"""SVDNet presets, as pure data."""

PRESETS = {
    # Schlueter & Grill (ISMIR 2015): about 1.41 M parameters.
    "svdnet_paper": {
        "conv_filters": (64, 32, 128, 64),
        "dense_units": (256, 64),
        "dropout": 0.5,
        "leaky_slope": 0.01,
    },
    # A quarter-width model of the same shape: the class guide a GAN trains
    # for itself (``vocal_xai.models.dcgan.task.train_guide``), cheap enough
    # to run on every generator step.
    "svdnet_guide": {
        "conv_filters": (16, 8, 32, 16),
        "dense_units": (64, 16),
        "dropout": 0.5,
        "leaky_slope": 0.01,
    },
    # A small model of the same shape, for tests.
    "svdnet_tiny": {
        "conv_filters": (4, 4, 8, 4),
        "dense_units": (16, 8),
        "dropout": 0.5,
        "leaky_slope": 0.01,
    },
}
