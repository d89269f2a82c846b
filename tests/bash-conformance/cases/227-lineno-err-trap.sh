#!/bin/bash
trap 'echo "error on line $LINENO (status $?)"' ERR
echo start
false
ls /nonexistent-dir-xyz 2>/dev/null
check() {
  return 4
}
check
echo "line now $LINENO"
x=$(false)
echo end
