"""Partitioners shipped with wren-core: `lines` (chunks aligned to line boundaries, for rows
of any length) and `bytes` (exact byte ranges). Both are registered in the
`wren.partitioners` entry-point group and split an object into even byte ranges by
`chunk_size` or `chunk_n`."""

from wren.partition.exact import BytePartitioner
from wren.partition.lines import LinePartitioner
from wren.partition.planning import EvenSplitPartitioner, split_ranges

__all__ = ["BytePartitioner", "EvenSplitPartitioner", "LinePartitioner", "split_ranges"]
