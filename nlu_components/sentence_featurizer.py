"""Rasa featurizer that adds a pre-trained sentence embedding (all-MiniLM-L6-v2) to every message's text.

It gives the intent classifier a sense of meaning beyond the words seen in training: "the bins were left full
again" lands near "nobody emptied our garbage" although they share no word. Option `precision`: "float32" (default,
the published model) or "int8" (int8 weights in the encoder's dense layers: about 4 times faster per message).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.encoder import PRECISIONS, SentenceEncoder

logger = logging.getLogger(__name__)
_ENCODERS: Dict[Tuple[str, str], SentenceEncoder] = {}


def shared_encoder(folder: Optional[str] = None, precision: str = "float32") -> SentenceEncoder:
    """Return one encoder per folder and precision for the whole process (ONNX Runtime holds its weights: 90 MB in
    float32, a quarter of that in int8)."""
    key = (folder or "", precision)
    if key not in _ENCODERS:
        _ENCODERS[key] = SentenceEncoder(Path(folder) if folder else None, precision)
    return _ENCODERS[key]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Add the message's sentence embedding as a dense sentence-level feature of its text."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Return the default config: the encoder's folder (None: INTAKE_ENCODER_DIR or the fetched package) and the
        precision of its weights ("float32" or "int8")."""
        return {**DenseFeaturizer.get_default_config(), "model_dir": None, "precision": "float32"}

    @staticmethod
    def required_packages() -> List[Text]:
        """Return the packages the component needs."""
        return ["tokenizers", "numpy", "onnx", "onnxruntime"]

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, config)
        self.encoder = shared_encoder(config.get("model_dir"), config.get("precision", "float32"))

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        """Create the featurizer (it has nothing to train)."""
        return cls({**cls.get_default_config(), **config}, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Refuse an unknown precision; the folder is checked when the encoder loads."""
        precision = config.get("precision", "float32")
        if precision not in PRECISIONS:
            raise ValueError(
                f"SentenceEncoderFeaturizer: unknown precision {precision!r}, use one of {', '.join(PRECISIONS)}."
            )

    def process(self, messages: List[Message]) -> List[Message]:
        """Add the embedding of each message's text."""
        self._featurize([m for m in messages if m.get(TEXT)])
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Add the embedding of every training example's text."""
        self._featurize([m for m in training_data.training_examples if m.get(TEXT)])
        return training_data

    def _featurize(self, messages: List[Message]) -> None:
        if not messages:
            return
        vectors = self.encoder.encode([m.get(TEXT) for m in messages])
        for message, vector in zip(messages, vectors):
            self.add_features_to_message(None, np.asarray(vector[None, :]), TEXT, message)
