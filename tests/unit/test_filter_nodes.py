"""The client's node counter against filters counted by hand, and its refusal of a filter over the limit."""

from __future__ import annotations

import pytest
from filter_node_cases import CASES, Case, ids

from airflow_provider_creatio.client import odata
from airflow_provider_creatio.client.errors import CreatioValidationError
from airflow_provider_creatio.client.filter_nodes import check_filter_nodes, filter_node_count


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_the_counter_agrees_with_the_hand_count(case: Case) -> None:
    assert filter_node_count(case.filter) == case.client


def test_a_mapping_filter_is_counted_as_rendered() -> None:
    rendered = odata.build_filter({"Account/Name": ["A", "B"], "Owner": None, "Name__contains": "x"})
    assert rendered is not None
    # the list 11, and 1, Owner eq null 5, and 1, contains 4
    assert filter_node_count(rendered) == 22


@pytest.mark.parametrize(
    "text",
    [
        "Id in (1, 2)",
        "Contacts/any(c: c/Name eq 'x')",
        "Age add 1 gt 2",
        "Name eq",
        "(Name eq 'x'",
        "Name eq 'x')",
    ],
)
def test_syntax_outside_the_grammar_is_not_measured(text: str) -> None:
    assert filter_node_count(text) is None


def test_whitespace_and_parentheses_add_nothing() -> None:
    assert filter_node_count("  ( ( Name eq 'a b' ) )  ") == 4


def test_a_filter_over_the_limit_is_refused_with_its_count_and_the_limit() -> None:
    with pytest.raises(CreatioValidationError, match=r"has 149 nodes, over Creatio's limit of 100"):
        check_filter_nodes(ids(30), 100)


def test_a_filter_at_the_limit_passes() -> None:
    check_filter_nodes(ids(20), 99)
