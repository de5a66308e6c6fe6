"""Configuration: what each environment refuses, and the settings it implies."""

from __future__ import annotations

import stat

import pytest

import config
from config import (
    DevelopmentConfig,
    ProductionConfig,
    TestingConfig,
    config_from_env,
)
from lms import create_app

#: A PostgreSQL URL nothing listens on: creating the app must not connect.
UNREACHABLE_POSTGRES = "postgresql+psycopg://lms:secret@127.0.0.1:9/lms_nowhere"


def production(**settings: object) -> type[ProductionConfig]:
    """A ProductionConfig with *settings* over it (the environment left out of it)."""
    defaults = {
        "SECRET_KEY": "a-long-random-production-key",
        "SQLALCHEMY_DATABASE_URI": UNREACHABLE_POSTGRES,
        "ALLOW_SQLITE_IN_PRODUCTION": False,
    }
    return type("ProdTest", (ProductionConfig,), {**defaults, **settings})


def development(**settings: object) -> type[DevelopmentConfig]:
    defaults = {"SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    return type("DevTest", (DevelopmentConfig,), {**defaults, **settings})


# Production ----------------------------------------------------------------


@pytest.mark.parametrize("key", [None, ""])
def test_production_refuses_to_start_without_secret_key(key):
    with pytest.raises(RuntimeError, match="LMS_SECRET_KEY"):
        create_app(production(SECRET_KEY=key))


@pytest.mark.parametrize("uri", ["sqlite://", "sqlite:////var/lib/lms/lms.sqlite3"])
def test_production_refuses_sqlite(uri):
    with pytest.raises(RuntimeError, match="PostgreSQL"):
        create_app(production(SQLALCHEMY_DATABASE_URI=uri))


def test_production_accepts_sqlite_when_explicitly_allowed():
    app = create_app(
        production(SQLALCHEMY_DATABASE_URI="sqlite://", ALLOW_SQLITE_IN_PRODUCTION=True)
    )
    assert app.config["ENV_NAME"] == "production"


def test_production_accepts_postgresql_and_key_without_connecting():
    app = create_app(production())
    assert app.config["ENV_NAME"] == "production"
    assert app.config["SECRET_KEY"] == "a-long-random-production-key"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == UNREACHABLE_POSTGRES
    assert not app.testing


def test_production_cookie_flags():
    app = create_app(production())
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


def test_production_session_cookie_is_sent_secure_httponly_lax():
    """The cookie a browser actually receives carries the flags (and HSTS is sent)."""
    app = create_app(production(WTF_CSRF_ENABLED=False))
    client = app.test_client()
    response = client.post("/lingua", data={"lang": "en"})
    assert response.status_code == 302
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("lms_session="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "secure" in flags
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_testing_config_sends_no_hsts(client):
    assert "Strict-Transport-Security" not in client.get("/healthz").headers


# Development -----------------------------------------------------------------


def test_development_generates_a_random_key_in_the_instance_dir(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setattr(config, "INSTANCE_DIR", instance)
    app = create_app(development())
    key = app.config["SECRET_KEY"]
    assert len(key) == 64
    int(key, 16)  # hexadecimal
    key_file = instance / "secret_key"
    assert key_file.read_text(encoding="ascii").strip() == key
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_development_key_is_the_same_the_second_time(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    first = create_app(development()).config["SECRET_KEY"]
    second = create_app(development()).config["SECRET_KEY"]
    assert first == second


def test_development_keys_differ_between_instance_dirs(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "a")
    first = create_app(development()).config["SECRET_KEY"]
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path / "b")
    second = create_app(development()).config["SECRET_KEY"]
    assert first != second


def test_development_keeps_a_key_that_is_set(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    app = create_app(development(SECRET_KEY="set-by-the-operator"))
    assert app.config["SECRET_KEY"] == "set-by-the-operator"
    assert not (tmp_path / "secret_key").exists()


def test_development_cookies_work_over_plain_http(tmp_path, monkeypatch):
    monkeypatch.setattr(config, "INSTANCE_DIR", tmp_path)
    app = create_app(development())
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["REMEMBER_COOKIE_SECURE"] is False


# Choosing the configuration ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("development", DevelopmentConfig),
        ("testing", TestingConfig),
        ("production", ProductionConfig),
        (" Production ", ProductionConfig),
    ],
)
def test_config_from_env(monkeypatch, value, expected):
    monkeypatch.setenv("LMS_ENV", value)
    assert config_from_env() is expected


def test_config_from_env_defaults_to_development(monkeypatch):
    monkeypatch.delenv("LMS_ENV", raising=False)
    assert config_from_env() is DevelopmentConfig


def test_config_from_env_rejects_an_unknown_environment(monkeypatch):
    monkeypatch.setenv("LMS_ENV", "staging")
    with pytest.raises(RuntimeError, match="development, testing, production") as excinfo:
        config_from_env()
    assert "'staging'" in str(excinfo.value)


def test_create_app_with_unknown_environment_fails(monkeypatch):
    monkeypatch.setenv("LMS_ENV", "prod")
    with pytest.raises(RuntimeError, match="LMS_ENV"):
        create_app()


def test_mapping_settings_are_validated_for_the_environment(monkeypatch):
    monkeypatch.setenv("LMS_ENV", "production")
    with pytest.raises(RuntimeError, match="LMS_SECRET_KEY"):
        create_app({"SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": UNREACHABLE_POSTGRES})
    app = create_app({"SECRET_KEY": "k" * 32, "SQLALCHEMY_DATABASE_URI": UNREACHABLE_POSTGRES})
    assert app.config["ENV_NAME"] == "production"
