#!/bin/bash
echo "before"
nonexistent_command_xyz --flag
echo "status: $?"
echo "after"
