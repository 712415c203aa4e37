"""patrolwatch: exact zone crossings and joint activity from raw position reports."""

__version__ = "0.1.0"
