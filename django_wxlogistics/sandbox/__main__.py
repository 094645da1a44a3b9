"""``python -m django_wxlogistics.sandbox --port 8900``: no Django project needed."""

import sys

from .cli import main

sys.exit(main())
