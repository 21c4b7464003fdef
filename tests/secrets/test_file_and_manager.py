"""SecretInAFile and the secrets manager, through a running master (real files, real
services), plus 4.3's checking helpers of the file and pass providers."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
import pytest_twisted

from buildbot.config.errors import capture_config_errors
from buildbot.plugins import secrets, util
from buildbot.secrets.secret import SecretDetails
from tests.fixtures.master import running_master
from tests.reporters.builds import master_config


def secret_dir(tmp_path: Path, files: dict[str, str], mode: int = 0o600) -> Path:
    d = tmp_path / "secrets"
    d.mkdir()
    for name, text in files.items():
        (d / name).write_text(text)
        os.chmod(d / name, mode)
    return d


def config_errors(fn: Callable[..., object], *args: object) -> list[str]:
    with capture_config_errors(raise_on_error=False) as errors:
        fn(*args)
    return list(errors.errors)


def test_file_provider_checks_and_loads(tmp_path: Path) -> None:
    d = secret_dir(tmp_path, {"tok.pw": "T\n\n", "user": "U\r\n", "other.txt": "x"})
    os.chmod(d / "other.txt", 0o644)
    provider = secrets.SecretInAFile(dirname=str(d), suffixes=[".pw"])
    # only files matching a suffix are checked: other.txt is open but not a secret here
    assert config_errors(provider.checkSecretDirectoryIsAvailableAndReadable,
                         str(d), [".pw"]) == []
    assert config_errors(provider.checkFileIsReadOnly, str(d), "other.txt") == [
        "Permissions 0o644 on file other.txt are too open. It is required that your secret "
        "files are NOT accessible by others!"]
    assert config_errors(provider.checkSecretDirectoryIsAvailableAndReadable,
                         str(tmp_path / "nope"), [""]) == [
        f"directory {tmp_path / 'nope'} does not exists"]
    assert provider.loadSecrets(str(d), [".pw"], True) == {"tok": "T"}
    assert provider.loadSecrets(str(d), [".pw", ""], False) == {
        "tok": "T\n\n", "tok.pw": "T\n\n", "user": "U\n", "other.txt": "x"}  # text mode


def test_pass_provider_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    provider = secrets.SecretInPass.__new__(secrets.SecretInPass)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert config_errors(provider.checkPassIsInPath) == ["pass does not exist in PATH"]
    fake_pass = tmp_path / "pass"
    fake_pass.write_text("#!/bin/sh\n")
    fake_pass.chmod(0o755)
    assert config_errors(provider.checkPassIsInPath) == []
    assert config_errors(provider.checkPassDirectoryIsAvailableAndReadable,
                         str(tmp_path / "store")) == [
        f"directory {tmp_path / 'store'} does not exist"]
    assert config_errors(provider.checkPassDirectoryIsAvailableAndReadable,
                         str(tmp_path)) == []


@pytest.mark.integration
@pytest_twisted.ensureDeferred
async def test_manager_asks_providers_in_order_and_follows_reconfig(tmp_path: Path) -> None:
    first = secret_dir(tmp_path, {"tok": "from-first"})
    second = tmp_path / "second"
    second.mkdir()
    for name, text in {"tok": "from-second", "only2": "two"}.items():
        (second / name).write_text(text)
        os.chmod(second / name, 0o600)
    cfg = master_config(secretsProviders=[
        secrets.SecretInAFile(name="a", dirname=str(first)),
        secrets.SecretInAFile(name="b", dirname=str(second))])
    async with running_master(tmp_path / "m", cfg) as master:
        manager = master.secrets_manager
        assert manager.config_attr == "secretsProviders"
        assert list(manager.get_service_config(master.config)) == ["a", "b"]
        assert [c["name"] for c in manager.getConfigDict()["childs"]] == ["a", "b"]
        assert all(p.running for p in manager.providers)
        assert await manager.get_details("tok") == SecretDetails("SecretInAFile", "tok",
                                                                 "from-first")
        assert (await manager.get("only2")).value == "two"
        assert await manager.get("missing") is None
        assert await master.render_secrets(util.Interpolate("%(secret:tok)s")) == "from-first"

        # the order of the configuration wins; a provider gone from it stops
        old_a, old_b = manager.namedServices["a"], manager.namedServices["b"]
        new = SimpleNamespace(secretsProviders=[
            secrets.SecretInAFile(name="b", dirname=str(second)),
            secrets.SecretInAFile(name="a", dirname=str(first))])
        await manager.reconfigServiceWithBuildbotConfig(new)
        assert manager.providers == [old_b, old_a]
        assert (await manager.get("tok")).value == "from-second"
        # an unchanged provider still reads its files again (a rotated secret)
        (second / "tok").write_text("rotated")
        await manager.reconfigServiceWithBuildbotConfig(new)
        assert (await manager.get("tok")).value == "rotated"
        # setup() applies the master's current configuration
        master.config.secretsProviders = [secrets.SecretInAFile(name="a", dirname=str(first))]
        await manager.setup()
        assert manager.providers == [old_a] and old_a.running and not old_b.running
        assert await manager.get("only2") is None

        new = SimpleNamespace(secretsProviders=[secrets.SecretInAFile(dirname=str(first)),
                                                secrets.SecretInAFile(dirname=str(second))])
        with pytest.raises(ValueError, match="share the same name"):
            await manager.reconfigServiceWithBuildbotConfig(new)
