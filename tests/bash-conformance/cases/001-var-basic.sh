#!/bin/bash
name="World"
greeting="Hello, $name!"
echo "$greeting"
echo 'Single $name'
echo "Braces: ${name}s"
readonly PI=3.14
echo "PI is $PI"
