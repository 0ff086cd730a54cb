"""The PASCAL VOC colour map used by the palette PNGs in ``SegmentationClass``."""

import numpy as np


def voc_palette() -> np.ndarray:
    """Return the standard 256-entry VOC colour map as a (256, 3) uint8 array.

    Entry ``i`` spreads the bits of ``i`` over R, G and B from the most significant bit down
    (bit 0 -> R, bit 1 -> G, bit 2 -> B, then the next three bits, ...), so index 1 is
    (128, 0, 0), index 2 is (0, 128, 0) and the "ignore" index 255 is (224, 224, 192).
    """
    palette = np.zeros((256, 3), dtype=np.uint8)
    for index in range(256):
        label, r, g, b = index, 0, 0, 0
        for shift in range(7, -1, -1):
            r |= (label & 1) << shift
            g |= ((label >> 1) & 1) << shift
            b |= ((label >> 2) & 1) << shift
            label >>= 3
        palette[index] = (r, g, b)
    return palette
