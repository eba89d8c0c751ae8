"""Every number of the product contract, in one place.

The spec's "Validation and Constraints" section is the source of these values; where it is
silent, botocore's SageMaker model is (its shape limits are quoted beside each constant).
"""

from __future__ import annotations

# Entities
NAME_MAX_LENGTH = 120
TYPE_MAX_LENGTH = 256
DESCRIPTION_MAX_LENGTH = 3072
SOURCE_URI_MAX_LENGTH = 2048
SOURCE_FIELD_MAX_LENGTH = 256  # SourceType, SourceId, SourceTypes[].Value
SOURCE_TYPES_MAX_COUNT = 30
METADATA_VALUE_MAX_LENGTH = 1024
MAX_PROPERTIES = 30
PROPERTY_KEY_MAX_LENGTH = 256
PROPERTY_VALUE_MAX_LENGTH = 256
MAX_TAGS = 50
TAG_KEY_MAX_LENGTH = 128
TAG_VALUE_MAX_LENGTH = 256
MAX_ASSOCIATIONS_PER_ENTITY = 1000
ARN_MAX_LENGTH = 256

# Lists
LIST_MAX_RESULTS = 100
LIST_DEFAULT_MAX_RESULTS_WIRE = 10  # SageMaker's default when MaxResults is omitted
LIST_DEFAULT_MAX_RESULTS_PYTHON = 100  # the spec's default for the Python API
LIST_TAGS_MIN_RESULTS = 50
NEXT_TOKEN_MAX_LENGTH = 8192

# Lineage queries
QUERY_MIN_DEPTH = 1
QUERY_MAX_DEPTH = 100
QUERY_DEFAULT_DEPTH = 10
QUERY_MAX_START_ARNS = 10
QUERY_MAX_VERTICES = 10_000
QUERY_MAX_EDGES = 100_000
QUERY_TIMEOUT_SECONDS = 60.0
QUERY_MAX_RESULTS_PER_PAGE = 50  # QueryLineage's MaxResults on the wire
QUERY_FILTER_MAX_TYPES = 50
QUERY_FILTER_MAX_PROPERTIES = MAX_PROPERTIES

# OpenLineage events (raw events are kept whole: facets beyond the property limits included)
OPENLINEAGE_MAX_EVENT_BYTES = 4 * 1024 * 1024
