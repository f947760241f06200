"""Moving Creatio records to and from files in object storage (Airflow's ``transfers`` convention).

:mod:`airflow_provider_creatio.formats` reads and writes the files (JSON Lines, CSV, Parquet); the operators here
move records between them and Creatio. Importing this package imports neither.
"""
