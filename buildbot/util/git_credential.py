"""Credentials for git over HTTP(S): `util.GitCredentialOptions` (what a Git step or
GitPoller hands to git's credential store) and `util.GitCredentialInputRenderer` (one
credential in git-credential's input format, from renderable attributes)."""

from __future__ import annotations

from typing import Any, NamedTuple

from buildbot.util.comparable import ComparableMixin


class GitCredentialInputRenderer(ComparableMixin):
    """`GitCredentialInputRenderer(url=..., username=..., password=...)`: renders to
    "key=value" lines (https://git-scm.com/docs/git-credential#IOFMT). `url` comes first,
    since git resets the other attributes when it reads one; attributes rendering to None
    are left out. Marked IRenderable where the git steps and poller are defined (this layer
    may not import the interfaces)."""

    compare_attrs = ("_credential_attributes",)

    def __init__(self, **credential_attributes: Any) -> None:
        self._credential_attributes: dict[str, Any] = credential_attributes

    async def _render(self, build: Any) -> str:
        props = build.getProperties()
        ordered = sorted(self._credential_attributes.items(), key=lambda kv: kv[0] != "url")
        lines = []
        for key, value in ordered:
            rendered = await props.render(value)
            if rendered is not None:
                lines.append(f"{key}={rendered}\n")
        return "".join(lines)

    def getRenderingFor(self, build: Any) -> Any:
        from twisted.internet import defer

        return defer.ensureDeferred(self._render(build))


class GitCredentialOptions(NamedTuple):
    """`credentials`: git-credential inputs (strings or renderables), stored with `git
    credential approve` before git runs; `use_http_path`: git's `credential.useHttpPath`
    (None: git's default)."""

    credentials: list[Any]
    use_http_path: bool | None = None


def add_user_password_to_credentials(auth_credentials: tuple[Any, Any], url: Any,
                                     credential_options: GitCredentialOptions | None
                                     ) -> GitCredentialOptions:
    """`credential_options` (a copy) with `(username, password)` for `url` first."""
    username, password = auth_credentials
    first = GitCredentialInputRenderer(url=url, username=username, password=password)
    if credential_options is None:
        return GitCredentialOptions(credentials=[first])
    return GitCredentialOptions(credentials=[first, *credential_options.credentials],
                                use_http_path=credential_options.use_http_path)


# git subcommands that may talk to a remote (and so need the credentials)
COMMANDS_USING_REMOTES = frozenset({"clone", "credential", "checkout", "fetch", "ls-remote",
                                    "push", "submodule"})


def credential_options(auth_credentials: Any, git_credentials: GitCredentialOptions | None,
                       repourl: Any) -> GitCredentialOptions | None:
    """The credentials a Git step or GitPoller stores for git: `git_credentials`, preceded
    by `auth_credentials` ((username, password) for `repourl`) when given."""
    if auth_credentials is None:
        return git_credentials
    return add_user_password_to_credentials(auth_credentials, repourl, git_credentials)


def credential_store_options(options: GitCredentialOptions, store_path: str) -> list[str]:
    """git options making a command use only the credential store file `store_path`."""
    args = ["-c", "credential.helper=", "-c", f'credential.helper=store "--file={store_path}"']
    if options.use_http_path is not None:
        args += ["-c", f"credential.useHttpPath={'true' if options.use_http_path else 'false'}"]
    return args


__all__ = ["GitCredentialInputRenderer", "GitCredentialOptions",
           "add_user_password_to_credentials"]
