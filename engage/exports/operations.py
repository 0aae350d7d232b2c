"""Exports in one place: each format's file name, type and bytes, and the audit record.

The web routes and ``engage export`` both call ``export``; every export is
recorded in the audit log with the format and who asked for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engage.audit import record
from models import Study, TopicRun, User, db

FORMATS = {
    "docx": "Theme summary (Word)",
    "md": "Theme summary (Markdown)",
    "html": "Theme summary (HTML)",
    "csv": "Coded segments (CSV)",
    "topics-csv": "Topics of a run (CSV)",
    "assignments-csv": "Document topics of a run (CSV)",
    "qdpx": "Whole study (REFI-QDA project .qdpx)",
    "qdc": "Codebook (REFI-QDA .qdc)",
}


class ExportError(ValueError):
    """An export that cannot be made; the message says why."""


@dataclass(frozen=True)
class ExportFile:
    filename: str
    mimetype: str
    data: bytes


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:60] or "study"


def export(actor: User | None, study: Study, fmt: str, *, run: TopicRun | None = None,
           include_audio: bool = False) -> ExportFile:
    from coding.theme_report import to_docx, to_html, to_markdown
    from engage.exports.qdpx import export_qdpx
    from engage.exports.report import assignments_csv, coded_segments_csv, theme_report, topics_csv

    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    base = _slug(study.name)
    if fmt in ("topics-csv", "assignments-csv"):
        if run is None or run.study_id != study.id:
            raise ExportError("Choose a topic run of this study.")
        if run.status.value != "done":
            raise ExportError("That topic run has not finished.")
    if fmt == "docx":
        out = ExportFile(f"{base}-themes.docx", "application/vnd.openxmlformats-officedocument."
                         "wordprocessingml.document", to_docx(theme_report(study)))
    elif fmt == "md":
        out = ExportFile(f"{base}-themes.md", "text/markdown; charset=utf-8",
                         to_markdown(theme_report(study)).encode("utf-8"))
    elif fmt == "html":
        out = ExportFile(f"{base}-themes.html", "text/html; charset=utf-8",
                         to_html(theme_report(study)).encode("utf-8"))
    elif fmt == "csv":
        out = ExportFile(f"{base}-coded-segments.csv", "text/csv; charset=utf-8",
                         coded_segments_csv(study).encode("utf-8-sig"))
    elif fmt == "topics-csv":
        out = ExportFile(f"{base}-run-{run.id}-topics.csv", "text/csv; charset=utf-8",
                         topics_csv(run).encode("utf-8-sig"))
    elif fmt == "assignments-csv":
        out = ExportFile(f"{base}-run-{run.id}-documents.csv", "text/csv; charset=utf-8",
                         assignments_csv(run).encode("utf-8-sig"))
    elif fmt == "qdpx":
        out = ExportFile(f"{base}.qdpx", "application/zip",
                         export_qdpx(study, include_audio=include_audio))
    else:
        from engage.codebook.interchange import export_qdc
        from engage.codebook.operations import CodebookError

        try:
            out = ExportFile(f"{base}-codebook.qdc", "application/xml",
                             export_qdc(study).encode("utf-8"))
        except CodebookError as error:
            raise ExportError(str(error)) from error
    detail = {"format": fmt, "bytes": len(out.data)}
    if run is not None:
        detail["run_id"] = run.id
    if include_audio:
        detail["audio"] = True
    record("study.export", actor, study_id=study.id, **detail)
    db.session.flush()
    return out
