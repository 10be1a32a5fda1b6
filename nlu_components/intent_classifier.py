"""Rasa intent classifier: one logistic regression over TF-IDF-weighted n-grams and a sentence embedding.

Rasa's own LogisticRegressionClassifier feeds raw n-gram counts beside the embedding, so long messages and frequent
words drown the embedding out. Here each sparse featurizer's counts are weighted as TF-IDF (sublinear term
frequency, inverse document frequency learned in training, unit length per featurizer), each dense block is scaled
to unit length, and the regularisation strength is configurable. The trained model is stored as plain numpy arrays,
so loading it runs no pickled code.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)
MODEL_FILE = "intent_classifier.npz"


@dataclass
class Block:
    """One featurizer's sentence features: its origin, width, and for sparse ones the learned IDF weights."""

    origin: str
    width: int
    idf: np.ndarray | None  # None for dense features

    def weigh_row(self, row: Any) -> tuple[np.ndarray, np.ndarray]:
        """Return one message's features (a 1-row matrix, or None) as column indices and values, weighted and
        scaled to unit length."""
        if row is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        if scipy.sparse.issparse(row):
            row = scipy.sparse.csr_matrix(row)
            row.sum_duplicates()
            indices, values = row.indices.astype(np.int64), row.data.astype(np.float64)
        else:
            values = np.asarray(row, dtype=np.float64).ravel()
            indices = np.flatnonzero(values)
            values = values[indices]
        if self.idf is not None:
            values = (1.0 + np.log(np.maximum(values, 1e-12))) * self.idf[indices]
        norm = np.sqrt(values @ values)
        return indices, values / norm if norm else values

    def weigh(self, rows: list[Any]) -> scipy.sparse.csr_matrix:
        """Return the rows (one feature matrix or None per message) weighted, one sparse row per message."""
        weighed = [self.weigh_row(row) for row in rows]
        indptr = np.cumsum([0] + [len(indices) for indices, _ in weighed])
        indices = np.concatenate([indices for indices, _ in weighed])
        values = np.concatenate([values for _, values in weighed])
        return scipy.sparse.csr_matrix((values, indices, indptr), shape=(len(rows), self.width))


def sentence_features(message: Message) -> dict[str, Any]:
    """Return the message's sentence-level text features by the featurizer that made them."""
    found: dict[str, Any] = {}
    for features in message.features:
        if features.attribute == TEXT and features.type == FEATURE_TYPE_SENTENCE:
            found[str(features.origin)] = features.features
    return found


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class IntakeIntentClassifier(IntentClassifier, GraphComponent):
    """Predict the intent with a logistic regression over weighted sparse and dense sentence features."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Return the components needed before this one: featurizers."""
        return [Featurizer]

    @staticmethod
    def required_packages() -> list[str]:
        """Return the packages the component needs."""
        return ["sklearn", "scipy", "numpy"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the default config: regularisation C, weight of the dense blocks, ranking length."""
        return {"C": 20.0, "dense_weight": 1.0, "max_iter": 3000, "ranking_length": 10}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        blocks: list[Block] | None = None,
        classes: np.ndarray | None = None,
        coef: np.ndarray | None = None,
        intercept: np.ndarray | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.blocks = blocks or []
        self.classes = classes
        self.coef = coef
        self.intercept = intercept

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> IntakeIntentClassifier:
        """Create an untrained classifier."""
        return cls(config, model_storage, resource)

    def _matrix(self, messages: Sequence[Message]) -> scipy.sparse.csr_matrix:
        found = [sentence_features(m) for m in messages]
        parts = []
        for block in self.blocks:
            weighted = block.weigh([f.get(block.origin) for f in found])
            parts.append(weighted * self._block_weight(block))
        return scipy.sparse.hstack(parts, format="csr")

    def _block_weight(self, block: Block) -> float:
        return 1.0 if block.idf is not None else float(self.config["dense_weight"])

    def _scores(self, message: Message) -> np.ndarray:
        # One message's row of `_matrix(...) @ coef.T`, without building the matrix (a turn has one message).
        assert self.coef is not None and self.intercept is not None
        found = sentence_features(message)
        scores = np.array(self.intercept, dtype=np.float64)
        offset = 0
        for block in self.blocks:
            indices, values = block.weigh_row(found.get(block.origin))
            if len(indices):
                scores += (self.coef[:, offset + indices] @ values) * self._block_weight(block)
            offset += block.width
        return scores

    def train(self, training_data: TrainingData) -> Resource:
        """Learn the IDF weights and the regression from the examples that have an intent."""
        from sklearn.linear_model import LogisticRegression

        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug("No intent examples: %s stays untrained.", self.__class__.__name__)
            return self._resource
        self.blocks = self._learn_blocks(examples)
        model = LogisticRegression(C=self.config["C"], max_iter=self.config["max_iter"], random_state=42)
        model.fit(self._matrix(examples), [e.get(INTENT) for e in examples])
        self.classes = np.asarray(model.classes_)
        self.coef = np.asarray(model.coef_)
        self.intercept = np.asarray(model.intercept_)
        self.persist()
        return self._resource

    @staticmethod
    def _learn_blocks(examples: Sequence[Message]) -> list[Block]:
        found = [sentence_features(e) for e in examples]
        origins = sorted({origin for f in found for origin in f})
        blocks = []
        for origin in origins:
            sample = next(f[origin] for f in found if origin in f)
            width = sample.shape[-1]
            idf = None
            if scipy.sparse.issparse(sample):
                columns = [scipy.sparse.csr_matrix(f[origin]).indices for f in found if origin in f]
                document_frequency = np.bincount(np.concatenate([np.unique(c) for c in columns]), minlength=width)
                # Smoothed IDF, as scikit-learn computes it: words in every example weigh 1, rare ones more.
                idf = np.log((1 + len(examples)) / (1 + document_frequency)) + 1.0
            blocks.append(Block(origin=origin, width=width, idf=idf))
        return blocks

    def predict_proba(self, messages: Sequence[Message]) -> np.ndarray:
        """Return each message's probability for every intent in `self.classes`."""
        scores = np.stack([self._scores(message) for message in messages])
        if scores.shape[1] == 1:  # two intents: scikit-learn keeps one column, for the second class
            positive = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.stack([1.0 - positive, positive], axis=1)
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def process(self, messages: list[Message]) -> list[Message]:
        """Set the most likely intent and a ranking of the next ones on each message."""
        if self.classes is None or not messages:
            return messages
        probabilities = self.predict_proba(messages)
        for message, row in zip(messages, probabilities):
            order = np.argsort(-row)
            ranking = [{"name": str(self.classes[i]), "confidence": float(row[i])} for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking[: self.config["ranking_length"]], add_to_output=True)
        return messages

    def persist(self) -> None:
        """Store the regression and the feature weights as numpy arrays."""
        arrays: dict[str, np.ndarray] = {
            "classes": np.asarray(self.classes, dtype=str),
            "coef": self.coef,
            "intercept": self.intercept,
            "origins": np.asarray([b.origin for b in self.blocks], dtype=str),
            "widths": np.asarray([b.width for b in self.blocks]),
        }
        for index, block in enumerate(self.blocks):
            if block.idf is not None:
                arrays[f"idf_{index}"] = block.idf
        with self._model_storage.write_to(self._resource) as folder:
            np.savez(folder / MODEL_FILE, **arrays)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> IntakeIntentClassifier:
        """Load the trained classifier, or an untrained one when training stored nothing."""
        try:
            with model_storage.read_from(resource) as folder:
                with np.load(folder / MODEL_FILE, allow_pickle=False) as data:
                    blocks = [
                        Block(origin=str(origin), width=int(width), idf=_optional(data, f"idf_{index}"))
                        for index, (origin, width) in enumerate(zip(data["origins"], data["widths"]))
                    ]
                    return cls(
                        config, model_storage, resource, blocks, data["classes"], data["coef"], data["intercept"]
                    )
        except (ValueError, FileNotFoundError):
            logger.debug("%s found no trained model in %s.", cls.__name__, resource.name)
            return cls.create(config, model_storage, resource, execution_context)


def _optional(data: Any, key: str) -> np.ndarray | None:
    return np.asarray(data[key]) if key in data.files else None
