#!/bin/bash
cat > settings.ini <<'EOF'
[database]
host = db.local
port = 5432

[cache]
host = cache.local
ttl = 300
EOF
section=""
declare -A conf
while IFS= read -r line; do
  line="${line%%#*}"
  [[ -z "${line// }" ]] && continue
  if [[ $line =~ ^\[(.+)\]$ ]]; then section=${BASH_REMATCH[1]}; continue; fi
  key=$(echo "${line%%=*}" | xargs)
  val=$(echo "${line#*=}" | xargs)
  conf["$section.$key"]=$val
done < settings.ini
for k in $(echo "${!conf[@]}" | tr ' ' '\n' | sort); do echo "$k=${conf[$k]}"; done
