"""What tests copy from the checkout: never the `--local` state a quick start left there.

`reconciler apply --local` keeps its state in `.reconciler/` inside the manifest directory,
so after the README's quick start the checkout's `manifests/` holds one; a copy without it
starts from an empty account, as each test expects.
"""

from __future__ import annotations

import shutil

LOCAL_STATE = shutil.ignore_patterns(".reconciler")
