"""TLS verification settings reach httpx in the form it takes (requests takes them as they are)."""

from __future__ import annotations

import os
import ssl

import certifi

from airflow_provider_creatio.client.aio import _verify_setting


def test_booleans_pass_through() -> None:
    assert _verify_setting(True) is True
    assert _verify_setting(False) is False


def test_a_ca_bundle_file_becomes_an_ssl_context_that_verifies() -> None:
    context = _verify_setting(certifi.where())
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.cert_store_stats()["x509_ca"] > 0


def test_a_ca_directory_is_accepted() -> None:
    context = _verify_setting(os.path.dirname(certifi.where()))
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED
