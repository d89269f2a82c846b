"""
title: Run code (nestbox)
author: nestbox
description: Lets the model run Python or bash in a sandbox with two walls (a fresh gVisor sandbox outside, WebAssembly inside): no network, hard time and memory limits, files returned to the user.
version: 0.1.0
license: Apache-2.0
required_open_webui_version: 0.12.0
"""

# Install: Workspace > Tools > "+" and paste this file, or POST it to /api/v1/tools/create
# (see open-webui/README.md). It needs the `nestbox` program and gVisor (runsc) on the
# Open WebUI server; `nestbox doctor` checks the setup.
