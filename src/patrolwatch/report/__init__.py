"""Reporters: render events as tables, reports and maps."""
