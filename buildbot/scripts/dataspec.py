"""`buildbot dataspec`: write the data API's endpoint specification as JSON.

The web UI's test suite uses the file (`--global` wraps it in a script setting a global).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from buildbot.scripts import base


class DataSpecOptions(base.BasedirOptions):
    """Options of `buildbot dataspec`."""

    synopsis = "Usage:    buildbot dataspec [options]"
    optParameters = [
        ["out", "o", "dataspec.json", "File to write ('--': standard output)"],
        ["global", "g", None,
         "Write a JavaScript statement assigning the spec to window.<name> instead of JSON"],
    ]


def endpoint_spec() -> list[dict[str, Any]]:
    """Every data API endpoint: its path pattern, resource type and field types."""
    from buildbot.data.connector import DataConnector

    # describing the endpoints needs no master: the connector only reaches it when used
    return DataConnector(master=None).allEndpoints()


def render_spec(spec: list[dict[str, Any]], global_name: str | None) -> str:
    """The file content: JSON, or `window.<name>=<JSON>` with a global name."""
    text = json.dumps(spec, indent=2)
    return f"window.{global_name}={text}" if global_name else text


def dataspec(config: dict[str, Any]) -> int:
    """Entry point of `buildbot dataspec`."""
    text = render_spec(endpoint_spec(), config.get("global"))
    out = config["out"]
    if out == "--":
        sys.stdout.write(text)
        return 0
    directory = os.path.dirname(out)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)
    return 0
