"""Recognising model artifact formats from their first bytes.

Only formats that cannot execute code on load are accepted; pickle (and joblib,
which is pickle) is refused outright, whatever it is declared as.
"""

from __future__ import annotations

SAFE_FORMATS = "xgboost-ubj, xgboost-json, lightgbm-txt, onnx, sklearn-skops"


def looks_like_pickle(head: bytes) -> bool:
    # Protocol 2+ pickles start with PROTO (0x80) and the protocol number.
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def format_mismatch(*, declared: str, head: bytes) -> str | None:
    """Why the first bytes cannot be an artifact of the declared format, or None."""
    if looks_like_pickle(head):
        return (
            f"this is a pickle file, which can run code when loaded; upload one of: {SAFE_FORMATS}"
        )
    stripped = head.lstrip()
    expectations = {
        "xgboost-json": (stripped.startswith(b"{"), "a JSON object"),
        "xgboost-ubj": (head.startswith(b"{"), "a UBJSON object"),
        "lightgbm-txt": (
            head.startswith(b"tree\n") or head.startswith(b"tree\r\n"),
            "LightGBM text ('tree' header)",
        ),
        # ONNX is a protobuf ModelProto; its first field is ir_version (field 1, varint).
        "onnx": (head[:1] == b"\x08", "an ONNX protobuf"),
        "sklearn-skops": (head.startswith(b"PK\x03\x04"), "a skops (zip) archive"),
    }
    ok, expected = expectations[declared]
    return None if ok else f"the file does not look like {expected}, as {declared} requires"
