import sys

from medchain.bench import run

run(only=sys.argv[1] if len(sys.argv) > 1 else None)
