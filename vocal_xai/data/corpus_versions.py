"""The synthetic corpus versions by number, with what trained on each.

Kept free of heavy imports, so that a program's flags can name the versions
before numpy or TensorFlow is imported. ``synthetic.VERSIONS`` maps the same
numbers to their recipes.
"""

# Version number -> the detectors trained on it.
TRAINED_ON = {
    1: "detectors 1-3",
    2: "detector 4",
    3: "detector 5, not shipped",
    4: "detector 6, not shipped",
    5: "detector 7, not shipped",
    6: "detector 8, not shipped",
}
NUMBERS = tuple(sorted(TRAINED_ON))
DEFAULT = 2


def flag_help(subject="Version of the synthetic default corpus"):
    """The help text of a corpus-version flag: every version and what trained on it."""
    versions = "; ".join(f"{n}: {TRAINED_ON[n]}" for n in NUMBERS)
    return f"{subject} ({versions})."
