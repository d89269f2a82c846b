#!/bin/bash
join_by() { local IFS="$1"; shift; echo "$*"; }
items=(red green blue)
join_by , "${items[@]}"
join_by ' | ' "${items[@]}"
contains() {
  local needle=$1; shift
  local item
  for item in "$@"; do [[ $item == "$needle" ]] && return 0; done
  return 1
}
contains green "${items[@]}" && echo "has green"
contains pink "${items[@]}" || echo "no pink"
