"""Page sizes that fit Creatio's RAM limit of a read (``MaxMemoryUsageToGetDataViaEntityCollection``).

A GET whose rows take more memory than the limit answers 500 (:class:`~.errors.CreatioMemoryLimitError`), and the
same page asked with a smaller ``$top`` succeeds. A paged read answers the refusal by asking the same page again
at half the size, down to :data:`MIN_PAGE_SIZE`; the size that fitted is kept in a :class:`PageSizes` for the rest
of the read and for the later reads of its owner (a hook, so one task), and logged once. Both page loops re-ask
the *same* page: the keyset cursor and the ``$skip`` offset only move when a page is taken, so a shrink neither
repeats nor skips a record. No I/O here (see docs/creatio-notes/ram-consumption-limit.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from airflow_provider_creatio.client import odata
from airflow_provider_creatio.client.errors import CreatioMemoryLimitError

# The smallest page a read shrinks to. A row that alone takes 1/100 of the limit (60 KB of a 6 MB limit) means a
# misconfigured site or a read that selects far too much; below 100 rows, the requests (and API calls) a read
# needs grow past what a daily quota of 10,000 calls allows for any sizeable entity, so the read stops and says
# which setting to raise instead.
MIN_PAGE_SIZE = 100
SETTING = "MaxMemoryUsageToGetDataViaEntityCollection"
log = logging.getLogger(__name__)

ReadShape = tuple[str, tuple[str, ...], tuple[str, ...]]


def read_shape(
    entity: str, select: str | Sequence[str] | None, expand: str | Sequence[str] | None
) -> ReadShape:
    """What a row of a read weighs on: the entity and the columns it asks for (the filter only says how many)."""
    return (
        entity,
        tuple(odata.listed_items(select, "select")),
        tuple(odata.listed_items(expand, "expand")),
    )


class PageSizes:
    """The page size that fitted, per read shape, learned from the site's refusals; thread-safe. Its owner (a hook,
    or the async calls of one trigger) lives as long as one task, and so does what it learned."""

    def __init__(self) -> None:
        self._fitted: dict[ReadShape, int] = {}
        self._logged: dict[ReadShape, int] = {}
        self._lock = threading.Lock()

    def size(self, shape: ReadShape, asked: int) -> int:
        """The page size to ask for: ``asked``, or less when a read of this shape was refused at a larger one."""
        with self._lock:
            return min(asked, self._fitted.get(shape, asked))

    def shrink(self, shape: ReadShape, refused: int, error: CreatioMemoryLimitError) -> int:
        """The page size to ask next after a page of ``refused`` rows hit the RAM limit: half of it, not below
        :data:`MIN_PAGE_SIZE`; a refused page of that size (or one that cannot be split) raises."""
        if refused <= MIN_PAGE_SIZE:
            raise too_large(shape[0], refused, error)
        smaller = max(MIN_PAGE_SIZE, refused // 2)
        with self._lock:
            self._fitted[shape] = min(smaller, self._fitted.get(shape, smaller))
        return smaller

    def fitted(self, shape: ReadShape, size: int) -> None:
        """A page of ``size`` rows was answered: when that is a shrunk size not logged yet, say so, once."""
        with self._lock:
            if self._fitted.get(shape) != size or self._logged.get(shape) == size:
                return
            self._logged[shape] = size
        log.warning(
            "Creatio refused a read of %s at a larger page for its RAM consumption limit (%s): reading it in "
            "pages of %d from now on (docs/creatio-notes/ram-consumption-limit.md)",
            shape[0],
            SETTING,
            size,
        )


def too_large(entity: str, refused: int, error: CreatioMemoryLimitError) -> CreatioMemoryLimitError:
    """The error of a page that cannot be made small enough: it names the setting, the size and Creatio's words."""
    return CreatioMemoryLimitError(
        f"a page of {refused:,} {entity} records still exceeds Creatio's RAM consumption limit of a read "
        f"(the smallest page this read asks for is {MIN_PAGE_SIZE}); raise the system setting {SETTING} "
        "or select fewer columns",
        status=error.status,
        method=error.method,
        path=error.path,
        server_message=error.server_message,
        operation=error.operation,
    )
