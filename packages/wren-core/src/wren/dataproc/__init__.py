"""Data processing: a `map` over objects in storage, public URLs or local files, each split
into chunks that workers read in parallel. The client side parses and lists the inputs and
plans one call per chunk (`plan_data_job`); the worker side hands each call a `DataChunk`
as its `obj` argument (`with_chunks`)."""

from wren.dataproc.chunk import DataChunk
from wren.dataproc.discovery import DataTarget
from wren.dataproc.options import MIN_CHUNK_SIZE, ChunkingOptions
from wren.dataproc.planner import DataPlan, plan_data_job, takes_obj
from wren.dataproc.refs import ChunkRef, DataObject
from wren.dataproc.worker import with_chunks

__all__ = [
    "MIN_CHUNK_SIZE",
    "ChunkRef",
    "ChunkingOptions",
    "DataChunk",
    "DataObject",
    "DataPlan",
    "DataTarget",
    "plan_data_job",
    "takes_obj",
    "with_chunks",
]
