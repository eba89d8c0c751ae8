"""Artifact, Action and Context: the spec's lineage entities over any store."""

from mllineage.entities.action import Action
from mllineage.entities.artifact import Artifact
from mllineage.entities.base import _LineageEntity, type_key_arg
from mllineage.entities.context import Context

__all__ = ["Action", "Artifact", "Context", "_LineageEntity", "type_key_arg"]
