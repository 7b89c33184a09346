"""``python -m taskdeck.comparison <sweep dir>``: rebuild a sweep's comparison table."""

from taskdeck.comparison import main

main()
