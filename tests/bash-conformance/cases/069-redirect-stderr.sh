#!/bin/bash
echo "to stdout"
echo "to stderr" >&2
ls nonexistent-xyz 2> err.txt
echo "ls status: $?"
echo "captured: $(cat err.txt)"
ls nonexistent-xyz 2>/dev/null || echo "silenced"
{ echo "out"; echo "err" >&2; } > both.txt 2>&1
cat both.txt
