#!/bin/bash
get_config() {
  local -n out=$1
  out[host]="localhost"
  out[port]="8080"
}
declare -A cfg
get_config cfg
echo "${cfg[host]}:${cfg[port]}"
split_name() {
  local full=$1
  REPLY_FIRST=${full%% *}
  REPLY_LAST=${full##* }
}
split_name "Ada Lovelace"
echo "$REPLY_LAST, $REPLY_FIRST"
