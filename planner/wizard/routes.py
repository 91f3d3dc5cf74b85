"""Routes of the wizard package."""

from flask import Blueprint

bp = Blueprint("wizard", __name__)
