"""The `dialin` commands, one folder each (SAM CLI's layout): ``cli.py`` holds the argparse
glue (``register(subparsers)``, setting ``handler``: ``args -> exit status``), and the
modules beside it do the command's own work. What several commands share is in ``lib/``.
Add a command by adding its ``cli`` module to ``dialin_tools.cli.COMMANDS``.
"""
