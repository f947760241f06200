"""The pytest plugin's site-variant marker, and its old name that still works with a warning."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

TEST_FILE = """
import pytest

@pytest.mark.{marker}
def test_variant(creatio_auth_type, creatio_net_core, creatio_base_path, creatio_connection):
    pass
"""


@pytest.mark.parametrize("marker", ["creatio_every_site", "creatio_every_deployment"])
def test_the_marker_runs_a_test_against_five_site_variants(pytester: pytest.Pytester, marker: str) -> None:
    pytester.makeconftest('pytest_plugins = ["airflow_provider_creatio.testing.pytest_plugin"]')
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(TEST_FILE.format(marker=marker))
    result = pytester.runpytest(
        "-p", "no:randomly", "-p", "no:xdist", "--collect-only", "-q", "-W", "default"
    )
    result.stdout.fnmatch_lines(
        ["*test_variant[[]forms-netfx[]]", "*test_variant[[]oauth-netcore[]]", "*5 tests collected*"]
    )
    deprecated = "*creatio_every_deployment is deprecated: use @pytest.mark.creatio_every_site*"
    if marker == "creatio_every_deployment":
        result.stdout.fnmatch_lines([deprecated])
    else:
        result.stdout.no_fnmatch_line(deprecated)
