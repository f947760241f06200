"""PageSizes: halving to a floor, the size kept per read shape, one warning per shape and size."""

from __future__ import annotations

import logging

import pytest

from airflow_provider_creatio.client.errors import CreatioMemoryLimitError
from airflow_provider_creatio.client.page_fit import MIN_PAGE_SIZE, SETTING, PageSizes, read_shape

REFUSAL = CreatioMemoryLimitError(
    "the read reached Creatio's RAM consumption limit",
    status=500,
    method="GET",
    path="/0/odata/Contact",
    server_message="Request processing terminated because it reached the RAM consumption limit of 6 MB.",
)
SHAPE = read_shape("Contact", ["Name", "Email"], None)


def test_a_refused_page_halves_down_to_the_floor_then_fails_naming_the_setting() -> None:
    sizes = PageSizes()
    tried = [5_000]
    while tried[-1] > MIN_PAGE_SIZE:
        tried.append(sizes.shrink(SHAPE, tried[-1], REFUSAL))

    with pytest.raises(CreatioMemoryLimitError) as raised:
        sizes.shrink(SHAPE, tried[-1], REFUSAL)

    assert tried == [5_000, 2_500, 1_250, 625, 312, 156, 100]
    assert SETTING in str(raised.value) and "a page of 100 Contact records" in str(raised.value)
    assert "RAM consumption limit of 6 MB" in str(raised.value)


def test_the_size_that_fitted_caps_later_reads_of_the_same_shape_only() -> None:
    sizes = PageSizes()
    sizes.shrink(SHAPE, 5_000, REFUSAL)

    assert sizes.size(SHAPE, 5_000) == 2_500
    assert sizes.size(SHAPE, 1_000) == 1_000
    assert sizes.size(read_shape("Contact", ["Id"], None), 20_000) == 20_000


def test_the_size_that_fitted_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    sizes = PageSizes()
    sizes.fitted(SHAPE, 5_000)  # never refused: nothing to say
    sizes.shrink(SHAPE, 5_000, REFUSAL)

    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            sizes.fitted(SHAPE, 2_500)

    [warning] = [record.getMessage() for record in caplog.records]
    assert "pages of 2500" in warning and SETTING in warning
