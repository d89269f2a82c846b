#!/bin/bash
set -x
name=world
echo "hello $name"
set +x
echo "quiet"
