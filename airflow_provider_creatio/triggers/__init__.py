"""Triggers that wait on Creatio in Airflow's triggerer, on the shared async client."""
