"""The application layer's tests use the pipeline tests' generated packages and throw-away home."""

from tests.pipelines.conftest import danbao_env, generated

__all__ = ["danbao_env", "generated"]
