"""GitStepMixin's view of the worker's git: features by version, and how a private key
reaches git for each generation of git (4.3's adjustCommandParamsForSshPrivateKey)."""

from __future__ import annotations

import pytest

from buildbot.plugins import steps, util


def _git_of(version: str) -> steps.Git:
    step = steps.Git(repourl="ssh://h/r.git")
    step.setupGit()
    step.parseGitFeatures(f"git version {version}\n")
    return step


def test_setup_git_forgets_every_feature() -> None:
    step = _git_of("2.40.1")
    assert step.supportsSshPrivateKeyAsConfigOption and step.supportsFilters
    step.setupGit()
    assert not (step.gitInstalled or step.supportsBranch or step.supportsFilters
                or step.supportsSshPrivateKeyAsEnvOption)


@pytest.mark.parametrize("version,command,env", [
    ("2.10.0", ["-c", 'core.sshCommand=ssh -o "BatchMode=yes" -i "/k"'], {}),
    ("2.3.0", [], {"GIT_SSH_COMMAND": 'ssh -o "BatchMode=yes" -i "/k"'}),
    ("2.2.9", [], {"GIT_SSH": "/w.sh"}),
])
def test_key_reaches_git_by_version(version: str, command: list[str],
                                    env: dict[str, str]) -> None:
    got_command: list[str] = []
    got_env: dict[str, str] = {}
    _git_of(version).adjustCommandParamsForSshPrivateKey(got_command, got_env, "/k", "/w.sh")
    assert (got_command, got_env) == (command, env)


def test_old_git_without_wrapper_path_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="wrapper script"):
        _git_of("1.9.0").adjustCommandParamsForSshPrivateKey([], {}, "/k")


def test_known_hosts_path_goes_into_the_ssh_command() -> None:
    env: dict[str, str] = {}
    _git_of("2.5.0").adjustCommandParamsForSshPrivateKey([], env, "/k", None, "/hosts")
    assert env["GIT_SSH_COMMAND"].endswith('-o "UserKnownHostsFile=/hosts"')


def test_setup_git_auth_replaces_the_credentials() -> None:
    step = steps.GitPush(repourl="ssh://h/r.git", branch="main", sshPrivateKey="old")
    options = util.GitCredentialOptions(credentials=["url=https://h\nusername=u\n"])
    step.setup_git_auth("key", None, "hosts", options)
    assert (step.sshPrivateKey, step.sshHostKey, step.sshKnownHosts) == ("key", None, "hosts")
    assert step.git_credential_options is options
