"""The ledger's public log: canonical receipts, RFC 9162 Merkle trees over them, signed
checkpoints and the proofs that tie a receipt to a checkpoint and checkpoints to each other.

`merkle` and `receipts` are pure (no Django, no database); `signing` holds the key; `services`
and `selectors` are the writes and reads over the log tables in `ledger.models`."""
