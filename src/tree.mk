# src/tree.mk: owned by the area's developer.
