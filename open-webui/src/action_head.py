"""
title: Run code (nestbox)
author: nestbox
description: Adds a "Run code" button under replies: runs the reply's Python or bash block in a sandbox with two walls (a fresh gVisor sandbox outside, WebAssembly inside) and appends the output and files.
version: 0.1.0
license: Apache-2.0
required_open_webui_version: 0.12.0
"""

# Install: Admin Panel > Functions > "+" and paste this file (or POST it to
# /api/v1/functions/create), then enable it and make it global (see open-webui/README.md).
# It needs the `nestbox` program and gVisor (runsc) on the Open WebUI server; `nestbox doctor`
# checks the setup.
