"""Settings in one place: every DANBAO_* variable the code reads is a field of ``DanbaoSettings``, the lower
layers' own readers agree with it, ``danbao config`` masks secrets, and the README's table is the class's."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from connectors.intake import IntakeLimits
from filings.secrets import signing_keys
from filings.settings import DanbaoSettings, SettingsError, effective, load, markdown_table, variable
from pipelines.cli import main

ROOT = Path(__file__).resolve().parents[2]
#: Names that are data, not settings: a guarantor's own keys (read by connectors.publish.signing).
DYNAMIC = ("DANBAO_SIGNING_KEY_", "DANBAO_SM2_PRIVATE_KEY_", "DANBAO_SM2_PUBLIC_KEY_")


def _read_by_the_code() -> set[str]:
    names: set[str] = set()
    for folder in ("schemas", "validations", "connectors", "store", "filings", "web", "pipelines", "deploy"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and path.suffix in (".py", ".yaml", "") and "__pycache__" not in path.parts:
                names.update(re.findall(r"DANBAO_[A-Z0-9_]*[A-Z0-9](?![A-Za-z0-9_*<{])", path.read_text(errors="replace")))
    return names


def test_every_variable_the_code_reads_is_a_setting():
    declared = {variable(name) for name in DanbaoSettings.model_fields}
    undeclared = {n for n in _read_by_the_code() - declared if not n.startswith(DYNAMIC)}
    assert undeclared == set()
    assert len(declared) >= 40  # sanity: the class is the whole configuration


def test_defaults_and_the_lower_layers_agree(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("DANBAO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DANBAO_HOME", str(tmp_path / "home"))
    from store.db import database_url

    settings = load()
    assert settings.database() == database_url() == f"sqlite:///{tmp_path / 'home' / 'danbao.db'}"
    assert settings.intake_limits() == IntakeLimits()
    assert settings.endpoints() == {"pboc": "http://127.0.0.1:8441", "cbrc": "http://127.0.0.1:8442"}
    monkeypatch.setenv("DANBAO_DATABASE_URL", "postgresql://u:pw@db/x")
    monkeypatch.setenv("DANBAO_MAX_LINE_BYTES", "1000")
    settings = load()
    assert settings.database() == database_url() == "postgresql://u:pw@db/x"
    assert settings.intake_limits().max_line_bytes == 1000
    assert "pw" not in repr(settings)  # SecretStr


def test_an_empty_variable_is_unset_and_a_wrong_one_names_itself():
    assert load({"DANBAO_BATCH_SIZE": ""}).batch_size == 50
    assert load({"DANBAO_WEB_INLINE_VALIDATION": "yes"}).web_inline_validation is True
    with pytest.raises(SettingsError, match=r"DANBAO_DEADLINE_DAY: .*27"):
        load({"DANBAO_DEADLINE_DAY": "28"})  # the late-filing schedule runs the day after: must exist in February
    assert load({"DANBAO_DEADLINE_DAY": "27"}).deadline_day == 27
    with pytest.raises(SettingsError, match="DANBAO_RUN_LAYOUT") as error:
        load({"DANBAO_RUN_LAYOUT": "nightly", "DANBAO_PSEUDONYM_KEY": "too-short"})
    assert "too-short" not in str(error.value) and "DANBAO_PSEUDONYM_KEY" in str(error.value)


def test_effective_masks_every_secret_and_says_where_a_value_comes_from():
    env = {"DANBAO_DATABASE_URL": "postgresql://danbao:hunter2-password@db/danbao",
           "DANBAO_PSEUDONYM_KEY": "pseudonym-secret-0123456789", "DANBAO_WEB_SECRET": "w" * 40,
           "DANBAO_SIGNING_KEY_91500113095M34E68F": "own-signing-key", "DANBAO_BATCH_SIZE": "7"}
    shown = {e.name: e for e in effective(env)}
    text = json.dumps([e.__dict__ for e in shown.values()], ensure_ascii=False)
    for secret in ("hunter2-password", "pseudonym-secret", "w" * 40, "own-signing-key"):
        assert secret not in text
    assert shown["DANBAO_DATABASE_URL"].value == "postgresql://danbao:****@db/danbao"
    assert shown["DANBAO_SIGNING_KEY_91500113095M34E68F"].secret
    assert (shown["DANBAO_BATCH_SIZE"].value, shown["DANBAO_BATCH_SIZE"].source) == ("7", "environment")
    assert (shown["DANBAO_DEADLINE_DAY"].value, shown["DANBAO_DEADLINE_DAY"].source) == ("15", "default")


def test_danbao_config_json_and_a_usage_error(monkeypatch, capsys):
    monkeypatch.setenv("DANBAO_PULL_TOKEN", "pull-token-secret")
    assert main(["config", "--json"]) == 0
    printed = capsys.readouterr().out
    assert "pull-token-secret" not in printed
    rows = {r["name"]: r for r in json.loads(printed)}
    assert rows["DANBAO_PULL_TOKEN"]["source"] == "environment" and rows["DANBAO_PULL_TOKEN"]["secret"]
    monkeypatch.setenv("DANBAO_ENGINE", "spark")
    assert main(["config"]) == 2
    assert "DANBAO_ENGINE" in capsys.readouterr().err


def test_the_local_signing_key_is_made_once_and_private(monkeypatch, tmp_path):
    for name in ("DANBAO_SIGNING_KEY", "DANBAO_SIGNATURE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DANBAO_HOME", str(tmp_path))
    keys, source = signing_keys()
    again, _ = signing_keys()
    path = tmp_path / "secrets" / "signing.key"
    assert keys.default == again.default == path.read_text().strip().encode() and len(keys.default) == 64
    assert source == f"local key {path}" and oct(path.stat().st_mode)[-3:] == "600"
    monkeypatch.setenv("DANBAO_SIGNING_KEY", "deployment-key")
    assert signing_keys() == (type(keys)(b"deployment-key", {}), "environment")


def test_the_readme_table_is_the_settings_class():
    readme = (ROOT / "README.md").read_text()
    start, end = "<!-- settings-table -->\n", "<!-- /settings-table -->"
    table = readme[readme.index(start) + len(start): readme.index(end)]
    assert table == markdown_table(), "regenerate it: .venv/bin/danbao config --markdown"
