#!/bin/bash
if [ 1 -eq 1 ]; then
  echo "missing fi"
