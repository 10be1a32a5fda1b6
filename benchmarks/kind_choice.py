"""How often a report ends with the right kind once the conversation can ask, beside the classifier alone.

Simulated residents send each message of the development sets as their first message. The real model parses it;
the assistant's own code decides whether to ask which kind they mean (actions/kind_choice.py `unsure_between`)
and reads their answer (`chosen_kind`). Each resident answers with the button of the kind they mean when it is
offered, and in their own words ("neither really") when it is not, which keeps the classifier's guess. In the
read-back, whose heading names the kind, a careful resident corrects a wrong kind ("it's a request") and a hurried
one does not: the two bound what really happens. Messages the classifier reads as not a report start no report and
count as wrong for report kinds.

    .venvs/bot/bin/python benchmarks/kind_choice.py --model "$(scripts/train.sh)"      (make bench-kind)

It prints, per set: the classifier alone, with the question, with the question and a careful read-back, how many
reports were asked about, and a sweep of the two thresholds so they can be chosen on figures.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import nlu  # noqa: E402  (sets the quiet logging and paths the other benchmarks use)

from actions import kind_choice  # noqa: E402
from actions.flow import KINDS  # noqa: E402

# The answer each resident gives when their kind is offered: the payload of its button.
BUTTON = {"service_request": "fix it", "complaint": "unhappy", "compliment": "thanks"}
UNOFFERED = "neither really"
# What a careful resident says in the read-back when its heading names the wrong kind.
CORRECTION = {
    "service_request": "no, it's a request",
    "complaint": "no, it's a complaint",
    "compliment": "no, it's a compliment",
}
SWEEP_RUNNER_UP = (0.10, 0.15, 0.20, 0.25)
SWEEP_MARGIN = (0.25, 0.35, 0.45, 0.55, 0.65)

Parse = tuple[str | None, list[dict[str, Any]]]


async def parse_all(model: Path, texts: Sequence[str]) -> list[Parse]:
    """Return (intent, intent ranking) for each text, parsed by the model as the server would."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    parses = []
    for text in texts:
        parse = await agent.parse_message(text)
        parses.append(((parse.get("intent") or {}).get("name"), parse.get("intent_ranking") or []))
    return parses


def final_kind(gold: str, parse: Parse, careful: bool) -> tuple[str | None, bool]:
    """Return the kind the report ends with (None: no report started) and whether the assistant asked."""
    intent, ranking = parse
    kind = intent if intent in KINDS else None
    if kind is None:
        return None, False
    options = kind_choice.unsure_between(kind, ranking)
    asked = options is not None
    if asked:
        answer = BUTTON[gold] if gold in options else UNOFFERED
        kind = kind_choice.chosen_kind(answer, options) or kind
    if careful and kind != gold and gold in KINDS:
        kind = kind_choice.named_kind(CORRECTION[gold]) or kind
    return kind, asked


def outcome(pairs: Sequence[tuple[str, str]], parses: Sequence[Parse]) -> dict[str, float]:
    """Return the share of report messages ending with the right kind (alone, asked, asked and careful) and the
    share of started reports the assistant asked about."""
    rows = [(gold, parse) for (_, gold), parse in zip(pairs, parses) if gold in KINDS]
    alone = sum(1 for gold, (intent, _) in rows if intent == gold)
    asked_right = sum(1 for gold, parse in rows if final_kind(gold, parse, careful=False)[0] == gold)
    careful_right = sum(1 for gold, parse in rows if final_kind(gold, parse, careful=True)[0] == gold)
    # Whether the assistant asks depends on the parse alone, not on what the resident meant.
    started = [(intent, ranking) for intent, ranking in parses if intent in KINDS]
    asked = sum(1 for intent, ranking in started if kind_choice.unsure_between(intent, ranking) is not None)
    n = len(rows)
    return {
        "n": n,
        "alone": alone / n,
        "asked": asked_right / n,
        "careful": careful_right / n,
        "ask_rate": asked / len(started) if started else 0.0,
    }


def sweep(pairs: Sequence[tuple[str, str]], parses: Sequence[Parse]) -> None:
    """Print the right-kind share and the share of reports asked about for each pair of thresholds."""
    saved = kind_choice.MIN_RUNNER_UP, kind_choice.MAX_MARGIN
    print(f"  {'runner-up':>9} {'margin':>7} {'right':>7} {'asked':>7}")
    try:
        for runner_up in SWEEP_RUNNER_UP:
            for margin in SWEEP_MARGIN:
                kind_choice.MIN_RUNNER_UP, kind_choice.MAX_MARGIN = runner_up, margin
                row = outcome(pairs, parses)
                mark = "  <- current" if (runner_up, margin) == saved else ""
                print(f"  {runner_up:>9.2f} {margin:>7.2f} {row['asked']:>7.3f} {row['ask_rate']:>7.3f}{mark}")
    finally:
        kind_choice.MIN_RUNNER_UP, kind_choice.MAX_MARGIN = saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, required=True, help="trained model (scripts/train.sh prints it)")
    parser.add_argument("--sweep", action="store_true", help="also print the threshold sweep per set")
    args = parser.parse_args()
    nlu.quiet_logs()
    print(
        f"model {args.model.name}; thresholds: runner-up >= {kind_choice.MIN_RUNNER_UP}, "
        f"margin < {kind_choice.MAX_MARGIN}"
    )
    print(f"{'set':<14}{'reports':>8}{'classifier':>11}{'+question':>10}{'+read-back':>11}{'asked':>7}")
    for name, path in nlu.SETS.items():
        pairs = nlu.load_heldout(path)
        parses = asyncio.run(parse_all(args.model, [text for text, _ in pairs]))
        row = outcome(pairs, parses)
        print(
            f"{name:<14}{row['n']:>8}{row['alone']:>11.3f}{row['asked']:>10.3f}{row['careful']:>11.3f}"
            f"{row['ask_rate']:>7.3f}"
        )
        if args.sweep:
            sweep(pairs, parses)
    return 0


if __name__ == "__main__":
    sys.exit(main())
