"""Validates OCSF output (JSON lines, files on the command line) against the OCSF 1.5.0 Detection
Finding as published in the py-ocsf-models pydantic models (OCSF_VERSION 1.5.0): each event must
parse as a DetectionFinding, and every attribute we write must be one the model knows (pydantic
ignores unknown attributes, so they are compared after a round trip). Run by .ci/run.
"""
import json
import sys

import py_ocsf_models
from py_ocsf_models.events.findings.detection_finding import DetectionFinding

# Objects that OCSF types as free-form JSON (`data`, `unmapped`) are not walked.
FREE_FORM = {"data", "unmapped"}
# Attributes of the OCSF 1.5.0 schema that py-ocsf-models 0.10.0 does not model: the schema's
# `evidences` object allows `file` (schema.ocsf.io/1.5.0/objects/evidences), the model lacks it.
KNOWN_GAPS = {"evidences.file"}


def unknown(ours, known, path=""):
    out = []
    if isinstance(ours, dict):
        for k, v in ours.items():
            p = f"{path}.{k}" if path else k
            if k in FREE_FORM:
                continue
            if not isinstance(known, dict) or k not in known:
                out.append(p)
            else:
                out.extend(unknown(v, known[k], p))
    elif isinstance(ours, list) and isinstance(known, list):
        for a, b in zip(ours, known):
            out.extend(unknown(a, b, path))
    return out


def main():
    if py_ocsf_models.OCSF_VERSION != "1.5.0":
        sys.exit(f"expected OCSF 1.5.0 models, found {py_ocsf_models.OCSF_VERSION}")
    problems, n = [], 0
    for name in sys.argv[1:]:
        with open(name, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                if not line.strip():
                    continue
                n += 1
                doc = json.loads(line)
                try:
                    model = DetectionFinding.model_validate(doc)
                except Exception as e:  # pydantic.ValidationError
                    problems.append(f"{name}:{i}: {e}")
                    continue
                known = model.model_dump(mode="json")
                problems.extend(
                    f"{name}:{i}: {p} is not an OCSF 1.5.0 attribute"
                    for p in unknown(doc, known)
                    if p not in KNOWN_GAPS
                )
    if problems:
        sys.exit("\n".join(problems))
    print(f"ocsf-check: {n} Detection Findings valid against py-ocsf-models (OCSF {py_ocsf_models.OCSF_VERSION})")


if __name__ == "__main__":
    main()
