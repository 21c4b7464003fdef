"""Reporter configuration: default names (as Buildbot 4.3 computes them), duplicate names,
validation messages, plugin names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from buildbot.config.errors import ConfigErrors, capture_config_errors
from buildbot.config.master import MasterConfig
from buildbot.plugins import reporters, schedulers, util, worker
from buildbot.plugins.registry import builtin_entries

NAMES: list[tuple[Callable[[], Any], str]] = [
    (lambda: reporters.MailNotifier("a@b.c"),
     ("MailNotifier_BuildStatusGeneratorfailing_passing_warnings_"
     "WorkerMissingGenerator_workers_a+l+l")),
    (lambda: reporters.MailNotifier("a@b.c", generators=[
        reporters.BuildStatusGenerator(mode="all", builders=["x", "y"]),
        reporters.BuildSetStatusGenerator(tags=["t"]),
        reporters.BuildRequestGenerator(),
        reporters.BuildStartEndStatusGenerator(branches=["m"])]),
     ("MailNotifier_BuildStatusGenerator_builders_x+yfailing_passing_warnings_exception_"
     "cancelled_BuildSetStatusGenerator_tags_tfailing_passing_warnings_BuildRequestGenerator"
     "failing_passing_warnings_exception_cancelled_BuildStartEndStatusGenerator_branches_m"
     "failing_passing_warnings_exception_cancelled")),
    (lambda: reporters.GitHubStatusPush("t"), "GitHubStatusPush"),
    (lambda: reporters.GitHubCommentPush("t"), "GitHubCommentPush"),
    (lambda: reporters.GitLabStatusPush("t"), "GitLabStatusPush"),
    (lambda: reporters.HttpStatusPush("http://x"), "HttpStatusPush"),
    (lambda: reporters.PushoverNotifier("u", "t"),
     "PushoverNotifier_BuildStatusGeneratorfailing_passing_warnings"),
    (lambda: reporters.PushjetNotifier("s"),
     "PushjetNotifier_BuildStatusGeneratorfailing_passing_warnings"),
    (lambda: reporters.GerritStatusPush("s", "u"), "GerritStatusPush"),
    (lambda: reporters.GerritVerifyStatusPush("http://g", ("u", "p")), "GerritVerifyStatusPush"),
    (lambda: reporters.ZulipStatusPush("e", "t"), "ZulipStatusPush"),
    (lambda: reporters.BitbucketStatusPush(auth=("u", "p")), "BitbucketStatusPush"),
    (lambda: reporters.BitbucketServerStatusPush("http://b", "u", "p"),
     "BitbucketServerStatusPush"),
    (lambda: reporters.BitbucketServerCoreAPIStatusPush("http://b", token="t"),
     "BitbucketServerCoreAPIStatusPush"),
    (lambda: reporters.BitbucketServerPRCommentPush("http://b", "u", "p"),
     "BitbucketServerPRCommentPush"),
    (lambda: reporters.IRC("h", "n", []), "IRC"),
    (lambda: reporters.TelegramBot("t"), "TelegramBot"),
    (lambda: reporters.MailNotifier("a@b.c", generators=[
        reporters.BuildSetCombinedStatusGenerator(reporters.MessageFormatter())]),
     "MailNotifier_BuildSetCombinedStatusGenerator"),
    (lambda: reporters.HttpStatusPush("http://x", name="hook"), "hook"),
]


@pytest.mark.parametrize(("make", "name"), NAMES)
def test_default_service_names_follow_the_reference(make: Callable[[], Any],
                                                     name: str) -> None:
    assert make().name == name


def _config(services: list[Any]) -> dict[str, Any]:
    return {
        "workers": [worker.Worker("w", "pw")],
        "builders": [util.BuilderConfig(name="b", workernames=["w"],
                                        factory=util.BuildFactory())],
        "schedulers": [schedulers.ForceScheduler(name="f", builderNames=["b"])],
        "services": services,
        "protocols": {"pb": {"port": 9989}},
        "buildbotNetUsageData": None,
    }


def test_two_identical_reporters_are_a_duplicate_service_name() -> None:
    with pytest.raises(ConfigErrors) as e:
        MasterConfig.loadFromDict(_config([reporters.MailNotifier("a@b.c"),
                                           reporters.MailNotifier("a@b.c")]), "master.cfg")
    assert e.value.errors == [
        ("Duplicate service name 'MailNotifier_BuildStatusGeneratorfailing_passing_warnings_"
        "WorkerMissingGenerator_workers_a+l+l'")]


def test_reporters_with_different_generators_load_together() -> None:
    cfg = MasterConfig.loadFromDict(_config([
        reporters.MailNotifier("a@b.c"),
        reporters.MailNotifier("a@b.c", generators=[
            reporters.BuildStatusGenerator(mode="change")]),
        reporters.GitHubStatusPush(util.Secret("token")),
    ]), "master.cfg")
    assert sorted(cfg.services) == [
        "GitHubStatusPush",
        "MailNotifier_BuildStatusGeneratorchange",
        ("MailNotifier_BuildStatusGeneratorfailing_passing_warnings_"
        "WorkerMissingGenerator_workers_a+l+l"),
    ]


ERRORS: list[tuple[str, Callable[[], Any], list[str]]] = [
    ("bad mode", lambda: reporters.BuildStatusGenerator(mode="bogus").check(),
     ["mode bogus is not a valid mode"]),
    ("'all' in a list", lambda: reporters.BuildStatusGenerator(mode=("all",)).check(),
     ["mode 'all' is not valid in an iterator and must be passed in as a separate string"]),
    ("tags and builders",
     lambda: reporters.BuildStatusGenerator(tags=["a"], builders=["b"]).check(),
     ["Please specify only builders or tags to include - not both."]),
    ("tags not a list", lambda: reporters.BuildStatusGenerator(tags="a").check(),
     ["tags must be a list or None"]),
    ("schedulers not a list", lambda: reporters.BuildSetStatusGenerator(schedulers="s").check(),
     ["schedulers must be a list or None"]),
    ("worker names", lambda: reporters.WorkerMissingGenerator(workers="x").check(),
     ["workers must be 'all', or list of worker names"]),
    ("extraRecipients", lambda: reporters.MailNotifier("a@b.c", extraRecipients="x"),
     ["extraRecipients must be a list or tuple"]),
    ("bad recipient", lambda: reporters.MailNotifier("a@b.c", extraRecipients=["nope"]),
     ["extra recipient nope is not a valid email"]),
    ("extraHeaders", lambda: reporters.MailNotifier("a@b.c", extraHeaders=["x"]),
     ["extraHeaders must be a dictionary"]),
    ("generators not a list",
     lambda: reporters.HttpStatusPush("http://x", generators=reporters.BuildStatusGenerator()),
     ["HttpStatusPush: generators argument must be a list"]),
    ("bitbucket auth", lambda: reporters.BitbucketStatusPush(oauth_key="k", auth=("u", "p")),
     ["Either App Passwords or OAuth can be specified, not both"]),
    ("bitbucket server core",
     lambda: reporters.BitbucketServerCoreAPIStatusPush("", token="t", auth=("u", "p")),
     ["Parameter base_url has to be given",
      "Only one authentication method can be given (token or auth)"]),
    ("pushover params", lambda: reporters.PushoverNotifier("u", "t", otherParams={"x": 1}),
     [("otherParams can be only 'sound', 'callback', 'timestamp', 'url', 'url_title', "
      "'device', 'retry', 'expire', or 'html'")]),
    ("zulip", lambda: reporters.ZulipStatusPush(1, 2),
     ["Endpoint must be a string", "Token must be a string"]),
    ("irc", lambda: reporters.IRC("h", "n", [], allowForce="x", noticeOnChannel="y",
                                  authz={"a": 3}),
     ["If you specify authz, you must not use allowForce anymore",
      "allowForce must be boolean, not 'x'", "noticeOnChannel must be boolean, not 'y'",
      "authz values must be bool or a list of nicks"]),
    ("irc unknown argument", lambda: reporters.IRC("h", "n", [], foo=1),
     ["foo are deprecated"]),
    ("telegram authz", lambda: reporters.TelegramBot("t", authz={"a": 1}),
     ["authz values must be bool or a list of user ids"]),
    ("subject newline", lambda: reporters.MailNotifier("a@b.c", generators=[
        _with_subject(reporters.BuildStatusGenerator(), "a\nb")]),
     ["Newlines are not allowed in message subjects"]),
]


def _with_subject(gen: Any, subject: str) -> Any:
    gen.subject = subject
    return gen


@pytest.mark.parametrize(("case", "make", "errors"), ERRORS, ids=[e[0] for e in ERRORS])
def test_validation_messages(case: str, make: Callable[[], Any], errors: list[str]) -> None:
    with capture_config_errors() as found:
        make()
    assert found.errors == errors


def test_errors_raise_outside_config_loading() -> None:
    with pytest.raises(ConfigErrors, match="mode bogus is not a valid mode"):
        reporters.MailNotifier("a@b.c", generators=[reporters.BuildStatusGenerator(
            mode="bogus")])


def test_every_reporter_plugin_name_imports() -> None:
    names = builtin_entries("reporters")
    assert {n: type(getattr(reporters, n)).__name__ for n in names} == {
        n: "type" for n in names}


def test_mode_shortcuts_expand() -> None:
    assert reporters.BuildStatusGenerator(mode="all").mode == (
        "failing", "passing", "warnings", "exception", "cancelled")
    assert reporters.BuildStatusGenerator(mode="warnings").mode == ("failing", "warnings")
    assert reporters.BuildStatusGenerator(mode="change").mode == ("change",)
    assert reporters.BuildStatusGenerator(mode=["problem", "passing"]).mode == [
        "problem", "passing"]
