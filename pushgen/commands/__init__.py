"""The commands layer: one module per command, each parsing its options, calling the
library, printing (through pushgen/console.py) and picking its exit code.

pushgen/cli.py gathers them into the ``pushgen`` group; what several share is in
shared.py. The engine below returns values and raises PushgenError subclasses.
"""
