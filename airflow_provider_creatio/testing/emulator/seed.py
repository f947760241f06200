"""The emulator's starting data: Contact, Account, Case (with the WSO2 connector reference's sample records), CaseStatus, CasePriority, City,
Activity, ContactCommunication with its CommunicationType lookup, and the file objects (``file_entities.py``: no
files, only the three FileType rows).

Column sets follow the WSO2 connector reference's payloads and its sample Contact response. Ids named in the WSO2 Creatio connector reference are kept; the
other fixed ids are CaseStatus's standard Creatio ids and a few chosen here (see docs/creatio-notes/emulator-seed-data.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from airflow_provider_creatio.testing.emulator.file_entities import define_file_entities, insert_file_types
from airflow_provider_creatio.testing.emulator.settings import EmulatorSettings
from airflow_provider_creatio.testing.emulator.store import DEFAULT_USER_ID, Column, EntityStore, Record

SUPERVISOR_CONTACT_ID = DEFAULT_USER_ID
API_TEST_CONTACT_ID = "12d21632-8b20-45d9-942f-20fcbbf2957c"
CASE_CONTACT_ID = "00b34750-2feb-4545-b233-153502326f3c"
API_ACCOUNT_ID = "e6574af1-3e92-4099-958e-e798f52ee016"
CASE_ACCOUNT_ID = "ff7e089f-1fe9-4ca9-bc30-2d76ad39d178"
SEED_CASE_ID = "5c3b9a1e-7f2d-4e8a-9b61-0d4c2e8f7a13"
ENGLISH_LANGUAGE_ID = "6ebc31fa-ee6c-48e9-81bf-8003ac03b019"

CASE_STATUS_IDS: dict[str, str] = {
    "New": "ae5f2f10-f46b-1410-fd9a-0050ba5d6c38",
    "In progress": "7e9f1204-f46b-1410-fb9a-0050ba5d6c38",
    "Resolved": "ae7f411e-f46b-1410-009b-0050ba5d6c38",
    "Closed": "3e7f420c-f46b-1410-fc9a-0050ba5d6c38",
    "Canceled": "6e5f4218-f46b-1410-fe9a-0050ba5d6c38",
}

# Creatio's standard case priorities by name; the ids are the emulator's own (docs/creatio-notes/emulator-seed-data.md).
CASE_PRIORITY_IDS: dict[str, str] = {
    "Low": "3a3c6a46-4b1f-4c7e-9d0a-1b2c3d4e5f60",
    "Medium": "7b5d8c12-6e2a-4f3b-8c1d-2e3f4a5b6c71",
    "High": "c0e4f6a8-1b3d-4e5f-9a7b-3c4d5e6f7a82",
    "Critical": "e2a4c6e8-3d5f-4a7b-8c9d-4e5f6a7b8c93",
}

# Creatio's standard CommunicationType rows (the ids every site ships with).
COMMUNICATION_TYPE_IDS: dict[str, str] = {
    "Mobile phone": "d4a2dc80-30ca-df11-9b2a-001d60e938c6",
    "Business phone": "3dddb3cc-53ee-49c4-a71f-e9e257f59e49",
    "Home phone": "0da6a26b-d7bc-df11-b00f-001d60e938c6",
    "Email": "ee1c85c3-cfcb-df11-9b2a-001d60e938c6",
}

TEXT, INT, FLOAT, BOOL, DATE = (
    Column("text"),
    Column("int"),
    Column("float"),
    Column("bool"),
    Column("datetime"),
)


def lookup(entity: str) -> Column:
    return Column("lookup", entity)


CONTACT_COLUMNS: dict[str, Column] = {
    "Name": TEXT,
    "Owner": lookup("Contact"),
    "ProcessListeners": INT,
    "Dear": TEXT,
    "SalutationType": lookup("ContactSalutationType"),
    "Gender": lookup("Gender"),
    "Account": lookup("Account"),
    "DecisionRole": lookup("ContactDecisionRole"),
    "Type": lookup("ContactType"),
    "Job": lookup("Job"),
    "JobTitle": TEXT,
    "Department": lookup("Department"),
    "BirthDate": DATE,
    **dict.fromkeys(["Phone", "MobilePhone", "HomePhone", "Skype", "Email"], TEXT),
    "AddressType": lookup("AddressType"),
    "Address": TEXT,
    "City": lookup("City"),
    "Region": lookup("Region"),
    "Zip": TEXT,
    "Country": lookup("Country"),
    **dict.fromkeys(["DoNotUseEmail", "DoNotUseCall", "DoNotUseFax", "DoNotUseSms", "DoNotUseMail"], BOOL),
    **dict.fromkeys(
        ["Notes", "Facebook", "LinkedIn", "Twitter", "FacebookId", "LinkedInId", "TwitterId"], TEXT
    ),
    "TwitterAFDA": lookup("SocialAccount"),
    "FacebookAFDA": lookup("SocialAccount"),
    "LinkedInAFDA": lookup("SocialAccount"),
    "Photo": lookup("SysImage"),
    **dict.fromkeys(["GPSN", "GPSE", "Surname", "GivenName", "MiddleName"], TEXT),
    "Confirmed": BOOL,
    "IsNonActualEmail": BOOL,
    "Completeness": INT,
    "Language": lookup("SysLanguage"),
    "Age": INT,
    "IsEmailConfirmed": BOOL,
}

ACCOUNT_COLUMNS: dict[str, Column] = {
    "Name": TEXT,
    "Owner": lookup("Contact"),
    "ProcessListeners": INT,
    **dict.fromkeys(["Phone", "AdditionalPhone", "Fax", "Web", "Address", "Notes"], TEXT),
}

CASE_COLUMNS: dict[str, Column] = {
    "Number": TEXT,
    "RegisteredOn": DATE,
    "Subject": TEXT,
    "Symptoms": TEXT,
    "Notes": TEXT,
    "Account": lookup("Account"),
    "Contact": lookup("Contact"),
    "Status": lookup("CaseStatus"),
    "Priority": lookup("CasePriority"),
    "SolutionRemains": FLOAT,
    "ProcessListeners": INT,
}

# Creatio's documentation writes its $batch examples against City.
CITY_COLUMNS: dict[str, Column] = {
    "Name": TEXT,
    "Description": TEXT,
    "Country": lookup("Country"),
    "Region": lookup("Region"),
    "TimeZone": lookup("TimeZone"),
}

CASE_STATUS_COLUMNS: dict[str, Column] = {"Name": TEXT, "IsFinal": BOOL, "IsResolved": BOOL}

CASE_PRIORITY_COLUMNS: dict[str, Column] = {"Name": TEXT, "Description": TEXT}

ACTIVITY_COLUMNS: dict[str, Column] = {
    "Title": TEXT,
    "Owner": lookup("Contact"),
    "StartDate": DATE,
    "DueDate": DATE,
    "Status": lookup("ActivityStatus"),
    "Contact": lookup("Contact"),
    "Account": lookup("Account"),
    "Case": lookup("Case"),
    "DetailedResult": TEXT,
    "ProcessListeners": INT,
}

# A contact's phones and e-mails, one row each; clients look contacts up by number through it.
CONTACT_COMMUNICATION_COLUMNS: dict[str, Column] = {
    "Contact": lookup("Contact"),
    "CommunicationType": lookup("CommunicationType"),
    "Number": TEXT,
    "ProcessListeners": INT,
}

COMMUNICATION_TYPE_COLUMNS: dict[str, Column] = {"Name": TEXT, "Description": TEXT}


def split_contact_name(record: Record, given: frozenset[str]) -> None:
    """Creatio fills GivenName/MiddleName/Surname from Name ("API Test" -> API, Test) unless they were sent."""
    if given & {"GivenName", "MiddleName", "Surname"}:
        return
    words = record["Name"].split()
    if words:
        record["GivenName"] = words[0]
        record["Surname"] = words[-1] if len(words) > 1 else ""
        record["MiddleName"] = " ".join(words[1:-1])


def define_entities(store: EntityStore) -> None:
    store.define_entity(
        "Contact",
        CONTACT_COLUMNS,
        defaults={"OwnerId": store.user_id, "Confirmed": True, "LanguageId": ENGLISH_LANGUAGE_ID},
        derive=split_contact_name,
        media=("ContactPhoto",),
    )
    store.define_entity("Account", ACCOUNT_COLUMNS, defaults={"OwnerId": store.user_id})
    store.define_entity("CaseStatus", CASE_STATUS_COLUMNS)
    store.define_entity("CasePriority", CASE_PRIORITY_COLUMNS)
    store.define_entity("City", CITY_COLUMNS)
    store.define_entity(
        "Case",
        CASE_COLUMNS,
        defaults={"StatusId": CASE_STATUS_IDS["New"], "PriorityId": CASE_PRIORITY_IDS["Medium"]},
    )
    store.define_entity("Activity", ACTIVITY_COLUMNS, defaults={"OwnerId": store.user_id})
    store.define_entity("CommunicationType", COMMUNICATION_TYPE_COLUMNS)
    store.define_entity("ContactCommunication", CONTACT_COMMUNICATION_COLUMNS)
    define_file_entities(store)


def insert_records(store: EntityStore) -> None:
    created = {"CreatedOn": "2022-04-07T09:37:58.5679414Z", "ModifiedOn": "2022-04-07T09:37:58.5679414Z"}
    for name, status_id in CASE_STATUS_IDS.items():
        final = name in ("Closed", "Canceled")
        store.insert(
            "CaseStatus", {"Id": status_id, "Name": name, "IsFinal": final, "IsResolved": name == "Resolved"}
        )
    for name, priority_id in CASE_PRIORITY_IDS.items():
        store.insert("CasePriority", {"Id": priority_id, "Name": name, **created})
    for name, type_id in COMMUNICATION_TYPE_IDS.items():
        store.insert("CommunicationType", {"Id": type_id, "Name": name})
    insert_file_types(store)
    store.insert("Contact", {"Id": SUPERVISOR_CONTACT_ID, "Name": "Supervisor", **created})
    store.insert(
        "Account",
        {
            "Id": API_ACCOUNT_ID,
            "Name": "API 1",
            "Phone": "+1 206 480 3801",
            "AdditionalPhone": "+1 206 480 4495",
            "Web": "www.infocom-global.com",
            "Address": "48 Pilgrim Street",
            **created,
        },
    )
    store.insert("Account", {"Id": CASE_ACCOUNT_ID, "Name": "Infocom Global", **created})
    store.insert(
        "Contact",
        {
            "Id": API_TEST_CONTACT_ID,
            "Name": "API Test",
            "AccountId": API_ACCOUNT_ID,
            "JobTitle": "Marketing manager",
            "BirthDate": "0001-01-01T00:00:00Z",
            "MobilePhone": "+1 213 566 34 22",
            "Email": "test@gmail",
            "Completeness": 30,
            "Age": 19,
            **created,
        },
    )
    store.insert(
        "Contact", {"Id": CASE_CONTACT_ID, "Name": "Andrew Baker", "AccountId": CASE_ACCOUNT_ID, **created}
    )
    store.insert(
        "Case",
        {
            "Id": SEED_CASE_ID,
            "Number": "SR00000040",
            "RegisteredOn": "2021-07-16T11:00:00Z",
            "Subject": "Consultation on functionality",
            "Symptoms": "Comparison of different DBMS in accordance with the customer's needs",
            "AccountId": CASE_ACCOUNT_ID,
            "ContactId": CASE_CONTACT_ID,
            "SolutionRemains": 0.0,
            **created,
        },
    )


def parse_column_spec(spec: str) -> Column:
    """``"text"``, ``"int"``, ... or ``"lookup:<Entity>"`` (the form used by ``EmulatorSettings.custom_entities``)."""
    kind, _, ref = spec.partition(":")
    return Column(kind.strip(), ref.strip() or None)


def define_custom_entities(store: EntityStore, entities: Mapping[str, Mapping[str, str]]) -> None:
    for name, columns in entities.items():
        store.define_entity(name, {column: parse_column_spec(spec) for column, spec in columns.items()})


def install_seed(store: EntityStore, settings: EmulatorSettings) -> None:
    """Define the standard entities and the custom ones from ``settings``, and insert the seed records."""
    define_entities(store)
    define_custom_entities(store, settings.custom_entities)
    insert_records(store)
