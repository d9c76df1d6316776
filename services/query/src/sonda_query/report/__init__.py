"""The downloadable report: one self-contained HTML file of an analysis (no script, no request out)."""

from sonda_query.report.document import ReportMeta, render_report

__all__ = ["ReportMeta", "render_report"]
