#!/bin/bash
echo "this runs"
echo 'unterminated
