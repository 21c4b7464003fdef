"""zope interfaces that master.cfg objects and plugins are checked against.

Only interfaces that Twisted, plugins or configuration checks need live here (names follow
the reference so that third-party plugins declaring `@implementer(IX)` keep working); our
own internal contracts are `typing.Protocol`s next to the code that uses them.
"""

from __future__ import annotations

from zope.interface import Attribute, Interface


class IPlugin(Interface):
    """Base interface for everything loaded through `buildbot.plugins`."""


class IChangeSource(IPlugin):
    """A service that produces changes (pollers, PBChangeSource, ...)."""


class IScheduler(IPlugin):
    """A service that creates buildsets."""


class ITriggerableScheduler(Interface):
    """A scheduler that Trigger steps can start (`trigger(waited_for, sourcestamps, ...)`)."""


class IWorker(IPlugin):
    """A configured worker (Worker, LocalWorker, latent workers)."""


class ILatentWorker(IWorker):
    """A worker started on demand (`substantiate`/`insubstantiate`)."""


class IMachine(Interface):
    """A machine grouping workers (c['machines'])."""


class IBuildStep(IPlugin):
    """A build step."""


class IBuildStepFactory(Interface):
    """Creates fresh step instances for each build (`buildStep()`)."""

    def buildStep() -> object:  # type: ignore[misc]  # zope interface methods are declared without self
        """Return a new step instance."""


class IRenderable(Interface):
    """A value computed from build properties when needed."""

    def getRenderingFor(iprops: object) -> object:
        """Return the rendered value (or a Deferred / coroutine of it)."""


class IProperties(Interface):
    """Something that holds build properties (`getProperty`, `setProperty`, `render`)."""


class IConfigured(Interface):
    """Objects that can describe their configuration as JSON for the web UI."""

    def getConfigDict() -> object:  # type: ignore[misc]  # zope interface methods are declared without self
        """Return a JSON-compatible description."""


class IReportGenerator(Interface):
    """Part of a reporter deciding which events become reports."""

    wanted_event_keys = Attribute("mq routing key patterns the generator needs")


class IStatusReceiver(Interface):
    """A status listener service (reporters)."""


class IEmailSender(Interface):
    """A reporter that sends email (MailNotifier)."""


class IEmailLookup(Interface):
    """Maps a user name (a change author) to an email address for MailNotifier."""

    def getAddress(user: str) -> object:
        """The address (or a Deferred of it, or None to skip the user)."""


class IHttpResponse(Interface):
    """A response of `buildbot.util.httpclientservice` (`code`, `url`, `content()`,
    `json()`)."""


class ILogObserver(Interface):
    """Receives the lines of a step's logs."""


class IWorkerCommandProtocol(Interface):
    """A master-side connection to a worker (PB, msgpack or in-process)."""


# Exceptions plugins import from here.
class NoSlaveError(Exception):
    """Kept for old plugins."""


class BuildSlaveTooOldError(Exception):
    """Kept for old plugins."""


class WorkerSetupError(Exception):
    """A worker could not be prepared for a build."""


class LatentWorkerFailedToSubstantiate(Exception):
    """A latent worker failed to start."""


class LatentWorkerCannotSubstantiate(Exception):
    """A latent worker cannot be started at all (e.g. configuration)."""


class LatentWorkerSubstantiatiationCancelled(Exception):
    """Substantiation was cancelled (spelling follows the reference)."""


class WorkerTooOldError(Exception):
    """The worker lacks a command a step needs."""


class BuilderInUseError(Exception):
    """Kept for old plugins."""


class ISourceStamp(Interface):
    """A source stamp (repository, branch, revision, patch of one codebase)."""


class IConfigLoader(Interface):
    """Something that loads the master's configuration (`loadConfig()`)."""


class IConfigurator(Interface):
    """A c['configurators'] entry: `configure(config_dict)` edits the configuration."""


class ILatentMachine(IMachine):
    """A machine the master can start and stop (c['machines'])."""


class IMachineAction(Interface):
    """How a machine is started or stopped (`perform(manager)`)."""
