#!/bin/bash
echo "start"
v="abc"
echo "${v:0:1}"
echo "${v/}"
echo "end"
