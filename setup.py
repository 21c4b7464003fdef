"""Packaging for the `buildbot` distribution (a compatible reimplementation of the master)."""

import importlib.util
from pathlib import Path

from setuptools import find_packages, setup


def builtin_entry_points() -> dict[str, list[str]]:
    """The `buildbot.*` entry point groups, generated from buildbot/plugins/registry.py (the
    same table the plugin loader uses, so the two cannot drift). The registry is loaded by
    path: importing the package would need its dependencies at build time."""
    path = Path(__file__).parent / "buildbot" / "plugins" / "registry.py"
    spec = importlib.util.spec_from_file_location("_buildbot_plugin_registry", path)
    assert spec is not None and spec.loader is not None
    registry = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(registry)
    return {
        f"buildbot.{group}": sorted(f"{name} = {module}:{attr}"
                                    for name, (module, attr)
                                    in registry.builtin_entries(group).items())
        for group in registry.ENTRY_POINT_GROUPS
    }


setup(
    name="buildbot",
    version="4.3.0.post1",
    description="A faster, compatible reimplementation of the Buildbot build master",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["buildbot", "buildbot.*"]),
    include_package_data=True,
    package_data={
        "buildbot": ["py.typed"],
        "buildbot.scripts": ["*.tac.tmpl", "sample.cfg"],
        "buildbot.db": ["migrations/*.py", "migrations/versions/*.py"],
    },
    install_requires=[
        "twisted>=24.3",
        "sqlalchemy>=2.0,<2.2",
        "alembic>=1.13",
        "zope.interface>=6",
        "autobahn>=23.6",
        "msgpack>=1.0",
        # LocalWorker runs the stock worker in-process.
        "buildbot-worker>=4.3.0,<4.4",
        # Session cookies are JWTs, as in the reference.
        "pyjwt>=2.8",
        # zstd is the reference's default log compression when available.
        "zstandard>=0.22",
        "croniter>=2.0",
        # buildbot.util.UTC is dateutil's tzutc(), as in the reference (which requires it).
        "python-dateutil>=2.8",
        # Reporters: Jinja2 message templates, treq for HTTP status pushes (as 4.3 requires).
        "Jinja2>=3.1", "treq>=24.9",
        # .bbtravis.yml steps (steps.configurable) and GitDiffInfo, as 4.3 requires them.
        "pyyaml>=6.0", "unidiff>=0.7.5",
        # Installed by 4.3 by default, so users' master.cfg files import them freely
        # (packaging.version for version checks, pkg_resources from setuptools).
        "packaging", "setuptools>=60",
        # www.oauth2's provider contract hands subclasses a requests.Session, as 4.3 does.
        "requests>=2.28",
        # upgrade-master, cleanupdb and copy-db draw their progress bars with it on a terminal.
        "tqdm>=4.66",
    ],
    extras_require={
        # conditions in .bbtravis.yml files, as 4.3's "configurable" extra
        "configurable": ["evalidate>=2.0.0"],
        "www": [
            "buildbot-www==4.3.0",
            "buildbot-waterfall-view==4.3.0",
            "buildbot-console-view==4.3.0",
            "buildbot-grid-view==4.3.0",
            # buildbot-badges and what it imports (it needs the system cairo library)
            "buildbot-badges==4.3.0", "klein", "CairoSVG", "cairocffi", "Jinja2",
        ],
        "db": ["psycopg2-binary>=2.9", "pymysql>=1.1"],
        "compress": ["lz4>=4.3", "brotli>=1.1"],
        # Cloud latent workers' client libraries (optional, as in 4.3; the config error names them).
        "ec2": ["boto3"],
        "openstack": ["python-novaclient", "keystoneauth1"],
        "libvirt": ["libvirt-python"],
        # c['mq'] = {'type': 'amqp', ...}: the RabbitMQ message bus between masters
        "amqp": ["pika>=1.3"],
        "test": [
            "pytest>=8",
            "pytest-twisted>=1.14",
            "pytest-timeout>=2.3",
            "treq>=24.9",
            "mypy>=1.10",
            "psycopg2-binary>=2.9",
            "pika>=1.3",
            "pymysql>=1.1",
            "lz4>=4.3",
            "brotli>=1.1",
            "buildbot-www==4.3.0",
            "buildbot-waterfall-view==4.3.0",
            "buildbot-console-view==4.3.0",
            "buildbot-grid-view==4.3.0",
            "buildbot-badges==4.3.0", "klein", "CairoSVG", "cairocffi", "Jinja2",
            # The real tools that the Python step tests run on a worker.
            "pylint", "pyflakes", "sphinx", "python-subunit", "evalidate",
            # A user's WSGI dashboard (tests/api/user_code) is served through it, as in 4.3.
            "buildbot-wsgi-dashboards==4.3.0",
            # twisted.conch needs it for the SSH servers of the Gerrit and manhole tests.
            "bcrypt",
            # InfluxStorageService of buildbot.statistics uses it (optional for users, as in 4.3).
            "influxdb",
            # Latent worker tests: EC2 against a local moto server, OpenStack's real client.
            # (libvirt-python needs libvirt's headers: .ci/run installs it when it can.)
            "boto3", "moto[server]", "python-novaclient", "keystoneauth1",
            # The /metrics tests read the scrape with Prometheus' own text parser.
            "prometheus_client",
            # LdapUserInfo against an in-memory directory server (ldap3's mock).
            "ldap3",
            # docs/install.md's test builds the sdist and wheel; the Dockerfile recipe is parsed.
            "build", "dockerfile",
            # the README's test command runs the suite on two processes
            "pytest-xdist>=3.5",
        ],
    },
    entry_points={
        "console_scripts": ["buildbot=buildbot.scripts.runner:run"],
        **builtin_entry_points(),
    },
)
