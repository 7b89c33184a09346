"""taskdeck's command line: ``python run.py task=<name> key=value ...`` (see README)."""

from taskdeck.app import main

if __name__ == "__main__":
    main()
