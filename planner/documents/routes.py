"""The plan document on screen (a printable page) and as a PDF download."""

from __future__ import annotations

from flask import Blueprint, Response

from planner.documents.render import pdf_filename, render_html, render_pdf
from planner.plans import store
from planner.plans.access import plan_or_404

bp = Blueprint("documents", __name__)


@bp.get("/plans/<int:plan_id>/document")
def document(plan_id: int) -> str:
    plan = plan_or_404(plan_id)
    return render_html(store.load_doc(plan), plan_id=plan.id)


@bp.get("/plans/<int:plan_id>/document.pdf")
def pdf(plan_id: int) -> Response:
    doc = store.load_doc(plan_or_404(plan_id))
    response = Response(render_pdf(doc), mimetype="application/pdf")
    response.headers.set("Content-Disposition", "attachment", filename=pdf_filename(doc))
    # A plan may be confidential: keep it out of shared caches.
    response.headers["Cache-Control"] = "private, no-cache"
    return response
