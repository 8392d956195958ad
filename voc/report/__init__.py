"""The HTML experience report: one self-contained file an analyst can forward.

::

    from voc.store import Store
    from voc.rollup import StoreSource
    from voc.report import write_report
    write_report(StoreSource(Store("voc.duckdb", read_only=True)), "report.html")

or render an overview you already have: ``render_report(voc.rollup.overview(source))``.
"""

from .html import highlight, render_report, write_report

__all__ = ["render_report", "write_report", "highlight"]
