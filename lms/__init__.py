"""LMS Coesione: training platform for the PN Capacità per la Coesione 2021-2027."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, has_request_context, request, session
from flask_login import current_user

from config import Config, config_from_env
from lms.extensions import babel, csrf, db, limiter, login_manager, migrate

__all__ = ["create_app"]


def create_app(config: type[Config] | Mapping[str, Any] | None = None) -> Flask:
    """Build the application.

    *config* is a configuration class, or a mapping of settings applied over the
    class chosen by ``LMS_ENV``; by default ``LMS_ENV`` alone decides.
    """
    app = Flask(__name__, instance_relative_config=False)
    config_class = config if isinstance(config, type) else config_from_env()
    app.config.from_object(config_class)
    if isinstance(config, Mapping):
        app.config.update(config)
    settings: dict[str, Any] = dict(app.config)
    config_class.validate(settings)
    postgresql = str(settings.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql+psycopg")
    if postgresql and not settings.get("DATABASE_PREPARED_STATEMENTS", True):
        # psycopg's default (prepare after five runs) stands otherwise: a page's few
        # statements are then planned once per connection, not on every view (issue #19).
        options = dict(settings.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"prepare_threshold": None, **options.get("connect_args", {})}
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = options
    app.config.update(settings)
    app.config["ENV_NAME"] = config_class.ENV_NAME

    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix  # noqa: PLC0415

        count = app.config["PROXY_COUNT"]
        # Flask's documented way to wrap the app in a middleware; mypy sees a method replaced.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)  # type: ignore[method-assign]

    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    _configure_logging(app)
    return app


def _init_extensions(app: Flask) -> None:
    from pathlib import Path  # noqa: PLC0415 - only needed here

    db.init_app(app)
    from lms.core.request_guard import init_app as guard_requests  # noqa: PLC0415

    guard_requests(app)  # first of the hooks: none of them, nor a view, sees a NUL byte
    migrate.init_app(
        app,
        db,
        directory=str(Path(__file__).resolve().parent.parent / "migrations"),
        render_as_batch=True,  # SQLite can only alter tables by copying them
        compare_type=True,
    )
    csrf.init_app(app)
    from lms.core import transaction  # noqa: PLC0415

    transaction.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # the login page itself says why
    login_manager.session_protection = "strong"

    # Import every domain's models so that Alembic and create_all see them.
    import lms.models  # noqa: F401, PLC0415
    from lms.enrolments import facts  # noqa: PLC0415

    # The reports' facts table follows every transaction that changes its sources.
    facts.init_app(app)
    from lms.auth.views import load_user  # noqa: PLC0415

    login_manager.user_loader(load_user)


#: The regional variant used to write dates and numbers in each interface language:
#: English readers here are in Europe, so 25/11/2026 and 24-hour times, not 11/25/26.
#: Translations are looked up by language ("en_GB" finds the "en" catalogue).
FORMAT_LOCALES = {"en": "en_GB"}


def _select_locale() -> str:
    """Language chosen in this session, else the account's, else Italian."""
    from flask import current_app  # noqa: PLC0415

    languages = current_app.config["LANGUAGES"]
    chosen = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():  # CLI commands and background work speak Italian
        return chosen
    if session.get("lang") in languages:
        chosen = session["lang"]
    elif getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        chosen = current_user.locale
    return FORMAT_LOCALES.get(chosen, chosen)


def _register_blueprints(app: Flask) -> None:
    from lms.auth.admin_views import bp as admin_bp  # noqa: PLC0415
    from lms.auth.authority_views import bp as register_bp  # noqa: PLC0415
    from lms.auth.profile_views import bp as profile_bp  # noqa: PLC0415
    from lms.auth.views import bp as auth_bp  # noqa: PLC0415
    from lms.core.filters import register_filters  # noqa: PLC0415
    from lms.core.views import bp as core_bp  # noqa: PLC0415
    from lms.core.views import register_error_handlers, security_headers  # noqa: PLC0415
    from lms.courses.views import bp as courses_bp  # noqa: PLC0415
    from lms.courses.views import trainer_bp  # noqa: PLC0415
    from lms.site.views import bp as site_bp  # noqa: PLC0415

    app.register_blueprint(core_bp)
    app.register_blueprint(site_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(profile_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(register_bp)
    app.register_blueprint(courses_bp)
    app.register_blueprint(trainer_bp)
    from lms.assessments.views import bp as quiz_bp  # noqa: PLC0415
    from lms.assessments.views import stats_bp as quiz_stats_bp  # noqa: PLC0415

    app.register_blueprint(quiz_bp)
    app.register_blueprint(quiz_stats_bp)
    # The staff pages' three modules add their routes to one blueprint.
    from lms.enrolments import import_views, link_views, person_views, views  # noqa: F401, PLC0415
    from lms.enrolments.blueprint import bp as staff_bp  # noqa: PLC0415

    app.register_blueprint(staff_bp)
    from lms.certificates.views import bp as certificates_bp  # noqa: PLC0415

    app.register_blueprint(certificates_bp)
    from lms.notifications.views import bp as notifications_bp  # noqa: PLC0415

    app.register_blueprint(notifications_bp)
    from lms.reports.views import bp as reports_bp  # noqa: PLC0415

    app.register_blueprint(reports_bp)
    from lms.reports.audit_log import bp as audit_bp  # noqa: PLC0415

    app.register_blueprint(audit_bp)
    from lms.spid.views import bp as spid_bp  # noqa: PLC0415

    app.register_blueprint(spid_bp)
    # Issue #17's domains: each lists the modules that add routes to its blueprint.
    import importlib  # noqa: PLC0415

    from lms.external import blueprint as external  # noqa: PLC0415
    from lms.live import blueprint as live  # noqa: PLC0415
    from lms.surveys import blueprint as surveys  # noqa: PLC0415

    for domain in (live, surveys, external):
        for module in domain.VIEW_MODULES:
            importlib.import_module(module)
        app.register_blueprint(domain.bp)
    register_filters(app)
    register_error_handlers(app)
    app.after_request(security_headers)

    _init_templates(app)


def _init_templates(app: Flask) -> None:
    """The pages' context and the layout kept per role and language (lms/site/layout.py)."""
    from lms.core import page_parts  # noqa: PLC0415
    from lms.core.italian import bound  # noqa: PLC0415
    from lms.core.views import ROLE_LABELS  # noqa: PLC0415
    from lms.site import layout  # noqa: PLC0415
    from lms.site.navigation import navigation  # noqa: PLC0415

    layout.init_app(app)
    # Drawn in Python: pages draw dozens (icons, bars) or run them on every view.
    # Globals under the names macros.html, _progress.html and _content.html export
    # them by: the hot pages use them with no import to run each time.
    app.jinja_env.globals.update(
        icon=page_parts.svg_icon,
        progress_bar=page_parts.progress_bar,
        course_html=page_parts.fit_course_html,
        breadcrumbs=page_parts.breadcrumbs,
    )

    def page_context() -> dict[str, Any]:
        # The request itself, not its proxy: a page reads it dozens of times (Flask
        # types the proxy as the request, hence the ignore).
        page_request = request._get_current_object() if has_request_context() else request  # type: ignore[attr-defined]  # noqa: SLF001
        locale = bound().locale
        return {
            "navigation": navigation,
            "request": page_request,
            "role_labels": ROLE_LABELS,
            "current_locale": locale.language if locale else "",
        }

    app.context_processor(page_context)


def _register_cli(app: Flask) -> None:
    from lms.assessments.cli import quiz_cli  # noqa: PLC0415
    from lms.auth.cli import users_cli  # noqa: PLC0415
    from lms.courses.cli import content_cli  # noqa: PLC0415
    from lms.enrolments.cli import enrol_command, staff_cli  # noqa: PLC0415
    from lms.register.cli import register_cli  # noqa: PLC0415
    from lms.reports.cli import report_group  # noqa: PLC0415
    from lms.site.cli import demo_command  # noqa: PLC0415

    app.cli.add_command(users_cli)
    app.cli.add_command(report_group)
    app.cli.add_command(register_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(content_cli)
    app.cli.add_command(quiz_cli)
    app.cli.add_command(staff_cli)
    app.cli.add_command(enrol_command)
    from lms.notifications.cli import notify_cli  # noqa: PLC0415
    from lms.spid.cli import spid_cli  # noqa: PLC0415

    app.cli.add_command(spid_cli)
    app.cli.add_command(notify_cli)


def _configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s"
        )
