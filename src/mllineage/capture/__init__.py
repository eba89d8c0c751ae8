"""Lineage that arrives by itself: run capture, OpenLineage events and importers.

Capture sits above the store seam and writes through the store operations, so every store
and the server get it, and every rule of the store still applies.
"""
