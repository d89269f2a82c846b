#!/bin/bash
echo '{"a": 1' | jq . > /dev/null 2>&1
echo "invalid json status: $?"
echo '{"a": 1}' | jq -e '.b' > /dev/null
echo "missing key with -e: $?"
echo '{"a": 1}' | jq '.a'
