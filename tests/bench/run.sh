#!/bin/sh
# run.sh - runs each benchmark given (a script or a program) in turn.
set -u
builddir=${QFS_BUILDDIR:-$(pwd)}
srcdir=${QFS_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
export QFS_BUILDDIR="$builddir" QFS_SRCDIR="$srcdir"
for b in "$@"; do
	echo "=== $b"
	case "$b" in
	*.sh) sh "$srcdir/$b" ;;
	*) "$builddir/$b" ;;
	esac || echo "=== $b failed (status $?)"
done
