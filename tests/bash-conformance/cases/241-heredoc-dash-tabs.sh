#!/bin/bash
cat <<-END
	indented with tab
		double tab
	value: $HOME
END
if true; then
	cat <<-"X"
		quoted $HOME
	X
fi
while read -r l; do echo "<$l>"; done <<-EOF
	a
	  b
EOF
