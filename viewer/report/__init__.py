"""The PDF inspection report: content and order, print photos, pages drawn with QPdfWriter."""

from viewer.report.content import ItemVerdict, PhotoChoice, ReportInspection, ReviewSummary
from viewer.report.gather import ReviewProvider, load_report_inspections, no_review
from viewer.report.render import ReportCancelled, ReportSummary, render_pdf, write_report
from viewer.report.targets import (
    PDF_SUFFIX,
    ReportJob,
    ReportTarget,
    check_out_dir,
    check_out_file,
    plan_targets,
    report_job,
)

__all__ = [
    "PDF_SUFFIX",
    "ItemVerdict",
    "PhotoChoice",
    "ReportCancelled",
    "ReportInspection",
    "ReportJob",
    "ReportSummary",
    "ReportTarget",
    "ReviewProvider",
    "ReviewSummary",
    "check_out_dir",
    "check_out_file",
    "load_report_inspections",
    "no_review",
    "plan_targets",
    "render_pdf",
    "report_job",
    "write_report",
]
