"""``GET /reports/<id>.xlsx`` and ``/reports/<id>.pdf``: a stored report's file, for whoever may read reports
(checked by the request hook, ``app.auth.guard.route``)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, abort

from app import context
from app.auth.guard import route
from store.reports import get_report_file


@route("report.view")
def get_report(report_id: int, file_format: str):
    if file_format not in ("xlsx", "pdf"):
        abort(404)
    found = get_report_file(context.pool(), report_id, file_format)
    if found is None:
        abort(404)
    content, mime, name = found
    disposition = "inline" if file_format == "pdf" else "attachment"
    return Response(content, mimetype=mime, headers={
        "Content-Disposition": f"{disposition}; filename=report-{report_id}.{file_format};"
                               f" filename*=UTF-8''{quote(name)}", "Cache-Control": "private, max-age=3600"})


def mount(server) -> None:
    server.add_url_rule("/reports/<int:report_id>.<file_format>", "heattwin_report_file", get_report)
