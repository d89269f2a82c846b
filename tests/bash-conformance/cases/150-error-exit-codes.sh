#!/bin/bash
check() { return $1; }
check 0; echo $?
check 1; echo $?
check 255; echo $?
(exit 256); echo $?
exit 3
