"""Filters with their node counts, counted by hand as Microsoft's FilterQueryValidator counts (one per operator,
property segment, range variable, literal, function call and convert node; parentheses none). Shared by the client's
counter test and the emulator's validation test: ``client`` is what the client counts (without the schema, a number
or a date without a time is counted with the convert node it may need), ``server`` what the emulator counts knowing
the column types (Contact: Age Int32, BirthDate and ModifiedOn Edm.DateTimeOffset, Account and Owner lookups)."""

from __future__ import annotations

from typing import NamedTuple

ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
T = "2026-01-01T00:00:00Z"
KEYSET = f"((ModifiedOn gt {T}) or (ModifiedOn eq {T} and Id gt {ID}))"


class Case(NamedTuple):
    filter: str
    client: int
    server: int


def ids(count: int) -> str:
    return " or ".join(f"Id eq {ID[:-4]}{number:04d}" for number in range(count))


CASES: dict[str, Case] = {
    # eq + (Id + $it) + constant
    "one Id": Case(f"Id eq {ID}", 4, 4),
    "a text column": Case("Name eq 'x'", 4, 4),
    # eq + (Name + Account + $it) + constant
    "a lookup's column": Case("Account/Name eq 'x'", 5, 5),
    "two navigations": Case("Account/Owner/Name eq 'x'", 6, 6),
    "a lookup's Id": Case(f"Account/Id eq {ID}", 5, 5),
    # the null constant gets a convert node
    "null": Case("Owner eq null", 5, 5),
    # contains + (Name + $it) + constant
    "a function": Case("contains(Name,'x')", 4, 4),
    "a function compared": Case("startswith(Name,'A') eq true", 6, 6),
    # contains(5) + and + gt(Age 2, 18: 1 client-side convert node that an Int32 column does not need)
    "a function on a path and a number": Case("contains(Account/Name,'x') and Age gt 18", 11, 10),
    "not": Case("not (Name eq 'x')", 5, 5),
    "a date without a time": Case("BirthDate ge 2024-01-01", 5, 4),
    # a lookup GET: 4 for the first Id, 5 for each more
    "20 Ids (a lookup GET)": Case(ids(20), 99, 99),
    "21 Ids": Case(ids(21), 104, 104),
    "30 Ids": Case(ids(30), 149, 149),
    # gt 4, or 1, (eq 4, and 1, Id gt 4)
    "the keyset condition": Case(KEYSET, 14, 14),
    "a user filter and the keyset condition": Case(f"(Name eq 'x') and ({KEYSET})", 19, 19),
    "a mapping's list": Case("(Account/Name eq 'A' or Account/Name eq 'B')", 11, 11),
    "the extract's window": Case(f"(Name eq 'x') and ModifiedOn ge {T} and ModifiedOn lt {T}", 14, 14),
    "the trigger's bound and keyset": Case(
        f"((contains(Name,'x')) and ModifiedOn lt {T}) and ({KEYSET})", 24, 24
    ),
}
