#!/bin/bash
name='O"Brien'
msg="it's \"quoted\""
jq -n --arg n "$name" --arg m "$msg" '{name: $n, msg: $m}'
printf '{"k": "%s"}\n' "value with spaces"
echo "{\"raw\": \"$(echo hi)\"}" | jq -r .raw
