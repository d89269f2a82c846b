#!/bin/bash
for i in 1 2 3; do touch "photo_$i.JPG"; done
for f in *.JPG; do
  mv "$f" "${f%.JPG}.jpg"
done
ls
for f in photo_*.jpg; do
  n=${f#photo_}; n=${n%.jpg}
  mv "$f" "$(printf 'img-%03d.jpg' "$n")"
done
ls
