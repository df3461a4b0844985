"""Models: `registry` resolves a name to a folder, pack or hub id; `embedders` loads encoders.

`folders` reads and writes the record in every model folder seoga trains; `hf_training`,
`freezing` and `step_progress` are the Hugging Face training helpers every trainer shares (they
sit here, at ground level, so trainers in answer/, rerank/ and train/ import them without
reaching upward).

Import from the submodules (`seoga.models.embedders.load_embedder`, ...): `registry` stays light,
`embedders` pulls in torch.
"""
