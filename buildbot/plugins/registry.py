"""Where each component of the `buildbot.plugins` namespaces lives.

For every namespace (`steps`, `util`, ...), a map from module to the names it provides,
space-separated; `name=attr` when the attribute in the module has another name (dotted
names such as `svn.split_file_branches` form sub-namespaces). This is the reference's
plugin inventory (its entry points), pointing at the same module paths, which are also
import paths users rely on; `builtin_entries` turns it into name -> (module, attribute).

Every name listed here exists (tests/test_plugins.py imports each one).
"""

from __future__ import annotations

import functools

NAMESPACES = ("changes", "reporters", "schedulers", "secrets", "steps", "util", "webhooks",
              "worker")
# Entry point groups `buildbot.<name>` our distribution declares (setup.py reads this).
ENTRY_POINT_GROUPS = (*NAMESPACES, "machine")

BUILTIN: dict[str, dict[str, str]] = {
    "changes": {
        "buildbot.changes.bitbucket": "BitbucketPullrequestPoller",
        "buildbot.changes.gerritchangesource": "GerritChangeSource GerritEventLogPoller",
        "buildbot.changes.github": "GitHubPullrequestPoller",
        "buildbot.changes.gitpoller": "GitPoller",
        "buildbot.changes.hgpoller": "HgPoller",
        "buildbot.changes.mail": (
            "BzrLaunchpadEmailMaildirSource CVSMaildirSource MaildirSource "
            "SVNCommitEmailMaildirSource"
        ),
        "buildbot.changes.p4poller": "P4Source",
        "buildbot.changes.pb": "PBChangeSource",
        "buildbot.changes.svnpoller": "SVNPoller",
    },
    "reporters": {
        "buildbot.reporters.bitbucket": "BitbucketStatusPush",
        "buildbot.reporters.bitbucketserver": (
            "BitbucketServerCoreAPIStatusPush BitbucketServerPRCommentPush "
            "BitbucketServerStatusPush"
        ),
        "buildbot.reporters.generators.build": "BuildStartEndStatusGenerator BuildStatusGenerator",
        "buildbot.reporters.generators.buildrequest": "BuildRequestGenerator",
        "buildbot.reporters.generators.buildset": (
            "BuildSetCombinedStatusGenerator BuildSetStatusGenerator"
        ),
        "buildbot.reporters.generators.worker": "WorkerMissingGenerator",
        "buildbot.reporters.gerrit": "GerritStatusPush",
        "buildbot.reporters.gerrit_verify_status": "GerritVerifyStatusPush",
        "buildbot.reporters.github": "GitHubCommentPush GitHubStatusPush",
        "buildbot.reporters.gitlab": "GitLabStatusPush",
        "buildbot.reporters.http": "HttpStatusPush",
        "buildbot.reporters.irc": "IRC",
        "buildbot.reporters.mail": "MailNotifier",
        "buildbot.reporters.message": (
            "MessageFormatter MessageFormatterEmpty MessageFormatterFunction "
            "MessageFormatterFunctionRaw MessageFormatterMissingWorker MessageFormatterRenderable"
        ),
        "buildbot.reporters.pushjet": "PushjetNotifier",
        "buildbot.reporters.pushover": "PushoverNotifier",
        "buildbot.reporters.telegram": "TelegramBot",
        "buildbot.reporters.zulip": "ZulipStatusPush",
    },
    "schedulers": {
        "buildbot.schedulers.basic": "AnyBranchScheduler SingleBranchScheduler",
        "buildbot.schedulers.dependent": "Dependent",
        "buildbot.schedulers.forcesched": "ForceScheduler",
        "buildbot.schedulers.timed": "Nightly NightlyTriggerable Periodic",
        "buildbot.schedulers.triggerable": "Triggerable",
        "buildbot.schedulers.trysched": "Try_Jobdir Try_Userpass",
    },
    "secrets": {
        "buildbot.secrets.providers.file": "SecretInAFile",
        "buildbot.secrets.providers.passwordstore": "SecretInPass",
        "buildbot.secrets.providers.vault_hvac": (
            "HashiCorpVaultKvSecretProvider VaultAuthenticatorApprole VaultAuthenticatorToken"
        ),
    },
    "steps": {
        "buildbot.process.buildstep": "BuildStep",
        "buildbot.steps.cmake": "CMake",
        "buildbot.steps.configurable": "BuildbotCiSetupSteps BuildbotTestCiTrigger",
        "buildbot.steps.cppcheck": "Cppcheck",
        "buildbot.steps.gitdiffinfo": "GitDiffInfo",
        "buildbot.steps.http": "DELETE GET HEAD HTTPStep OPTIONS POST PUT",
        "buildbot.steps.master": (
            "Assert LogRenderable MasterShellCommand SetProperties SetProperty"
        ),
        "buildbot.steps.maxq": "MaxQ",
        "buildbot.steps.mswin": "Robocopy",
        "buildbot.steps.package.deb.lintian": "DebLintian",
        "buildbot.steps.package.deb.pbuilder": (
            "DebCowbuilder DebPbuilder UbuCowbuilder UbuPbuilder"
        ),
        "buildbot.steps.package.rpm.mock": "Mock MockBuildSRPM MockRebuild",
        "buildbot.steps.package.rpm.rpmbuild": "RpmBuild",
        "buildbot.steps.package.rpm.rpmlint": "RpmLint",
        "buildbot.steps.python": "BuildEPYDoc PyFlakes PyLint Sphinx",
        "buildbot.steps.python_twisted": "HLint RemovePYCs Trial",
        "buildbot.steps.shell": (
            "Compile Configure PerlModuleTest SetPropertyFromCommand ShellCommand Test TreeSize "
            "WarningCountingShellCommand"
        ),
        "buildbot.steps.shellsequence": "ShellSequence",
        "buildbot.steps.source.bzr": "Bzr",
        "buildbot.steps.source.cvs": "CVS",
        "buildbot.steps.source.darcs": "Darcs",
        "buildbot.steps.source.gerrit": "Gerrit",
        "buildbot.steps.source.git": "Git GitCommit GitPush GitTag",
        "buildbot.steps.source.github": "GitHub",
        "buildbot.steps.source.gitlab": "GitLab",
        "buildbot.steps.source.mercurial": "Mercurial",
        "buildbot.steps.source.mtn": "Monotone",
        "buildbot.steps.source.p4": "P4",
        "buildbot.steps.source.repo": "Repo",
        "buildbot.steps.source.svn": "SVN",
        "buildbot.steps.subunit": "SubunitShellCommand",
        "buildbot.steps.transfer": (
            "DirectoryUpload FileDownload FileUpload JSONPropertiesDownload JSONStringDownload "
            "MultipleFileUpload StringDownload"
        ),
        "buildbot.steps.trigger": "Trigger",
        "buildbot.steps.vstudio": (
            "MsBuild MsBuild12 MsBuild14 MsBuild141 MsBuild15 MsBuild16 MsBuild17 MsBuild4 VC10 "
            "VC11 VC12 VC14 VC141 VC6 VC7 VC8 VC9 VCExpress9 VS2003 VS2005 VS2008 VS2010 VS2012 "
            "VS2013 VS2015 VS2017 VS2019 VS2022"
        ),
        "buildbot.steps.worker": (
            "CopyDirectory FileExists MakeDirectory RemoveDirectory SetPropertiesFromEnv"
        ),
    },
    "util": {
        "buildbot.changes.filter": "ChangeFilter",
        "buildbot.changes.gerritchangesource": "GerritChangeFilter",
        "buildbot.changes.svnpoller": (
            "svn.split_file_alwaystrunk=split_file_alwaystrunk "
            "svn.split_file_branches=split_file_branches "
            "svn.split_file_projects_branches=split_file_projects_branches"
        ),
        "buildbot.config.builder": "BuilderConfig",
        "buildbot.configurators.janitor": "JanitorConfigurator",
        "buildbot.db.dbconfig": "DbConfig",
        "buildbot.locks": "MasterLock WorkerLock",
        "buildbot.manhole": "AuthorizedKeysManhole PasswordManhole TelnetManhole",
        "buildbot.process.builder": "enforceChosenWorker",
        "buildbot.process.codebase": "Codebase",
        "buildbot.process.factory": (
            "BasicBuildFactory BasicSVN BuildFactory CPAN Distutils GNUAutoconf QuickBuildFactory "
            "Trial"
        ),
        "buildbot.process.logobserver": "LogLineObserver",
        "buildbot.process.project": "Project",
        "buildbot.process.properties": (
            "FlattenList Interpolate Property renderer Secret Transform WithProperties"
        ),
        "buildbot.process.results": (
            "CANCELLED EXCEPTION FAILURE Results RETRY SKIPPED SUCCESS WARNINGS"
        ),
        "buildbot.process.users.manual": "CommandlineUserManager",
        "buildbot.reporters.utils": "URLForBuild",
        "buildbot.revlinks": "RevlinkMatch",
        "buildbot.schedulers.canceller": "OldBuildCanceller",
        "buildbot.schedulers.canceller_buildset": "FailingBuildsetCanceller",
        "buildbot.schedulers.forcesched": (
            "AnyPropertyParameter BooleanParameter ChoiceStringParameter CodebaseParameter "
            "FileParameter FixedParameter InheritBuildParameter IntParameter NestedParameter "
            "ParameterGroup PatchParameter StringParameter TextParameter UserNameParameter "
            "WorkerChoiceParameter"
        ),
        "buildbot.steps.shellsequence": "ShellArg",
        "buildbot.steps.source.repo": (
            "repo.DownloadsFromChangeSource=RepoDownloadsFromChangeSource "
            "repo.DownloadsFromProperties=RepoDownloadsFromProperties"
        ),
        "buildbot.util.git_credential": "GitCredentialInputRenderer GitCredentialOptions",
        "buildbot.util.kubeclientservice": (
            "KubeCtlProxyConfigLoader KubeHardcodedConfig KubeInClusterConfigLoader"
        ),
        "buildbot.util.ssfilter": "SourceStampFilter",
        "buildbot.worker.libvirt": "Connection",
        "buildbot.www.auth": "CustomAuth HTPasswdAuth RemoteUserAuth UserPasswordAuth",
        "buildbot.www.authz": "Authz fnmatchStrMatcher reStrMatcher",
        "buildbot.www.authz.endpointmatchers": (
            "AnyControlEndpointMatcher AnyEndpointMatcher EnableSchedulerEndpointMatcher "
            "ForceBuildEndpointMatcher RebuildBuildEndpointMatcher StopBuildEndpointMatcher"
        ),
        "buildbot.www.authz.roles": (
            "RolesFromDomain RolesFromEmails RolesFromGroups RolesFromOwner RolesFromUsername"
        ),
        "buildbot.www.avatar": "AvatarGitHub AvatarGravatar",
        "buildbot.www.ldapuserinfo": "LdapUserInfo",
        "buildbot.www.oauth2": "BitbucketAuth GitHubAuth GitLabAuth GoogleAuth",
    },
    # Not a `buildbot.plugins` namespace, but an entry point group of the distribution.
    "machine": {
        "buildbot.machine.base": "Machine",
    },
    "webhooks": {
        "buildbot.www.hooks.base": "base",
        "buildbot.www.hooks.bitbucket": "bitbucket",
        "buildbot.www.hooks.bitbucketcloud": "bitbucketcloud",
        "buildbot.www.hooks.bitbucketserver": "bitbucketserver",
        "buildbot.www.hooks.github": "github",
        "buildbot.www.hooks.gitlab": "gitlab",
        "buildbot.www.hooks.gitorious": "gitorious",
        "buildbot.www.hooks.poller": "poller",
    },
    "worker": {
        "buildbot.worker.base": "Worker",
        "buildbot.worker.docker": "DockerLatentWorker",
        "buildbot.worker.ec2": "EC2LatentWorker",
        "buildbot.worker.kubernetes": "KubeLatentWorker",
        "buildbot.worker.libvirt": "LibVirtWorker",
        "buildbot.worker.local": "LocalWorker",
        "buildbot.worker.openstack": "OpenStackLatentWorker",
    },
}


@functools.cache
def builtin_entries(namespace: str) -> dict[str, tuple[str, str]]:
    """name -> (module, attribute) of the built-in components of `namespace` ({} if none)."""
    entries: dict[str, tuple[str, str]] = {}
    for module, names in BUILTIN.get(namespace, {}).items():
        for item in names.split():
            name, _, attr = item.partition("=")
            entries[name] = (module, attr or name)
    return entries
