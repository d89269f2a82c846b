#!/bin/bash
cat < does-not-exist.txt
echo "status: $?"
echo "x" > no/such/dir/file.txt
echo "status: $?"
