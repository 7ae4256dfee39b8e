"""Labels that collide with nothing: each label is tried at positions around its anchor (or along its
contour line) and kept at the first whose box, measured by the renderer, stays inside the axes and
overlaps no marker and no label already placed. The layout is settled before anything is measured,
and the labels are kept out of the layout so that placing them moves nothing else."""

from __future__ import annotations

import numpy as np

DIRECTIONS = ((1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1))
RADII = (2, 6, 11)  # points from the anchor
PAD = 1.0  # pixels of clearance around every box


def renderer_of(fig):
    """The figure's renderer, after the layout is settled."""
    fig.draw_without_rendering()
    return fig.canvas.get_renderer()


def marker_boxes(ax) -> list:
    """A box around every marker drawn in `ax` (lines with markers and scatter collections)."""
    from matplotlib.collections import PathCollection
    from matplotlib.transforms import Bbox

    px = ax.figure.dpi / 72
    boxes = []
    for line in ax.get_lines():
        if line.get_marker() in (None, "", "None", " ") or not line.get_visible():
            continue
        half = (line.get_markersize() + line.get_markeredgewidth()) * px / 2
        xy = ax.transData.transform(np.column_stack([line.get_xdata(), line.get_ydata()]).astype(float))
        boxes += [Bbox([[x - half, y - half], [x + half, y + half]]) for x, y in xy]
    for coll in ax.collections:
        if not isinstance(coll, PathCollection) or not len(coll.get_offsets()):
            continue
        sizes = np.resize(coll.get_sizes(), len(coll.get_offsets()))
        xy = coll.get_offset_transform().transform(np.asarray(coll.get_offsets(), float))
        for (x, y), s in zip(xy, sizes):
            half = (np.sqrt(s) + max(np.max(coll.get_linewidths()), 0)) * px / 2
            boxes.append(Bbox([[x - half, y - half], [x + half, y + half]]))
    return boxes


def _free(box, ax_box, taken) -> bool:
    grown = box.padded(PAD)
    inside = (box.x0 >= ax_box.x0 and box.x1 <= ax_box.x1 and box.y0 >= ax_box.y0 and box.y1 <= ax_box.y1)
    return inside and not any(grown.overlaps(other) for other in taken)


def _first_free(candidates, renderer, ax_box, taken: list):
    """Draw each candidate label in turn (`candidates` yields functions that draw one and return it) and
    keep the first whose box is free, adding its box to `taken`; remove the others. None if none is free."""
    for draw in candidates:
        label = draw()
        label.set_in_layout(False)
        box = label.get_window_extent(renderer)
        if _free(box, ax_box, taken):
            taken.append(box)
            return label
        label.remove()
    return None


def place_point_labels(ax, renderer, items, taken: list, directions=DIRECTIONS, **text_kw) -> list:
    """Annotate each (x, y, text) beside its point, trying `directions` in order at growing distances;
    returns the texts placed (a label with no free position is left out). `taken` (boxes) grows with
    every label placed."""
    ax_box = ax.get_window_extent(renderer)

    def beside(x, y, text, dx, dy, radius):
        return lambda: ax.annotate(
            text, (x, y), xytext=(dx * radius, dy * radius), textcoords="offset points",
            ha={1: "left", -1: "right", 0: "center"}[dx], va={1: "bottom", -1: "top", 0: "center"}[dy],
            annotation_clip=False, **text_kw)

    placed = [_first_free((beside(x, y, text, dx, dy, radius) for radius in RADII for dx, dy in directions),
                          renderer, ax_box, taken) for x, y, text in items]
    return [label for label in placed if label is not None]


def place_line_labels(ax, renderer, lines, taken: list, **text_kw) -> list:
    """One label per (level, text, paths) on its line, rotated along it, at the free point nearest
    the middle of the line's longest piece; returns the texts placed."""
    ax_box = ax.get_window_extent(renderer)

    def along(piece, xy, i, text):
        (x0, y0), (x1, y1) = xy[i - 1], xy[i + 1]
        angle = np.degrees(np.arctan2(y1 - y0, x1 - x0))
        angle = angle - 180 if angle > 90 else angle + 180 if angle < -90 else angle
        return lambda: ax.text(*piece[i], text, rotation=angle, rotation_mode="anchor", ha="center",
                               va="center", transform=ax.transData, **text_kw)

    def candidates(text, path):
        pieces = sorted((p for p in path.to_polygons(closed_only=False) if len(p) > 2), key=len, reverse=True)
        for piece in pieces:
            xy = ax.transData.transform(piece)
            mid = len(xy) // 2
            for i in sorted(range(1, len(xy) - 1), key=lambda i: abs(i - mid)):
                yield along(piece, xy, i, text)

    placed = [_first_free(candidates(text, path), renderer, ax_box, taken) for text, path in lines]
    return [label for label in placed if label is not None]


def overlaps(fig, axes=None) -> list:
    """Texts inside axes that overlap each other, a marker or the axes' legend, and texts outside
    their axes (for tests and checks): [(text, what it overlaps), ...]."""
    from matplotlib.text import Text

    renderer = renderer_of(fig)
    found = []
    for ax in axes or fig.axes:
        ax_box = ax.get_window_extent(renderer)
        texts = [t for t in ax.texts if isinstance(t, Text) and t.get_visible() and t.get_text()]
        boxes = [t.get_window_extent(renderer) for t in texts]
        markers = marker_boxes(ax)
        for i, (t, b) in enumerate(zip(texts, boxes)):
            if not (b.x0 >= ax_box.x0 - 0.5 and b.x1 <= ax_box.x1 + 0.5 and b.y0 >= ax_box.y0 - 0.5
                    and b.y1 <= ax_box.y1 + 0.5):
                found.append((t.get_text(), "outside the axes"))
            for u, c in zip(texts[i + 1:], boxes[i + 1:]):
                if b.overlaps(c):
                    found.append((t.get_text(), u.get_text()))
            if any(b.overlaps(m) for m in markers):
                found.append((t.get_text(), "a marker"))
            if ax.get_legend() is not None and b.overlaps(ax.get_legend().get_window_extent(renderer)):
                found.append((t.get_text(), "the legend"))
    return found
