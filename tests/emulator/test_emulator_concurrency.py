"""Many clients at once: 50 threads, each with its own session, writing over HTTP."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from emulator_helpers import login

from airflow_provider_creatio.testing.emulator import EmulatorServer

CLIENTS = 50
WRITES = 10


def test_50_concurrent_clients_write_consistently(creatio: EmulatorServer, odata: str) -> None:
    contacts_before = creatio.store.count("Contact")

    def client(number: int) -> list[str]:
        session = login(creatio.url)
        ids = [str(uuid.uuid4()) for _ in range(WRITES)]
        for index, record_id in enumerate(ids):
            created = session.post(f"{odata}/Contact", json={"Id": record_id, "Name": f"c{number}-{index}"})
            assert created.status_code == 201, created.text
            changed = session.patch(f"{odata}/Contact({record_id})", json={"Age": index})
            assert changed.status_code == 204
        session.close()
        return ids

    with ThreadPoolExecutor(CLIENTS) as pool:
        written = [record_id for ids in pool.map(client, range(CLIENTS)) for record_id in ids]

    assert creatio.login_count == CLIENTS
    assert creatio.store.count("Contact") == contacts_before + CLIENTS * WRITES
    assert creatio.count("POST", "/0/odata/Contact") == CLIENTS * WRITES
    stored = {row["Id"]: row for row in creatio.store.rows("Contact")}
    assert all(stored[record_id]["Name"].startswith("c") for record_id in written)
    assert sorted(stored[record_id]["Age"] for record_id in written) == sorted(list(range(WRITES)) * CLIENTS)


def test_concurrent_reads_page_consistently(
    creatio: EmulatorServer, odata: str, api: requests.Session
) -> None:
    for number in range(300):
        creatio.store.insert("Account", {"Name": f"Account {number:03d}"})
    expected = api.get(f"{odata}/Account/$count").text

    def read(_: int) -> str:
        return requests.get(
            f"{odata}/Account/$count", cookies=api.cookies, headers={"BPMCSRF": api.headers["BPMCSRF"]}
        ).text

    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(read, range(CLIENTS * 2)))

    assert answers == [expected] * (CLIENTS * 2)
