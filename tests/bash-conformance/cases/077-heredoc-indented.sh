#!/bin/bash
if true; then
	cat <<-EOF
	indented with tabs
		nested tab kept
	EOF
fi
