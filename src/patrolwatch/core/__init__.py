"""Core data structures (tracks, zones, events) and geodesy. Imports nothing above it."""
