"""Pictures of lineage: the style table, graph exports (DOT, Mermaid, GraphML, JSON, HTML),
notebook display and the table visualizer. Pure rendering of query results and entity
records; it reads no store.
"""
