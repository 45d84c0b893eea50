"""Write medchain/abi/<Name>.json from brownie's build (`brownie run scripts/export_abis.py`)."""

import json

from medchain.abi import ABI_DIR, EXPORTED
from medchain.artifacts import load_artifact


def main() -> None:
    for name in EXPORTED:
        path = ABI_DIR / f"{name}.json"
        path.write_text(json.dumps(load_artifact(name).abi, indent=1, sort_keys=True) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":  # also runs without brownie: python scripts/export_abis.py
    main()
