"""Artifact, Action and Context: the spec's lineage entities over any store."""

from mllineage.api.entities.action import Action
from mllineage.api.entities.artifact import Artifact
from mllineage.api.entities.base import _LineageEntity, type_key_arg
from mllineage.api.entities.context import Context

__all__ = ["Action", "Artifact", "Context", "_LineageEntity", "type_key_arg"]
