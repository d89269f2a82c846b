#!/bin/bash
# Here-documents with <<- strip leading tabs (not spaces).
cat <<-EOF
	indented with a tab
		two tabs
    four spaces stay
	EOF
cat <<-'END'
	$HOME is literal here
	END
name=world
if true; then
	cat <<-MSG
		Hello, $name
		bye
	MSG
fi
cat <<EOF
	tabs kept without the dash
EOF
