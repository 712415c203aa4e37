"""Detectors: read tracks and zones, return :class:`~patrolwatch.core.events.Events`."""
