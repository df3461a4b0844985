"""Training only part of a model: the word embeddings stay fixed."""


def freeze_embeddings(model) -> None:
    """Stop training the word embeddings (of encoder and decoder, and the output layer when
    there is one): with a 250k-token vocabulary they are most of the weights, and updating them
    costs most of a CPU step while a few thousand examples barely move them."""
    parts = [model, getattr(model, "encoder", None), getattr(model, "decoder", None)]
    modules = [
        part.get_input_embeddings() for part in parts if hasattr(part, "get_input_embeddings")
    ]
    modules.append(model.get_output_embeddings())
    for module in modules:
        if module is not None:
            for parameter in module.parameters():
                parameter.requires_grad_(False)
