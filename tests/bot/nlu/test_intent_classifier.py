"""The intent classifier (nlu_components/intent_classifier.py) scores one message at a time, as a turn needs, with
exactly the arithmetic it was trained with on the whole matrix."""

from __future__ import annotations

import numpy as np
import scipy.sparse
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.intent_classifier import IntakeIntentClassifier

WIDTH = 12
INTENTS = ["complain", "praise", "request"]


def featurized(text: str, intent: str, seed: int) -> Message:
    """A message with sparse word counts (some repeated, some absent) and a dense vector, as the featurizers add."""
    rng = np.random.default_rng(seed)
    message = Message(data={TEXT: text, INTENT: intent})
    columns = rng.choice(WIDTH, size=4)  # may repeat a column: counts of the same word add up
    counts = scipy.sparse.coo_matrix((np.ones(4), (np.zeros(4, dtype=int), columns)), shape=(1, WIDTH))
    message.add_features(Features(counts, FEATURE_TYPE_SENTENCE, TEXT, "words"))
    dense = rng.normal(size=(1, 5)) + INTENTS.index(intent)
    message.add_features(Features(dense, FEATURE_TYPE_SENTENCE, TEXT, "encoder"))
    return message


def test_one_message_at_a_time_scores_as_the_training_matrix_does(tmp_path) -> None:
    examples = [featurized(f"text {i}", INTENTS[i % 3], seed=i) for i in range(30)]
    classifier = IntakeIntentClassifier(
        {"dense_weight": 0.7}, LocalModelStorage(tmp_path), Resource("intent_classifier")
    )
    classifier.train(TrainingData(examples))

    unseen = [featurized(f"new {i}", INTENTS[i % 3], seed=100 + i) for i in range(6)]
    scores = np.asarray(classifier._matrix(unseen) @ classifier.coef.T) + classifier.intercept
    expected = np.exp(scores - scores.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)

    assert np.allclose(classifier.predict_proba(unseen), expected, atol=1e-12)
    classifier.process(unseen)
    assert [m.get(INTENT)["name"] for m in unseen] == [INTENTS[np.argmax(row)] for row in expected]


def test_a_message_without_features_gets_the_prior(tmp_path) -> None:
    examples = [featurized(f"text {i}", INTENTS[i % 3], seed=i) for i in range(30)]
    classifier = IntakeIntentClassifier({}, LocalModelStorage(tmp_path), Resource("intent_classifier"))
    classifier.train(TrainingData(examples))
    (probabilities,) = classifier.predict_proba([Message(data={TEXT: "nothing featurized"})])
    expected = np.exp(classifier.intercept - classifier.intercept.max())
    assert np.allclose(probabilities, expected / expected.sum())
