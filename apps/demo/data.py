"""The demo's synthetic credit applicants, generated in code (numpy, seeded): no
download, the same rows on every machine.

Each applicant has an age (and its band), a sex, a yearly net income, a debt-to-income
ratio, years of credit history and open loans. Whether the loan is repaid comes from a
logistic model of those features only: sex plays no part in the label, so a fair
model's decisions differ little between the sexes. The summer batch shifts the
population the way seasonal hiring does (younger applicants, lower and more variable
incomes, more debt), which the monitoring's drift tests should notice."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

FEATURES = ["age", "income_k", "debt_ratio", "history_years", "open_loans"]
PROTECTED = ["sex", "age_band"]
AGE_BANDS = ((18, 25, "18-24"), (25, 40, "25-39"), (40, 60, "40-59"), (60, 200, "60+"))
DECISION_THRESHOLD = 0.5


def applicants(*, rows: int, seed: int, summer: bool = False) -> dict[str, np.ndarray]:
    """``rows`` applicants with their features, protected attributes and label
    (``repaid``: 1 when the loan is repaid)."""
    rng = np.random.default_rng(seed)
    age = rng.normal(30 if summer else 42, 9 if summer else 12, rows).clip(18, 85)
    income = rng.lognormal(3.35 if summer else 3.7, 0.55 if summer else 0.4, rows)
    debt = rng.beta(3 if summer else 2, 5, rows)
    history = (rng.gamma(2.0, 3.0 if summer else 6.0, rows)).clip(0, age - 18)
    loans = rng.poisson(1.6 if summer else 1.2, rows)
    logit = (
        -0.6
        + 0.035 * (age - 40)
        + 0.04 * (income - 40)
        - 3.5 * (debt - 0.3)
        + 0.06 * history
        - 0.25 * loans
    )
    repaid = rng.random(rows) < 1 / (1 + np.exp(-(logit + 1.4)))
    return {
        "age": age.round(0),
        "income_k": income.round(1),
        "debt_ratio": debt.round(3),
        "history_years": history.round(1),
        "open_loans": loans.astype(np.float64),
        "sex": rng.choice(np.array(["female", "male"]), rows),
        "age_band": age_bands(age),
        "repaid": repaid.astype(np.int64),
    }


def age_bands(age: np.ndarray) -> np.ndarray:
    bands = np.empty(len(age), dtype=object)
    for low, high, name in AGE_BANDS:
        bands[(age >= low) & (age < high)] = name
    return bands.astype(str)


def train(*, frame: dict[str, np.ndarray], seed: int, depth: int = 4, trees: int = 60) -> Any:
    """An XGBoost booster of P(repaid) from the features (never the protected ones)."""
    import xgboost as xgb

    matrix = xgb.DMatrix(features(frame), label=frame["repaid"], feature_names=FEATURES)
    params = {
        "objective": "binary:logistic",
        "max_depth": depth,
        "eta": 0.1,
        "nthread": 2,
        "seed": seed,
        "eval_metric": "auc",
    }
    return xgb.train(params, matrix, num_boost_round=trees)


def features(frame: dict[str, np.ndarray]) -> np.ndarray:
    return np.column_stack([frame[name] for name in FEATURES]).astype(np.float32)


def scores(*, booster: Any, frame: dict[str, np.ndarray]) -> np.ndarray:
    import xgboost as xgb

    return booster.predict(xgb.DMatrix(features(frame), feature_names=FEATURES))


def with_decisions(*, frame: dict[str, np.ndarray], score: np.ndarray) -> dict[str, np.ndarray]:
    """The frame with the model's score and its decision (1: approve)."""
    return {
        **frame,
        "score": score.round(6),
        "decision": (score >= DECISION_THRESHOLD).astype(np.int64),
    }


def metrics(*, frame: dict[str, np.ndarray], score: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, roc_auc_score

    label = frame["repaid"]
    return {
        "accuracy": round(float(accuracy_score(label, score >= DECISION_THRESHOLD)), 4),
        "roc_auc": round(float(roc_auc_score(label, score)), 4),
    }


def parquet(columns: dict[str, np.ndarray]) -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table(columns), sink)
    return sink.getvalue()


def schema(columns: dict[str, np.ndarray]) -> list[dict[str, str]]:
    return [
        {"name": name, "type": "string" if values.dtype.kind in "OU" else "number"}
        for name, values in columns.items()
    ]
