"""Floor plans for the demo conference: simple drawings made with Pillow, one per floor, with each room pinned."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

#: Each floor's rooms as boxes (left, top, right, bottom) in fractions of the plan.
LAYOUT: dict[str, dict[str, tuple[float, float, float, float]]] = {
    "Ground floor": {
        "room-segara-hall": (0.04, 0.08, 0.46, 0.62),
        "room-hall-a": (0.50, 0.08, 0.72, 0.40),
        "room-hall-b": (0.74, 0.08, 0.96, 0.40),
        "room-frangipani-terrace": (0.50, 0.46, 0.96, 0.92),
    },
    "Level 1": {
        "room-uluwatu": (0.04, 0.08, 0.36, 0.50),
        "room-tanah-lot": (0.38, 0.08, 0.66, 0.50),
        "room-besakih": (0.68, 0.08, 0.96, 0.50),
    },
    "Level 2": {"room-kintamani": (0.20, 0.10, 0.80, 0.60)},
}
SIZE = (1600, 1000)


def demo_plans() -> list[tuple[str, bytes, dict[str, tuple[float, float]]]]:
    """(floor, PNG bytes, {room id: (x, y)}) for every floor of the demo venue."""
    plans = []
    for floor, rooms in LAYOUT.items():
        image = Image.new("RGB", SIZE, "#f4f1ea")
        draw = ImageDraw.Draw(image)
        width, height = SIZE
        draw.rectangle((8, 8, width - 8, height - 8), outline="#3d3a35", width=10)
        pins: dict[str, tuple[float, float]] = {}
        for room_id, (left, top, right, bottom) in rooms.items():
            box = (left * width, top * height, right * width, bottom * height)
            draw.rectangle(box, fill="#dfe7ec", outline="#3d3a35", width=6)
            pins[room_id] = (round((left + right) / 2, 4), round((top + bottom) / 2, 4))
        # the lifts and stairs, the same place on every floor
        draw.rectangle(
            (0.04 * width, 0.70 * height, 0.14 * width, 0.92 * height), fill="#c9c2b4", outline="#3d3a35", width=6
        )
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        plans.append((floor, out.getvalue(), pins))
    return plans
