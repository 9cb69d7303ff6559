"""`python -m dnnet ...` is the `dnnet` command."""

import sys

from dnnet.cli.main import main

sys.exit(main())
