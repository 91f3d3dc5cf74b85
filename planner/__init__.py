"""Planner: a tool for writing a social media strategy together.

`create_app` builds the Flask app; each capability is a package with its own blueprint.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from config import INSTANCE_DIR, Config, instance_secret_key
from planner import sqlite, unit
from planner.extensions import csrf, db, migrate


def create_app(config: type[Config] | None = None, **overrides: Any) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(INSTANCE_DIR),
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_object(config or Config)
    app.config.update(overrides)
    INSTANCE_DIR.mkdir(exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key()

    db.init_app(app)
    sqlite.attach(app)  # before anything connects: every connection of the app's engine is set up
    migrate.init_app(app, db, directory=str(INSTANCE_DIR.parent / "migrations"))
    csrf.init_app(app)
    from planner import ops

    ops.init_app(app)  # first: request ids and the log line cover every other part

    # Importing the models registers their tables with the metadata.
    from planner import models  # noqa: F401
    from planner.accounts import models as account_models  # noqa: F401
    from planner.cli import plan_cli
    from planner.discussion import models as discussion_models  # noqa: F401
    from planner.discussion.routes import bp as discussion_bp
    from planner.documents.routes import bp as documents_bp
    from planner.history.routes import bp as history_bp
    from planner.interchange.routes import bp as interchange_bp
    from planner.plans import models as plan_models  # noqa: F401
    from planner.wizard.plan_routes import bp as plans_bp
    from planner.wizard.routes import bp as wizard_bp
    from planner.workshop import models as workshop_models  # noqa: F401
    from planner.workshop.routes import bp as workshop_bp

    app.register_blueprint(plans_bp)
    app.register_blueprint(wizard_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(history_bp)
    app.register_blueprint(discussion_bp)
    app.register_blueprint(interchange_bp)
    app.register_blueprint(workshop_bp)
    app.cli.add_command(plan_cli)

    from planner.web import register_site_files, register_template_helpers

    register_template_helpers(app)
    register_site_files(app)

    from planner import accounts, security
    from planner.errors import register_error_pages

    accounts.init_app(app)
    security.init_app(app)
    register_error_pages(app)
    sqlite.init_app(app)  # late: its after_request must run before Flask-Limiter's
    unit.init_app(app)  # last: the request commits before planner.sqlite lets its write lock go
    return app
