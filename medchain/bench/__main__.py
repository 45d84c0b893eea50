import sys
import warnings

from medchain.bench import run

# web3 warns for every other contract's log in a receipt while decoding one event type: noise here
warnings.filterwarnings("ignore", message=".*MismatchedABI.*")
run(only=sys.argv[1] if len(sys.argv) > 1 else None)
