#!/bin/bash
mkdir -p logs
echo "ERROR disk full" > logs/a.log
echo "INFO all good" > logs/b.log
printf 'WARN slow\nERROR timeout\n' > logs/c.log
grep -l ERROR logs/*.log
grep -r ERROR logs | sort
grep -rc ERROR logs | sort
grep -h ERROR logs/*.log
grep -L ERROR logs/*.log
grep ERROR logs/nope.log
echo "status: $?"
