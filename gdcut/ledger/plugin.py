"""The gdcut pytest plugin: claim markers, the evidence fixture and the ledger.

Hooks at module level run in every process (the controller and each
pytest-xdist worker): they validate claim markers at collection, attach each
test's claim links to its reports, provide the ``evidence`` and
``run_settings`` fixtures, and filter by ``--claim``.  The ``LedgerPlugin``
object exists only on the controller; it buffers reports per node ID and
writes ``reports/ledger.{json,html}`` when the session finishes, whatever the
outcome (failures, ``-k``, ``-m``, Ctrl-C). ``gdcut.distribute`` (loaded
with this plugin) adds the training items, the GPU pinning and the shards.
"""
from __future__ import annotations

import gc
import os
import re
import time
from pathlib import Path

import pytest

from gdcut import scales
from gdcut.ledger import inventory, registry, render
from gdcut.ledger.evidence import CLAIMS_KEY, RECORD_KEY, Evidence
from gdcut.ledger.merge import MERGE_KEY, merge_input
from gdcut.ledger.profiles import register_profiles
from gdcut.ledger.verdict import function_key

register_profiles()

pytest_plugins = ["gdcut.distribute"]

ledger_key = pytest.StashKey["LedgerPlugin"]()
#: Where an xdist worker puts ``provenance.runtime_facts`` for the controller (``config.workeroutput``).
RUNTIME_FACTS_KEY = "gdcut_runtime_facts"
#: Where an xdist worker puts the node IDs of the claim tests it collected, deselected ones included.
COLLECTED_KEY = "gdcut_collected"
registry_key = pytest.StashKey[dict]()
#: Node IDs of every claim test this process collected, each parameter included, before any deselection:
#: a claim whose ``[adam]`` row was deselected is partial (``verdict.claim_verdict``'s ``collected``).
collected_key = pytest.StashKey[set]()

PRECISIONS = ("paper", "bf16")  # gdcut.precision.PRECISIONS, without importing torch here
#: The markers this plugin gives meaning to (gdcut.distribute adds ``gdcut_training``); with
#: ``--strict-markers`` any other marker is an error.
MARKERS = (
    "fast: analytic claim, CPU only, seconds",
    "gpu: deep-net claim; paper scale on CUDA, cpu scale on a CPU (scripts/test uses smoke)",
    "claim(id, refutes=False, decides=False): links a test to a claim of the paper (see "
    "gdcut/ledger/claims.toml); refutes=True when the test asserts a counterexample, decides=True when its "
    "verdict is the decisions it records (evidence.decision), so that passing without one is an error",
    "slow: tests that take more than a few seconds: gdcut's own, and claims' long runs (scripts/test runs them, "
    "scripts/verify does not)",
    "rehearsal: the paper-scale code path for a few steps on a CPU (full VGG16 at batch 512); runs only when "
    "selected with -m rehearsal (tests/test_rehearsal.py)",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gdcut", "gdcut claims ledger")
    group.addoption("--claim", action="append", default=[], metavar="ID",
                    help="run only the tests linked to this claim (repeatable), e.g. --claim=L3")
    group.addoption("--gdcut-scale", choices=scales.SCALES, default="auto",
                    help="deep-net scale: paper (the paper's settings), smoke (CPU-sized), tiny (a few steps: tests the "
                         "machinery, every decision inconclusive); auto = paper on CUDA, smoke otherwise")
    group.addoption("--gdcut-cifar10", metavar="DIR", default=os.environ.get("GDCUT_CIFAR10"),
                    help="directory holding CIFAR-10 (torchvision layout); default: $GDCUT_CIFAR10")
    group.addoption("--gdcut-precision", choices=PRECISIONS, default="paper",
                    help="deep-net precision: paper (float32, cuDNN TF32 convolutions, as PyTorch's defaults gave the "
                         "paper's code) or bf16 (bfloat16 autocast; weights and optimiser state float32)")
    group.addoption("--gdcut-fashion-mnist", metavar="DIR", default=os.environ.get("GDCUT_FASHION_MNIST"),
                    help="directory holding the four Fashion-MNIST .gz files, used when no CIFAR-10 is given; "
                         "default: $GDCUT_FASHION_MNIST, else /usr/share/datasets/fashion-mnist")
    group.addoption("--gdcut-allow-download", action="store_true", default=False,
                    help="allow torchvision to download CIFAR-10 into the --gdcut-cifar10 directory")
    group.addoption("--gdcut-reports", metavar="DIR", default=None,
                    help="where to write ledger.json and ledger.html (default: <rootdir>/reports)")
    group.addoption("--gdcut-cache", metavar="DIR", default=None,
                    help="cache of expensive results (default: <rootdir>/.gdcut-cache)")
    group.addoption("--gdcut-registry", metavar="FILE", default=None,
                    help="claims registry TOML (default: the one shipped in gdcut/ledger/claims.toml)")
    group.addoption("--gdcut-list-claims", action="store_true", default=False,
                    help="print every claim's ID, marker and title, then exit")


def _registry(config: pytest.Config) -> dict[str, registry.Claim]:
    if registry_key not in config.stash:
        path = config.getoption("--gdcut-registry")
        try:
            config.stash[registry_key] = registry.load_registry(path) if path else registry.registry()
        except ValueError as error:
            raise pytest.UsageError(f"--gdcut-registry: {error}") from None
    return config.stash[registry_key]


def _claims_dir(config: pytest.Config) -> Path:
    return config.rootpath / "claims"


def pytest_cmdline_main(config: pytest.Config):
    """``--gdcut-list-claims``: the registry in one line per claim, without running anything."""
    if not config.getoption("--gdcut-list-claims"):
        return None
    linked = inventory.scan_claims(_claims_dir(config), config.rootpath)
    for claim in _registry(config).values():
        tests = linked.get(claim.id, [])
        markers = {m for test in tests for m in test.markers} & {"fast", "gpu"}
        kind = "/".join(sorted(markers)) or ("test" if tests else "context" if claim.not_testable else "no test")
        print(f"{claim.id:<4} {kind:<8} {claim.title}")
    return 0


def _check_data_paths(config: pytest.Config) -> None:
    """A data directory the user named must exist: a typo would otherwise skip the deep-net claims quietly."""
    cifar = config.getoption("--gdcut-cifar10")
    if cifar and not Path(cifar).expanduser().is_dir() and not config.getoption("--gdcut-allow-download"):
        source = "--gdcut-cifar10" if any(a.startswith("--gdcut-cifar10") for a in config.invocation_params.args) \
            else "GDCUT_CIFAR10"
        raise pytest.UsageError(f"{source}: {cifar} is not a directory (give the folder that holds "
                                f"cifar-10-batches-py, or add --gdcut-allow-download to fetch CIFAR-10 there)")


def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    # figures are rendered to SVG; no display on CI machines (set, not imported: the plugin starts without matplotlib)
    os.environ["MPLBACKEND"] = "Agg"
    unknown = [c for c in config.getoption("--claim") if c not in _registry(config)]
    if unknown:
        raise pytest.UsageError(f"--claim: unknown claim ID(s) {unknown}; see gdcut/ledger/claims.toml "
                                "or --gdcut-list-claims")
    _check_data_paths(config)
    fashion = config.getoption("--gdcut-fashion-mnist")
    if fashion:  # checked now: a typo must not turn every deep-net claim into a silent not-run
        from gdcut import data

        try:
            data.fashion_mnist_directory(fashion)
        except ValueError as error:
            raise pytest.UsageError(f"--gdcut-fashion-mnist: {error}") from None
    if hasattr(config, "workerinput"):
        # pytest-xdist workers share the machine's cores; torch's default of one
        # thread per core in every worker would oversubscribe them.
        import torch

        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(config.workerinput["workercount"])))
    else:
        plugin = LedgerPlugin(config)
        config.stash[ledger_key] = plugin
        config.pluginmanager.register(plugin, "gdcut-ledger")


def _claim_links(item: pytest.Item) -> list[tuple[str, bool]]:
    links = []
    for mark in item.iter_markers("claim"):
        if len(mark.args) != 1 or not isinstance(mark.args[0], str) or set(mark.kwargs) - {"refutes", "decides"}:
            raise ValueError(f'claim marker must be claim("ID"), claim("ID", refutes=True) or '
                             f'claim("ID", decides=True), got {mark}')
        links.append((mark.args[0], bool(mark.kwargs.get("refutes", False))))
    return links


def _decides(item: pytest.Item) -> bool:
    """Whether the test's verdict is the decisions it records (``claim(..., decides=True)``)."""
    return any(mark.kwargs.get("decides", False) for mark in item.iter_markers("claim"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A test marked ``decides=True`` that passes without recording a decision fails: it would count as a plain
    pass, a support no rule gave (a branch that skips ``evidence.decision``, say)."""
    report = yield
    if report.when == "call" and report.passed and _decides(item) and not any(
            key == RECORD_KEY and record.get("kind") == "decision" for key, record in item.user_properties):
        report.outcome = "failed"
        report.longrepr = (f"{item.nodeid} is marked claim(..., decides=True) but recorded no evidence.decision: "
                           "its pass would count as a support no rule gave")
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """Turn a claims test without a (known) claim marker into a collection error."""
    report = yield
    claims_dir = _claims_dir(collector.config)
    if report.passed and claims_dir in Path(collector.path).parents:
        known = _registry(collector.config)
        problems = []
        for node in report.result:
            if not isinstance(node, pytest.Item):
                continue
            try:
                links = _claim_links(node)
            except ValueError as error:
                problems.append(f"{node.nodeid}: {error}")
                continue
            if not links:
                problems.append(f"{node.nodeid}: every test in claims/ needs @pytest.mark.claim(\"ID\")")
            problems.extend(f"{node.nodeid}: unknown claim ID {claim_id!r} (not in the registry)"
                            for claim_id, _ in links if claim_id not in known)
        if problems:
            report.outcome = "failed"
            report.longrepr = "\n".join(problems)
            report.result = []
        collector.config.stash.setdefault(collected_key, set()).update(
            node.nodeid for node in report.result if isinstance(node, pytest.Item))
    return report


def pytest_itemcollected(item: pytest.Item) -> None:
    links = _claim_links(item)
    if links:
        item.user_properties.append((CLAIMS_KEY, [[claim_id, refutes] for claim_id, refutes in links]))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what collection allocated (torch, the test modules: long-lived) out of the garbage collector.

    Every later full collection then skips those millions of objects: pytest's own gc passes at the end
    of a run and Hypothesis's took half a second each with torch loaded.
    """
    gc.collect()  # what collection left as garbage is freed, not frozen
    gc.freeze()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker sends the controller its runtime facts and the claim tests it collected (the controller
    runs and collects no test)."""
    config = session.config
    if hasattr(config, "workeroutput"):
        from gdcut.ledger import provenance

        config.workeroutput[RUNTIME_FACTS_KEY] = provenance.runtime_facts(config.getoption("--gdcut-precision"),
                                                                          config.getoption("--gdcut-cifar10"))
        config.workeroutput[COLLECTED_KEY] = sorted(config.stash.get(collected_key, set()))


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With ``--claim``, a test module that links none of the wanted claims is not imported at all.

    The AST inventory tells which claims a module links, so ``--claim=S3`` imports one claim module
    instead of every module's libraries (seconds). A module ast cannot read is collected as usual, and
    pytest reports its error.
    """
    wanted = set(config.getoption("--claim"))
    if not wanted or collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    try:
        linked = inventory.scan_file(collection_path, config.rootpath)
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return None
    return None if wanted & linked.keys() else True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(config.getoption("--claim"))
    if not wanted:
        return
    keep, drop = [], []
    for item in items:
        (keep if wanted & {claim_id for claim_id, _ in _claim_links(item)} else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def evidence(request: pytest.FixtureRequest):
    """Record measurements, conditions, parameters, notes, tables and figures for the ledger.

    A test whose records name a cell it never decided errors at teardown (``Evidence.undecided_cells``)."""
    claim_ids = [claim_id for claim_id, _ in _claim_links(request.node)]
    if not claim_ids:
        raise ValueError("the evidence fixture needs a test with @pytest.mark.claim(\"ID\")")
    recorder = Evidence(request.node.user_properties, claim_ids, _registry(request.config))
    yield recorder
    undecided = recorder.undecided_cells()
    if undecided:
        raise ValueError(f"cell: {undecided} named by this test's records, but no evidence.decision covers them")


def settings_from_config(config: pytest.Config) -> scales.RunSettings:
    """The deep-net settings of this session, for the claim tests and the training items alike.

    Sets the TF32 flags of ``gdcut.precision`` in this process, so every
    training run and cache key sees them.
    """
    import torch

    from gdcut import data, precision

    precision.set_kernel_flags()
    cuda = torch.cuda.is_available()
    cifar = config.getoption("--gdcut-cifar10")
    cache = config.getoption("--gdcut-cache")
    fashion = config.getoption("--gdcut-fashion-mnist")
    chosen = config.getoption("--gdcut-precision")
    return scales.RunSettings(
        scale=scales.resolve_scale(config.getoption("--gdcut-scale"), cuda),
        # on an xdist worker "cuda" is the GPU gdcut.distribute pinned it to
        device=torch.device("cuda" if cuda else "cpu"),
        cifar_dir=Path(cifar).expanduser() if cifar else None,
        allow_download=config.getoption("--gdcut-allow-download"),
        cache_dir=Path(cache) if cache else config.rootpath / ".gdcut-cache",
        precision=chosen,
        forward_dtype=precision.forward_dtype(chosen),
        fashion_mnist_dir=Path(fashion).expanduser() if fashion else data.FASHION_MNIST_DIR,
    )


@pytest.fixture(scope="session")
def run_settings(pytestconfig: pytest.Config) -> scales.RunSettings:
    return settings_from_config(pytestconfig)


def _skip_reason(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return f"xfail: {report.wasxfail}"
    if isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr or "skipped")


class LedgerPlugin:
    """Controller-side: buffers reports per node ID and writes the ledger at the end."""

    def __init__(self, config: pytest.Config):
        self.config = config
        self.started = time.monotonic()
        self.results: dict[str, dict] = {}
        self.written: list[Path] = []
        self.summary: dict[str, int] = {}
        self.write_error = ""
        self.carried: list[str] = []
        self.fresh_claims: list[dict] = []
        self._source_links: dict[str, list[list]] | None = None
        self.worker_facts: list[dict] = []  # provenance.runtime_facts of each xdist worker that sent them
        self.training: dict[str, float] = {}  # seconds per deep-net training item (gdcut.distribute)
        self.other_tests_s = 0.0  # seconds of tests that serve no claim (the tests of gdcut itself)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        """pytest-xdist: a worker finished; keep the runtime facts and collected tests it sent (the module's
        ``pytest_sessionfinish``)."""
        output = getattr(node, "workeroutput", {})
        if output.get(RUNTIME_FACTS_KEY):
            self.worker_facts.append(output[RUNTIME_FACTS_KEY])
        if COLLECTED_KEY in output:  # a worker stopped before its session finished sends none
            self.config.stash.setdefault(collected_key, set()).update(output[COLLECTED_KEY])

    def _result(self, nodeid: str) -> dict:
        return self.results.setdefault(nodeid, {
            "nodeid": nodeid, "outcome": "", "duration_s": 0.0, "reason": "", "claims": [], "records": [],
        })

    def _claims_from_source(self, nodeid: str) -> list[list]:
        """Claim links of a test as the source declares them.

        Reports that pytest-xdist makes up for a crashed worker carry no
        user_properties; the source still says which claims the test served.
        """
        if self._source_links is None:
            self._source_links = {}
            for claim_id, tests in inventory.scan_claims(_claims_dir(self.config), self.config.rootpath).items():
                for test in tests:
                    self._source_links.setdefault(test.key, []).append([claim_id, test.refutes])
        return self._source_links.get(function_key(nodeid), [])

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        properties = dict(report.user_properties) if report.user_properties else {}
        claims = properties.get(CLAIMS_KEY) or self._claims_from_source(report.nodeid)
        if not claims:  # its time still counts in the run's cost, which must add up
            from gdcut.distribute import TRAINING_PREFIX  # loaded as this plugin's own plugin: imported already

            if report.nodeid.startswith(f"{TRAINING_PREFIX}::"):
                self.training[report.nodeid] = self.training.get(report.nodeid, 0.0) + report.duration
            else:
                self.other_tests_s += report.duration
            return
        result = self._result(report.nodeid)
        result["claims"] = claims
        result["records"] = [value for key, value in report.user_properties if key == RECORD_KEY]
        result["duration_s"] += report.duration
        if report.failed:
            result["outcome"] = "failed" if report.when == "call" else "error"
            result["reason"] = _failure_line(report)
        elif report.skipped and result["outcome"] in ("", "passed"):
            result["outcome"] = "skipped"
            result["reason"] = _skip_reason(report)
        elif report.when == "call" and not result["outcome"]:
            # Only a call report makes a pass: a test interrupted after its setup has none.
            result["outcome"] = "passed"

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A claims module that fails to import makes its claims ``unexpected``."""
        path = self.config.rootpath / report.nodeid.split("::")[0]
        if not report.failed or not path.is_file() or _claims_dir(self.config) not in path.parents:
            return
        try:
            links = inventory.scan_file(path, self.config.rootpath)
        except SyntaxError:  # ast cannot read it; the claim markers can still be found in the text
            links = dict.fromkeys(re.findall(r"""mark\.claim\(\s*["']([^"']+)""", path.read_text(encoding="utf-8")))
        result = self._result(report.nodeid)
        result.update(outcome="error", reason=_failure_line(report),
                      claims=[[claim_id, False] for claim_id in links if claim_id in _registry(self.config)])

    def _should_write(self) -> bool:
        if self.config.option.collectonly:  # listing tests must not replace the last ledger with "not-run"
            return False
        if self.config.getoption("--gdcut-reports"):
            return True
        claims_dir = _claims_dir(self.config).resolve()
        for arg in self.config.args:
            path = (self.config.invocation_params.dir / arg.split("::")[0]).resolve()
            if path == claims_dir or claims_dir in path.parents or path in claims_dir.parents:
                return True
        return False

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self._should_write():
            return
        from gdcut.ledger import carry, provenance

        reports_dir = Path(self.config.getoption("--gdcut-reports") or self.config.rootpath / "reports")
        try:
            facts = (provenance.combined_facts(self.worker_facts) if self.worker_facts else
                     provenance.runtime_facts(self.config.getoption("--gdcut-precision"),
                                              self.config.getoption("--gdcut-cifar10")))
            cuda = facts["cuda"]
            scale = scales.resolve_scale(self.config.getoption("--gdcut-scale"), cuda)
            prov = provenance.collect(
                self.config.rootpath, list(self.config.invocation_params.args), scale,
                time.monotonic() - self.started, exitstatus, getattr(self.config.option, "numprocesses", 0), facts,
                # the mutation kit's own plugin (-p gdcut.mutation) adds the option; the ledger only reads it
                mutant=self.config.getoption("--gdcut-mutant", None), shard=self.config.getoption("--gdcut-shard"),
            )
            results = [r for r in self.results.values() if r["outcome"]]
            linked = inventory.scan_claims(_claims_dir(self.config), self.config.rootpath)
            training = [{"nodeid": nodeid, "duration_s": seconds} for nodeid, seconds in self.training.items()]
            # None: no process told what it collected (xdist workers interrupted): no card can be complete
            collected = sorted(self.config.stash[collected_key]) if collected_key in self.config.stash else None
            fresh = render.build_ledger(_registry(self.config), results, linked, prov,
                                        rerun_scale=scales.resolve_scale("auto", cuda), root=self.config.rootpath,
                                        training=training, other_tests_s=self.other_tests_s, collected=collected)
            previous = carry.load_previous(reports_dir / "ledger.json", render.SCHEMA)
            ledger, self.carried = carry.carry_over(previous, fresh)
            ledger["summary"] = dict(render.summarise(ledger["claims"], ledger["runs"]),
                                     unknown_claim_tests=fresh["summary"]["unknown_claim_tests"])
            # this run's own per-test results, for gdcut-ledger merge (carried cards are not re-decided there)
            ledger[MERGE_KEY] = merge_input(results, linked, training, collected)
            self.written = render.write_ledger(ledger, reports_dir)
            self.summary = ledger["summary"]["by_verdict"]
            self.fresh_claims = [c for c in fresh["claims"] if c["tests"] or not c["linked_tests"]]
        except OSError as error:
            self.write_error = f"gdcut: could not write the claims ledger to {reports_dir}: {error}"
            if session.exitstatus == 0:
                session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
            return
        # Only this run's cards decide the exit status: a carried-over card is old news.
        if any(c["verdict"] == "unexpected" for c in fresh["claims"]) and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.write_error:
            terminalreporter.write_line(self.write_error, red=True, bold=True)
            return
        if not self.written:
            return
        # One line per claim of this run that does not simply hold; the card has the evidence.
        for card in self.fresh_claims:
            if card["verdict"] == "holds" and card["complete"] or card["verdict"] == "not-testable":
                continue
            terminalreporter.write_line(f"{card['id']:<4} {card['verdict']:<12} {card['sentence']}",
                                        red=card["verdict"] == "unexpected")
        counts = ", ".join(f"{n} {v}" for v, n in self.summary.items() if n)
        terminalreporter.write_line(f"gdcut claims ledger: {self.written[1]} ({counts})")
        if self.carried:
            terminalreporter.write_line(f"gdcut: {len(self.carried)} card(s) this run did not select are carried "
                                        f"over from the previous ledger (each card names its run)")


def _failure_line(report) -> str:
    text = str(report.longrepr or "")
    lines = [line for line in text.splitlines() if line.startswith("E ")] or text.splitlines()[-1:]
    return lines[0][1:].strip()[:300] if lines else ""
