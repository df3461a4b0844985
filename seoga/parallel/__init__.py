"""Ingestion as functions over batches of files, and the executors that run them: this process,
a local process pool, or a Dask cluster."""
