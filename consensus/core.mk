# consensus/core.mk: owned by the area's developer.
