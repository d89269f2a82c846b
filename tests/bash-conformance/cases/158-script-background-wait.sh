#!/bin/bash
work() { echo "job $1 done" > "job$1.txt"; }
work 1 &
work 2 &
wait
cat job1.txt job2.txt
sleep 0.01 &
pid=$!
wait $pid
echo "waited status: $?"
