"""Generated blocks inside hand-written Markdown files."""

import pathlib

from vocal_xai.errors import ParameterError


def replace_block(path, begin, end, body):
    """Replace the text between the markers ``begin`` and ``end`` of ``path``
    with ``body`` (after a blank line); the markers stay."""
    path = pathlib.Path(path)
    text = path.read_text()
    if begin not in text or end not in text:
        raise ParameterError(
            f"Expected the markers {begin!r} and {end!r} in {path}. Received: none"
        )
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n\n{body}\n{end}{tail}")


def block(path, begin, end):
    """The text between the markers of ``path``, stripped."""
    text = pathlib.Path(path).read_text()
    if begin not in text or end not in text:
        raise ParameterError(
            f"Expected the markers {begin!r} and {end!r} in {path}. Received: none"
        )
    return text.split(begin, 1)[1].split(end, 1)[0].strip()
