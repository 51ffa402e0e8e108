"""The executor seam: run picklable tasks in this process or on a Dask cluster.

Sweeps (:mod:`theorycheck.sweeps`) and ``theorycheck verify all --workers`` hand this
module a module-level function and a list of plain-data tasks (claim ids or
``FILE.py::NAME`` targets, parameters, seed, budget: claim objects hold lambdas and do
not pickle). :func:`map_tasks` runs them

* in this process, one after the other (``workers=None`` and ``scheduler=None``);
* on a :class:`distributed.LocalCluster` of ``workers`` processes on 127.0.0.1 that it
  starts and stops itself;
* on an existing cluster whose scheduler listens at ``scheduler`` (``tcp://host:port``).

Every task yields exactly one result, delivered through ``on_result(index, value)`` as it
completes: a task that raises, or whose worker dies, yields :func:`failure_record` (the
error as data) and the rest go on. Ctrl-C cancels the tasks not yet finished and
re-raises ``KeyboardInterrupt`` once the finished ones have been delivered.

Dask is an optional dependency (``pip install "theorycheck[dask]"``); it is imported only
when a cluster is asked for. This module knows no claim and no CLI: the engine stays
free of both, and the task functions live with their callers.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any, Callable, Sequence

from ._validation import check_int, fail, fail_type, require_module

__all__ = ["Executor", "map_tasks", "failure_record", "require_dask", "describe_executor"]

logger = logging.getLogger("theorycheck.parallel")

#: How many times the embedded LocalCluster re-runs a task whose worker died. On one
#: machine a worker dies because its task crashed it (a segfault, memory): running the
#: task again would kill the next worker too, so the point is marked at once.
LOCAL_ALLOWED_FAILURES = 0


def require_dask(purpose: str = "running tasks on a Dask cluster (--workers / --scheduler)") -> Any:
    """``distributed``, or :class:`~theorycheck._validation.MissingDependencyError` naming the extra."""
    require_module("dask", "dask", "dask", purpose)
    return require_module("distributed", "distributed", "dask", purpose)


def failure_record(exc: BaseException, *, status: str = "error") -> dict:
    """A task's failure as plain data: ``{"status", "error": {"type", "message", "traceback"}}``."""
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)[-6:])
    return {"status": status, "error": {"type": type(exc).__name__, "message": " ".join(str(exc).split()),
                                        "traceback": tb}}


def describe_executor(workers: int | None, scheduler: str | None) -> str:
    """One line saying where tasks run (for logs and reports, never for results)."""
    if scheduler:
        return f"Dask cluster at {scheduler}"
    if workers:
        return f"local Dask cluster, {workers} worker process(es) on 127.0.0.1"
    return "this process, sequentially"


def _warm_worker() -> bool:
    """Import the shipped claims once per worker, before the first task (not during it)."""
    from .claims import load_all

    load_all()
    return True


class Executor:
    """Where tasks run; a context manager that owns the cluster it starts.

    Parameters
    ----------
    workers : int, optional
        Start a LocalCluster with this many worker processes (one thread each) on 127.0.0.1.
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:port``); exclusive with ``workers``.
    warm : bool
        Import theorycheck's shipped claims on every worker at start-up, so that the first
        tasks do not pay for it (and their timings compare with the later ones).

    Examples
    --------
    >>> with Executor() as ex:              # no Dask needed: runs here
    ...     out = []
    ...     ex.map(abs, [-1, 2, -3], lambda i, v: out.append((i, v)))
    >>> sorted(out)
    [(0, 1), (1, 2), (2, 3)]
    """

    def __init__(self, workers: int | None = None, scheduler: str | None = None, *, warm: bool = True):
        caller = "theorycheck.parallel.Executor"
        if workers is not None:
            workers = check_int(workers, "workers", caller, min_value=1)
        if scheduler is not None:
            if not isinstance(scheduler, str) or not scheduler.strip():
                raise fail_type("scheduler", caller, "an address such as tcp://127.0.0.1:8786", scheduler)
            if workers is not None:
                raise fail("scheduler", caller, "given without workers (--workers starts a local cluster, "
                                                "--scheduler connects to a running one: choose one)", scheduler)
            scheduler = scheduler.strip()
        self.workers, self.scheduler, self.warm = workers, scheduler, warm
        self.client: Any = None
        self.cluster: Any = None

    @property
    def parallel(self) -> bool:
        return self.workers is not None or self.scheduler is not None

    def __enter__(self) -> "Executor":
        if not self.parallel:
            return self
        distributed = require_dask()
        import dask

        if self.scheduler is not None:
            try:
                self.client = distributed.Client(self.scheduler, timeout=30)
            except OSError as exc:
                raise fail("scheduler", "theorycheck", f"the address of a running Dask scheduler ({exc})",
                           self.scheduler) from None
        else:
            # Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536 (memory handed back to the OS
            # early); judging allocates many small arrays, and with it a point took 2-3x as long on
            # a worker as in this process (measured: 4.7 s against 2.1 s). The thread limits stay.
            environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ", {}).items()
                       if k != "MALLOC_TRIM_THRESHOLD_"}
            with dask.config.set({"distributed.scheduler.allowed-failures": LOCAL_ALLOWED_FAILURES,
                                  "distributed.nanny.pre-spawn-environ": environ}):
                self.cluster = distributed.LocalCluster(
                    n_workers=self.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address=":0", silence_logs=logging.ERROR)
            self.client = distributed.Client(self.cluster)
        if self.warm:
            self.client.run(_warm_worker)
        logger.info("running on %s", describe_executor(self.workers, self.scheduler))
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect; stop the LocalCluster if this executor started it."""
        client, cluster, self.client, self.cluster = self.client, self.cluster, None, None
        try:
            if client is not None:
                client.close()
        finally:
            if cluster is not None:
                cluster.close()

    def map(self, fn: Callable[[Any], Any], tasks: Sequence[Any],
            on_result: Callable[[int, Any], None]) -> None:
        """Run ``fn(task)`` for every task; ``on_result(index, value)`` as each completes.

        A task that raises (or whose worker dies) gives ``failure_record(exc)`` as its value.
        """
        tasks = list(tasks)
        if not self.parallel:
            for i, task in enumerate(tasks):
                try:
                    value = fn(task)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except Exception as exc:  # noqa: BLE001 - one task's failure is data, the rest go on
                    value = failure_record(exc)
                on_result(i, value)
            return
        self._map_dask(fn, tasks, on_result)

    def _map_dask(self, fn: Callable[[Any], Any], tasks: list, on_result: Callable[[int, Any], None]) -> None:
        from distributed import as_completed

        if self.client is None:
            raise RuntimeError("Executor.map on a cluster needs `with Executor(...) as ex:`")
        futures = self.client.map(fn, tasks, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        pending = set(index)
        try:
            for future in as_completed(futures):
                i = index[future.key]
                try:
                    value = future.result()
                except (KeyboardInterrupt, SystemExit):
                    raise
                except Exception as exc:  # noqa: BLE001 - a task error or a killed worker (KilledWorker)
                    status = "worker-died" if type(exc).__name__ == "KilledWorker" else "error"
                    value = failure_record(exc, status=status)
                pending.discard(future.key)
                on_result(i, value)
        except KeyboardInterrupt:
            left = [f for f in futures if f.key in pending]
            logger.warning("interrupted: cancelling %d outstanding task(s)", len(left))
            try:
                self.client.cancel(left)
            except Exception:  # noqa: BLE001 - the client may already be going away
                pass
            raise


def map_tasks(fn: Callable[[Any], Any], tasks: Sequence[Any], *, workers: int | None = None,
              scheduler: str | None = None, on_result: Callable[[int, Any], None] | None = None) -> list:
    """Run ``fn`` over ``tasks`` where asked and return the values in task order.

    Parameters
    ----------
    fn : callable
        A module-level function (Dask pickles it by reference).
    tasks : sequence
        Plain, picklable task descriptions.
    workers, scheduler
        As in :class:`Executor` (neither: this process).
    on_result : callable, optional
        Called with ``(index, value)`` as each task completes (not in order).

    Returns
    -------
    list
        One value per task, in task order; a failed task's value is :func:`failure_record`.

    Examples
    --------
    >>> map_tasks(abs, [-2, 3])
    [2, 3]
    """
    tasks = list(tasks)
    out: list = [None] * len(tasks)
    started = time.perf_counter()

    def keep(i: int, value: Any) -> None:
        out[i] = value
        if on_result is not None:
            on_result(i, value)

    with Executor(workers, scheduler) as ex:
        ex.map(fn, tasks, keep)
    logger.debug("%d task(s) in %.2f s on %s", len(tasks), time.perf_counter() - started,
                 describe_executor(workers, scheduler))
    return out
