"""Readers and writers: file formats in, columnar tracks/zones/events out."""
