"""``python -m zemosaic`` runs the command line."""
import sys

from zemosaic.cli import main

sys.exit(main())
