"""OData query options: the $filter grammar, $select, $expand, $orderby, paging, the page cap and counting."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from airflow_provider_creatio.testing.emulator import EmulatorServer
from airflow_provider_creatio.testing.emulator.store import Column

API_ACCOUNT = "e6574af1-3e92-4099-958e-e798f52ee016"
INFOCOM_ACCOUNT = "ff7e089f-1fe9-4ca9-bc30-2d76ad39d178"
STATUS_NEW = "ae5f2f10-f46b-1410-fd9a-0050ba5d6c38"
SUPERVISOR = "410006e1-ca4e-4502-a9ec-e54d922d2c00"
SEED_NAMES = {"Supervisor", "API Test", "Andrew Baker"}
ALL = SEED_NAMES | {"Alice Smith", "Bob O'Brien", "carol jones", "Dave Smith"}


@pytest.fixture
def people(creatio: EmulatorServer) -> None:
    """Four contacts next to the three seed ones (Supervisor: Age 0, no account; API Test: 19, API 1;
    Andrew Baker: 0, Infocom Global)."""
    for record in (
        {"Name": "Alice Smith", "Age": 30, "BirthDate": "1994-05-01T00:00:00Z", "AccountId": API_ACCOUNT,
         "Email": "alice@example.com"},
        {"Name": "Bob O'Brien", "Age": 45, "BirthDate": "1979-02-10T08:00:00Z", "AccountId": INFOCOM_ACCOUNT,
         "Email": "bob@example.com", "DoNotUseEmail": True},
        {"Name": "carol jones", "Age": 19},
        {"Name": "Dave Smith", "Age": 30, "BirthDate": "1994-05-01T12:00:00Z", "AccountId": API_ACCOUNT},
    ):  # fmt: skip
        creatio.store.insert("Contact", record)


def names(api: requests.Session, odata: str, filter_text: str) -> set[str]:
    answer = api.get(f"{odata}/Contact", params={"$filter": filter_text, "$select": "Name"})
    assert answer.status_code == 200, answer.text
    return {row["Name"] for row in answer.json()["value"]}


FILTERS: list[tuple[str, set[str]]] = [
    ("Name eq 'Alice Smith'", {"Alice Smith"}),
    ("Name eq 'alice smith'", {"Alice Smith"}),
    ("Name ne 'Alice Smith' and Age eq 30", {"Dave Smith"}),
    ("Age gt 30", {"Bob O'Brien"}),
    ("Age ge 30", {"Alice Smith", "Bob O'Brien", "Dave Smith"}),
    ("Age lt 19", {"Supervisor", "Andrew Baker"}),
    ("Age le 19 and Age gt 0", {"API Test", "carol jones"}),
    ("Age eq 19 or Age eq 45", {"API Test", "Bob O'Brien", "carol jones"}),
    ("not (Age ge 19)", {"Supervisor", "Andrew Baker"}),
    ("not Age ge 19", {"Supervisor", "Andrew Baker"}),
    ("Age eq 19 or Age eq 45 and startswith(Name,'B')", {"API Test", "carol jones", "Bob O'Brien"}),
    ("(Age eq 19 or Age eq 45) and startswith(Name,'B')", {"Bob O'Brien"}),
    ("contains(Name,'smith')", {"Alice Smith", "Dave Smith"}),
    ("startswith(Name,'A')", {"API Test", "Andrew Baker", "Alice Smith"}),
    ("endswith(Email,'@example.com')", {"Alice Smith", "Bob O'Brien"}),
    ("Name eq 'Bob O''Brien'", {"Bob O'Brien"}),
    ("contains(Name,'''')", {"Bob O'Brien"}),
    ("Name eq 'x'' or 1 eq 1 or Name eq ''y'", set()),
    ("Email eq ''", {"Supervisor", "Andrew Baker", "carol jones", "Dave Smith"}),
    ("Id eq 12d21632-8b20-45d9-942f-20fcbbf2957c", {"API Test"}),
    ("12D21632-8B20-45D9-942F-20FCBBF2957C eq Id", {"API Test"}),
    (f"Id eq {SUPERVISOR} or Id eq 12d21632-8b20-45d9-942f-20fcbbf2957c", {"Supervisor", "API Test"}),
    (f"(Id eq {SUPERVISOR} or Id eq 12d21632-8b20-45d9-942f-20fcbbf2957c) and Age gt 0", {"API Test"}),
    (f"Id eq {SUPERVISOR} or Age eq 45", {"Supervisor", "Bob O'Brien"}),
    (f"Id eq {SUPERVISOR} and Id eq 12d21632-8b20-45d9-942f-20fcbbf2957c", set()),
    (f"Id ne {SUPERVISOR} and Age eq 0", {"Andrew Baker"}),
    (f"Account/Id eq {API_ACCOUNT}", {"API Test", "Alice Smith", "Dave Smith"}),
    (f"Account/Id eq {API_ACCOUNT.upper()}", {"API Test", "Alice Smith", "Dave Smith"}),
    ("Account/Name eq 'Infocom Global'", {"Andrew Baker", "Bob O'Brien"}),
    ("Account/Name eq 'API 1' and Age lt 25", {"API Test"}),
    ("Account/Id eq null", {"Supervisor", "carol jones"}),
    ("Account/Id ne null and Age eq 30", {"Alice Smith", "Dave Smith"}),
    ("BirthDate eq null", {"Supervisor", "API Test", "Andrew Baker", "carol jones"}),
    ("BirthDate gt 1990-01-01T00:00:00Z", {"Alice Smith", "Dave Smith"}),
    ("BirthDate ge 1994-05-01T12:00:00Z", {"Dave Smith"}),
    ("BirthDate gt 1994-05-01T13:00:00+02:00", {"Dave Smith"}),
    ("BirthDate lt 1994-05-01", {"Bob O'Brien"}),
    ("DoNotUseEmail eq true", {"Bob O'Brien"}),
    ("DoNotUseEmail", {"Bob O'Brien"}),
    ("DoNotUseEmail eq false and Age eq 30", {"Alice Smith", "Dave Smith"}),
    ("Confirmed eq true and Age ge 0", ALL),
]


@pytest.mark.usefixtures("people")
@pytest.mark.parametrize(("filter_text", "expected"), FILTERS, ids=[text for text, _ in FILTERS])
def test_filter_grammar(odata: str, api: requests.Session, filter_text: str, expected: set[str]) -> None:
    assert names(api, odata, filter_text) == expected


@pytest.mark.usefixtures("people")
def test_an_unescaped_injection_would_match_everything(odata: str, api: requests.Session) -> None:
    # The same text without doubled quotes is an expression, not a literal: this is what escaping prevents.
    assert names(api, odata, "Name eq 'x' or 1 eq 1 or Name eq 'y'") == ALL


def test_lookups_filter_through_the_navigation_path(odata: str, api: requests.Session) -> None:
    by_id = api.get(f"{odata}/Case", params={"$filter": f"Status/Id eq {STATUS_NEW}"}).json()["value"]
    by_name = api.get(f"{odata}/Case", params={"$filter": "Status/Name eq 'New'"}).json()["value"]

    assert [case["Number"] for case in by_id] == ["SR00000040"]
    assert by_name == by_id


def test_the_flat_lookup_column_in_a_filter_is_the_documented_400(odata: str, api: requests.Session) -> None:
    answer = api.get(f"{odata}/Case", params={"$filter": f"StatusId eq {STATUS_NEW}"})

    assert answer.status_code == 400
    assert answer.json() == {
        "error": {"code": "", "message": "Column by path StatusId not found in schema Case."}
    }


BAD_FILTERS: list[tuple[str, str]] = [
    (f"AccountId eq {API_ACCOUNT}", "Column by path AccountId not found in schema Contact."),
    ("Nickname eq 'x'", "Column by path Nickname not found in schema Contact."),
    ("Account/Nickname eq 'x'", "Column by path Account/Nickname not found in schema Contact."),
    ("Name/Length eq 3", "Column by path Name/Length not found in schema Contact."),
    ("Name eq 'unterminated", "Syntax error"),
    ("Name eq", "Syntax error"),
    ("Name eq 'a' and", "Syntax error"),
    ("(Name eq 'a'", "Syntax error"),
    ("Name EQ 'a'", "Syntax error"),
    ("Name eq 'a' 'b'", "Syntax error"),
    ("Age eq 1 eq 2", "Syntax error"),
    (
        "Id eq '12d21632-8b20-45d9-942f-20fcbbf2957c'",
        "A binary operator with incompatible types was detected. "
        "Found operand types 'Edm.Guid' and 'Edm.String' for operator kind 'Equal'.",
    ),
    (
        "Age gt 'old'",
        "A binary operator with incompatible types was detected. "
        "Found operand types 'Edm.Int32' and 'Edm.String' for operator kind 'GreaterThan'.",
    ),
    ("length(Name) eq 3", "An unknown function with name 'length' was found."),
    (
        "contains(Name)",
        "No function signature for the function with name 'contains' matches the specified arguments.",
    ),
    ("Name", "The $filter expression must evaluate to a single boolean value."),
    ("Age and Confirmed", "The operand of 'and' must be a boolean expression, not 'Edm.Int32'."),
]


@pytest.mark.parametrize(("filter_text", "message"), BAD_FILTERS, ids=[text for text, _ in BAD_FILTERS])
def test_bad_filters_are_400_in_the_odata_shape(
    odata: str, api: requests.Session, filter_text: str, message: str
) -> None:
    answer = api.get(f"{odata}/Contact", params={"$filter": filter_text})

    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["message"].startswith(message)


# -- $select, $expand, $orderby ------------------------------------------------------------------------------


def test_select_keeps_only_the_named_columns(odata: str, api: requests.Session) -> None:
    rows = api.get(f"{odata}/Contact", params={"$select": "Name,AccountId", "$filter": "Age eq 19"}).json()[
        "value"
    ]

    assert rows == [{"Name": "API Test", "AccountId": API_ACCOUNT}]


def test_select_of_an_unknown_column_is_400(odata: str, api: requests.Session) -> None:
    answer = api.get(f"{odata}/Contact", params={"$select": "Name,Nickname"})

    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Column by path Nickname not found in schema Contact."


def test_expand_puts_the_lookup_record_under_its_navigation_name(odata: str, api: requests.Session) -> None:
    rows = api.get(
        f"{odata}/Case", params={"$select": "Number,StatusId", "$expand": "Status,Account($select=Name)"}
    ).json()["value"]

    assert rows == [
        {
            "Number": "SR00000040",
            "StatusId": STATUS_NEW,
            "Status": rows[0]["Status"],
            "Account": {"Name": "Infocom Global"},
        }
    ]
    assert rows[0]["Status"]["Id"] == STATUS_NEW
    assert rows[0]["Status"]["Name"] == "New"


def test_expand_of_an_empty_lookup_is_null_and_works_on_single_reads(
    odata: str, api: requests.Session
) -> None:
    supervisor = "410006e1-ca4e-4502-a9ec-e54d922d2c00"

    record = api.get(f"{odata}/Contact({supervisor})", params={"$expand": "Account,Owner"}).json()

    assert record["Account"] is None
    assert record["Owner"]["Name"] == "Supervisor"


@pytest.mark.parametrize("expand", ["Name", "Nothing", "AccountId"])
def test_expand_of_something_that_is_not_a_lookup_is_400(
    odata: str, api: requests.Session, expand: str
) -> None:
    answer = api.get(f"{odata}/Contact", params={"$expand": expand})

    assert answer.status_code == 400


@pytest.mark.usefixtures("people")
def test_orderby_takes_several_keys_and_directions(odata: str, api: requests.Session) -> None:
    rows = api.get(
        f"{odata}/Contact",
        params={"$select": "Name,Age", "$orderby": "Age desc, Name asc", "$filter": "Age gt 0"},
    ).json()["value"]

    assert [row["Name"] for row in rows] == [
        "Bob O'Brien",
        "Alice Smith",
        "Dave Smith",
        "API Test",
        "carol jones",
    ]


@pytest.mark.usefixtures("people")
def test_orderby_follows_lookups_and_sorts_nulls_first(odata: str, api: requests.Session) -> None:
    rows = api.get(
        f"{odata}/Contact", params={"$select": "Name", "$orderby": "Account/Name desc,Name"}
    ).json()["value"]

    assert [row["Name"] for row in rows] == [
        "Andrew Baker",
        "Bob O'Brien",
        "Alice Smith",
        "API Test",
        "Dave Smith",
        "carol jones",
        "Supervisor",
    ]


@pytest.mark.parametrize(
    ("entity", "orderby"), [("Case", "StatusId"), ("Contact", "Name sideways"), ("Contact", "")]
)
def test_bad_orderby_is_400(odata: str, api: requests.Session, entity: str, orderby: str) -> None:
    answer = api.get(f"{odata}/{entity}", params={"$orderby": orderby or ","})

    assert answer.status_code == 400


@pytest.mark.parametrize(
    "params",
    [{"$top": "-1"}, {"$skip": "x"}, {"$count": "maybe"}, {"$search": "Alice"}, {"$apply": "groupby"}],
)
def test_bad_or_unsupported_options_are_400(
    odata: str, api: requests.Session, params: dict[str, str]
) -> None:
    answer = api.get(f"{odata}/Contact", params=params)

    assert answer.status_code == 400
    assert "error" in answer.json()


# -- paging and counting -------------------------------------------------------------------------------------


@pytest.fixture
def items(creatio: EmulatorServer) -> int:
    """250 UsrItem rows numbered 0..249, inserted in shuffled order."""
    creatio.store.define_entity("UsrItem", {"Number": Column("int"), "Name": Column("text")})
    for number in sorted(range(250), key=lambda n: (n * 37) % 250):
        creatio.store.insert("UsrItem", {"Number": number, "Name": f"item {number:03d}"})
    return 250


def page(api: requests.Session, odata: str, **params: Any) -> dict[str, Any]:
    answer = api.get(f"{odata}/UsrItem", params={"$orderby": "Number", **params})
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def test_top_and_skip_page_through_a_stable_order(odata: str, api: requests.Session, items: int) -> None:
    seen = []
    for skip in range(0, items, 40):
        seen += [row["Number"] for row in page(api, odata, **{"$top": 40, "$skip": skip})["value"]]

    assert seen == list(range(items))


def test_the_server_caps_every_page(
    creatio: EmulatorServer, odata: str, api: requests.Session, items: int
) -> None:
    creatio.settings.max_page_size = 100

    asked_for_more = page(api, odata, **{"$top": 1000, "$count": "true"})
    asked_for_nothing = page(api, odata)
    last = page(api, odata, **{"$skip": 200, "$top": 1000})

    assert len(asked_for_more["value"]) == 100
    assert asked_for_more["@odata.count"] == str(items)  # the api session asks for IEEE754Compatible
    assert len(asked_for_nothing["value"]) == 100
    assert [row["Number"] for row in last["value"]] == list(range(200, 250))
    assert "@odata.nextLink" not in asked_for_more


def test_pages_see_writes_made_between_them(
    creatio: EmulatorServer, odata: str, api: requests.Session, items: int
) -> None:
    first = page(api, odata, **{"$top": 10, "$count": "true", "$filter": "Number ge 0"})
    creatio.store.insert("UsrItem", {"Number": -1})
    creatio.store.update("UsrItem", first["value"][0]["Id"], {"Number": 1000})
    second = page(api, odata, **{"$top": 10, "$count": "true", "$filter": "Number ge -1"})
    third = page(api, odata, **{"$top": 10, "$count": "true", "$filter": "Number ge 0"})

    assert second["@odata.count"] == str(items + 1)
    assert [row["Number"] for row in second["value"]][:3] == [-1, 1, 2]
    assert [row["Number"] for row in third["value"]][:2] == [1, 2]


def test_count_true_counts_the_filtered_rows_before_paging(
    odata: str, api: requests.Session, items: int
) -> None:
    body = page(api, odata, **{"$filter": "Number ge 200", "$top": 5, "$count": "true"})

    assert body["@odata.count"] == "50"
    assert len(body["value"]) == 5
    assert list(body) == ["@odata.context", "@odata.count", "value"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Accept": "application/json;odata.metadata=minimal;IEEE754Compatible=true"}, "250"),
        ({"Accept": "application/json", "Content-Type": "application/json; charset=utf-8"}, 250),
    ],
)
def test_count_is_a_string_only_for_ieee754_clients(
    odata: str, api: requests.Session, items: int, headers: dict[str, str], expected: object
) -> None:
    api.headers.pop("Content-Type")

    answer = api.get(f"{odata}/UsrItem", params={"$count": "true", "$top": "0"}, headers=headers)

    assert answer.json()["@odata.count"] == expected


def test_entity_count_path_answers_plain_text(odata: str, api: requests.Session, items: int) -> None:
    everything = api.get(f"{odata}/UsrItem/$count")
    filtered = api.get(f"{odata}/UsrItem/$count", params={"$filter": "contains(Name,'item 00')"})

    assert everything.status_code == 200
    assert everything.headers["Content-Type"].startswith("text/plain")
    assert everything.text == "250"
    assert filtered.text == "10"


def test_paging_25000_rows_1000_at_a_time(creatio: EmulatorServer, odata: str, api: requests.Session) -> None:
    creatio.store.define_entity("UsrBig", {"Number": Column("int")})
    for number in range(25_000):
        creatio.store.insert("UsrBig", {"Number": number})

    seen: list[int] = []
    for skip in range(0, 25_000, 1000):
        answer = api.get(
            f"{odata}/UsrBig",
            params={
                "$select": "Number",
                "$orderby": "Number desc",
                "$top": "1000",
                "$skip": str(skip),
                "$filter": "Number ge 0",
            },
        )
        seen += [row["Number"] for row in answer.json()["value"]]

    assert seen == list(range(24_999, -1, -1))
