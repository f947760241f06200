"""Which names check_columns accepts where, and how it refuses the others (schema: the saved Creatio fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_creatio.client.columns import check_data, check_query
from airflow_provider_creatio.client.errors import CreatioUnknownColumnError, CreatioValidationError
from airflow_provider_creatio.client.schema import ServiceSchema, read_metadata

FIXTURE = Path(__file__).parents[1] / "fixtures" / "metadata" / "creatio_odata4_metadata.xml"


@pytest.fixture(scope="module")
def schema() -> ServiceSchema:
    return read_metadata([FIXTURE.read_bytes()])


def refusal(call: Any) -> CreatioUnknownColumnError:
    with pytest.raises(CreatioUnknownColumnError) as caught:
        call()
    return caught.value


def test_data_takes_columns_with_id_and_lookup_id_columns(schema: ServiceSchema) -> None:
    check_data(schema.entity("Contact"), ["Id", "Name", "Email", "AccountId", "CreatedOn", "BirthDate"])
    check_data(schema.entity("Case"), ["Subject", "StatusId", "PriorityId", "SolutionRemains"])


def test_a_misspelt_column_is_refused_with_the_closest_real_one(schema: ServiceSchema) -> None:
    error = refusal(lambda: check_data(schema.entity("Contact"), ["Name", "Emial"]))
    assert error.message == "Contact has no column 'Emial'; did you mean 'Email'?"
    assert str(error) == "check data: Contact has no column 'Emial'; did you mean 'Email'?"
    assert (error.entity, error.column, error.suggestions, error.argument) == (
        "Contact",
        "Emial",
        ["Email"],
        "data",
    )
    assert isinstance(error, CreatioValidationError)


def test_letter_case_is_ignored_when_suggesting_but_not_when_checking(schema: ServiceSchema) -> None:
    error = refusal(lambda: check_data(schema.entity("Contact"), ["email"]))
    assert error.suggestions == ["Email"]


def test_several_close_names_are_all_offered_and_none_when_nothing_is_close(schema: ServiceSchema) -> None:
    error = refusal(lambda: check_data(schema.entity("Contact"), ["Phon"]))
    assert error.message == "Contact has no column 'Phon'; did you mean 'Phone' or 'HomePhone'?"
    assert (
        refusal(lambda: check_data(schema.entity("Case"), ["Xyzzy"])).message == "Case has no column 'Xyzzy'"
    )


def test_writing_a_lookup_by_its_navigation_name_suggests_its_id_column(schema: ServiceSchema) -> None:
    error = refusal(lambda: check_data(schema.entity("Case"), ["Priority"]))
    assert error.message == "Case has no column 'Priority'; did you mean 'PriorityId'?"


def test_query_paths_walk_through_lookups(schema: ServiceSchema) -> None:
    contact, case = schema.entity("Contact"), schema.entity("Case")
    check_query(
        schema, contact, select="Id, Name, AccountId, Account/Name", orderby=["Account/Name desc", "Name"]
    )
    check_query(schema, contact, expand=["Account", "Account/PrimaryContact", "Gender"])
    check_query(schema, case, filter={"Status/Id": 1, "Priority/Name__ne": "x", "Subject__contains": "y"})
    # a lookup whose entity the document does not describe: the step after it cannot be judged here
    check_query(schema, contact, select="Gender/Name", filter={"Country/Code": "UA"})


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"select": ["Id", "Nmae"]}, "check select: Contact has no column 'Nmae'; did you mean 'Name'?"),
        ({"select": "Acount/Name"}, "check select: Contact has no lookup 'Acount'; did you mean 'Account'"),
        ({"select": "Account/Nmae"}, "check select: Account has no column 'Nmae'; did you mean 'Name'?"),
        ({"orderby": "Nmae desc"}, "check orderby: Contact has no column 'Nmae'; did you mean 'Name'?"),
        ({"expand": "Acount"}, "check expand: Contact has no lookup 'Acount'; did you mean 'Account'"),
        ({"expand": "Email"}, "check expand: Contact has no lookup 'Email'"),
        ({"expand": "Account/Ownr"}, "check expand: Account has no lookup 'Ownr'; did you mean 'Owner'?"),
        (
            {"filter": {"Emial__contains": "@"}},
            "check filter: Contact has no column 'Emial'; did you mean 'Email'?",
        ),
        ({"filter": {"Email/Name": "x"}}, "check filter: Contact has no lookup 'Email'"),
    ],
)
def test_unknown_names_in_query_options(
    schema: ServiceSchema, options: dict[str, Any], expected: str
) -> None:
    error = refusal(lambda: check_query(schema, schema.entity("Contact"), **options))
    assert str(error).startswith(expected)


def test_a_filter_on_a_lookup_id_column_points_to_the_navigation_path(schema: ServiceSchema) -> None:
    error = refusal(lambda: check_query(schema, schema.entity("Case"), filter={"StatusId": "3e7f420c"}))
    assert error.message == "Case has no column path 'StatusId'; did you mean 'Status/Id'?"


def test_a_string_filter_is_the_callers_own_expression_and_is_not_checked(schema: ServiceSchema) -> None:
    check_query(schema, schema.entity("Contact"), filter="Emial eq 'x'")
