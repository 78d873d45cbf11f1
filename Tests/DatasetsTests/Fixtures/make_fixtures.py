"""Writes the small npy/npz/PNG fixtures of DatasetsTests (needs numpy only).
    python3 make_fixtures.py
"""
import io, os, struct, zlib
import numpy as np

np.save("u1.npy", np.arange(6, dtype=np.uint8).reshape(2, 3))
np.save("i8.npy", np.array([-3, 0, 7, 1 << 40], dtype="<i8"))
np.save("f4.npy", np.array([[0.5, -1.25], [3.0, 1e-3]], dtype="<f4"))
np.save("f8.npy", np.linspace(0, 1, 5))
np.save("scalar_shape.npy", np.array(2.5))
with open("v2.npy", "wb") as f:
    np.lib.format.write_array(f, np.arange(4, dtype="<f8"), version=(2, 0))
np.save("big_endian.npy", np.arange(3, dtype=">f8"))
np.save("fortran.npy", np.asfortranarray(np.arange(6, dtype="<f4").reshape(2, 3)))
np.save("complex.npy", np.zeros(2, dtype=np.complex64))
raw = open("f8.npy", "rb").read()
open("truncated.npy", "wb").write(raw[:-7])
open("bad_header.npy", "wb").write(raw[:10] + b"{'descr' oops" + raw[23:])
open("not_npy.npy", "wb").write(b"hello, I am text\n")

# A miniature dSprites grid: colour 1 x shape 3 x scale 2 x orientation 2 x posX 2 x posY 2 = 48 rows.
sizes = [1, 3, 2, 2, 2, 2]
classes = np.ascontiguousarray(np.array(np.unravel_index(np.arange(48), sizes)).T.astype(np.int64))
values = classes.astype(np.float64)
values[:, 0] = 1
values[:, 2] = 0.5 + 0.5 * classes[:, 2]
values[:, 3] = classes[:, 3] * np.pi
values[:, 4:] = classes[:, 4:] / 1.0
rng = np.random.default_rng(0)
imgs = (rng.random((48, 64, 64)) > 0.8).astype(np.uint8)
meta = np.array({"date": "fixture"}, dtype=object)
np.savez_compressed("mini_dsprites.npz", imgs=imgs, latents_classes=classes, latents_values=values, metadata=meta)
np.savez("mini_dsprites_stored.npz", imgs=imgs, latents_classes=classes, latents_values=values)
np.savez_compressed("wrong_order.npz", imgs=imgs, latents_classes=classes[::-1].copy(), latents_values=values)
np.savez_compressed("wrong_dtype.npz", imgs=imgs.astype(np.float32), latents_classes=classes, latents_values=values)
data = open("mini_dsprites.npz", "rb").read()
open("truncated.npz", "wb").write(data[: len(data) // 2])
corrupt = bytearray(data)
corrupt[200] ^= 0xFF  # inside the first member's deflate stream
open("corrupt_crc.npz", "wb").write(bytes(corrupt))

def png(path, width, height, bit_depth, color_type, rows):
    def chunk(tag, payload):
        return struct.pack(">I", len(payload)) + tag + payload + struct.pack(">I", zlib.crc32(tag + payload) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + row for row in rows)
    body = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    open(path, "wb").write(body)

os.makedirs("folder", exist_ok=True)
png("folder/a_grey8.png", 4, 2, 8, 0, [bytes([0, 85, 170, 255]), bytes([10, 20, 30, 40])])
png("folder/b_grey16.png", 4, 2, 16, 0, [struct.pack(">4H", 0, 65535, 32896, 257), struct.pack(">4H", 0, 0, 0, 65535)])
png("folder/c_rgb.png", 4, 2, 8, 2, [bytes([255, 0, 0] * 4), bytes([0, 0, 255] * 4)])
open("folder/labels.csv", "w").write("file,diagnosis,age\na_grey8.png,benign,40\nb_grey16.png,\"malignant\",51\nc_rgb.png,benign,33\n")
open("folder/missing_label.csv", "w").write("file,diagnosis\na_grey8.png,benign\nb_grey16.png,\nc_rgb.png,benign\n")
open("folder/missing_row.csv", "w").write("file,diagnosis\na_grey8.png,benign\nc_rgb.png,benign\n")
os.makedirs("mixed_sizes", exist_ok=True)
png("mixed_sizes/a.png", 4, 2, 8, 0, [bytes(4), bytes(4)])
png("mixed_sizes/b.png", 3, 3, 8, 0, [bytes(3)] * 3)
os.makedirs("not_png", exist_ok=True)
png("not_png/a.png", 2, 2, 8, 0, [bytes(2), bytes(2)])
open("not_png/b.png", "w").write("this is not a PNG\n")
print("fixtures written")
