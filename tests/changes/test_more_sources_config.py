"""The change sources and secrets providers of issue 14 load through `buildbot.plugins`,
and master.cfg files using them pass (or fail) `buildbot checkconfig` as with Buildbot 4.3
(run side by side when the reference's virtualenv is present)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path("/work/refvenv/bin/buildbot")

HEADER = """\
from buildbot.plugins import changes, schedulers, secrets, steps, util, worker
c = BuildmasterConfig = {'buildbotNetUsageData': None}
c['workers'] = [worker.Worker('w', 'p')]
c['protocols'] = {'pb': {'port': 'tcp:0:interface=127.0.0.1'}}
f = util.BuildFactory([steps.ShellCommand(command='true')])
c['builders'] = [util.BuilderConfig(name='b', workernames=['w'], factory=f)]
c['schedulers'] = [schedulers.AnyBranchScheduler(
    name='gerrit', builderNames=['b'],
    change_filter=util.GerritChangeFilter(branch='main', eventtype='patchset-created'))]
"""

GOOD = HEADER + """\
c['change_source'] = [
    changes.GerritChangeSource('gerrit.example.org', 'buildbot', gerritport=29418,
                               identity_file='/home/bb/.ssh/id_rsa',
                               http_url='https://gerrit.example.org',
                               http_auth=('buildbot', 'pw'), get_files=True),
    changes.GerritEventLogPoller('https://gerrit.example.org', auth=('u', 'p'),
                                 gitBaseURL='ssh://u@gerrit.example.org:29418',
                                 handled_events=['patchset-created', 'change-merged']),
    changes.GitHubPullrequestPoller(owner='buildbot', repo='buildbot', branches=['master'],
                                    pollInterval=300, token='t0k',
                                    github_property_whitelist=['github.*'],
                                    magic_link=True, repository_type='ssh'),
    changes.BitbucketPullrequestPoller(owner='team', slug='repo', branch='main',
                                       auth=('user', 'app-password')),
    changes.P4Source(p4port='perforce:1666', p4user='bb', p4base='//depot/project/',
                     split_file=util.svn.split_file_alwaystrunk
                     if False else (lambda p: p.split('/', 1)), server_tz='Europe/Paris'),
    changes.CVSMaildirSource('{maildir}', properties={'x': 1}),
    changes.SVNCommitEmailMaildirSource('{maildir}', prefix='trunk/'),
    changes.BzrLaunchpadEmailMaildirSource('{maildir}', branchMap={'lp:x': 'x'}),
]
"""

PASS_AND_VAULT = """\
c['secretsProviders'] = [
    secrets.SecretInPass(gpgPassphrase='pp', dirname='{store}'),
    secrets.HashiCorpVaultKvSecretProvider(
        vault_server='https://vault.example.org:8200',
        authenticator=secrets.VaultAuthenticatorApprole(roleId='r', secretId='s'),
        secrets_mount='kv', api_version=1),
    secrets.HashiCorpVaultKvSecretProvider(
        vault_server='https://vault.example.org:8200',
        authenticator=secrets.VaultAuthenticatorToken('tok')),
]
"""

# (config body, the error message both implementations print)
BAD = [
    (("c['change_source'] = [changes.GitHubPullrequestPoller('o', 'r', "
     "repository_type='ftp')]"), "repository_type must be one of {https, svn, git, ssh}"),
    ("c['change_source'] = [changes.GerritEventLogPoller('https://g', auth=None)]",
     "gitBaseURL must be specified"),
    ("c['change_source'] = [changes.GerritChangeSource('g', 'u', http_poll_interval='x')]",
     "http_poll_interval"),
    ("c['change_source'] = [changes.P4Source(use_tickets=True)]",
     "You need to provide a P4 password to use ticket authentication"),
    (("c['secretsProviders'] = [secrets.HashiCorpVaultKvSecretProvider("
     "vault_server='https://v', authenticator=secrets.VaultAuthenticatorToken('t'), "
     "api_version=3)]"), "api_version 3 is not supported"),
    (("c['secretsProviders'] = [secrets.HashiCorpVaultKvSecretProvider("
     "vault_server='https://v', authenticator='tok')]"),
     "authenticator must be instance of VaultAuthenticator while it is <class 'str'>"),
]


def checkconfig(argv0: list[str], basedir: Path, body: str) -> subprocess.CompletedProcess[str]:
    basedir.mkdir(parents=True, exist_ok=True)
    maildir = basedir / "maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    (basedir / "store").mkdir(exist_ok=True)
    (basedir / "master.cfg").write_text(
        body.replace("{maildir}", str(maildir)).replace("{store}", str(basedir / "store")))
    return subprocess.run([*argv0, "checkconfig", str(basedir)], capture_output=True, check=False,
                          text=True, env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
                          cwd=basedir)


OURS = [sys.executable, "-m", "buildbot.scripts.runner"]


def test_every_name_loads_through_the_plugins() -> None:
    from buildbot.plugins import changes, secrets, util

    loaded = [changes.GerritChangeSource, changes.GerritEventLogPoller,
              changes.GitHubPullrequestPoller, changes.BitbucketPullrequestPoller,
              changes.P4Source, changes.MaildirSource, changes.CVSMaildirSource,
              changes.SVNCommitEmailMaildirSource, changes.BzrLaunchpadEmailMaildirSource,
              util.GerritChangeFilter, secrets.HashiCorpVaultKvSecretProvider,
              secrets.VaultAuthenticatorToken, secrets.VaultAuthenticatorApprole,
              secrets.SecretInPass]
    assert [f"{c.__module__}.{c.__name__}" for c in loaded] == [
        "buildbot.changes.gerritchangesource.GerritChangeSource",
        "buildbot.changes.gerritchangesource.GerritEventLogPoller",
        "buildbot.changes.github.GitHubPullrequestPoller",
        "buildbot.changes.bitbucket.BitbucketPullrequestPoller",
        "buildbot.changes.p4poller.P4Source",
        "buildbot.changes.mail.MaildirSource",
        "buildbot.changes.mail.CVSMaildirSource",
        "buildbot.changes.mail.SVNCommitEmailMaildirSource",
        "buildbot.changes.mail.BzrLaunchpadEmailMaildirSource",
        "buildbot.changes.gerritchangesource.GerritChangeFilter",
        "buildbot.secrets.providers.vault_hvac.HashiCorpVaultKvSecretProvider",
        "buildbot.secrets.providers.vault_hvac.VaultAuthenticatorToken",
        "buildbot.secrets.providers.vault_hvac.VaultAuthenticatorApprole",
        "buildbot.secrets.providers.passwordstore.SecretInPass"]


def test_default_names_are_the_references() -> None:
    from buildbot.plugins import changes, secrets

    sources = [changes.GerritChangeSource("g.example.org", "bb"),
               changes.GerritEventLogPoller("https://g", None, gitBaseURL="ssh://g"),
               changes.GitHubPullrequestPoller("own", "rep"),
               changes.BitbucketPullrequestPoller("own", "slug"),
               changes.P4Source(p4port="p:1666"),
               changes.CVSMaildirSource("/m"), changes.SVNCommitEmailMaildirSource("/m"),
               changes.BzrLaunchpadEmailMaildirSource("/m"),
               secrets.HashiCorpVaultKvSecretProvider(
                   vault_server="http://v", authenticator=secrets.VaultAuthenticatorToken("t"))]
    assert [s.name for s in sources] == [
        "GerritChangeSource:bb@g.example.org:29418", "GerritEventLogPoller:https://g",
        "GitHubPullrequestPoller:own/rep", "own/slug", "P4Source:p:1666://",
        "CVSMaildirSource", "SVN commit-email.pl", "Launchpad", "SecretInVaultKv"]


@pytest.mark.integration
@pytest.mark.skipif(shutil.which("pass") is None, reason="pass is not installed")
def test_checkconfig_accepts_typical_configurations(tmp_path: Path) -> None:
    ours = checkconfig(OURS, tmp_path / "ours", GOOD + PASS_AND_VAULT)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    assert "Config file is good!" in ours.stdout
    if REFERENCE.exists():
        # 4.3 wants the hvac package for the Vault provider (we speak HTTP ourselves)
        ref = checkconfig([str(REFERENCE)], tmp_path / "ref", GOOD)
        assert ref.returncode == 0, ref.stdout + ref.stderr


@pytest.mark.integration
@pytest.mark.parametrize("body,message", BAD, ids=[m[:30] for _, m in BAD])
def test_checkconfig_rejects_bad_arguments_with_the_references_message(
        tmp_path: Path, body: str, message: str) -> None:
    ours = checkconfig(OURS, tmp_path / "ours", HEADER + textwrap.dedent(body) + "\n")
    assert ours.returncode == 1
    assert message in ours.stderr
    if REFERENCE.exists() and "Vault" not in body:
        ref = checkconfig([str(REFERENCE)], tmp_path / "ref", HEADER + body + "\n")
        assert ref.returncode == 1
        assert message in ref.stderr + ref.stdout
