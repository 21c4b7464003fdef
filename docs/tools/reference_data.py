"""Hand-written facts the reference generator cannot read from the code.

`CONFIG_KEYS`: for every `c[...]` key, its type, an example and the page that explains it.
Defaults are not written here: gen_reference.py reads them from a fresh `MasterConfig`.
`PLUGIN_EXAMPLES`: examples for the most used plugins (tests/docs runs each one, as master.cfg
code, inside the configuration loader's error capture, so they stay valid); the other plugins
get an example built from their required arguments. `UTIL_SECTIONS`: how the `util`
namespace is grouped.
`MORE_PLUGINS`: where to find the components 4.3 makes importable by module path only (not
through `buildbot.plugins`): public 4.3 classes of those packages deriving from that base.
"""

from __future__ import annotations

from typing import NamedTuple


class KeyDoc(NamedTuple):
    """One `c[...]` key: its accepted type, an example line and where it is explained."""

    type: str
    example: str
    see: str


MASTER_CFG = "../master-cfg.md"

CONFIG_KEYS: dict[str, KeyDoc] = {
    "title": KeyDoc("str", "c['title'] = 'Hello World CI'", f"{MASTER_CFG}#site-identity"),
    "titleURL": KeyDoc("str (a `/` is appended)", "c['titleURL'] = 'https://example.org/'",
                       f"{MASTER_CFG}#site-identity"),
    "buildbotURL": KeyDoc("str (a `/` is appended)",
                          "c['buildbotURL'] = 'https://ci.example.org/'",
                          f"{MASTER_CFG}#site-identity"),
    "buildbotNetUsageData": KeyDoc("None, str or callable (accepted, never used)",
                                   "c['buildbotNetUsageData'] = None",
                                   f"{MASTER_CFG}#site-identity"),
    "workers": KeyDoc("list of workers", "c['workers'] = [worker.Worker('w1', 'pass')]",
                      "../workers.md"),
    "protocols": KeyDoc("dict: protocol name -> dict of options",
                        "c['protocols'] = {'pb': {'port': 9989}}", f"{MASTER_CFG}#protocols"),
    "builders": KeyDoc("list of `util.BuilderConfig`",
                       "c['builders'] = [util.BuilderConfig(name='b', workernames=['w1'], "
                       "factory=f)]", f"{MASTER_CFG}#builders"),
    "schedulers": KeyDoc("list of schedulers",
                         "c['schedulers'] = [schedulers.ForceScheduler(name='force', "
                         "builderNames=['b'])]", "../configuration.md#schedulers-cschedulers"),
    "change_source": KeyDoc("a change source or a list of them",
                            "c['change_source'] = [changes.GitPoller('https://example.org/r."
                            "git', branches=True)]",
                            "../configuration.md#change-sources-cchange_source"),
    "services": KeyDoc("list of services (reporters, cancellers, any `BuildbotService`)",
                       "c['services'] = [reporters.HttpStatusPush('https://example.org/hook')]",
                       f"{MASTER_CFG}#services"),
    "secretsProviders": KeyDoc("list of secret providers",
                               "c['secretsProviders'] = [secrets.SecretInAFile('/etc/bb-secrets')]",
                               f"{MASTER_CFG}#secrets"),
    "properties": KeyDoc("dict: name -> value", "c['properties'] = {'release': '1.2'}",
                         f"{MASTER_CFG}#global-properties"),
    "db": KeyDoc("dict with `db_url` (str or renderable) and `engine_kwargs` (dict)",
                 "c['db'] = {'db_url': 'postgresql://bb:pw@db/bb'}", f"{MASTER_CFG}#database"),
    "db_url": KeyDoc("str (old spelling of `c['db']['db_url']`)",
                     "c['db_url'] = 'sqlite:///state.sqlite'", f"{MASTER_CFG}#database"),
    "mq": KeyDoc("dict with `type` ('simple', 'wamp' or 'amqp') and its options",
                 "c['mq'] = {'type': 'amqp', 'url': 'amqp://guest:guest@mq:5672/'}",
                 f"{MASTER_CFG}#message-queue"),
    "www": KeyDoc("dict of web server settings",
                  "c['www'] = {'port': 8010, 'plugins': {'waterfall_view': {}}}",
                  f"{MASTER_CFG}#web-server"),
    "caches": KeyDoc("dict: cache name -> size (int)",
                     "c['caches'] = {'Builds': 50, 'Changes': 100, 'chdicts': 100}",
                     f"{MASTER_CFG}#caches"),
    "buildCacheSize": KeyDoc("int (old spelling of `c['caches']['Builds']`)",
                             "c['buildCacheSize'] = 50", f"{MASTER_CFG}#caches"),
    "changeCacheSize": KeyDoc("int (old spelling of `c['caches']['Changes']`)",
                              "c['changeCacheSize'] = 100", f"{MASTER_CFG}#caches"),
    "changeHorizon": KeyDoc("int or None: changes kept in the database",
                            "c['changeHorizon'] = 2000", f"{MASTER_CFG}#housekeeping"),
    "logCompressionLimit": KeyDoc("int (bytes): logs smaller than this are stored raw",
                                  "c['logCompressionLimit'] = 16384",
                                  f"{MASTER_CFG}#logs"),
    "logCompressionMethod": KeyDoc("'raw', 'gz', 'bz2', 'lz4', 'zstd' or 'br'",
                                   "c['logCompressionMethod'] = 'gz'", f"{MASTER_CFG}#logs"),
    "logEncoding": KeyDoc("str: encoding of worker output", "c['logEncoding'] = 'latin-1'",
                          f"{MASTER_CFG}#logs"),
    "logMaxSize": KeyDoc("int or None (bytes per log)", "c['logMaxSize'] = 10 * 1024 * 1024",
                         f"{MASTER_CFG}#logs"),
    "logMaxTailSize": KeyDoc("int or None (bytes kept after logMaxSize)",
                             "c['logMaxTailSize'] = 32768", f"{MASTER_CFG}#logs"),
    "collapseRequests": KeyDoc("bool or callable(master, builder, req1, req2)",
                               "c['collapseRequests'] = False",
                               f"{MASTER_CFG}#collapsing-build-requests"),
    "codebaseGenerator": KeyDoc("callable(change dict) -> str",
                                "c['codebaseGenerator'] = lambda chdict: "
                                "chdict['repository'].rsplit('/', 1)[-1]",
                                f"{MASTER_CFG}#codebases"),
    "codebases": KeyDoc("list of `util.Codebase`",
                        "c['codebases'] = [util.Codebase(name='app', project='p')]",
                        f"{MASTER_CFG}#codebases"),
    "projects": KeyDoc("list of `util.Project`",
                       "c['projects'] = [util.Project(name='p', slug='p')]",
                       f"{MASTER_CFG}#builders"),
    "prioritizeBuilders": KeyDoc("callable(master, builders) -> builders",
                                 "c['prioritizeBuilders'] = lambda master, builders: "
                                 "sorted(builders, key=lambda b: b.name)",
                                 f"{MASTER_CFG}#choosing-builders-and-workers"),
    "select_next_worker": KeyDoc("callable(builder, workers, request) -> worker",
                                 "c['select_next_worker'] = lambda bldr, wfbs, br: wfbs[0]",
                                 f"{MASTER_CFG}#choosing-builders-and-workers"),
    "revlink": KeyDoc("callable(revision, repository) -> URL or None",
                      "c['revlink'] = util.RevlinkMatch([r'https://example.org/(.*)'], "
                      "r'https://example.org/\\1/commit/%s')", f"{MASTER_CFG}#revision-links"),
    "validation": KeyDoc("dict: field -> compiled regex",
                         "c['validation'] = {'branch': re.compile(r'^[\\w./-]+$')}",
                         f"{MASTER_CFG}#validation"),
    "multiMaster": KeyDoc("bool", "c['multiMaster'] = True", "../multi-master.md"),
    "masterHeartbeat": KeyDoc("dict with `interval` and `expiry` (seconds); ours",
                              "c['masterHeartbeat'] = {'interval': 5, 'expiry': 30}",
                              "../multi-master.md"),
    "manhole": KeyDoc("a manhole (`util.PasswordManhole`, ...)",
                      "c['manhole'] = util.PasswordManhole('tcp:1234:interface=127.0.0.1', "
                      "'admin', 'pw', ssh_hostkey_dir='ssh_host_keys')",
                      "../configuration.md#manhole-cmanhole"),
    "metrics": KeyDoc("dict (accepted; periodic metric logging)",
                      "c['metrics'] = {'log_interval': 10}", f"{MASTER_CFG}#metrics"),
    "machines": KeyDoc("list of machines", "c['machines'] = [...]", "../workers.md#machines"),
    "configurators": KeyDoc("list of configurators",
                            "c['configurators'] = [util.JanitorConfigurator("
                            "logHorizon=timedelta(weeks=4), hour=12)]",
                            f"{MASTER_CFG}#housekeeping"),
    "user_managers": KeyDoc("list of user managers",
                            "c['user_managers'] = [util.CommandlineUserManager("
                            "username='u', passwd='p', port=9990)]",
                            "../configuration.md#user-manager-cuser_managers"),
}

# How `MasterConfig` stores each key (when the attribute is not spelled like the key),
# and defaults that are clearer written out than printed.
CONFIG_ATTRIBUTE = {"change_source": "change_sources", "db_url": "db",
                    "buildCacheSize": "caches", "changeCacheSize": "caches"}
DEFAULT_TEXT = {
    "revlink": "`buildbot.revlinks.default_revlink_matcher` (GitHub, GitLab, SourceForge, "
               "Bitbucket URLs)",
    "logCompressionMethod": "`'zstd'` (zstandard is a dependency; `'gz'` without it)",
    "db_url": "`'sqlite:///state.sqlite'`",
    "buildCacheSize": "15",
    "changeCacheSize": "10",
    "properties": "`{}`",
    "validation": "branch, revision, property_name, property_value patterns (see master-cfg.md)",
}

UTIL_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Builders, factories and locks", (
        "buildbot.config.builder", "buildbot.process.factory", "buildbot.process.builder",
        "buildbot.locks", "buildbot.process.project", "buildbot.process.codebase")),
    ("Properties, renderables and results", (
        "buildbot.process.properties", "buildbot.process.results",
        "buildbot.steps.shellsequence", "buildbot.process.logobserver")),
    ("Web authentication and avatars", (
        "buildbot.www.auth", "buildbot.www.oauth2", "buildbot.www.ldapuserinfo",
        "buildbot.www.avatar")),
    ("Authorization: Authz, endpoint matchers, role matchers", ("buildbot.www.authz",)),
    ("Force scheduler parameters", ("buildbot.schedulers.forcesched",)),
    ("Change filters and repository helpers", (
        "buildbot.changes", "buildbot.util.ssfilter", "buildbot.revlinks",
        "buildbot.steps.source.repo", "buildbot.util.git_credential")),
    ("Other utilities", ("",)),
)

PLUGIN_EXAMPLES: dict[str, str] = {
    "steps.ShellCommand": "steps.ShellCommand(command=['make', 'test'], haltOnFailure=True)",
    "steps.Git": "steps.Git(repourl='https://github.com/buildbot/hello-world.git', "
                 "mode='incremental')",
    "steps.SVN": "steps.SVN(repourl='svn://svn.example.org/repo/trunk', mode='full', "
                 "method='fresh')",
    "steps.Mercurial": "steps.Mercurial(repourl='https://hg.example.org/repo', "
                       "branchType='inrepo')",
    "steps.Compile": "steps.Compile(command=['make', '-j4'])",
    "steps.Test": "steps.Test(command=['make', 'check'])",
    "steps.Configure": "steps.Configure(command=['./configure', '--prefix=/usr'])",
    "steps.SetPropertyFromCommand": "steps.SetPropertyFromCommand(command='git rev-parse "
                                    "HEAD', property='got_sha')",
    "steps.SetProperty": "steps.SetProperty(property='stage', value='release')",
    "steps.SetProperties": "steps.SetProperties(properties={'a': '1', 'b': '2'})",
    "steps.MasterShellCommand": "steps.MasterShellCommand(command=['touch', 'built'])",
    "steps.Trigger": "steps.Trigger(schedulerNames=['tests'], waitForFinish=True)",
    "steps.FileUpload": "steps.FileUpload(workersrc='dist/app.tar.gz', "
                        "masterdest='~/public_html/app.tar.gz')",
    "steps.FileDownload": "steps.FileDownload(mastersrc='files/settings.ini', "
                          "workerdest='settings.ini')",
    "steps.DirectoryUpload": "steps.DirectoryUpload(workersrc='docs/_build', "
                             "masterdest='/srv/www/docs')",
    "steps.StringDownload": "steps.StringDownload('key=value\\n', workerdest='config.txt')",
    "steps.RemoveDirectory": "steps.RemoveDirectory(dir='build/tmp')",
    "steps.MakeDirectory": "steps.MakeDirectory(dir='build/out')",
    "steps.ShellSequence": "steps.ShellSequence(commands=[util.ShellArg(command=['make']), "
                           "util.ShellArg(command=['make', 'install'])])",
    "steps.PyLint": "steps.PyLint(command=['pylint', 'src'])",
    "steps.Sphinx": "steps.Sphinx(sphinx_builddir='_build', sphinx_sourcedir='docs')",
    "steps.Trial": "steps.Trial(tests='mypackage.test', testpath='.')",
    "steps.GET": "steps.GET('https://example.org/health')",
    "steps.POST": "steps.POST('https://example.org/deploy', json={'env': 'staging'})",
    "changes.GitPoller": "changes.GitPoller('https://github.com/buildbot/hello-world.git', "
                         "branches=['main'], pollInterval=300)",
    "changes.PBChangeSource": "changes.PBChangeSource(user='change', passwd='changepw', "
                              "port=9999)",
    "changes.SVNPoller": "changes.SVNPoller(repourl='svn://svn.example.org/repo/trunk')",
    "changes.HgPoller": "changes.HgPoller(repourl='https://hg.example.org/repo', "
                        "branches=['default'], workdir='hgpoller-work')",
    "schedulers.SingleBranchScheduler": (
        "schedulers.SingleBranchScheduler(name='main', builderNames=['build'], "
        "change_filter=util.ChangeFilter(branch='main'), treeStableTimer=60)"),
    "schedulers.AnyBranchScheduler": "schedulers.AnyBranchScheduler(name='all', "
                                     "builderNames=['build'])",
    "schedulers.ForceScheduler": "schedulers.ForceScheduler(name='force', "
                                 "builderNames=['build'])",
    "schedulers.Nightly": "schedulers.Nightly(name='nightly', builderNames=['build'], "
                          "hour=3, minute=0)",
    "schedulers.Periodic": "schedulers.Periodic(name='hourly', builderNames=['build'], "
                           "periodicBuildTimer=3600)",
    "schedulers.Triggerable": "schedulers.Triggerable(name='tests', builderNames=['test'])",
    "schedulers.Dependent": "schedulers.Dependent(name='after', upstream=schedulers."
                            "ForceScheduler(name='up', builderNames=['build']), "
                            "builderNames=['deploy'])",
    "schedulers.Try_Userpass": "schedulers.Try_Userpass(name='try', builderNames=['build'], "
                               "port=8031, userpass=[('alice', 'pw')])",
    "reporters.MailNotifier": "reporters.MailNotifier(fromaddr='ci@example.org', "
                              "relayhost='smtp.example.org')",
    "reporters.HttpStatusPush": "reporters.HttpStatusPush(serverUrl='https://example.org/hook')",
    "reporters.GitHubStatusPush": "reporters.GitHubStatusPush(token=util.Secret('github'))",
    "reporters.GitLabStatusPush": "reporters.GitLabStatusPush(token=util.Secret('gitlab'))",
    "reporters.BuildStatusGenerator": "reporters.BuildStatusGenerator(mode=('failing',))",
    "reporters.MessageFormatter": "reporters.MessageFormatter(template='{{ summary }}', "
                                  "template_type='plain')",
    "worker.Worker": "worker.Worker('linux-1', 'secret', max_builds=2)",
    "worker.LocalWorker": "worker.LocalWorker('local')",
    "worker.DockerLatentWorker": "worker.DockerLatentWorker('docker-1', 'secret', "
                                 "docker_host='unix:///var/run/docker.sock', "
                                 "image='buildbot/buildbot-worker:latest')",
    "secrets.SecretInAFile": "secrets.SecretInAFile(dirname='/etc/buildbot/secrets')",
    "util.BuilderConfig": "util.BuilderConfig(name='build', workernames=['linux-1'], "
                          "factory=util.BuildFactory())",
    "util.BuildFactory": "util.BuildFactory([steps.ShellCommand(command=['make'])])",
    "util.MasterLock": "util.MasterLock('deploy', maxCount=1)",
    "util.WorkerLock": "util.WorkerLock('cpu', maxCount=2, maxCountForWorker={'big': 8})",
    "util.Interpolate": "util.Interpolate('%(prop:buildername)s-%(src::branch)s')",
    "util.Property": "util.Property('got_revision', default='unknown')",
    "util.Secret": "util.Secret('deploy_token')",
    "util.ChangeFilter": "util.ChangeFilter(branch='main', project='app')",
    "util.UserPasswordAuth": "util.UserPasswordAuth({'alice': 'pw'})",
    "util.Authz": "util.Authz(allowRules=[util.AnyControlEndpointMatcher(role='admins')], "
                  "roleMatchers=[util.RolesFromUsername(roles=['admins'], "
                  "usernames=['alice'])])",
    "util.AnyControlEndpointMatcher": "util.AnyControlEndpointMatcher(role='admins')",
    "util.ForceBuildEndpointMatcher": "util.ForceBuildEndpointMatcher(builder='release', "
                                      "role='releasers')",
    "util.RolesFromGroups": "util.RolesFromGroups(groupPrefix='ci-')",
    "util.GitHubAuth": "util.GitHubAuth('client-id', util.Secret('github_oauth'))",
    "util.JanitorConfigurator": "util.JanitorConfigurator(logHorizon=timedelta(weeks=4), "
                                "hour=12, dayOfWeek=6)",
    "util.StringParameter": "util.StringParameter(name='version', label='Version', "
                            "default='1.0')",
    "util.ChoiceStringParameter": "util.ChoiceStringParameter(name='target', "
                                  "choices=['staging', 'prod'], default='staging')",
    "webhooks.github": "c['www']['change_hook_dialects'] = {'github': {'secret': "
                       "util.Secret('github_hook'), 'strict': True}}",
    "webhooks.gitlab": "c['www']['change_hook_dialects'] = {'gitlab': {'secret': "
                       "util.Secret('gitlab_hook')}}",
    "webhooks.bitbucketcloud": "c['www']['change_hook_dialects'] = {'bitbucketcloud': "
                               "{'codebase': 'app'}}",
    "webhooks.poller": "c['www']['change_hook_dialects'] = {'poller': {'allowed': "
                       "['https://example.org/repo.git']}}",
    "reporters.GitHubCommentPush": "reporters.GitHubCommentPush(token=util.Secret('github'))",
    "reporters.BitbucketStatusPush": "reporters.BitbucketStatusPush(auth=('user', "
                                     "util.Secret('bitbucket_app_password')))",
    "reporters.GerritStatusPush": "reporters.GerritStatusPush(server='gerrit.example.org', "
                                  "username='buildbot')",
    "reporters.IRC": "reporters.IRC(host='irc.libera.chat', nick='ci-bot', "
                     "channels=[{'channel': '#project'}], notify_events=['failure'])",
    "reporters.TelegramBot": "reporters.TelegramBot(bot_token=util.Secret('telegram'), "
                             "chat_ids=[-1001234567890])",
    "reporters.ZulipStatusPush": "reporters.ZulipStatusPush(endpoint='https://zulip.example.org', "
                                 "token='bot-api-key', stream='ci')",
    "reporters.PushoverNotifier": "reporters.PushoverNotifier(user_key='uQiRzpo4DXghDmr9QzzfQu', "
                                  "api_token=util.Secret('pushover'))",
    "changes.GitHubPullrequestPoller": "changes.GitHubPullrequestPoller(owner='buildbot', "
                                       "repo='buildbot', token=util.Secret('github'), "
                                       "pollInterval=300)",
    "changes.BitbucketPullrequestPoller": "changes.BitbucketPullrequestPoller(owner='acme', "
                                          "slug='app', pollInterval=300)",
    "changes.GerritChangeSource": "changes.GerritChangeSource(gerritserver='gerrit.example.org', "
                                  "username='buildbot', gerritport=29418)",
    "changes.P4Source": "changes.P4Source(p4port='perforce:1666', p4user='buildbot', "
                        "p4base='//depot/project/')",
    "changes.MaildirSource": "changes.MaildirSource(maildir='~/maildir-buildbot')",
    "schedulers.NightlyTriggerable": "schedulers.NightlyTriggerable(name='nightly-release', "
                                     "builderNames=['release'], hour=2)",
    "schedulers.Try_Jobdir": "schedulers.Try_Jobdir(name='try', builderNames=['build'], "
                             "jobdir='jobdir')",
    "worker.EC2LatentWorker": "worker.EC2LatentWorker('ec2-1', util.Secret('worker_pw'), "
                              "'c5.large', ami='ami-0123456789abcdef0', region='eu-west-1', "
                              "keypair_name='buildbot', security_name='buildbot')",
    "worker.KubeLatentWorker": "worker.KubeLatentWorker('kube-1', "
                               "image='buildbot/buildbot-worker', "
                               "kube_config=util.KubeHardcodedConfig("
                               "master_url='https://k8s.example.org:6443'))",
    "worker.OpenStackLatentWorker": "worker.OpenStackLatentWorker('os-1', "
                                    "util.Secret('worker_pw'), "
                                    "flavor='m1.medium', image='buildbot-worker', "
                                    "os_username='ci', os_password=util.Secret('os_pw'), "
                                    "os_tenant_name='ci', "
                                    "os_auth_url='https://keystone.example.org/v3')",
    "worker.LibVirtWorker": "worker.LibVirtWorker('vm-1', util.Secret('worker_pw'), "
                            "hd_image='/var/lib/libvirt/images/vm-1.qcow2', "
                            "base_image='/var/lib/libvirt/images/worker-base.qcow2')",
    "secrets.HashiCorpVaultKvSecretProvider": (
        "secrets.HashiCorpVaultKvSecretProvider(vault_server='https://vault.example.org:8200', "
        "authenticator=secrets.VaultAuthenticatorApprole(roleId='ci', "
        "secretId=util.Secret('vault_secret_id')), secrets_mount='kv')"),
    "util.HTPasswdAuth": "util.HTPasswdAuth('/etc/buildbot/htpasswd')",
    "util.GitLabAuth": "util.GitLabAuth('https://gitlab.example.org', 'client-id', "
                       "util.Secret('gitlab_oauth'))",
    "util.RolesFromEmails": "util.RolesFromEmails(admins=['alice@example.org'])",
    "util.RolesFromOwner": "util.RolesFromOwner(role='owner')",
    "util.StopBuildEndpointMatcher": "util.StopBuildEndpointMatcher(role='owner')",
    "util.IntParameter": "util.IntParameter(name='jobs', label='Parallel jobs', default=4)",
    "util.BooleanParameter": "util.BooleanParameter(name='clean', label='Clean build', "
                             "default=False)",
    "util.Transform": "util.Transform(lambda v: v.upper(), util.Property('branch'))",
    "util.SourceStampFilter": "util.SourceStampFilter(branch_eq=['main'], "
                              "project_eq=['app'])",
    "util.Codebase": "util.Codebase(name='app', project='acme')",
    "util.Project": "util.Project(name='acme', slug='acme', description='Acme products')",
    "util.GerritChangeFilter": "util.GerritChangeFilter(branch='main', "
                               "eventtype='patchset-created')",
    "steps.Robocopy": "steps.Robocopy(source=r'build\\out', destination=r'C:\\artifacts', "
                      "recursive=True)",
    "steps.CMake": "steps.CMake(path='..', generator='Ninja', "
                   "definitions={'CMAKE_BUILD_TYPE': 'Release'})",
    "steps.Mock": "steps.Mock(root='fedora-40-x86_64', resultdir='results')",
    "steps.GitPush": "steps.GitPush(workdir='build', repourl='git@example.org:acme/app.git', "
                     "branch='release')",
    "steps.GitTag": "steps.GitTag(workdir='build', tagName=util.Interpolate('v%(prop:version)s'))",
    "steps.GitCommit": "steps.GitCommit(workdir='build', paths=['VERSION'], "
                       "messages=['Bump version'])",
    "steps.CopyDirectory": "steps.CopyDirectory(src='build/out', dest='artifacts')",
    "steps.FileExists": "steps.FileExists(file='build/out/app.bin')",
    "steps.Assert": "steps.Assert(check=util.Property('tests_passed'))",
    "steps.P4": "steps.P4(p4port='perforce:1666', p4user='buildbot', p4base='//depot', "
                "p4branch='trunk')",
    "steps.Repo": "steps.Repo(manifestURL='https://android.googlesource.com/platform/manifest')",
    "steps.Gerrit": "steps.Gerrit(repourl='ssh://buildbot@gerrit.example.org:29418/app')",
    "steps.GitHub": "steps.GitHub(repourl='https://github.com/buildbot/hello-world.git')",
    "steps.GitLab": "steps.GitLab(repourl='https://gitlab.example.org/acme/app.git')",
    "steps.HTTPStep": "steps.HTTPStep('https://example.org/api/deploy', method='POST')",
    "steps.SetPropertiesFromEnv": "steps.SetPropertiesFromEnv(variables=['PATH', 'HOME'])",
    "steps.JSONPropertiesDownload": "steps.JSONPropertiesDownload(workerdest='props.json')",
    "steps.MultipleFileUpload": "steps.MultipleFileUpload(workersrcs=['a.log', 'b.log'], "
                                "masterdest='logs')",
    "steps.PyFlakes": "steps.PyFlakes(command=['pyflakes', 'src'])",
    "steps.Cppcheck": "steps.Cppcheck(enable=['all'], inconclusive=True)",
    "steps.SubunitShellCommand": "steps.SubunitShellCommand(command='python -m subunit.run "
                                 "discover')",
    "steps.MsBuild": "steps.MsBuild(projectfile='app.sln', config='Release', platform='x64')",
    "steps.RpmBuild": "steps.RpmBuild(specfile='app.spec')",
    "steps.DebPbuilder": "steps.DebPbuilder(distribution='bookworm', architecture='amd64')",
    "util.renderer": "@util.renderer\ndef version_tag(props):\n"
                     "    return 'v' + props.getProperty('version', '0')",
    "util.WithProperties": "util.WithProperties('%(branch)s-%(got_revision)s')",
    "util.FlattenList": "util.FlattenList([['make'], util.Property('make_args', default=[])])",
    "util.svn.split_file_branches": "changes.SVNPoller(repourl='svn://svn.example.org/repo', "
                                    "split_file=util.svn.split_file_branches)",
    "util.enforceChosenWorker": "util.BuilderConfig(name='build', workernames=['w1', 'w2'], "
                                "factory=util.BuildFactory(), "
                                "canStartBuild=util.enforceChosenWorker)",
    "util.WorkerChoiceParameter": "schedulers.ForceScheduler(name='force', builderNames=['build'], "
                                  "properties=[util.WorkerChoiceParameter()])",
    "util.AnyEndpointMatcher": "util.AnyEndpointMatcher(role='admins', defaultDeny=True)",
    "util.RolesFromUsername": "util.RolesFromUsername(roles=['admins'], usernames=['alice'])",
    "util.RemoteUserAuth": "util.RemoteUserAuth(header=b'X-Remote-User')",
    "util.AvatarGitHub": "util.AvatarGitHub(token=util.Secret('github'))",
    "util.PasswordManhole": "util.PasswordManhole('tcp:9999:interface=127.0.0.1', 'admin', "
                           "'passwd', ssh_hostkey_dir='ssh_host_keys')",
    "util.RevlinkMatch": "util.RevlinkMatch([r'https://git.example.org/(.*)'], "
                         "r'https://git.example.org/\\1/commit/%s')",
    "util.OldBuildCanceller": "util.OldBuildCanceller('canceller', filters=[(['build'], "
                              "util.SourceStampFilter(branch_eq=['main']))])",
}

# namespace -> (module prefixes, base class as "module:Class", or None for every public class)
MORE_PLUGINS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "steps": (("buildbot.steps",), "buildbot.process.buildstep:BuildStep"),
    "changes": (("buildbot.changes",), "buildbot.changes.base:ChangeSource"),
    "schedulers": (("buildbot.schedulers",), "buildbot.schedulers.base:BaseScheduler"),
    "reporters": (("buildbot.reporters",), "buildbot.reporters.base:ReporterBase"),
    "worker": (("buildbot.worker",), "buildbot.worker.base:AbstractWorker"),
    "machine": (("buildbot.machine.generic", "buildbot.machine.latent"), None),
    "secrets": (("buildbot.secrets",), "buildbot.secrets.providers.base:SecretProviderBase"),
}
