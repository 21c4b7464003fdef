"""Secret values never leave the master in clear.

A build rendering `util.Secret` and `%(secret:...)s` in commands, environments, properties,
transfers, URLs, summaries, logs written by steps, exceptions and triggered builds runs on a
LocalWorker and on stock worker processes over PB and msgpack. Then every REST endpoint
showing build data, every log, every mq message, the WebSocket events, the master's own log
and the raw SQLite file are searched for the secret: none may hold it. Where Buildbot 4.3.0
shows `<mysecret>` (recorded from it running the same steps), we show the same.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_twisted
from twisted.logger import formatEvent, globalLogPublisher

from buildbot.plugins import schedulers, secrets, steps, util, worker
from buildbot.process.buildstep import BuildStep
from buildbot.process.log import new_log
from buildbot.process.results import EXCEPTION, SUCCESS
from buildbot.util.redact import SecretRedactor, _forms
from tests.fixtures.master import running_master, wait_for_message
from tests.fixtures.stack import Stack
from tests.fixtures.worker_process import ATTACHED, CONNECTED, running_worker
from tests.www.harness import WsClient, http

SECRET = "S3cr3tV4lue-q7"
# A secret with a quote, a backslash, a space and a non-ASCII letter: the worker echoes it
# shell-quoted and as an escaped bytes repr, the summary cuts the command at spaces.
ODD = "q'uo\\te \u00e4\"x9"
PLACEHOLDER = "<mysecret>"
# A worker property rendered from the secret when the build uses or stores it.
WPROPS = {"wtok": util.Secret("mysecret")}

# The child writes the secret in two pieces, flushed apart, so that the worker sends them
# in two updates (the pause is in the build's command, not in the test).
SPLIT = ("import os,sys,time; s=os.environ['TOK']; sys.stdout.write('pre'+s[:5]); "
         "sys.stdout.flush(); time.sleep(0.3); sys.stdout.write(s[5:]+'post\\n')")


class Leak(BuildStep):
    """A master.cfg step handing a rendered secret to every step API that stores text."""

    name = "leak"

    async def run(self) -> int:
        value = await self.build.render(util.Secret("mysecret"))
        self.setProperty("fromstep", "v=" + value, "Leak")
        self.setProperty("nested", {"k": [value], value: 1}, "Leak")
        await self.addCompleteLog("mine", f"log has {value}\n")
        await self.addURL(f"link {value}", f"http://example.org/?t={value}")
        await self.setBuildData("data", f"bytes {value}".encode(), "Leak")
        self.descriptionDone = ["leaked", value]
        return SUCCESS


class Boom(BuildStep):
    """A master.cfg step raising an exception whose message holds the secret."""

    name = "boom"

    async def run(self) -> int:
        value = await self.build.render(util.Secret("mysecret"))
        raise ValueError("boom " + value)


def secret_dir(tmp_path: Path) -> Path:
    d = tmp_path / "secrets"
    d.mkdir()
    (d / "mysecret").write_text(SECRET + "\n")
    (d / "odd").write_text(ODD, encoding="utf-8")
    d.chmod(0o700)
    (d / "mysecret").chmod(0o600)
    (d / "odd").chmod(0o600)
    return d


def build_steps(master_dir: Path) -> list[Any]:
    sec = util.Secret("mysecret")
    interp = util.Interpolate("%(secret:mysecret)s")
    return [
        steps.ShellCommand(name="list", command=["echo", sec]),
        steps.ShellCommand(name="interp", command=util.Interpolate("echo %(secret:mysecret)s")),
        steps.ShellCommand(name="env", command="echo $TOK", env={"TOK": sec}),
        steps.ShellCommand(name="benv", command="echo $BT"),  # the builder's env
        steps.ShellCommand(name="odd", command=["echo", util.Secret("odd")],
                           env={"ODD": util.Secret("odd")}),
        steps.ShellCommand(name="split", command=[sys.executable, "-c", SPLIT], env={"TOK": sec}),
        steps.SetProperty(property="p", value=interp),
        steps.SetPropertyFromCommand(name="spfc", command=["echo", sec], property="q"),
        steps.StringDownload(interp, workerdest="s.txt"),
        steps.ShellCommand(name="cat", command=["cat", "s.txt"]),
        steps.FileUpload(workersrc="s.txt",
                         masterdest=util.Interpolate(str(master_dir / "up-%(secret:mysecret)s")),
                         url=util.Interpolate("http://example.org/%(secret:mysecret)s")),
        steps.MasterShellCommand(name="msc", command=["echo", sec]),
        Leak(),
        steps.Trigger(name="trigger", schedulerNames=["t"], waitForFinish=True,
                      set_properties={"tp": interp}),
        steps.ShellCommand(name="prop", command=["echo", util.Property("p")]),
        steps.ShellCommand(name=util.Interpolate("named-%(secret:mysecret)s"),
                           command=["echo", util.Property("wtok")]),
        Boom(),  # an exception ends the build: last
    ]


def make_config(tmp_path: Path, workers: list[Any], worker_name: str,
                protocols: dict[str, Any]) -> dict[str, Any]:
    master_dir = tmp_path / "m"
    child = util.BuildFactory([steps.ShellCommand(name="child",
                                                  command=["echo", util.Property("tp")])])
    return {
        "workers": workers,
        "protocols": protocols,
        "schedulers": [schedulers.ForceScheduler(name="force", builderNames=["b0"]),
                       schedulers.Triggerable(name="t", builderNames=["c0"])],
        "builders": [
            util.BuilderConfig(name="b0", workernames=[worker_name],
                               factory=util.BuildFactory(build_steps(master_dir)),
                               env={"BT": util.Interpolate("%(secret:mysecret)s")}),
            util.BuilderConfig(name="c0", workernames=[worker_name], factory=child)],
        "secretsProviders": [secrets.SecretInAFile(dirname=str(secret_dir(tmp_path)))],
        "www": {"port": "tcp:0:interface=127.0.0.1"},
        # Stored as written, so that a scan of the file sees the log text.
        "logCompressionMethod": "raw",
        "db": {"db_url": f"sqlite:///{master_dir / 'state.sqlite'}"},
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MasterLog:
    """Every event of the master's log while it is attached, formatted with tracebacks."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, event: dict[str, Any]) -> None:
        text = formatEvent(event) or ""
        f = event.get("log_failure")
        if f is not None:
            text += "\n" + f.getTraceback()
        self.texts.append(text)


async def rest_bodies(base: str, buildids: list[int]) -> dict[str, str]:
    """The body of every REST endpoint showing the build data of `buildids`."""
    paths = ["builds", "builds?property=*", "buildsets", "buildrequests", "changes", "workers",
             "builders", "sourcestamps"]
    for buildid in buildids:
        paths += [f"builds/{buildid}", f"builds/{buildid}?property=*",
                  f"builds/{buildid}/properties", f"builds/{buildid}/steps",
                  f"builds/{buildid}/data", f"builds/{buildid}/changes"]
    bodies: dict[str, str] = {}

    async def fetch(path: str) -> Any:
        res = await http.get(f"{base}api/v2/{path}")
        assert res.code == 200, (path, res.body[:300])
        bodies[path] = res.body.decode()
        return json.loads(res.body) if not path.endswith(("/raw", "/raw_inline")) else None

    for path in paths:
        await fetch(path)
    for bs in json.loads(bodies["buildsets"])["buildsets"]:
        await fetch(f"buildsets/{bs['bsid']}/properties")
    for buildid in buildids:
        for step in json.loads(bodies[f"builds/{buildid}/steps"])["steps"]:
            await fetch(f"steps/{step['stepid']}")
            for lg in (await fetch(f"steps/{step['stepid']}/logs"))["logs"]:
                for sub in ("", "/raw", "/raw_inline", "/contents"):
                    await fetch(f"logs/{lg['logid']}{sub}")
    return bodies


async def run_secret_build(master: Any, ws: WsClient) -> tuple[dict[str, Any], dict[str, str]]:
    """Force the build and wait for it and its triggered child; returns the parent build's
    steps by name and the REST bodies."""
    done = wait_for_message(master, ("buildsets", None, "complete"),
                            check=lambda k, b: b.get("parent_buildid") is None, timeout=60)
    await master.data.control("force", {"builderNames": ["b0"], "owner": "me"},
                              ("forceschedulers", "force"))
    await done
    builds = await master.data.get(("builds",))
    parent = builds[0]
    steps_by_name: dict[str, Any] = {}
    for s in await master.data.get(("builds", parent["buildid"], "steps")):
        logs = {}
        for lg in await master.data.get(("steps", s["stepid"], "logs")):
            content = await master.data.get(("logs", lg["logid"], "contents"))
            logs[lg["name"]] = content["content"] if content else ""
        steps_by_name[s["name"]] = {**s, "logs": logs}
    base = f"http://127.0.0.1:{master.www.port_number}/"
    bodies = await rest_bodies(base, [b["buildid"] for b in builds])
    return {"build": parent, "steps": steps_by_name}, bodies


def assert_matches_reference(outcome: dict[str, Any], props: dict[str, Any]) -> None:
    """What Buildbot 4.3.0 shows for the same steps (and more hidden where it leaks)."""
    st = outcome["steps"]
    # 4.3: "'echo <mysecret>'" (we used to show "<<mysecret>>")
    assert st["list"]["state_string"] == "'echo <mysecret>'"
    assert st["interp"]["state_string"] == "'echo <mysecret>'"
    stdio = st["list"]["logs"]["stdio"]
    assert "hecho <mysecret>\n" in stdio
    assert "h argv: [b'echo', b'<mysecret>']\n" in stdio
    assert "o<mysecret>\n" in stdio
    assert "h argv: b'echo <mysecret>'\n" in st["interp"]["logs"]["stdio"]
    assert "o<mysecret>\n" in st["env"]["logs"]["stdio"]
    assert "h  BT=<mysecret>\n" in st["benv"]["logs"]["stdio"]
    assert "o<mysecret>\n" in st["benv"]["logs"]["stdio"]
    odd = st["odd"]["logs"]["stdio"]
    assert (st["odd"]["state_string"], "hecho '<odd>'\n" in odd, "h argv: [b'echo', b'<odd>']\n"
            in odd, "h  ODD=<odd>\n" in odd, "o<odd>\n" in odd) == ("'echo <odd>'", True, True,
                                                                   True, True)
    # split in two updates by the worker, still hidden whole
    assert "opre<mysecret>post\n" in st["split"]["logs"]["stdio"]
    assert st["spfc"]["logs"]["property changes"] == "q: '<mysecret>'\n"
    assert "o<mysecret>\n" in st["cat"]["logs"]["stdio"]
    assert "hecho <mysecret>\n" in st["msc"]["logs"]["stdio"]
    assert st["leak"]["logs"]["mine"] == "log has <mysecret>\n"
    assert st["leak"]["state_string"] == "leaked <mysecret>"
    assert st["leak"]["urls"] == [{"name": "link <mysecret>",
                                   "url": "http://example.org/?t=<mysecret>"}]
    assert st["upload"]["urls"] == [{"name": "up-<mysecret>",
                                     "url": "http://example.org/<mysecret>"}]
    assert st["boom"]["results"] == EXCEPTION
    assert "ValueError: boom <mysecret>" in st["boom"]["logs"]["err.text"]
    # later steps still render the real value (the worker got it), the log hides it
    assert "o<mysecret>\n" in st["prop"]["logs"]["stdio"]
    assert "o<mysecret>\n" in st["named-<mysecret>"]["logs"]["stdio"]
    # 4.3 stores q as "<mysecret>" and leaks p and fromstep in clear
    assert {k: props[k][0] for k in ("p", "q", "fromstep", "nested", "wtok")} == {
        "p": PLACEHOLDER, "q": PLACEHOLDER, "fromstep": "v=<mysecret>",
        "nested": {"k": [PLACEHOLDER], PLACEHOLDER: 1}, "wtok": PLACEHOLDER}


ODD_FORMS = sorted(_forms(ODD) | {"q'uo"})  # "q'uo": the word the summary would cut


def assert_no_secret(where: str, text: str | bytes) -> None:
    for needle in [SECRET, *ODD_FORMS]:
        found: Any = needle.encode() if isinstance(text, bytes) else needle
        assert found not in text, f"the secret {needle!r} is shown in clear in {where}"


async def scan_everything(master: Any, tmp_path: Path, ws: WsClient, mq_seen: list[Any],
                          master_log: MasterLog, check_master_log: bool) -> None:
    outcome, bodies = await run_secret_build(master, ws)
    props = await master.data.get(("builds", outcome["build"]["buildid"], "properties"))
    assert_matches_reference(outcome, props)
    assert outcome["build"]["results"] == EXCEPTION
    for path, body in bodies.items():
        assert_no_secret(f"GET /api/v2/{path}", body)
    assert any(PLACEHOLDER in body for path, body in bodies.items() if path.endswith("/raw"))
    assert PLACEHOLDER in bodies["builds?property=*"]
    child = [b for b in await master.data.get(("builds",)) if b["buildid"] !=
             outcome["build"]["buildid"]]
    assert len(child) == 1 and child[0]["results"] == SUCCESS
    for key, body in mq_seen:
        assert_no_secret(f"mq message {'/'.join(key)}", json.dumps(body, default=repr))
    frames = []
    while ws.frames.pending:
        frames.append(ws.frames.pending.pop(0))
    assert any(f.get("k", "").startswith("builds/") for f in frames), "no WebSocket event"
    for frame in frames:
        assert_no_secret("a WebSocket event", json.dumps(frame))
    if check_master_log:
        for text in master_log.texts:
            assert_no_secret("the master's log", text)


def assert_database_clean(tmp_path: Path) -> None:
    db_files = list((tmp_path / "m").glob("state.sqlite*"))
    assert db_files
    raw = b"".join(p.read_bytes() for p in db_files)
    assert b"<mysecret>" in raw  # the text is there, so its absence would be meaningful
    assert_no_secret("the SQLite database file", raw)


async def _scenario(tmp_path: Path, logged_errors: Any, workers: list[Any], worker_name: str,
                    protocols: dict[str, Any], start_worker: Any = None) -> None:
    master_log = MasterLog()
    cfg = make_config(tmp_path, workers, worker_name, protocols)
    globalLogPublisher.addObserver(master_log)
    try:
        async with running_master(tmp_path / "m", cfg) as master:
            mq_seen: list[Any] = []
            consumers = [await master.mq.startConsuming(
                lambda k, b: mq_seen.append((k, b)), (None,) * n) for n in range(1, 9)]
            base = f"ws://127.0.0.1:{master.www.port_number}/ws"
            ws = await WsClient.connect(base)
            for i, path in enumerate(("builds/*/*", "steps/*/*", "logs/*/*",
                                      "builds/*/properties/*", "buildsets/*/*")):
                assert (await ws.call(cmd="startConsuming", path=path, _id=i))["code"] == 200
            try:
                if start_worker is None:
                    await scan_everything(master, tmp_path, ws, mq_seen, master_log, False)
                else:
                    async with start_worker():
                        await scan_everything(master, tmp_path, ws, mq_seen, master_log, True)
            finally:
                await ws.close()
                for c in consumers:
                    c.stopConsuming()
    finally:
        globalLogPublisher.removeObserver(master_log)
    assert_database_clean(tmp_path)
    errors = logged_errors.flush("raised an exception")
    assert len(errors) == 1
    assert_no_secret("the logged exception", formatEvent(errors[0]))
    assert PLACEHOLDER in formatEvent(errors[0])


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_local_worker_build_shows_no_secret_anywhere(tmp_path: Path,
                                                            logged_errors: Any) -> None:
    await _scenario(tmp_path, logged_errors, [worker.LocalWorker("local", properties=WPROPS)],
                    "local", {"null": {}})


@pytest.mark.integration
@pytest.mark.parametrize("protocol", ["pb", "msgpack_experimental_v7"])
@pytest_twisted.ensureDeferred
async def test_remote_worker_build_shows_no_secret_anywhere(tmp_path: Path, logged_errors: Any,
                                                             protocol: str) -> None:
    port = free_port()

    def start_worker() -> Any:
        return running_worker(tmp_path / "w", port, "w", "pw", protocol=protocol,
                              wait_for=CONNECTED if protocol == "pb" else ATTACHED)

    await _scenario(tmp_path, logged_errors, [worker.Worker("w", "pw", properties=WPROPS)], "w",
                    {protocol: {"port": f"tcp:{port}:interface=127.0.0.1"}}, start_worker)


# -- the log writer on its own --------------------------------------------------------------


async def _write(stack: Stack, logtype: str, chunks: list[tuple[str, str]],
                 redactor: SecretRedactor) -> str:
    row = await stack.make_log(type=logtype)
    loog: Any = new_log(stack.updates, "stdio", logtype, row.id, redactor=redactor)
    seen: list[str] = []
    loog.subscribe(lambda stream, text: seen.append(text or ""))
    for stream, text in chunks:
        await (loog.addStream(stream, text) if logtype == "s" else loog.addContent(text))
    await loog.finish()
    content = await stack.data.get(("logs", row.id, "contents"))
    assert_no_secret("what log observers saw", "".join(seen))
    return str(content["content"])


def redactor() -> SecretRedactor:
    r = SecretRedactor()
    r.add(SECRET, "mysecret")
    return r


@pytest_twisted.ensureDeferred
async def test_a_secret_split_across_output_chunks_is_stored_redacted(stack: Stack) -> None:
    chunks = [("o", "start S3c"), ("e", "err S3cr3t"), ("o", "r3tV4l"), ("e", "V4lue-q7\n"),
              ("o", "ue-q7 end\n")]
    content = await _write(stack, "s", chunks, redactor())
    assert content == "eerr <mysecret>\nostart <mysecret> end\n"


@pytest_twisted.ensureDeferred
async def test_a_secret_cut_at_the_end_of_the_log_is_redacted_at_finish(stack: Stack) -> None:
    content = await _write(stack, "t", [("o", "a\nlast S3cr3tV"), ("o", "4lue-q7")],
                           redactor())
    assert content == "a\nlast <mysecret>\n"


@pytest_twisted.ensureDeferred
async def test_a_held_prefix_that_is_no_secret_is_written_at_finish(stack: Stack) -> None:
    content = await _write(stack, "s", [("o", "a\nends with S3cr")], redactor())
    assert content == "oa\noends with S3cr\n"


@pytest_twisted.ensureDeferred
async def test_a_secret_rendered_after_the_log_opened_is_hidden(stack: Stack) -> None:
    r = SecretRedactor()
    row = await stack.make_log(type="t")
    loog: Any = new_log(stack.updates, "l", "t", row.id, redactor=r)
    await loog.addContent("before " + SECRET + "\n")
    r.add(SECRET, "mysecret")
    await loog.addContent("after " + SECRET + "\n")
    await loog.finish()
    content = await stack.data.get(("logs", row.id, "contents"))
    assert content["content"] == f"before {SECRET}\nafter <mysecret>\n"
