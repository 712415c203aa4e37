"""``patrolwatch.stream``: the streaming detector (see :mod:`patrolwatch.serve.stream`).

Examples
--------
>>> from patrolwatch.stream import Detector
>>> Detector.__module__
'patrolwatch.serve.stream'
"""

from .serve.stream import Detector, FixBatch, StreamEvent

__all__ = ["Detector", "FixBatch", "StreamEvent"]
