#!/bin/bash
greet() {
  echo "Hello, $1!"
}
function farewell {
  echo "Goodbye, ${1:-stranger}."
}
greet Alice
farewell
farewell Bob
add() { echo $(( $1 + $2 )); }
result=$(add 3 4)
echo "3 + 4 = $result"
