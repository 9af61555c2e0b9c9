"""Conditional DCGAN presets, as pure data."""

PRESETS = {
    # Sized to train in about an hour on two CPU cores; the class enters the
    # generator only through the first dense layer (generator version 1).
    "dcgan_small": {
        "generator": {"base_channels": 128, "kernel_size": 4, "class_dim": 16},
        "discriminator": {"base_channels": 32, "kernel_size": 4, "class_dim": 64},
    },
    # The same sizes with class-conditional BatchNorm in every generator block
    # and an auxiliary class head on the discriminator.
    "dcgan_conditional": {
        "generator": {
            "base_channels": 128,
            "kernel_size": 4,
            "class_dim": 16,
            "conditional_norm": True,
        },
        "discriminator": {
            "base_channels": 32,
            "kernel_size": 4,
            "class_dim": 64,
            "aux_classifier": True,
        },
    },
    # dcgan_conditional with nearest-neighbour resizing and 3x3 convolutions
    # in place of the transposed convolutions.
    "dcgan_resize": {
        "generator": {
            "base_channels": 128,
            "kernel_size": 3,
            "class_dim": 16,
            "conditional_norm": True,
            "upsampling": "resize",
        },
        "discriminator": {
            "base_channels": 32,
            "kernel_size": 4,
            "class_dim": 64,
            "aux_classifier": True,
        },
    },
    # dcgan_conditional trained with the usual stabilisers of small-compute
    # GANs: a moving average of the generator's weights (the one evaluated and
    # exported), DiffAugment before the discriminator and an R1 penalty.
    "dcgan_stable": {
        "generator": {
            "base_channels": 128,
            "kernel_size": 4,
            "class_dim": 16,
            "conditional_norm": True,
        },
        "discriminator": {
            "base_channels": 32,
            "kernel_size": 4,
            "class_dim": 64,
            "aux_classifier": True,
        },
        "training": {"ema_decay": 0.999, "r1_gamma": 10.0, "augment": "shift,cutout"},
    },
    # dcgan_stable with a lighter R1 penalty and a class guide: a small
    # classifier of real excerpts, trained first for 10,000 batches, whose
    # cross-entropy on the generator's excerpts joins the generator's loss.
    "dcgan_guided": {
        "generator": {
            "base_channels": 128,
            "kernel_size": 4,
            "class_dim": 16,
            "conditional_norm": True,
        },
        "discriminator": {
            "base_channels": 32,
            "kernel_size": 4,
            "class_dim": 64,
            "aux_classifier": True,
        },
        "training": {
            "ema_decay": 0.999,
            "r1_gamma": 1.0,
            "augment": "shift,cutout",
            "guide_steps": 10000,
            "guide_weight": 1.0,
        },
    },
    # Small models of the same shapes, for tests.
    "dcgan_tiny": {
        "generator": {"base_channels": 16, "kernel_size": 4, "class_dim": 4},
        "discriminator": {"base_channels": 4, "kernel_size": 4, "class_dim": 8},
    },
    "dcgan_tiny_conditional": {
        "generator": {
            "base_channels": 16,
            "kernel_size": 4,
            "class_dim": 4,
            "conditional_norm": True,
        },
        "discriminator": {
            "base_channels": 4,
            "kernel_size": 4,
            "class_dim": 8,
            "aux_classifier": True,
        },
    },
    "dcgan_tiny_stable": {
        "generator": {
            "base_channels": 16,
            "kernel_size": 4,
            "class_dim": 4,
            "conditional_norm": True,
        },
        "discriminator": {
            "base_channels": 4,
            "kernel_size": 4,
            "class_dim": 8,
            "aux_classifier": True,
        },
        "training": {"ema_decay": 0.9, "r1_gamma": 1.0, "augment": "shift,cutout,level"},
    },
    "dcgan_tiny_resize": {
        "generator": {
            "base_channels": 16,
            "kernel_size": 3,
            "class_dim": 4,
            "conditional_norm": True,
            "upsampling": "resize",
        },
        "discriminator": {
            "base_channels": 4,
            "kernel_size": 4,
            "class_dim": 8,
            "aux_classifier": True,
        },
    },
    "dcgan_tiny_guided": {
        "generator": {
            "base_channels": 16,
            "kernel_size": 4,
            "class_dim": 4,
            "conditional_norm": True,
        },
        "discriminator": {
            "base_channels": 4,
            "kernel_size": 4,
            "class_dim": 8,
            "aux_classifier": True,
        },
        "training": {
            "ema_decay": 0.9,
            "r1_gamma": 1.0,
            "augment": "shift,cutout,level",
            "guide_steps": 20,
            "guide_weight": 1.0,
        },
    },
}

# dcgan_guided with the resize-convolution generator of dcgan_resize: the
# transposed convolutions of dcgan_guided leave 2-3 times the real excerpts'
# spectral energy at a period of two frames.
PRESETS["dcgan_guided_resize"] = {
    **PRESETS["dcgan_guided"],
    "generator": PRESETS["dcgan_resize"]["generator"],
}


# dcgan_guided_resize whose discriminator also sees the frame-to-frame
# difference: the resize run's vocal excerpts lack the real ones' fast
# spectral-envelope motion (formant motion 16 % short at one frame).
def _with_frame_difference(name):
    preset = PRESETS[name]
    return {**preset, "discriminator": {**preset["discriminator"], "frame_difference": True}}


PRESETS["dcgan_guided_resize_delta"] = _with_frame_difference("dcgan_guided_resize")
PRESETS["dcgan_tiny_delta"] = _with_frame_difference("dcgan_tiny_resize")
