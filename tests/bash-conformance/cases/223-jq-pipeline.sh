#!/bin/bash
cat > users.json <<'J'
[{"name":"ann","age":31,"tags":["admin","dev"]},{"name":"bob","age":25,"tags":["dev"]},{"name":"cy","age":40,"tags":[]}]
J
jq -r '.[] | select(.age > 30) | .name' users.json
jq -r '.[] | "\(.name)\t\(.tags | length)"' users.json
jq 'map(.age) | add / length' users.json
jq -c '[.[] | {n: .name, dev: (.tags | index("dev") != null)}]' users.json
jq -r '.[] | [.name, .age] | @csv' users.json
jq --arg who bob '.[] | select(.name == $who) | .age' users.json
jq -n --argjson x 5 '{value: ($x * 2)}'
echo '{"a":{"b":[1,2,3]}}' | jq '.a.b[1:]'
jq 'sort_by(-.age) | .[0].name' users.json
jq -r 'keys[]' <<< '{"z":1,"a":2}'
