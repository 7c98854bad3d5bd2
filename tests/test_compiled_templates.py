"""Templates are compiled once per process and shared by every app it makes; a template changed on disk is compiled
again, and served changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jinja2.bccache import Bucket

from service.app import COMPILED_TEMPLATES, CompiledTemplates, template_environment
from tests.helpers import settings_for_tests


class Counted(CompiledTemplates):
    """The service's cache, counting what it is asked to keep and what it gives back."""

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[str] = []
        self.given: list[str] = []

    def load_bytecode(self, bucket: Bucket) -> None:
        super().load_bytecode(bucket)
        if bucket.code is not None:
            self.given.append(bucket.key)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.kept.append(bucket.key)
        super().dump_bytecode(bucket)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counted:
    cache = Counted()
    monkeypatch.setattr("service.app.COMPILED_TEMPLATES", cache)
    return cache


def page_folder(tmp_path: Path, text: str) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "page.html").write_text(text)
    return folder


def render(tmp_path: Path, templates: Path, **values: Any) -> str:
    environment = template_environment(settings_for_tests(tmp_path, templates_dir=templates))
    return environment.get_template("page.html").render(**values)


def test_the_service_keeps_one_cache_for_the_process() -> None:
    first = template_environment(settings_for_tests(Path("/nonexistent-a")))
    second = template_environment(settings_for_tests(Path("/nonexistent-b")))
    assert first.bytecode_cache is COMPILED_TEMPLATES is second.bytecode_cache


def test_a_second_app_uses_the_first_apps_compiled_template(tmp_path: Path, counted: Counted) -> None:
    templates = page_folder(tmp_path, "Hello {{ name }}")
    assert render(tmp_path, templates, name="Mia") == "Hello Mia"
    assert len(counted.kept) == 1 and counted.given == []
    assert render(tmp_path, templates, name="Liam") == "Hello Liam"
    assert len(counted.kept) == 1 and counted.given == counted.kept  # not compiled again


def test_a_template_changed_on_disk_is_compiled_again_and_served_changed(tmp_path: Path, counted: Counted) -> None:
    templates = page_folder(tmp_path, "Hello {{ name }}")
    assert render(tmp_path, templates, name="Mia") == "Hello Mia"
    page_folder(tmp_path, "Howdy {{ name }}")  # the same name, the same length
    assert render(tmp_path, templates, name="Mia") == "Howdy Mia"
    assert len(counted.kept) == 2 and counted.given == []
