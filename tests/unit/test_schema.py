"""The CSDL reader on a saved Creatio $metadata document (tests/fixtures/metadata), fed in chunks as it streams."""

from __future__ import annotations

import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from airflow_provider_creatio.client.errors import CreatioResponseError, CreatioUnknownEntityError
from airflow_provider_creatio.client.http import ApiResponse
from airflow_provider_creatio.client.schema import (
    Column,
    Lookup,
    ServiceSchema,
    parse_metadata,
    read_metadata,
)

FIXTURE = Path(__file__).parents[1] / "fixtures" / "metadata" / "creatio_odata4_metadata.xml"
CSDL = FIXTURE.read_bytes()
EDM = 'xmlns="http://docs.oasis-open.org/odata/ns/edm"'


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


@pytest.fixture(scope="module")
def schema() -> ServiceSchema:
    return read_metadata(chunked(CSDL, 1000))


def test_entities_are_the_entity_sets_and_abstract_base_types_are_not_among_them(
    schema: ServiceSchema,
) -> None:
    assert schema.entity_names == [
        "Account",
        "AccountType",
        "Case",
        "CaseCategory",
        "CaseOrigin",
        "CasePriority",
        "CaseStatus",
        "Contact",
        "ContactType",
        "SysImage",
    ]


def test_contact_inherits_key_and_system_columns_from_its_base_type(schema: ServiceSchema) -> None:
    contact = schema.entity("Contact")
    assert contact.key == ("Id",)
    assert contact.column_names[:6] == (
        "Id",
        "CreatedOn",
        "CreatedById",
        "ModifiedOn",
        "ModifiedById",
        "ProcessListeners",
    )
    assert contact.column("Id") == Column("Id", "Edm.Guid", nullable=False)
    assert contact.column("CreatedOn") == Column("CreatedOn", "Edm.DateTimeOffset", nullable=True)
    assert contact.column("ModifiedOn") == Column("ModifiedOn", "Edm.DateTimeOffset", nullable=True)
    assert len(contact.columns) == 50
    assert len(set(contact.column_names)) == 50  # no column twice


def test_column_types_and_nullability(schema: ServiceSchema) -> None:
    contact, case = schema.entity("Contact"), schema.entity("Case")
    assert contact.column("Name") == Column("Name", "Edm.String", nullable=False)
    assert contact.column("Email") == Column("Email", "Edm.String", nullable=True)  # no Nullable: true
    assert contact.column("Age") == Column("Age", "Edm.Int32", nullable=False)
    assert contact.column("DoNotUseEmail") == Column("DoNotUseEmail", "Edm.Boolean", nullable=False)
    assert contact.column("AccountId") == Column("AccountId", "Edm.Guid", nullable=True)
    assert case.column("SolutionRemains") == Column("SolutionRemains", "Edm.Decimal", nullable=False)
    assert schema.entity("SysImage").column("Data") == Column("Data", "Edm.Stream", nullable=True)


def test_lookups_name_their_target_entity_and_their_id_column(schema: ServiceSchema) -> None:
    contact, case = schema.entity("Contact"), schema.entity("Case")
    assert contact.lookup("Account") == Lookup("Account", "Account", "AccountId")
    assert contact.lookup("CreatedBy") == Lookup("CreatedBy", "Contact", "CreatedById")  # inherited
    assert case.lookup("Priority") == Lookup("Priority", "CasePriority", "PriorityId")
    assert case.lookup("Status") == Lookup("Status", "CaseStatus", "StatusId")
    assert case.lookup("ParentCase") == Lookup("ParentCase", "Case", "ParentCaseId")
    # a lookup to an entity the document does not describe keeps the type's name
    assert contact.lookup("Gender") == Lookup("Gender", "Gender", "GenderId")
    assert contact.lookup("Email") is None
    assert len(contact.lookups) == 16
    assert all(contact.column(lookup.column) for lookup in contact.lookups if lookup.column)


def test_lookup_entities_inherit_through_two_base_types(schema: ServiceSchema) -> None:
    status = schema.entity("CaseStatus")
    assert status.key == ("Id",)
    assert status.column_names == (
        "Id",
        "CreatedOn",
        "CreatedById",
        "ModifiedOn",
        "ModifiedById",
        "ProcessListeners",
        "Name",
        "Description",
        "IsFinal",
        "IsResolved",
        "IsPaused",
    )
    assert status.lookup_names == ("CreatedBy", "ModifiedBy")


@pytest.mark.parametrize("size", [1, 7, 4096, len(CSDL)])
def test_the_result_does_not_depend_on_how_the_bytes_arrive(schema: ServiceSchema, size: int) -> None:
    again = read_metadata(chunked(CSDL, size))
    assert again.entity_names == schema.entity_names
    assert [again.entity(name) for name in again.entity_names] == [
        schema.entity(name) for name in schema.entity_names
    ]


def test_reading_a_large_document_holds_a_fraction_of_the_memory_of_its_element_tree() -> None:
    """Each EntityType leaves the parsed tree once read, and repeated columns are kept once: the reader's peak
    memory on 3,000 types of 40 columns is a small part of what the whole element tree of the document takes."""
    columns = "".join(f'<Property Name="Column{n}" Type="Edm.String" />' for n in range(40))
    types = "".join(
        f'<EntityType Name="Usr{n}"><Key><PropertyRef Name="Id"/></Key>'
        f'<Property Name="Id" Type="Edm.Guid" Nullable="false"/>{columns}</EntityType>'
        for n in range(3000)
    )
    document = (
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>'
        f'<Schema Namespace="Terrasoft.Configuration.OData" {EDM}>{types}</Schema>'
        "</edmx:DataServices></edmx:Edmx>"
    ).encode()
    chunks = chunked(document, 65536)

    def peak(read: Callable[[], object]) -> int:
        tracemalloc.start()
        try:
            kept = read()
            return tracemalloc.get_traced_memory()[1] if kept is not None else 0
        finally:
            tracemalloc.stop()

    tree_peak = peak(lambda: ET.fromstring(document))
    reader_peak = peak(lambda: read_metadata(chunks))
    # Measured: the tree takes 7 to 11 times the reader's peak, depending on what the process already holds (the
    # reader keeps each repeated column once, and what is shared depends on earlier tests); a reader that kept
    # the whole document would come near 1.
    assert reader_peak * 4 < tree_peak
    result = read_metadata(chunks)
    assert len(result.entity_names) == 3000
    assert result.entity("Usr2999").column_names == ("Id", *(f"Column{n}" for n in range(40)))


def test_a_document_without_a_container_names_each_entity_by_its_type() -> None:
    document = (
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>'
        f'<Schema Namespace="Terrasoft.Configuration.OData" {EDM}><EntityType Name="Account">'
        '<Key><PropertyRef Name="Id" /></Key><Property Name="Id" Type="Edm.Guid" Nullable="false" />'
        "</EntityType></Schema></edmx:DataServices></edmx:Edmx>"
    ).encode()
    assert read_metadata([document]).entity("Account").key == ("Id",)


def test_an_unknown_entity_names_the_closest_ones(schema: ServiceSchema) -> None:
    with pytest.raises(CreatioUnknownEntityError) as caught:
        schema.entity("Contcat")
    assert str(caught.value) == "Creatio has no entity 'Contcat'; did you mean 'Contact' or 'ContactType'?"
    assert caught.value.suggestions == ["Contact", "ContactType"]
    with pytest.raises(CreatioUnknownEntityError, match=r"^Creatio has no entity 'Zzz'$"):
        schema.entity("Zzz")
    with pytest.raises(CreatioUnknownEntityError):
        schema.entity("BaseEntity")  # a type, but no entity set: not addressable


def answer(content: bytes, content_type: str = "application/xml") -> ApiResponse:
    return ApiResponse(200, {"content-type": content_type}, content, "GET", "/0/odata/$metadata")


def test_the_answer_must_be_well_formed_xml() -> None:
    assert parse_metadata(answer(CSDL)).entity("Case").lookup("Priority") is not None
    with pytest.raises(CreatioResponseError, match=r"read \$metadata: Creatio answered invalid XML"):
        parse_metadata(answer(CSDL[: len(CSDL) // 2]))
    with pytest.raises(
        CreatioResponseError, match="Creatio answered 'application/json' where XML was expected"
    ):
        parse_metadata(answer(b'{"value": []}', "application/json"))
