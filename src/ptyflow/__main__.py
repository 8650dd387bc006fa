"""``python -m ptyflow`` is the same as the ``ptyflow`` command."""

import sys

from ptyflow.cli import main

sys.exit(main())
