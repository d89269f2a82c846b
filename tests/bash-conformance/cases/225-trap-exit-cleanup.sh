#!/bin/bash
tmpdir=$(mktemp -d)
cleanup() {
  rm -rf "$tmpdir"
  echo "cleanup ran (status $1)"
}
trap 'cleanup $?' EXIT
echo data > "$tmpdir/file"
[ -f "$tmpdir/file" ] && echo "temp file made"
trap 'echo "in subshell exit"' EXIT
trap 'cleanup $?' EXIT
( trap 'echo "subshell trap"' EXIT; echo "in subshell" )
f() { trap 'echo "RETURN from f"' RETURN; echo "in f"; }
f
trap - RETURN
echo "finishing"
exit 3
