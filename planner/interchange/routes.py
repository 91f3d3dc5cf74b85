"""Routes of the interchange package: JSON download and upload."""

from flask import Blueprint

bp = Blueprint("interchange", __name__)
