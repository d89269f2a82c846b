#!/bin/bash
validate_email() { [[ $1 =~ ^[[:alnum:]._%+-]+@[[:alnum:].-]+\.[[:alpha:]]{2,}$ ]]; }
validate_ip() {
  local ip=$1 IFS=.
  local -a o
  [[ $ip =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] || return 1
  read -ra o <<< "$ip"
  for x in "${o[@]}"; do (( x <= 255 )) || return 1; done
}
for e in a@b.co bad@ x.y@z.org; do validate_email "$e" && echo "$e ok" || echo "$e bad"; done
for ip in 10.0.0.1 256.1.1.1 1.2.3; do validate_ip "$ip" && echo "$ip ok" || echo "$ip bad"; done
