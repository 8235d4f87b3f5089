# src/wire.mk: owned by the area's developer.
