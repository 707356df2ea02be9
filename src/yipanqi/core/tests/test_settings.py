"""Settings come from the environment and are parsed strictly."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from yipanqi.settings.env import env_bool, env_choice, env_int, env_time, env_url


def _run(env_overrides: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-m", "yipanqi", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_env_bool_is_strict(monkeypatch):
    monkeypatch.setenv("X_FLAG", "yes")
    assert env_bool("X_FLAG") is True
    monkeypatch.setenv("X_FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG")


def test_env_int_and_choice_are_strict(monkeypatch):
    monkeypatch.setenv("X_NUM", "12a")
    with pytest.raises(ImproperlyConfigured, match="X_NUM"):
        env_int("X_NUM", 1)
    monkeypatch.setenv("X_NUM", "0")
    with pytest.raises(ImproperlyConfigured, match="minimum"):
        env_int("X_NUM", 1, minimum=1)
    monkeypatch.setenv("X_MODE", "staging")
    with pytest.raises(ImproperlyConfigured, match="X_MODE"):
        env_choice("X_MODE", "a", ("a", "b"))


def test_env_time_and_url_are_strict(monkeypatch):
    monkeypatch.setenv("X_AT", "7:05")
    assert env_time("X_AT", "07:00") == "07:05"
    for bad in ("24:00", "07:60", "7", "seven", "07:00:00"):
        monkeypatch.setenv("X_AT", bad)
        with pytest.raises(ImproperlyConfigured, match="X_AT"):
            env_time("X_AT", "07:00")
    monkeypatch.setenv("X_URL", "https://yipanqi.example.cn/")
    assert env_url("X_URL", "http://127.0.0.1:8000") == "https://yipanqi.example.cn"
    for bad in ("yipanqi.example.cn", "ftp://yipanqi.example.cn", "https://", "https://h/?a=1"):
        monkeypatch.setenv("X_URL", bad)
        with pytest.raises(ImproperlyConfigured, match="X_URL"):
            env_url("X_URL", "http://127.0.0.1:8000")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT='smtp' is not an integer"),
        ({"EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"}, "EMAIL_USE_TLS and EMAIL_USE_SSL"),
        ({"EMAIL_BACKEND": "sendmail"}, "EMAIL_BACKEND='sendmail'"),
        ({"DAILY_JOBS_AT": "7am"}, "DAILY_JOBS_AT='7am'"),
        ({"SITE_URL": "yipanqi.example.cn"}, "SITE_URL='yipanqi.example.cn'"),
    ],
)
def test_bad_mail_and_worker_settings_stop_start_up(tmp_path, env, message):
    result = _run({**env, "YIPANQI_VAR_DIR": str(tmp_path)}, "check")
    assert result.returncode != 0
    assert message in result.stderr


def test_bad_value_stops_start_up_with_clear_message(tmp_path):
    result = _run({"DEBUG": "maybe", "YIPANQI_VAR_DIR": str(tmp_path)}, "check")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_production_requires_secret_key(tmp_path):
    result = _run(
        {"YIPANQI_MODE": "production", "ALLOWED_HOSTS": "yipanqi.example.cn", "YIPANQI_VAR_DIR": str(tmp_path)}, "check"
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_passes_check_deploy(tmp_path):
    result = _run(
        {
            "YIPANQI_MODE": "production",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": "yipanqi.example.cn",
            "YIPANQI_VAR_DIR": str(tmp_path),
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_database_url_must_be_postgres_or_sqlite(tmp_path):
    result = _run({"DATABASE_URL": "mysql://u@h/db", "YIPANQI_VAR_DIR": str(tmp_path)}, "check")
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


@pytest.mark.django_db
def test_migrations_are_up_to_date():
    from io import StringIO

    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", stdout=StringIO())
