"""Conditional DCGAN presets, as pure data."""

PRESETS = {
    # Sized to train in about an hour on two CPU cores.
    "dcgan_small": {
        "generator": {"base_channels": 128, "kernel_size": 4, "class_dim": 16},
        "discriminator": {"base_channels": 32, "kernel_size": 4, "class_dim": 64},
    },
    # A small model of the same shape, for tests.
    "dcgan_tiny": {
        "generator": {"base_channels": 16, "kernel_size": 4, "class_dim": 4},
        "discriminator": {"base_channels": 4, "kernel_size": 4, "class_dim": 8},
    },
}
