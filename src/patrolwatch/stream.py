"""``patrolwatch.stream``: the streaming detectors (see :mod:`patrolwatch.serve.stream` and
:mod:`patrolwatch.serve.joint`).

Examples
--------
>>> from patrolwatch.stream import Detector
>>> Detector.__module__
'patrolwatch.serve.stream'
"""

from .serve.joint import FormationTracker
from .serve.stream import Detector, FixBatch, StreamEvent

__all__ = ["Detector", "FixBatch", "FormationTracker", "StreamEvent"]
