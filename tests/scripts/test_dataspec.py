"""`buildbot dataspec`: the data API endpoint spec, as JSON or as a JavaScript global."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from buildbot.scripts import dataspec


def run(tmp_path: Path, *argv: str) -> int:
    opts = dataspec.DataSpecOptions()
    opts.parseOptions([*argv, str(tmp_path)])
    return dataspec.dataspec(dict(opts))


def expected() -> list[dict[str, Any]]:
    from buildbot.data.connector import DataConnector

    return DataConnector(master=None).allEndpoints()


def test_writes_json_creating_the_directory(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "spec.json"

    assert run(tmp_path, "-o", str(out)) == 0

    spec = json.loads(out.read_text())
    assert spec == expected()
    assert {"path", "plural", "type", "type_spec"} <= set(spec[0])


def test_global_wraps_the_spec_in_a_script(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, "-o", "--", "-g", "dataSpec") == 0

    out = capsys.readouterr().out
    assert out.startswith("window.dataSpec=[")
    assert json.loads(out[len("window.dataSpec="):]) == expected()
