"""Sweeps over parameter grids (theorycheck.sweeps), the Dask seam (theorycheck.parallel),
the phase diagram (report/phase.py) and ``verify all --workers``.

The Dask tests share one real LocalCluster (2 worker processes on 127.0.0.1) per module:
starting one costs seconds. Workers start as users' do (Dask's default, spawned
processes): forking this process, whose other threads may hold a lock (a file's buffer
lock, seen) at the moment of the fork, left a worker hung for good now and then. What a
test registers in this process reaches the workers through a Dask preload script.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

import pytest

from theorycheck import sweeps
from theorycheck._validation import InvalidArgumentError, MissingDependencyError
from theorycheck.cli import main
from theorycheck.report.json_report import strip_timings

# a dev dependency (theorycheck[dev] includes [dask]): its absence must fail, not skip, the tests
import dask  # noqa: E402
import distributed  # noqa: E402

CLAIM_FILE = textwrap.dedent('''
    import os
    import signal

    from theorycheck import Param, claim
    from theorycheck import backend as xp
    from theorycheck import strategies as st


    def _inputs(p, active):
        if p.h == 13:  # the point that takes its worker down with it
            os.kill(os.getpid(), signal.SIGKILL)
        if p.h == 11:
            raise RuntimeError("evaluator broke at h = 11")
        return {"u": st.real_matrix(1, p.h, 1.0), "v": st.real_matrix(1, p.h, 1.0)}


    @claim(id="sweeptest.cs", cite=("graf2021",), kind="inequality", statement="|<u,v>| <= c |u||v|",
           params=(Param("h", 2, "dimension", min=1, max=20), Param("c", 1.0, "factor", type=float, min=0.0)),
           inputs=_inputs, relation="<=")
    def cs(u, v, *, p):
        return xp.abs(xp.sum(u * v)), p.c * xp.norm(u) * xp.norm(v)
''')


@pytest.fixture(scope="module")
def claim_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "sweepclaims.py"
    path.write_text(CLAIM_FILE)
    return f"{path}::cs"


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster for the module: 2 worker processes on the loopback interface."""
    from theorycheck.parallel import LOCAL_ALLOWED_FAILURES

    with dask.config.set({"distributed.scheduler.allowed-failures": LOCAL_ALLOWED_FAILURES}):
        cl = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                      dashboard_address=":0")
        yield cl
        cl.close()


def _diff(x, y, path="") -> list:
    """Where two JSON values differ (the assertion message of the equality tests)."""
    if type(x) is not type(y):
        return [f"{path}: {x!r:.80} != {y!r:.80}"]
    if isinstance(x, dict):
        return [d for k in sorted(set(x) | set(y)) for d in _diff(x.get(k), y.get(k), f"{path}.{k}")]
    if isinstance(x, list):
        if len(x) != len(y):
            return [f"{path}: {len(x)} items != {len(y)}"]
        return [d for i, (u, v) in enumerate(zip(x, y)) for d in _diff(u, v, f"{path}[{i}]")]
    return [] if x == y else [f"{path}: {x!r:.80} != {y!r:.80}"]


def _stable(result) -> list:
    """A sweep's points without the fields that depend on the clock."""
    return strip_timings({"points": result.to_dict()["points"]})["points"]


# ------------------------------------------------------------------------------ the grid

def test_the_package_root_stays_lazy_and_exports_sweep():
    code = ("import sys, theorycheck; heavy = [m for m in ('numpy', 'torch', 'dask', 'distributed') "
            "if m in sys.modules]; print(heavy, theorycheck.sweep.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[]", "theorycheck.sweeps"]


def test_parse_grid_ranges_lists_and_mappings():
    assert sweeps.parse_grid(["K=2:5", "tau=0.05,0.1,0.5", "b=2:8:3"]) == [
        ("K", [2, 3, 4, 5]), ("tau", [0.05, 0.1, 0.5]), ("b", [2, 5, 8])]
    assert sweeps.parse_grid(["x=0.1:0.3:0.1"]) == [("x", [0.1, 0.2, 0.3])]
    assert sweeps.parse_grid({"K": range(2, 4), "batches": "all,subset"}) == [
        ("K", [2, 3]), ("batches", ["all", "subset"])]
    assert [p for p in sweeps.grid_points([("a", [1, 2]), ("b", ["x", "y"])])] == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]


@pytest.mark.parametrize("spec, message", [
    (["K"], "NAME=VALUES"), (["K=5:2"], "START <= STOP"), (["x=0.1:0.5"], "STEP"),
    (["K=1,,2"], "without empty"), (["K=1", "K=2"], "each parameter once"), ([], "at least one axis"),
    (["K=1:1000000"], "at most"),
])
def test_parse_grid_rejects_malformed_axes(spec, message):
    with pytest.raises(InvalidArgumentError, match=message):
        sweeps.parse_grid(spec)


# ------------------------------------------------------------------------------ strip_timings

def test_strip_timings_strips_nested_timings_but_not_the_budget():
    doc = {"started": "t", "budget": {"seconds": 2.0, "examples": 5},
           "claims": [{"id": "a", "seconds": 1.0, "ablations": [{"seconds": 2.0, "verdict": "HOLDS"}],
                       "evidence": {"success_by_dimension": [{"d": 1, "seconds": 0.3}, {"d": 2, "seconds": 0.1}],
                                    "budget": {"seconds": 1.0}}}]}
    out = strip_timings(doc)
    assert out == {"budget": {"seconds": 2.0, "examples": 5},
                   "claims": [{"id": "a", "ablations": [{"verdict": "HOLDS"}],
                               "evidence": {"success_by_dimension": [{"d": 1}, {"d": 2}],
                                            "budget": {"seconds": 1.0}}}]}
    assert doc["claims"][0]["evidence"]["success_by_dimension"][0]["seconds"] == 0.3  # a copy


def test_two_runs_of_zhu2021_ufm_benign_are_equal_after_stripping():
    from theorycheck.engine.families import Check, run_checks
    from theorycheck.engine.results import Budget
    from theorycheck.report.json_report import _encode_floats

    def run():
        res = run_checks([Check("zhu2021.ufm.benign", {"K": 2, "d": 3, "n_per_class": 2})],
                         budget=Budget(seconds=None, examples=10, starts=2, steps=30), progress=False)
        return _encode_floats(res.to_dict())

    a, b = run(), run()
    rows = a["claims"][0]["evidence"]["success_by_dimension"]
    assert rows and all("seconds" in r for r in rows)  # the nested timing that used to survive
    assert strip_timings(a) == strip_timings(b)


# ------------------------------------------------------------------------------ sequential sweeps

@pytest.fixture(scope="module")
def sequential(claim_file):
    return sweeps.sweep(claim_file, {"h": [1, 2, 3], "c": [0.5, 1.0]}, examples=15, seed=3, figure=False)


def test_sequential_sweep_judges_every_point_in_grid_order(sequential):
    records = sequential.records()
    assert [(r["h"], r["c"]) for r in records] == [(1, 0.5), (1, 1.0), (2, 0.5), (2, 1.0), (3, 0.5), (3, 1.0)]
    # |<u,v>| <= |u||v|/2 fails at every h (two parallel vectors); c = 1 is Cauchy-Schwarz
    assert [r["verdict"] for r in records] == ["REFUTED", "HOLDS"] * 3
    assert records[0]["key"] == "margin" and records[0]["key_value"] > 0
    assert sequential.points[0]["result"]["id"] == "sweeptest.cs"
    assert sequential.to_frame() == records


def test_invalid_values_and_raising_points_are_marked_and_the_sweep_goes_on(claim_file, tmp_path):
    res = sweeps.sweep(claim_file, ["h=0,2,11", "c=1.0"], examples=10, out=tmp_path, figure=False)
    assert res.verdicts == ["INVALID", "HOLDS", "ERROR"]
    assert "h" in res.points[0]["error"]["message"]
    assert "evaluator broke" in res.points[2]["error"]["message"]
    doc = json.loads((tmp_path / "sweep.json").read_text())
    assert [p["verdict"] for p in doc["points"]] == res.verdicts
    assert doc["counts"] == {"HOLDS": 1, "INVALID": 1, "ERROR": 1}
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".tmp")]  # atomic writes leave no temp file


def test_unknown_axis_and_target_fail_before_any_work(claim_file):
    with pytest.raises(InvalidArgumentError, match="a parameter of sweeptest.cs"):
        sweeps.sweep(claim_file, ["K=2"], examples=10)
    with pytest.raises(InvalidArgumentError):
        sweeps.sweep("no.such.claim", ["K=2"], examples=10)


def test_interrupt_writes_the_points_already_judged(claim_file, tmp_path, monkeypatch):
    real = sweeps.judge_point
    calls = []

    def judge_then_interrupt(task):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(task)
        return real(task)

    monkeypatch.setattr(sweeps, "judge_point", judge_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        sweeps.sweep(claim_file, ["h=1,2,3,4"], examples=10, out=tmp_path, figure=False)
    doc = json.loads((tmp_path / "sweep.json").read_text())
    assert doc["interrupted"] is True
    assert [p["verdict"] for p in doc["points"]] == ["HOLDS", "HOLDS", "CANCELLED", "CANCELLED"]


# ------------------------------------------------------------------------------ the phase diagram

def test_phase_diagram_has_one_black_and_white_cell_per_point(claim_file, tmp_path):
    from matplotlib.patches import Rectangle

    from theorycheck.report.phase import VERDICT_STYLES, phase_diagram

    res = sweeps.sweep(claim_file, ["h=0,1,2", "c=0.5,1.0"], examples=10, out=tmp_path)
    fig = phase_diagram(res)
    cells = [p for ax in fig.axes for p in ax.patches if isinstance(p, Rectangle)
             and str(p.get_gid()).startswith("phase-cell-")]
    assert sorted(int(c.get_gid().rsplit("-", 1)[1]) for c in cells) == list(range(len(res.points)))
    texts = {t.get_gid(): t.get_text() for ax in fig.axes for t in ax.texts}
    for point, verdict in zip(res.points, res.verdicts):
        cell = next(c for c in cells if c.get_gid() == f"phase-cell-{point['index']}")
        style = VERDICT_STYLES[verdict]
        # the verdict is readable without colour: its own hatch and its own letter
        assert cell.get_hatch() in (style.hatch, None) and (cell.get_hatch() or "") == style.hatch
        assert texts[f"phase-text-{point['index']}"].split("\n")[0] == style.letter
    assert {"INVALID", "HOLDS", "REFUTED"} <= set(res.verdicts)
    patterns = {(VERDICT_STYLES[v].hatch, VERDICT_STYLES[v].letter) for v in set(res.verdicts)}
    assert len(patterns) == len(set(res.verdicts))
    # files: a 300 dpi PNG and an SVG
    png = (tmp_path / "phase.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    phys = png.index(b"pHYs")
    assert round(int.from_bytes(png[phys + 4:phys + 8], "big") * 0.0254) == 300
    assert (tmp_path / "phase.svg").read_text().lstrip().startswith("<?xml")
    assert "phase.png" in (tmp_path / "sweep.md").read_text()


def test_phase_diagram_facets_a_third_axis(sequential):
    from theorycheck.report.phase import phase_diagram

    doc = sequential.to_dict()
    doc["axes"] = [{"name": "c", "values": [0.5, 1.0]}, {"name": "x", "values": [0]},
                   {"name": "h", "values": [1, 2, 3]}]
    for p in doc["points"]:
        p["params"]["x"] = 0
    fig = phase_diagram(doc)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3 and [ax.get_title() for ax in visible] == ["h = 1", "h = 2", "h = 3"]


# ------------------------------------------------------------------------------ Dask

def test_local_cluster_sweep_equals_the_sequential_one(claim_file, sequential, cluster):
    par = sweeps.sweep(claim_file, {"h": [1, 2, 3], "c": [0.5, 1.0]}, examples=15, seed=3, figure=False,
                       scheduler=cluster.scheduler_address)
    assert _stable(par) == _stable(sequential), _diff(_stable(par), _stable(sequential))[:8]
    assert strip_timings(par.to_dict())["points"] == strip_timings(sequential.to_dict())["points"]


def test_a_worker_killed_mid_sweep_marks_its_point_and_the_sweep_completes(claim_file, cluster):
    res = sweeps.sweep(claim_file, {"h": [1, 13, 2], "c": [1.0]}, examples=10, figure=False,
                       scheduler=cluster.scheduler_address)
    assert res.verdicts == ["HOLDS", "WORKER-DIED", "HOLDS"]
    assert res.points[1]["error"]["type"] == "KilledWorker"


def test_cli_sweep_with_workers_writes_the_files(claim_file, tmp_path, capsys):
    code = main(["sweep", claim_file, "--grid", "h=1", "--grid", "c=0.5,1.0", "--examples", "10",
                 "--workers", "2", "--out", str(tmp_path)])
    assert code == 1  # a point is REFUTED
    doc = json.loads((tmp_path / "sweep.json").read_text())
    assert [p["verdict"] for p in doc["points"]] == ["REFUTED", "HOLDS"]
    assert {"sweep.json", "sweep.md", "phase.png", "phase.svg"} <= set(os.listdir(tmp_path))
    assert "--workers" not in doc["command"]  # the results do not depend on where they ran


_SWEEPFAM = """
from theorycheck.engine import families as fm

if "sweepfam" not in fm._FAMILIES:  # Dask may run a preload more than once in a process
    fm.register_family(fm.Family("sweepfam", "small", (fm.Option("K", 3, "classes", min=2),),
                                 lambda p: [("graf2021.simplex.gram", {"K": p.K}),
                                            ("graf2021.simplex.inner-product", {"K": p.K})]))
"""


def test_verify_all_with_workers_equals_sequential(monkeypatch, tmp_path):
    from theorycheck.engine import families as fm
    from theorycheck.engine import registry
    from theorycheck.engine.results import Budget

    registry.load_shipped()
    monkeypatch.setattr(fm, "_FAMILIES", {})  # this family alone
    preload = tmp_path / "sweepfam_preload.py"  # the same family, registered in each worker
    preload.write_text(_SWEEPFAM)
    exec(compile(_SWEEPFAM, str(preload), "exec"), {})
    budget = Budget(seconds=None, examples=20)
    seq = fm.run_all({"K": 4}, budget=budget, seed=1, progress=False).to_dict()
    with dask.config.set({"distributed.worker.preload": [str(preload)]}):
        par = sweeps.run_all_parallel({"K": 4}, budget=budget, seed=1, workers=2, progress=False).to_dict()
    assert strip_timings(par) == strip_timings(seq), _diff(strip_timings(par), strip_timings(seq))[:8]
    assert [c["id"] for c in par["claims"]] == ["graf2021.simplex.gram", "graf2021.simplex.inner-product"]
    assert par["options"]["families"] == ["sweepfam"] and par["claims"][0]["params"]["K"] == 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_scheduler_option_connects_to_a_hand_started_cluster(claim_file, tmp_path, capsys):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    bindir = os.path.dirname(sys.executable)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [os.path.dirname(os.path.dirname(
        os.path.abspath(sweeps.__file__))), os.environ.get("PYTHONPATH")]))}
    procs = [subprocess.Popen([os.path.join(bindir, "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        procs.append(subprocess.Popen([os.path.join(bindir, "dask"), "worker", address, "--nthreads", "1",
                                       "--no-nanny", "--no-dashboard", "--host", "127.0.0.1",
                                       "--preload", "theorycheck.engine.judge"], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        client = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until the worker has joined
            try:
                client = client or distributed.Client(address, timeout=5)
                if client.scheduler_info()["workers"]:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        assert client is not None and client.scheduler_info()["workers"], "the hand-started cluster never came up"
        client.close()
        code = main(["sweep", claim_file, "--grid", "h=1,2", "--grid", "c=1.0", "--examples", "10",
                     "--scheduler", address, "--out", str(tmp_path), "-q"])
        assert code == 0
        doc = json.loads((tmp_path / "sweep.json").read_text())
        assert [p["verdict"] for p in doc["points"]] == ["HOLDS", "HOLDS"]
    finally:
        for p in reversed(procs):  # the test's own processes; a clean shutdown is not under test
            p.kill()
        for p in procs:
            p.wait(10)


def test_workers_without_dask_names_the_extra(monkeypatch, claim_file, capsys):
    import builtins

    real_import = builtins.__import__

    def no_dask(name, *args, **kwargs):
        if name == "dask" or name.startswith(("dask.", "distributed")):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    monkeypatch.delitem(sys.modules, "dask", raising=False)
    monkeypatch.delitem(sys.modules, "distributed", raising=False)
    with pytest.raises(MissingDependencyError, match=r"theorycheck\[dask\]"):
        sweeps.sweep(claim_file, ["h=1"], examples=10, workers=2)
    assert main(["sweep", claim_file, "--grid", "h=1", "--workers", "2"]) == 2
    assert "pip install 'theorycheck[dask]'" in capsys.readouterr().err
    assert main(["verify", "all", "--workers", "2"]) == 2


def test_workers_and_scheduler_exclude_each_other(claim_file, capsys):
    assert main(["sweep", claim_file, "--grid", "h=1", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "not allowed with" in capsys.readouterr().err



def test_random_labels_grid_runs_through_the_same_seam(cluster):
    from theorycheck.empirical.random_labels import run_random_labels

    kwargs = dict(data="digits", fractions=(0.0, 1.0), losses=("ce",), seeds=(0, 1), check_every=5,
                  max_iterations=100, max_samples=40, batch_size=20, threads=1, device="cpu")
    seq = run_random_labels(**kwargs)
    par = run_random_labels(scheduler=cluster.scheduler_address, **kwargs)

    def drop(rows):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]

    assert drop(par.rows) == drop(seq.rows)
    assert [(r["seed"], r["fraction"]) for r in par.rows] == [(0, 0.0), (0, 1.0), (1, 0.0), (1, 1.0)]
