"""MedChain: Python tooling for the consortium health-care contracts.

Modules: `chain` (connection, signers), `tx` (sending, revert decoding), `deploy` (plan + manifest),
`contracts` (Suite handles), `errors`, `codes`, `store`, and one service module per contract.
"""

from medchain.errors import ChainError, ConfigError, ContractRevert, InputError, MedchainError

__version__ = "0.1.0"

__all__ = ["ChainError", "ConfigError", "ContractRevert", "InputError", "MedchainError", "__version__"]
