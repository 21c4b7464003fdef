"""How `.bbtravis.yml` text is parsed (environment strings, CI files, their errors), as JSON;
run with the reference's interpreter to record `configurable_4.3.json`:

    /work/refvenv/bin/python tests/steps/record_configurable.py > tests/steps/configurable_4.3.json

`test_configurable.py` imports `outcomes()` and compares. Not collected by pytest.
"""

from __future__ import annotations

import json
from typing import Any

from buildbot.steps.configurable import BuildbotCiYml, BuildbotCiYmlInvalid, parse_env_string

ENV_STRINGS = ['A=1 B="two words" C=\'x y\' D=', '  ', 'A=1 =2', 'X="a\\"b" Y=z']
DOCS = {
 "full": "env:\n  global:\n    - G=1 H=2\n    - I=3\nmatrix:\n  include:\n    - env: A=1\n      python: '3.11'\n    - env: A=2 G=9\nscript: make\nlabel_mapping: {python: py}\n",
 "env_list": "env: [A=1]\nscript: [a, b]\n",
 "bad_env": "env: 3\n",
 "bad_global": "env: {global: 3}\n",
 "bad_script": "script: {a: 1}\n",
 "bad_yaml": "script: [\n",
 "step_tag": "script:\n  - !ShellCommand {command: ls, name: listing}\n  - !Interpolate '%(prop:x)s'\n",
}


def _shown(command: Any) -> Any:
    return command if isinstance(command, (str, dict)) else repr(type(command).__name__)


def outcomes() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for text in ENV_STRINGS:
        try:
            out[text] = parse_env_string(text, {"P": "0"})
        except ValueError as e:
            out[text] = "ValueError: " + str(e)
    for key, doc in DOCS.items():
        try:
            y = BuildbotCiYml.load_from_str(doc)
        except BuildbotCiYmlInvalid as e:
            out[key] = "Invalid: " + str(e).splitlines()[0]
            continue
        out[key] = {"env": y.global_env, "matrix": y.matrix, "labels": y.label_mapping,
                    "scripts": {s: [_shown(c) for c in v] for s, v in y.script_commands.items()}}
    return out


if __name__ == "__main__":
    print(json.dumps(outcomes(), indent=1, sort_keys=True))
