# src/zkserver.mk: owned by the area's developer.
