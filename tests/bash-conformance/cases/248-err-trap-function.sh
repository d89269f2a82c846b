#!/bin/bash
set -E
trap 'echo "ERR at line $LINENO in ${FUNCNAME[0]:-main}"' ERR
inner() {
  false
  echo "inner continues"
}
inner
outer() { inner; }
outer
set +E
trap - ERR
echo done
