"""Evaluation: retrieval on BEIR-layout folders (ranx metrics)."""

# Kept here, away from ranx, so the CLI can name them without importing it.
RETRIEVAL_METRICS = ["ndcg@10", "recall@10", "recall@100", "mrr@10"]
