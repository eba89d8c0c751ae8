"""The spec's Python API: entities, associations, lineage queries, sessions, bulk writes.

Thin over the store seam (``mllineage.store``): it checks arguments early (``ValueError``) and
turns store responses into objects; every rule lives in the store. ``mllineage`` re-exports
the public names.
"""
