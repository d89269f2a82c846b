"""
title: Run code in sandbox (nestbox)
author: nestbox
description: Adds a "Run code" button under replies: runs the reply's Python or bash block in a sandbox with two walls (a fresh gVisor sandbox outside, WebAssembly inside) and appends the output and files.
version: 0.1.0
icon_url: data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAyNCAyNCIgZmlsbD0ibm9uZSIgc3Ryb2tlPSIjMTExIiBzdHJva2Utd2lkdGg9IjIiIHN0cm9rZS1saW5lY2FwPSJyb3VuZCIgc3Ryb2tlLWxpbmVqb2luPSJyb3VuZCI+PHJlY3QgeD0iMi41IiB5PSI0IiB3aWR0aD0iMTkiIGhlaWdodD0iMTYiIHJ4PSIyLjUiLz48cGF0aCBkPSJNNyA5LjVsMyAyLjUtMyAyLjVNMTIuNSAxNWg0LjUiLz48L3N2Zz4=
license: Apache-2.0
required_open_webui_version: 0.12.0
"""

# Install: Admin Panel > Functions > "+" and paste this file (or POST it to
# /api/v1/functions/create), then enable it and make it global (see open-webui/README.md).
# It needs the `nestbox` program and gVisor (runsc) on the Open WebUI server; `nestbox doctor`
# checks the setup.
