"""Apache Airflow provider for Creatio. Importing this package is cheap: no network and no heavy imports."""

__version__ = "0.1.0"
