"""Recommendations from interaction logs: one API (`fit` / `predict` / `recommend`), many models.

from seoga.recommend import read_interactions, read_features, make_recommender
log = read_interactions("ratings.csv")
model = make_recommender("fm", seed=42).fit(log, items=read_features("movies.csv"))
model.recommend("42", k=10)
"""

from seoga.recommend.base import Recommendation, Recommender
from seoga.recommend.data.columns import Columns
from seoga.recommend.data.features import FeatureTable, read_features
from seoga.recommend.data.interactions import IdMap, Interactions
from seoga.recommend.data.log_files import read_baskets, read_interactions
from seoga.recommend.data.splits import Split, split_interactions
from seoga.recommend.registry import MODELS, load_recommender, make_recommender, model_class

__all__ = [
    "MODELS",
    "Columns",
    "FeatureTable",
    "IdMap",
    "Interactions",
    "Recommendation",
    "Recommender",
    "Split",
    "load_recommender",
    "make_recommender",
    "model_class",
    "read_baskets",
    "read_features",
    "read_interactions",
    "split_interactions",
]
