"""Moving Creatio records to and from files in object storage (Airflow's ``transfers`` convention).

:mod:`.formats` reads and writes the files (JSON Lines, CSV, Parquet); the operators move records between them and
Creatio. Importing this package imports neither.
"""
