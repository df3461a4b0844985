"""Models: `registry` resolves a name to a folder, pack or hub id; `embedders` loads encoders.

Import from the submodules (`seoga.models.embedders.load_embedder`, ...): `registry` stays light,
`embedders` pulls in torch.
"""
