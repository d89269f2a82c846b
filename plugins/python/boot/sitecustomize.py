# Loaded by CPython's `site` module before the user's code (PYTHONPATH=/boot).
# WASI starts every program in "/"; move into the work directory so relative paths
# such as open("data.csv", "w") land in /work, where nestbox collects files.
import os

os.chdir(os.environ.get("NESTBOX_CWD", "/work"))
del os
