#!/bin/bash
logfile="run.log"
log() { echo "[$1] $2" >> "$logfile"; }
log INFO "start"
log WARN "something odd"
log INFO "end"
grep -c INFO "$logfile"
cat "$logfile"
