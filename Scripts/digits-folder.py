#!/usr/bin/env python3
"""Writes scikit-learn's bundled handwritten digits (1,797 8×8 images, no download) as a folder
of 64×64 grey PNGs with a labels.csv (file, digit, is_seven) — a real data set nobody here made,
for the "Your own images" walk-through in README.md.

    python3 Scripts/digits-folder.py [OUTPUT_DIR]      # default: Results/digits-data

Needs numpy and scikit-learn; says so and exits 0 when they are missing. PNGs are written with
zlib only (no Pillow): each 8×8 pixel becomes an 8×8 block, intensities 0…16 scaled to 0…255.
"""
import os
import struct
import sys
import zlib

try:
    import numpy as np
    from sklearn.datasets import load_digits
except ImportError as error:
    print(f"skipped: this example needs numpy and scikit-learn ({error}); pip install numpy scikit-learn")
    sys.exit(0)


def write_png(path, pixels):
    """8-bit grey PNG of a 2-D uint8 array."""
    height, width = pixels.shape
    raw = b"".join(b"\x00" + pixels[y].tobytes() for y in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "Results/digits-data"
    os.makedirs(out, exist_ok=True)
    digits = load_digits()
    rows = ["file,digit,is_seven"]
    for k, (image, digit) in enumerate(zip(digits.images, digits.target)):
        big = np.kron(image, np.ones((8, 8)))
        name = f"digit-{k:04d}.png"
        write_png(os.path.join(out, name), np.clip(np.round(big * 255 / 16), 0, 255).astype(np.uint8))
        rows.append(f"{name},{digit},{'yes' if digit == 7 else 'no'}")
    with open(os.path.join(out, "labels.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    print(f"wrote {len(digits.images)} PNGs and labels.csv to {out}")


if __name__ == "__main__":
    main()
