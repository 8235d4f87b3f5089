# fs/fs.mk: owned by the area's developer.
