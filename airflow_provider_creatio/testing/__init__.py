"""Test tooling shipped with the provider: the Creatio emulator, a DAG runner and a pytest plugin.

Nothing here is imported by the provider's runtime code.
"""
