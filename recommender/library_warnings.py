"""Silence the numeric libraries' known noise by category and message, never every warning.

The model path (numpy, pandas, scikit-learn, xgboost, lifelines) and the DNA LM path (torch, transformers)
emit warnings a user cannot act on: ``overflow encountered in exp`` for an extreme log hazard, "X does not
have valid feature names", an xgboost or pandas performance notice, a library's deprecation notice. A blanket
``warnings.simplefilter("ignore")`` around those calls also swallowed the project's own
:class:`~genomics.errors.DegradedResultWarning` (a result that is usable but weaker), so the filters here name
what they hide; every other warning still reaches the caller.

Examples
--------
>>> import warnings
>>> from genomics.errors import DegradedResultWarning
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     with ignore_library_noise():
...         _ = np.exp(np.array([1000.0]))  # overflow: hidden
...         warnings.warn("positions filled as reference", DegradedResultWarning)  # reaches the caller
>>> [w.category.__name__ for w in caught]
['DegradedResultWarning']
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np

__all__ = ["LIBRARY_NOISE", "ignore_library_noise", "install_library_noise_filters"]

#: ``(category, message regex, module regex)`` of each warning hidden (``warnings.filterwarnings`` arguments).
LIBRARY_NOISE: tuple[tuple[type[Warning], str, str], ...] = (
    # numpy floating-point notices on extreme or empty inputs (the code maps inf/NaN to "not available")
    (RuntimeWarning, r"(overflow|underflow|invalid value|divide by zero) encountered", ""),
    (RuntimeWarning, r"(Mean of empty slice|All-NaN slice encountered|Degrees of freedom <= 0)", ""),
    # scikit-learn's feature-name notices: the models align columns by name themselves
    (UserWarning, r"X (does not have valid|has) feature names", ""),
    # library notices about their own future (not about the user's data)
    (FutureWarning, "", r"(xgboost|sklearn|pandas|lifelines|torch|transformers|numpy)(\.|$)"),
    (DeprecationWarning, "", r"(xgboost|sklearn|pandas|lifelines|torch|transformers|numpy)(\.|$)"),
    # xgboost's and transformers' own chatter (device, thread and model-loading notices)
    (UserWarning, "", r"(xgboost|transformers|torch)(\.|$)"),
)


def _performance_warning() -> type[Warning] | None:
    try:
        from pandas.errors import PerformanceWarning
    except ImportError:  # pragma: no cover - pandas is a dependency
        return None
    return PerformanceWarning


def install_library_noise_filters() -> None:
    """Add the :data:`LIBRARY_NOISE` filters to the current warning filters (e.g. in a worker process)."""
    perf = _performance_warning()
    if perf is not None:
        warnings.filterwarnings("ignore", category=perf)
    for category, message, module in LIBRARY_NOISE:
        warnings.filterwarnings("ignore", message=message, category=category, module=module)


@contextlib.contextmanager
def ignore_library_noise() -> Iterator[None]:
    """Within the block, hide :data:`LIBRARY_NOISE` (and pandas' PerformanceWarning); let everything else through.

    numpy's floating-point notices are also switched off with :func:`numpy.errstate` (they are the
    ``RuntimeWarning`` of the first :data:`LIBRARY_NOISE` row).
    """
    with warnings.catch_warnings(), np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        install_library_noise_filters()
        yield
