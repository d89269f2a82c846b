#!/bin/bash
name="hello world"
echo "${name^}"
echo "${name^^}"
UP="LOUD TEXT"
echo "${UP,}"
echo "${UP,,}"
mixed="hElLo"
echo "${mixed~~}"
