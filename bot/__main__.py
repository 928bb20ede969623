"""`python -m bot` is the `paperwire` command."""

import sys

from bot.cli import main

sys.exit(main())
