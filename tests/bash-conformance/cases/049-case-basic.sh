#!/bin/bash
for fruit in apple banana kiwi cherry Mango; do
  case "$fruit" in
    apple|cherry) echo "$fruit: red" ;;
    banana) echo "$fruit: yellow" ;;
    [Mm]ango) echo "$fruit: orange" ;;
    *) echo "$fruit: unknown" ;;
  esac
done
