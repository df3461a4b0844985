"""Ingestion batches on a Dask cluster (`dask.distributed`).

A worker plugin loads the collection's models on every worker when it joins (models travel as
names or paths, never pickled into tasks); each batch is one task, retried on another worker
when its worker dies; results are gathered as they complete and handed on in batch order, so
the collection the writer commits is the same on any cluster. `local:N` starts a LocalCluster
of N one-thread worker processes on loopback for the length of one command.
"""

from __future__ import annotations

from collections.abc import Iterator

from distributed import Client, LocalCluster, WorkerPlugin, as_completed

from seoga.errors import InputError
from seoga.parallel.pipeline import MODELS, FileTask, IngestSpec, Processed, process_batch

PLUGIN_NAME = "seoga-models"
RETRIES = 2  # a batch whose worker died runs again elsewhere, at most this many times
LOOPBACK = "127.0.0.1"
LOCAL_PREFIX = "local:"  # --dask local:N starts a LocalCluster of N workers


class ModelPlugin(WorkerPlugin):
    """Loads the ingestion models on a worker when it starts (or joins later)."""

    name = PLUGIN_NAME

    def __init__(self, spec: IngestSpec) -> None:
        self.spec = spec

    def setup(self, worker) -> None:
        import torch

        torch.set_num_threads(max(1, worker.state.nthreads))
        MODELS.load(self.spec)


def local_workers(address: str) -> int:
    count = address[len(LOCAL_PREFIX) :]
    if not count.isdigit() or int(count) < 1:
        raise InputError(f"--dask {address}: write local:N with N workers, e.g. local:2.")
    return int(count)


class DaskExecutor:
    def __init__(self, address: str) -> None:
        self.address = address
        self._cluster: LocalCluster | None = None
        if address.startswith(LOCAL_PREFIX):
            self._cluster = LocalCluster(
                n_workers=local_workers(address),
                threads_per_worker=1,
                processes=True,
                host=LOOPBACK,
                dashboard_address=None,
            )
            self.client = Client(self._cluster)
        else:
            try:
                self.client = Client(address)
            except OSError as error:
                raise InputError(
                    f"no Dask scheduler answers at {address} ({error}); start one with "
                    "`dask scheduler --host 127.0.0.1` and workers with `dask worker ADDRESS`."
                ) from error
        self.name = f"Dask at {address}"

    @property
    def workers(self) -> int:
        """Threads across the cluster's workers now (each runs one batch at a time)."""
        info = self.client.scheduler_info()
        return sum(worker["nthreads"] for worker in info["workers"].values()) or 1

    def map(self, spec: IngestSpec, batches: list[list[FileTask]]) -> Iterator[Processed]:
        self.client.register_plugin(ModelPlugin(spec), name=PLUGIN_NAME)
        futures = [
            self.client.submit(process_batch, spec, batch, retries=RETRIES, pure=False)
            for batch in batches
        ]
        position = {future.key: index for index, future in enumerate(futures)}
        done: dict[int, Processed] = {}
        following = 0
        for future in as_completed(futures):
            done[position[future.key]] = future.result()
            future.release()
            while following in done:
                yield done.pop(following)
                following += 1

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
