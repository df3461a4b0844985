"""The recommender models, one module each (with the parts only a model uses)."""
