#!/bin/bash
log() { echo "[INFO] $*"; }
warn() { echo "[WARN] $*" >&2; }
die() { echo "[ERROR] $*" >&2; exit 1; }
log "starting"
warn "disk almost full"
log "step 2"
die "cannot continue"
echo "not reached"
