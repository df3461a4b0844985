"""The training lab: adapt an embedding model to a user's data.

`data` reads the formats (`tables` the rows of TSV/CSV/JSONL files) into `examples`,
`objectives` turns data into examples (supervised, SimCSE, ICT, DPR with BM25 hard negatives),
`losses` maps loss names to sentence-transformers losses, `lora` adds peft adapters, `trainer`
runs sentence-transformers' trainer per a `config`, and `publishing` writes the model folder +
card, `tune` runs grid searches. Import from the submodules: they pull in torch only when used.
"""
