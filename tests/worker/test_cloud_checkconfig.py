"""The latent workers, Kubernetes config loaders and latent machines of issue 14 load
through `buildbot.plugins` / their 4.3 import paths, and a master.cfg using them with
typical arguments passes `buildbot checkconfig` as with Buildbot 4.3 (run side by side
when the reference's virtualenv is present)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path("/work/refvenv/bin/buildbot")
OURS = [sys.executable, "-m", "buildbot.scripts.runner"]

HEADER = """\
from buildbot.plugins import schedulers, steps, util, worker
from buildbot.machine.generic import (GenericLatentMachine, LocalWakeAction,
                                      RemoteSshSuspendAction, RemoteSshWOLAction, HttpAction)
from buildbot.worker.marathon import MarathonLatentWorker
from buildbot.worker.upcloud import UpcloudLatentWorker
c = BuildmasterConfig = {'buildbotNetUsageData': None}
c['protocols'] = {'pb': {'port': 'tcp:0:interface=127.0.0.1'}}
"""

SHARED = HEADER + """\
kube = util.KubeHardcodedConfig(master_url='https://k8s.example.org:6443',
                                bearerToken='t0k', namespace='ci')
c['machines'] = [GenericLatentMachine(
    'pc', start_action=RemoteSshWOLAction('router.lan', '00:11:22:33:44:55'),
    stop_action=RemoteSshSuspendAction('pc.lan'), build_wait_timeout=600)]
c['workers'] = [
    worker.KubeLatentWorker('k1', image='buildbot/buildbot-worker:4.3.0', kube_config=kube,
                            masterFQDN='buildbot.ci.svc'),
    worker.KubeLatentWorker('k2', kube_config=util.KubeCtlProxyConfigLoader(proxy_port=8011),
                            machine_name='pc'),
    MarathonLatentWorker('m1', 'http://marathon:8080', 'buildbot/buildbot-worker',
                         marathon_auth=('u', 'p'), marathon_extra_config={'mem': 512}),
    UpcloudLatentWorker('u1', 'pw', api_username='api', api_password='s',
                        image='Debian GNU/Linux 12 (Bookworm)',
                        hostconfig={'zone': 'fi-hel1', 'user_data': '#!/bin/sh'}),
]
names = [w.name for w in c['workers']]
f = util.BuildFactory([steps.ShellCommand(command='true')])
c['builders'] = [util.BuilderConfig(name='b', workernames=names, factory=f)]
c['schedulers'] = [schedulers.ForceScheduler(name='f', builderNames=['b'])]
"""

# needs the optional packages here; 4.3 talks to AWS in EC2LatentWorker's constructor
OPTIONAL = HEADER + """\
from buildbot.worker.latent import LocalLatentWorker
c['machines'] = [GenericLatentMachine('pc', start_action=LocalWakeAction(['true']),
                                      stop_action=HttpAction('http://pdu/off', 'post'))]
c['workers'] = [
    worker.EC2LatentWorker('e1', 'pw', 't3.large', ami='ami-0123456789abcdef0',
                           region='eu-west-1', keypair_name='bb', security_name='bb-sg',
                           spot_instance=True, max_spot_price=0.2, tags={'team': 'ci'}),
    worker.OpenStackLatentWorker('o1', 'pw', flavor='m1.small', image='buildbot-worker',
                                 os_username='u', os_password='p', os_tenant_name='ci',
                                 os_auth_url='https://keystone:5000/v3'),
    worker.LibVirtWorker('v1', 'pw', uri='qemu:///system', hd_image='/vm/v1.qcow2',
                         base_image='/vm/base.qcow2'),
    LocalLatentWorker('l1', 'pw', machine_name='pc'),
]
f = util.BuildFactory([steps.ShellCommand(command='true')])
c['builders'] = [util.BuilderConfig(name='b', workernames=[w.name for w in c['workers']],
                                    factory=f)]
c['schedulers'] = [schedulers.ForceScheduler(name='f', builderNames=['b'])]
"""


def checkconfig(argv0: list[str], basedir: Path, body: str) -> subprocess.CompletedProcess[str]:
    basedir.mkdir(parents=True, exist_ok=True)
    (basedir / "master.cfg").write_text(body)
    return subprocess.run([*argv0, "checkconfig", str(basedir)], capture_output=True,
                          check=False, text=True, cwd=basedir,
                          env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)))


def test_every_name_loads_at_its_reference_path() -> None:
    from buildbot.plugins import util, worker

    loaded = [worker.EC2LatentWorker, worker.KubeLatentWorker, worker.LibVirtWorker,
              worker.OpenStackLatentWorker, util.KubeHardcodedConfig,
              util.KubeCtlProxyConfigLoader, util.KubeInClusterConfigLoader, util.Connection]
    assert [f"{c.__module__}.{c.__name__}" for c in loaded] == [
        "buildbot.worker.ec2.EC2LatentWorker", "buildbot.worker.kubernetes.KubeLatentWorker",
        "buildbot.worker.libvirt.LibVirtWorker",
        "buildbot.worker.openstack.OpenStackLatentWorker",
        "buildbot.util.kubeclientservice.KubeHardcodedConfig",
        "buildbot.util.kubeclientservice.KubeCtlProxyConfigLoader",
        "buildbot.util.kubeclientservice.KubeInClusterConfigLoader",
        "buildbot.worker.libvirt.Connection"]


@pytest.mark.integration
def test_shared_config_passes_checkconfig_like_the_reference(tmp_path: Path) -> None:
    ours = checkconfig(OURS, tmp_path / "ours", SHARED)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    if REFERENCE.exists():
        ref = checkconfig([str(REFERENCE)], tmp_path / "ref", SHARED)
        assert ref.returncode == 0, ref.stdout + ref.stderr


@pytest.mark.integration
@pytest.mark.skipif(any(importlib.util.find_spec(m) is None
                        for m in ("boto3", "novaclient", "keystoneauth1", "libvirt")),
                    reason="the optional cloud packages (boto3, python-novaclient, "
                           "keystoneauth1, libvirt-python) are not all installed")
def test_optional_workers_pass_checkconfig(tmp_path: Path) -> None:
    ours = checkconfig(OURS, tmp_path / "ours", OPTIONAL)
    assert ours.returncode == 0, ours.stdout + ours.stderr
