"""Table transformations: new networks made from a table by editing its rows, never by typing numbers.

* ``with_classes(spec, n)`` -- the same network with an n-way classifier (e.g. TF-slim's 1001);
* ``full_convolutions(spec)`` -- MobileNets (arXiv:1704.04861) Table 4's "Conv MobileNet": every
  depthwise-separable pair (3x3 depthwise, 1x1 pointwise) of a v1 table becomes one full 3x3
  convolution with the pointwise's output width and the depthwise's stride;
* ``drop_rows(spec, indices)`` -- rows removed (Table 5's shallow MobileNet drops the five
  14x14x512 separable blocks);
* ``with_output_stride(spec, n)`` -- the network as a dense-prediction backbone of output stride n
  (8, 16, 32): later strides become dilation (the table key ``output_stride``).

The results are ordinary ``VariantSpec``s: the engine, the checks and every report work on them.
"""

from __future__ import annotations

from ..errors import MobilecostError
from ..spec.models import VariantSpec, parse_size


def _size(side: int, channels: int) -> str:
    return f"{side}x{side}x{channels}"


def with_classes(spec: VariantSpec, classes: int) -> VariantSpec:
    """The network with a `classes`-way classifier; rows fed by the logits follow."""
    old = spec.classes
    rows = []
    seen_classifier = False
    for row in spec.layers:
        update = {}
        if seen_classifier and parse_size(row.input) == (1, old):
            update["input"] = _size(1, classes)
        if spec.format == "v1" and row.type == "fc":
            seen_classifier = True
            if row.filter:
                c_in = row.filter.replace(" ", "").split("x")[0]
                update["filter"] = f"{c_in}x{classes}"
        if spec.format in ("v2", "v3"):
            if getattr(row, "c", None) == "k" or getattr(row, "out", None) == "k":
                seen_classifier = True
        rows.append(row.model_copy(update=update) if update else row)
    return spec.model_copy(update={"classes": classes, "layers": tuple(rows), "line_of_row": ()})


def _require_v1(spec: VariantSpec, what: str) -> None:
    if spec.format != "v1":
        raise MobilecostError(f"{what} needs a v1-format table (type/stride/filter rows); {spec.name} is "
                              f"{spec.format}", field="format")


def full_convolutions(spec: VariantSpec) -> VariantSpec:
    """Replace each 'conv dw' + 1x1 'conv' pair by one full KxK convolution (Conv MobileNet)."""
    _require_v1(spec, "replacing separable blocks by full convolutions")
    rows, i, layers = [], 0, spec.layers
    while i < len(layers):
        row = layers[i]
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if row.type == "conv dw" and nxt is not None and nxt.type == "conv":
            k = row.filter.replace(" ", "").split("x")[0]
            c_in = parse_size(row.input)[1]
            c_out = nxt.filter.replace(" ", "").split("x")[-1]
            rows.append(row.model_copy(update={"type": "conv", "filter": f"{k}x{k}x{c_in}x{c_out}",
                                               "note": "full convolution in place of a separable pair"}))
            i += 2
            continue
        rows.append(row)
        i += 1
    return spec.model_copy(update={"name": f"{spec.name}_full_conv", "title": f"{spec.title} (full conv)",
                                   "layers": tuple(rows), "line_of_row": ()})


def separable_rows_at(spec: VariantSpec, side: int, channels: int) -> list[int]:
    """Indices of the stride-1 'conv dw' rows (and their pointwise rows) that keep side x side x channels."""
    _require_v1(spec, "finding separable blocks")
    found = []
    for i, row in enumerate(spec.layers[:-1]):
        nxt = spec.layers[i + 1]
        if (row.type == "conv dw" and row.s == 1 and parse_size(row.input) == (side, channels)
                and nxt.type == "conv" and parse_size(nxt.input) == (side, channels)
                and nxt.filter.replace(" ", "").endswith(f"x{channels}")):
            found += [i, i + 1]
    return found


def drop_rows(spec: VariantSpec, indices, suffix: str = "shallow") -> VariantSpec:
    drop = set(indices)
    if not drop:
        raise MobilecostError("no rows to drop", field="layers")
    rows = tuple(r for i, r in enumerate(spec.layers) if i not in drop)
    return spec.model_copy(update={"name": f"{spec.name}_{suffix}", "title": f"{spec.title} ({suffix})",
                                   "layers": rows, "line_of_row": ()})


def with_output_stride(spec: VariantSpec, output_stride: int | None) -> VariantSpec:
    """The table read as a backbone of output stride `output_stride` (None: as written)."""
    from pydantic import ValidationError

    try:
        return VariantSpec.model_validate({**spec.model_dump(), "layers": spec.layers, "output_stride": output_stride})
    except ValidationError as exc:
        raise MobilecostError(f"output stride {output_stride!r}: {exc.errors()[0]['msg']}", field="output_stride") from None
