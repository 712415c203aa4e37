"""The patrolwatch exception tree.

Every error patrolwatch raises derives from :class:`PatrolwatchError`. Errors about
input carry where the problem is (``path``, 1-based ``line``, ``feature``) and say how
to fix it, so that the CLI can print them without a traceback.

Examples
--------
>>> err = ParseError("time '12:00' has no date", path="tracks.csv", line=7)
>>> str(err)
"tracks.csv:7: time '12:00' has no date"
>>> isinstance(err, ValueError)
True
"""

from __future__ import annotations

import math

__all__ = [
    "ConfigError",
    "InputError",
    "NaiveTimeError",
    "ParseError",
    "PatrolwatchError",
    "SchemaError",
    "ZoneGeometryError",
    "check_nonneg",
    "check_positive",
]


class PatrolwatchError(Exception):
    """Root of every error raised by patrolwatch."""


class ConfigError(PatrolwatchError, ValueError):
    """A bad parameter or option (a negative distance, an unknown unit, a bad mode)."""


class InputError(PatrolwatchError, ValueError):
    """Bad input data, located in its file.

    Parameters
    ----------
    reason : str
        What is wrong and, where possible, how to fix it.
    path : str
        The input file (or ``"<memory>"`` for in-memory data).
    line : int or None
        1-based line (or row) of the file, ``None`` when the problem is not one line.
    feature : str or None
        Zone feature id or column name the problem is about.
    """

    def __init__(
        self, reason: str, *, path: str, line: int | None = None, feature: str | None = None
    ) -> None:
        where = f"{path}:{line if line is not None else '-'}"
        if feature is not None:
            where += (
                f": feature {feature!r}" if not feature.startswith("column ") else f": {feature}"
            )
        super().__init__(f"{where}: {reason}")
        self.reason = reason
        self.path = path
        self.line = line
        self.feature = feature


class ParseError(InputError):
    """A value or line could not be parsed."""


class SchemaError(InputError):
    """Required columns or properties are missing or of the wrong type."""


class NaiveTimeError(InputError):
    """A time without a time zone was given where UTC cannot be assumed."""


class ZoneGeometryError(InputError):
    """A zone geometry is invalid (unclosed or self-intersecting ring, swapped axes, ...)."""


def check_positive(name: str, value: float) -> None:
    """Refuse a parameter that is not a positive finite number.

    Raises
    ------
    ConfigError
        Naming the parameter and the value given.

    Examples
    --------
    >>> check_positive("grid_s", 0.0)
    Traceback (most recent call last):
    ...
    patrolwatch.ConfigError: grid_s must be a positive finite number, got 0.0
    """
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a positive finite number, got {value!r}")


def check_nonneg(name: str, value: float, *, allow_inf: bool = False) -> None:
    """Refuse a parameter that is negative, NaN, or infinite (unless ``allow_inf``).

    Raises
    ------
    ConfigError
        Naming the parameter and the value given.
    """
    ok = value >= 0 and (math.isfinite(value) or (allow_inf and value == math.inf))
    if not ok:
        raise ConfigError(f"{name} must be a finite number >= 0, got {value!r}")
