#!/bin/bash
touch a.txt b.txt c.log data1.csv data2.csv data10.csv
echo *.txt
echo data?.csv
echo data*.csv
echo [ab].*
ls *.csv
echo *.nomatch
