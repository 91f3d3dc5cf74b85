"""The big screen, and the QR code it shows."""

from __future__ import annotations

import io

import segno
from flask import make_response, render_template, request, url_for

from planner.workshop import access
from planner.workshop.routes.common import bp, code_lookup, live_page


@bp.get("/workshop/<code>/projector")
@code_lookup
def projector(code: str):
    """The room on the big screen, for the plan's members or by the console's link. The link
    expires with its session: then its closing screen for a while, then the ended page."""
    ws = access.session_or_404(code)
    if not access.projector_allowed(ws):
        if access.projector_key_matches(ws):
            if not access.closing_screen_allowed(ws):
                return render_template("workshop/ended.html", ws=ws), 410
        else:
            access.require(ws, "view")
    return live_page(ws, "workshop/projector.html", "projector", key=request.args.get("key", ""))


@bp.get("/workshop/<code>/qr.svg")
@code_lookup
def qr(code: str):
    ws = access.session_or_404(code)
    url = url_for("workshop.join", code=ws.code, _external=True)
    out = io.BytesIO()
    # A standalone SVG document (with its namespace, as an <img> needs) that scales to its box.
    segno.make(url, error="m").save(out, kind="svg", border=2, dark="#000", light="#fff", omitsize=True, xmldecl=False)
    response = make_response(out.getvalue())
    response.mimetype = "image/svg+xml"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
