"""Dataset URIs from OpenLineage names, as the OpenLineage naming spec composes them.

A dataset's namespace is its data source (``scheme://authority``) and its name the path in it;
together they form a URI: ``s3://bucket`` + ``path/file.csv`` -> ``s3://bucket/path/file.csv``,
``postgres://host:5432`` + ``db.schema.table`` -> ``postgres://host:5432/db.schema.table``.
One ``/`` joins them whether the namespace ends with one, the name starts with one, both or
neither. Namespaces that are a bare scheme follow the spec's own forms: ``file`` +
``/tmp/x.csv`` -> ``file:///tmp/x.csv`` and ``bigquery`` + ``project.dataset.table`` ->
``bigquery:project.dataset.table``.
"""

from __future__ import annotations

#: Namespaces that are a scheme alone, and how the spec writes their URIs.
_BARE_SCHEMES = {"file": "file://", "bigquery": "bigquery:"}


def dataset_uri(namespace: str, name: str) -> str:
    """The source URI of the dataset ``name`` in ``namespace``.

    Example:
        >>> dataset_uri("s3://bucket/", "/path/file.csv")
        's3://bucket/path/file.csv'
        >>> dataset_uri("file", "/tmp/x.csv")
        'file:///tmp/x.csv'
    """
    bare = _BARE_SCHEMES.get(namespace.lower())
    if bare == "file://":
        return bare + "/" + name.lstrip("/")
    if bare is not None:
        return bare + name
    return namespace.rstrip("/") + "/" + name.lstrip("/")
