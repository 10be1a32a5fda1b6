"""Rasa featurizer that adds a pre-trained sentence embedding (all-MiniLM-L6-v2) to every message's text.

It gives the intent classifier a sense of meaning beyond the words seen in training: "the bins were left full
again" lands near "nobody emptied our garbage" although they share no word. Option `precision`: "float32" (default,
the published model) or "int8" (int8 weights in the encoder's dense layers: about 4 times faster per message).

Option `tuning` (None: the published weights): settings for fine-tuning the encoder on the training data's intents
(nlu_components/encoder_tuning.py; `{}` takes the measured defaults). Training then uses, or makes when missing, the
folder build/encoder-tuned/<hash> for exactly these examples and settings, and the trained model stores that hash, so
a model always runs with the encoder it was trained with; `scripts/train.sh` tunes before Rasa trains.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components import encoder_tuning
from nlu_components.encoder import PRECISIONS, SentenceEncoder, model_dir

logger = logging.getLogger(__name__)
TUNED_FILE = "tuned_encoder.json"
_ENCODERS: dict[tuple[str, str], SentenceEncoder] = {}


def shared_encoder(folder: str | None = None, precision: str = "float32") -> SentenceEncoder:
    """Return one encoder per folder and precision for the whole process (ONNX Runtime holds its weights: 90 MB in
    float32, a quarter of that in int8)."""
    key = (folder or "", precision)
    if key not in _ENCODERS:
        _ENCODERS[key] = SentenceEncoder(Path(folder) if folder else None, precision)
    return _ENCODERS[key]


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Add the message's sentence embedding as a dense sentence-level feature of its text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Return the default config: the encoder's folder (None: INTAKE_ENCODER_DIR or the fetched package), the
        precision of its weights ("float32" or "int8") and the tuning settings (None: not tuned)."""
        return {**DenseFeaturizer.get_default_config(), "model_dir": None, "precision": "float32", "tuning": None}

    @staticmethod
    def required_packages() -> list[str]:
        """Return the packages the component needs."""
        return ["tokenizers", "numpy", "onnx", "onnxruntime"]

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage | None = None,
        resource: Resource | None = None,
        folder: str | None = None,
    ) -> None:
        super().__init__(name, config)
        self._model_storage = model_storage
        self._resource = resource
        self._precision = config.get("precision", "float32")
        # A tuned encoder is only known once trained (or loaded): until then the published one stands in.
        self.encoder = shared_encoder(folder or config.get("model_dir"), self._precision)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        """Create the featurizer, untrained."""
        return cls({**cls.get_default_config(), **config}, execution_context.node_name, model_storage, resource)

    def _base_dir(self) -> Path:
        configured = self._config.get("model_dir")
        return Path(configured) if configured else model_dir()

    def train(self, training_data: TrainingData) -> Resource:
        """Without `tuning`, nothing. With it, tune the encoder on the intent examples (or reuse the folder tuned on
        exactly them), use it, and store its folder's name with the model."""
        assert self._resource is not None and self._model_storage is not None
        if self._config.get("tuning") is None:
            return self._resource
        examples = [(e.get(TEXT), e.get(INTENT)) for e in training_data.intent_examples]
        folder = encoder_tuning.tune(examples, self._config["tuning"], self._base_dir())
        self.encoder = shared_encoder(str(folder), self._precision)
        with self._model_storage.write_to(self._resource) as storage:
            (storage / TUNED_FILE).write_text(json.dumps({"encoder": folder.name}))
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentenceEncoderFeaturizer:
        """Load the featurizer with the encoder it was trained with (the tuned one, named in the model, if any)."""
        config = {**cls.get_default_config(), **config}
        folder = None
        if config.get("tuning") is not None:
            try:
                with model_storage.read_from(resource) as storage:
                    name = json.loads((storage / TUNED_FILE).read_text())["encoder"]
            except (ValueError, FileNotFoundError):
                name = None  # nothing trained yet (a model without intent examples): the published encoder
            if name:
                folder = encoder_tuning.TUNED_ROOT / name
                if not (folder / "model.safetensors").exists():
                    raise FileNotFoundError(
                        f"This model runs with the tuned sentence encoder {folder}, which is missing: run "
                        f"scripts/train.sh (make model), which makes it again from the same data and settings."
                    )
        return cls(config, execution_context.node_name, model_storage, resource, str(folder) if folder else None)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Refuse an unknown precision or tuning setting; the folder is checked when the encoder loads."""
        precision = config.get("precision", "float32")
        if precision not in PRECISIONS:
            raise ValueError(
                f"SentenceEncoderFeaturizer: unknown precision {precision!r}, use one of {', '.join(PRECISIONS)}."
            )
        if config.get("tuning") is not None:
            encoder_tuning.settings_of(config["tuning"])

    def process(self, messages: list[Message]) -> list[Message]:
        """Add the embedding of each message's text."""
        self._featurize([m for m in messages if m.get(TEXT)])
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Add the embedding of every training example's text."""
        self._featurize([m for m in training_data.training_examples if m.get(TEXT)])
        return training_data

    def _featurize(self, messages: list[Message]) -> None:
        if not messages:
            return
        vectors = self.encoder.encode([m.get(TEXT) for m in messages])
        for message, vector in zip(messages, vectors):
            self.add_features_to_message(None, np.asarray(vector[None, :]), TEXT, message)
