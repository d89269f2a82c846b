#!/bin/bash
echo "start"
x=0
echo $(( 10 / x ))
echo "after"
