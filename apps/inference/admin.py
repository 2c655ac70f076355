"""Inference has no models of its own: batches run by workers are registry
PredictionBatch rows, shown (read-only) in the registry's admin."""
