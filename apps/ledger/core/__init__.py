"""Pure core of the audit ledger (ledger format v1, see specs/ledger-format.md).

Everything under this package uses only the standard library, ``cryptography`` and
``rfc8785``, never Django, so that it can be copied into an export bundle and run
by an auditor as the offline verifier.

Modules: ``hashing`` (RFC 6962 leaf and node hashes), ``merkle`` (tree hash, proofs,
compact ranges), ``note`` (C2SP signed notes, Ed25519), ``checkpoint`` (C2SP
tlog-checkpoint), ``entry`` (canonical entries), ``tlogproof`` (C2SP tlog-proof) and
``bundle`` (export bundle writer).
"""
