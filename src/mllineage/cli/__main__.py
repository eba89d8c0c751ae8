"""``python -m mllineage.cli``: the same as the ``mllineage`` command."""

import sys

from mllineage.cli.app import main

sys.exit(main())
