"""The code location's resources mean the same thing when a command calls them directly as when Dagster
initializes them: an ``EnvVar`` field is resolved from the environment, never used as its name."""

from __future__ import annotations

from pathlib import Path

from dagster import EnvVar

from pipelines.definitions import default_resources


def test_environment_configured_resources_resolve_their_variables_outside_dagster(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    endpoints = tmp_path / "endpoints.csv"
    endpoints.write_text("institution_id,url\nX,https://example.invalid/{period}.zip\n", encoding="utf-8")
    env = {"DANBAO_DATABASE_URL": url, "DANBAO_BLOB_ROOT": str(tmp_path / "b"), "DANBAO_LANDING": str(tmp_path / "l"),
           "DANBAO_TABLES_URL": str(tmp_path / "t"), "DANBAO_DATASETS_DIR": str(tmp_path / "d"),
           "DANBAO_PULL_ENDPOINTS": str(endpoints), "DANBAO_PULL_TOKEN": "secret-token",
           "DANBAO_PSEUDONYM_KEY": "k" * 32}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    resources = default_resources()
    store = resources["store"]
    assert isinstance(store.database_url, EnvVar)  # shown by name in the UI, never by value
    assert store.url() == url
    assert store.blobs().root == tmp_path / "b"
    assert resources["landing"].root() == tmp_path / "l"
    assert Path(str(resources["archive"].archive().root)) == tmp_path / "t"
    assert resources["datasets"].store().root == tmp_path / "d" and resources["datasets"].key() == b"k" * 32
    [endpoint] = resources["pull"].endpoints({})
    assert (endpoint.url, endpoint.token) == ("https://example.invalid/{period}.zip", "secret-token")
    with store.session() as session:  # the store itself, not a database named after the variable
        assert session.bind.url.render_as_string() == url
    assert (tmp_path / "elsewhere.db").exists()

    monkeypatch.setenv("DANBAO_DATABASE_URL", url + "2")  # resolved when used, as Dagster does at run time
    assert store.url() == url + "2"
    initialized = store.process_config_and_initialize()  # what Dagster hands a run: the same answers
    assert initialized.url() == url + "2"
