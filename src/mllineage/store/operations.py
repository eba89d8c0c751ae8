"""The one table of store operations, shared by the HTTP client and the server.

Each row pairs a wire operation name (the ``X-Amz-Target`` suffix) with the store method that
carries it out. AWS operations keep SageMaker's names; mllineage's extensions use the
``Mllineage`` target prefix, so they can never collide with an AWS operation.
"""

from __future__ import annotations

from typing import NamedTuple


class Operation(NamedTuple):
    name: str  # wire name, e.g. "CreateArtifact"
    method: str  # store method, e.g. "create_artifact"
    target_prefix: str  # "SageMaker" for AWS operations, "Mllineage" for extensions
    writes: bool


AWS_OPERATIONS: tuple[Operation, ...] = tuple(
    Operation(name, method, "SageMaker", writes)
    for name, method, writes in (
        ("CreateArtifact", "create_artifact", True),
        ("DescribeArtifact", "describe_artifact", False),
        ("ListArtifacts", "list_artifacts", False),
        ("UpdateArtifact", "update_artifact", True),
        ("DeleteArtifact", "delete_artifact", True),
        ("CreateAction", "create_action", True),
        ("DescribeAction", "describe_action", False),
        ("ListActions", "list_actions", False),
        ("UpdateAction", "update_action", True),
        ("DeleteAction", "delete_action", True),
        ("CreateContext", "create_context", True),
        ("DescribeContext", "describe_context", False),
        ("ListContexts", "list_contexts", False),
        ("UpdateContext", "update_context", True),
        ("DeleteContext", "delete_context", True),
        ("AddAssociation", "add_association", True),
        ("DeleteAssociation", "delete_association", True),
        ("ListAssociations", "list_associations", False),
        ("QueryLineage", "query_lineage", False),
        ("AddTags", "add_tags", True),
        ("ListTags", "list_tags", False),
        ("DeleteTags", "delete_tags", True),
    )
)

EXTENSION_OPERATIONS: tuple[Operation, ...] = tuple(
    Operation(name, method, "Mllineage", writes)
    for name, method, writes in (
        ("ListEntityDetails", "list_entity_details", False),
        ("LineageGraph", "lineage_graph", False),
        ("PutLineage", "put_lineage", True),
        ("DescribeEntity", "describe_entity", False),
        ("ListAssociationsAsOf", "list_associations_as_of", False),
        ("ListChanges", "list_changes", False),
        ("PruneHistory", "prune_history", True),
        ("CountEntities", "count_entities", False),
        ("PutOpenLineageEvent", "put_openlineage_event", True),
        ("ListOpenLineageEvents", "list_openlineage_events", False),
    )
)

OPERATIONS: tuple[Operation, ...] = AWS_OPERATIONS + EXTENSION_OPERATIONS
BY_TARGET: dict[str, Operation] = {f"{op.target_prefix}.{op.name}": op for op in OPERATIONS}
BY_METHOD: dict[str, Operation] = {op.method: op for op in OPERATIONS}
