# consensus/io.mk: owned by the area's developer.
