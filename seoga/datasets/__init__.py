"""Public data sets as seoga reads them, and their official scoring: BEIR folders (corpus,
queries, qrels) and SQuAD-style answer matching. Training, evaluation and distillation all read
them, so they sit below all three."""
