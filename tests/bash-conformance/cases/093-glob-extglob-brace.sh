#!/bin/bash
shopt -s extglob
touch app.js app.min.js style.css index.html
echo !(*.min).js
echo *.@(css|html)
echo +([a-z]).js
echo {app,style}.*
mkdir -p proj/{src,test,docs}
ls proj
echo file{1..3}.txt
