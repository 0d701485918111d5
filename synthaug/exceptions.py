"""Exceptions raised by synthaug.

Every error subclasses :class:`SynthaugError`; the ones about user input also
subclass :class:`ValueError` so that scikit-learn style ``except ValueError``
handling keeps working.
"""

from __future__ import annotations


class SynthaugError(Exception):
    """Base class of all synthaug errors."""


class DataValidationError(SynthaugError, ValueError):
    """The data given to ``fit``, ``transform`` or ``sample`` is unusable."""


class SchemaError(SynthaugError, ValueError):
    """A schema or column specification is invalid or does not match the data."""


class ConditionError(SynthaugError, ValueError):
    """A sampling condition names an unknown column or an unseen value."""


class ModelFileError(SynthaugError, ValueError):
    """A saved model file is missing, corrupt or not a synthaug model."""


class DataFileError(SynthaugError, ValueError):
    """An input or output data file cannot be read or written."""


class SpecError(SynthaugError, ValueError):
    """A pipeline spec has an unknown section or key, a value of the wrong type, or conflicting settings."""


class ImageFileError(DataFileError):
    """An image folder, image file or ``.npz`` image array is missing, unreadable or inconsistent."""


class PrivacyError(SynthaugError, ValueError):
    """A request would break or misstate a differential-privacy guarantee, so it is refused."""


class ParameterError(SynthaugError, ValueError):
    """An estimator parameter has the wrong type or an out-of-range value (the message names it)."""


class MetricNotApplicable(SynthaugError):
    """A metric cannot be computed for these inputs (no target, no holdout, too few rows of a class, ...).

    It is the only error an evaluation records as "skipped"; anything else propagates.
    """


class SynthaugWarning(UserWarning):
    """Base class of synthaug's warnings."""


class IdentifierColumnWarning(SynthaugWarning):
    """A column was taken as an identifier: it is not modelled, and synthetic rows get fresh values."""


class CopyRiskWarning(SynthaugWarning):
    """The output can only echo the input (too few rows) or the synthetic rows copy real ones."""


class RareCategoryWarning(SynthaugWarning):
    """Categories too rare (or too many) to replay were merged into one "other" value."""
