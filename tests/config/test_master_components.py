"""Component keys (workers, builders, schedulers, services, ...) and the cross-checks (§2.4, §2.6).

The components are the config-time classes of tests/config/cfgclasses.py, which declare
the interfaces the checks look for.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from buildbot.config.master import MasterConfig, load_master_config
from buildbot.warnings import ConfigWarning
from tests.config.conftest import GOOD_SETUP

Load = Callable[[str], MasterConfig]
Errors = Callable[[str], list[str]]

MULTI = "c['multiMaster'] = True\n"
# multiMaster with one worker 'w' (builders must still use known workers).
MULTI_W = MULTI + "c['protocols'] = {'null': {}}\nc['workers'] = [CfgWorker('w')]\n"


def test_good_setup_loads_in_order_and_by_name(load: Load) -> None:
    cfg = load(GOOD_SETUP + textwrap.dedent("""
        c['workers'].append(CfgWorker('w2'))
        c['builders'].append(util.BuilderConfig(name='a0', workernames=['w2'], factory=f))
        c['schedulers'].append(CfgScheduler('s0', ['a0']))
        c['change_source'] = CfgChangeSource()
        c['services'] = [CfgService(name='svc')]
        c['machines'] = [CfgMachine('m')]
        c['user_managers'] = (3,)
    """))

    assert ([w.name for w in cfg.workers], [b.name for b in cfg.builders],
            list(cfg.schedulers), [s.name for s in cfg.change_sources], list(cfg.services),
            [m.name for m in cfg.machines], cfg.user_managers) == (
        ["w1", "w2"], ["b1", "a0"], ["s1", "s0"], ["poller"], ["svc"], ["m"], [3])


def test_builders_given_as_dicts_become_builder_configs(load: Load) -> None:
    cfg = load(MULTI_W + "c['builders'] = [dict(name='d1', workernames=['w'], factory=f)]\n")
    [b] = cfg.builders
    assert (type(b).__name__, b.name, b.workernames) == ("BuilderConfig", "d1", ["w"])


@pytest.mark.parametrize(("body", "expected"), [
    ("c['workers'] = 3", ["c['workers'] must be a list"]),
    ("c['workers'] = [3]", ["c['workers'] must be a list of Worker instances but there is 3"]),
    ("c['workers'] = [CfgWorker('debug')]", ["worker name 'debug' is reserved"]),
    ("c['workers'] = [CfgWorker('change')]", ["worker name 'change' is reserved"]),
    ("c['workers'] = [CfgWorker('status')]", ["worker name 'status' is reserved"]),
    ("c['workers'] = [CfgWorker('1abc')]", ["worker name '1abc' is not an identifier"]),
    ("c['workers'] = [CfgWorker('a b')]", ["worker name 'a b' is not an identifier"]),
    ("c['workers'] = [CfgWorker('')]", ["worker name '' is not an identifier",
                                        "worker name '' cannot be an empty string"]),
    ("c['workers'] = [CfgWorker('x' * 51)]",
     [f"worker name '{'x' * 51}' is longer than 50 characters"]),
    ("c['change_source'] = 3", ["c['change_source'] must be a list of change sources"]),
    ("c['change_source'] = [CfgChangeSource(), 3]",
     ["c['change_source'] must be a list of change sources"]),
    ("c['schedulers'] = 3", ["c['schedulers'] must be a list of Scheduler instances"]),
    ("c['schedulers'] = [3]", ["c['schedulers'] must be a list of Scheduler instances"]),
    ("c['schedulers'] = [CfgScheduler('s', []), CfgScheduler('s', [])]",
     ["scheduler name 's' used multiple times"]),
    ("c['builders'] = 3", ["c['builders'] must be a list"]),
    ("c['builders'] = [3]", ["3 is not a builder config (in c['builders']"]),
    ("c['builders'] = [dict(name='d', bogus=1)]",
     [("c['builders'][0] is a dict of arguments BuilderConfig does not accept: "
      "BuilderConfig.__init__() got an unexpected keyword argument 'bogus'")]),
    ("c['builders'] = [dict(name='x')]",
     ["builder 'x': has no factory", "builder 'x': at least one workername is required"]),
    ("c['services'] = 3", ["c['services'] must be a list of services (reporters, ...)"]),
    ("c['services'] = [3]",
     ["<class 'int'> object should be an instance of buildbot.util.service.BuildbotService"]),
    ("c['services'] = [CfgService(name='n'), CfgService(name='n')]",
     ["Duplicate service name 'n'"]),
    ("c['machines'] = 3", ["c['machines'] must be a list of machines"]),
    ("c['machines'] = [3]", ["c['machines'] must be a list of machines"]),
    ("c['machines'] = [CfgMachine('m1'), CfgMachine('m1')]", ["duplicate machine name 'm1'"]),
    ("c['projects'] = 3", ["c['projects'] must be a list"]),
    ("c['projects'] = [3]", ["3 is not a project config (in c['projects']"]),
    ("c['codebases'] = 3", ["c['codebases'] must be a list"]),
    ("c['codebases'] = [3]", ["3 is not a codebase config (in c['codebases']"]),
])
def test_component_key_errors(errors_of: Errors, body: str, expected: list[str]) -> None:
    assert errors_of(MULTI + body + "\n") == expected


def test_each_bad_worker_is_reported_and_only_it_dropped(errors_of: Errors) -> None:
    # The reference drops the whole list at the first bad name, so builders using the good
    # workers would also be reported.
    assert errors_of(GOOD_SETUP + "c['workers'] += [CfgWorker('debug'), CfgWorker('a b')]\n") == [
        "worker name 'debug' is reserved", "worker name 'a b' is not an identifier"]


def test_absolute_builddir_warns(write_cfg: Callable[[str], Path]) -> None:
    basedir = write_cfg(MULTI_W + "c['builders'] = [util.BuilderConfig(name='b', workername='w',"
                        " factory=f, builddir='/abs/x')]\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_master_config(str(basedir))
    assert [str(w.message) for w in caught if w.category is ConfigWarning] == [
        ("Absolute path '/abs/x' for builder may cause mayhem. Perhaps you meant to specify "
        "workerbuilddir instead.")]


# -- cross-checks -----------------------------------------------------------------------

def test_empty_single_master_config(errors_of: Errors) -> None:
    assert errors_of("") == ["no workers are configured", "no builders are configured"]


def test_multimaster_skips_single_master_checks(load: Load) -> None:
    cfg = load(MULTI_W + "c['builders'] = [util.BuilderConfig(name='b', workername='w', factory=f)]"
               "\nc['schedulers'] = [CfgScheduler('s', ['nope'])]\n")
    assert (cfg.multiMaster, [b.name for b in cfg.builders]) == (True, ["b"])


def test_cross_checks_in_reference_order(errors_of: Errors) -> None:
    errors = errors_of(textwrap.dedent("""
        c['protocols'] = {'pb': {'port': 9989}}
        c['workers'] = [CfgWorker('a')]
        c['builders'] = [
            util.BuilderConfig(name='b', workernames=['a', 'zz', 'yy'], factory=f),
            util.BuilderConfig(name='b', workernames=['a'], factory=f, builddir='x'),
            util.BuilderConfig(name='c', workernames=['a'], factory=f, builddir='x',
                               project='nope'),
            util.BuilderConfig(name='d', workernames=['a'], factory=f),
            util.BuilderConfig(name='e', workernames=['a'], factory=f),
        ]
        c['schedulers'] = [CfgScheduler('f', ['b', 'nob']), CfgScheduler('f', ['c']),
                           CfgScheduler('t', ['nob2'])]
    """))

    assert errors == [
        "scheduler name 'f' used multiple times",
        "builder(s) b, b, d, e have no schedulers to drive them",
        "Unknown builder 'nob2' in scheduler 't'",
        "builder 'b' uses unknown workers 'yy', 'zz'",
        "duplicate builder name 'b'",
        "duplicate builder builddir 'x'",
        "builder 'c' uses unknown project name 'nope'",
    ]


def test_renderable_builder_names_disable_the_unscheduled_check(errors_of: Errors) -> None:
    errors = errors_of(GOOD_SETUP + textwrap.dedent("""
        c['builders'].append(util.BuilderConfig(name='b2', workernames=['w1'], factory=f))
        c['schedulers'] = [CfgScheduler('r', [util.Property('x'), 'zz']),
                           CfgScheduler('p', util.Property('y'))]
    """))
    assert errors == ["Unknown builder 'zz' in scheduler 'r'"]


def test_workers_need_a_protocol_port(errors_of: Errors, load: Load) -> None:
    setup = GOOD_SETUP.replace("c['protocols'] = {'pb': {'port': 9989}}\n", "")
    assert [errors_of(setup + extra) for extra in (
        "", "c['protocols'] = {'pb': {}}\n", "c['protocols'] = {'pb': {'port': None}}\n",
        "c['protocols'] = {'foo': {}}\n")] == [["workers are configured, but c['protocols'] not"]] * 4
    load(setup + "c['protocols'] = {'null': {}}\n")
    load(setup + "c['protocols'] = {'foo': {'port': 1}}\n")


def test_ports_are_compared_as_endpoints(load: Load, errors_of: Errors) -> None:
    cfg = load(MULTI + "c['protocols'] = {'pb': {'port': 'tcp:9989:interface=127.0.0.1'},"
               " 'msgpack_experimental_v7': {'port': 9989}}\n")
    assert list(cfg.protocols) == ["pb", "msgpack_experimental_v7"]
    assert errors_of(MULTI + "c['protocols'] = {'pb': {'port': 1}, 'x': {'port': 1}}\n") == [
        "Some of ports in c['protocols'] duplicated"]


def test_distinct_locks_sharing_a_name(errors_of: Errors) -> None:
    errors = errors_of(MULTI_W + textwrap.dedent("""
        l1 = util.MasterLock('l'); l2 = util.WorkerLock('l'); l3 = util.MasterLock('l')
        ok = util.MasterLock('ok')
        c['builders'] = [
            util.BuilderConfig(name='b', workername='w', factory=f,
                               locks=[l1.access('exclusive'), l2, ok]),
            util.BuilderConfig(name='c', workername='w', factory=f, locks=[l1, l3, ok]),
            util.BuilderConfig(name='d', workername='w', factory=f, locks=util.Property('x')),
        ]
    """))
    assert errors == ["Two locks share the same name, 'l'", "Two locks share the same name, 'l'"]


def test_worker_with_unknown_machine(errors_of: Errors) -> None:
    assert errors_of(MULTI + "c['protocols'] = {'null': {}}\n"
                     "c['workers'] = [CfgWorker('a', machine_name='m1'),"
                     " CfgWorker('b', machine_name='m2')]\n"
                     "c['machines'] = [CfgMachine('m1')]\n") == [
        "worker 'b' uses unknown machine 'm2'"]


def test_projects_and_codebases(errors_of: Errors) -> None:
    errors = errors_of(MULTI_W + textwrap.dedent("""
        c['projects'] = [util.Project('p1'), util.Project('p1'), util.Project('p2')]
        c['codebases'] = [util.Codebase('cb', project='p3'), util.Codebase('cb2', project='p1')]
        c['builders'] = [util.BuilderConfig(name='b', workername='w', factory=f, project='p2'),
                         util.BuilderConfig(name='c', workername='w', factory=f, project='p4')]
    """))
    assert [e.split(" includes")[-1] for e in errors] == [
        " unknown project name p3 (in c['codebases']", "duplicate project name 'p1'",
        "builder 'c' uses unknown project name 'p4'"]
