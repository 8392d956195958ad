"""The embedded store: scored documents and mentions in one DuckDB file (nothing to install
or start). ``voc score ... --db voc.duckdb`` fills it; :mod:`voc.rollup` reads it with SQL."""

from .duck import Store, open_store

__all__ = ["Store", "open_store"]
