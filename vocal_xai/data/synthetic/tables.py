"""The values of the settings tables (instruments, singers) and how they are drawn.

A field drawn once per song holds one of:

* a pair ``(low, high)``: drawn uniformly, or for a count, an integer from
  ``low`` to ``high`` inclusive;
* ``Chance(p, value, otherwise)``: ``value`` (itself drawn) with probability
  ``p``, else ``otherwise``;
* ``OneOf(options)``: one of ``options``, equally likely;
* ``Uniform(low, high, size)``: ``size`` values drawn uniformly at once;
* any other value, used as it is.

Each table's drawing function draws its fields in a fixed order, so that a
corpus stays reproducible byte for byte.
"""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Chance:
    p: float
    value: object
    otherwise: object


@dataclasses.dataclass(frozen=True)
class OneOf:
    options: tuple


@dataclasses.dataclass(frozen=True)
class Uniform:
    low: float
    high: float
    size: int


def draw(rng, value, integer=False):
    """A value of a table, drawn from ``rng`` as the module docstring says."""
    if isinstance(value, Chance):
        return draw(rng, value.value, integer) if rng.random() < value.p else value.otherwise
    if isinstance(value, OneOf):
        return rng.choice(value.options)
    if isinstance(value, Uniform):
        return rng.uniform(value.low, value.high, value.size)
    if isinstance(value, tuple) and len(value) == 2 and not isinstance(value[0], tuple):
        if integer:
            return int(rng.integers(value[0], value[1] + 1))
        return float(rng.uniform(value[0], value[1]))
    return value


def draw_all(rng, table):
    """Every field of ``table`` (a dict), drawn in the dict's order."""
    return {name: draw(rng, value) for name, value in table.items()}
