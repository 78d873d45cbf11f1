"""Dumps the reference values of the dlib conv VAE loss (PyTorch, float64) into
dlib_vae_reference.json, used by ModelsTests/TorchReferenceTests.swift.

Weights, inputs and noise come from closed-form formulas shared with the Swift
test, so the fixture holds only outputs. Run once (needs torch):
    python3 make_vae_fixture.py
"""
import json, math, torch, torch.nn.functional as F

torch.set_default_dtype(torch.float64)
Z, B, BETA = 10, 3, 4.0
# (name, shape) in Untangle's parameter order (VAE.parameters).
PARAMS = [
    ("encoder.conv1.weight", [32, 1, 4, 4]), ("encoder.conv1.bias", [32]),
    ("encoder.conv2.weight", [32, 32, 4, 4]), ("encoder.conv2.bias", [32]),
    ("encoder.conv3.weight", [64, 32, 2, 2]), ("encoder.conv3.bias", [64]),
    ("encoder.conv4.weight", [64, 64, 2, 2]), ("encoder.conv4.bias", [64]),
    ("encoder.fc.weight", [256, 1024]), ("encoder.fc.bias", [256]),
    ("encoder.mean.weight", [Z, 256]), ("encoder.mean.bias", [Z]),
    ("encoder.logvar.weight", [Z, 256]), ("encoder.logvar.bias", [Z]),
    ("decoder.fc1.weight", [256, Z]), ("decoder.fc1.bias", [256]),
    ("decoder.fc2.weight", [1024, 256]), ("decoder.fc2.bias", [1024]),
    ("decoder.deconv1.weight", [64, 64, 4, 4]), ("decoder.deconv1.bias", [64]),
    ("decoder.deconv2.weight", [64, 32, 4, 4]), ("decoder.deconv2.bias", [32]),
    ("decoder.deconv3.weight", [32, 32, 4, 4]), ("decoder.deconv3.bias", [32]),
    ("decoder.deconv4.weight", [32, 1, 4, 4]), ("decoder.deconv4.bias", [1]),
]

def to_f32(values):
    # Formulas are evaluated in float64 and rounded to float32, as on the Swift side.
    return torch.tensor(values, dtype=torch.float32).to(torch.float64)

def param_value(p, shape):
    n = math.prod(shape)
    if len(shape) == 1:
        return to_f32([0.1 * math.sin(0.3 * i + p) for i in range(n)]).reshape(shape)
    fan = math.prod(shape[1:])
    a = math.sqrt(3.0 / fan)
    return to_f32([a * math.sin(0.61 * i + 1.37 * p + 0.5) for i in range(n)]).reshape(shape)

params = {name: param_value(p, shape).requires_grad_() for p, (name, shape) in enumerate(PARAMS)}
x = to_f32([1.0 if math.sin(0.37 * i) * math.cos(0.011 * i) > 0.25 else 0.0 for i in range(B * 64 * 64)]).reshape(B, 1, 64, 64)
eps = to_f32([1.5 * math.sin(0.9 * i + 0.2) for i in range(B * Z)]).reshape(B, Z)

P = params
h = F.relu(F.conv2d(x, P["encoder.conv1.weight"], P["encoder.conv1.bias"], stride=2, padding=1))
h = F.relu(F.conv2d(h, P["encoder.conv2.weight"], P["encoder.conv2.bias"], stride=2, padding=1))
h = F.relu(F.conv2d(h, P["encoder.conv3.weight"], P["encoder.conv3.bias"], stride=2))
h = F.relu(F.conv2d(h, P["encoder.conv4.weight"], P["encoder.conv4.bias"], stride=2))
h = F.relu(F.linear(h.flatten(1), P["encoder.fc.weight"], P["encoder.fc.bias"]))
mu = F.linear(h, P["encoder.mean.weight"], P["encoder.mean.bias"])
lv = F.linear(h, P["encoder.logvar.weight"], P["encoder.logvar.bias"])
z = mu + eps * torch.exp(0.5 * lv)
d = F.relu(F.linear(z, P["decoder.fc1.weight"], P["decoder.fc1.bias"]))
d = F.relu(F.linear(d, P["decoder.fc2.weight"], P["decoder.fc2.bias"])).view(B, 64, 4, 4)
d = F.relu(F.conv_transpose2d(d, P["decoder.deconv1.weight"], P["decoder.deconv1.bias"], stride=2, padding=1))
d = F.relu(F.conv_transpose2d(d, P["decoder.deconv2.weight"], P["decoder.deconv2.bias"], stride=2, padding=1))
d = F.relu(F.conv_transpose2d(d, P["decoder.deconv3.weight"], P["decoder.deconv3.bias"], stride=2, padding=1))
logits = F.conv_transpose2d(d, P["decoder.deconv4.weight"], P["decoder.deconv4.bias"], stride=2, padding=1)
rec = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / B
kl_per = (0.5 * (mu.pow(2) + lv.exp() - lv - 1)).mean(0)
total = rec + BETA * kl_per.sum()
total.backward()

out = {
    "torch_version": torch.__version__, "batch": B, "latents": Z, "beta": BETA,
    "total": total.item(), "reconstruction": rec.item(), "kl_per_latent": kl_per.tolist(),
    "mean": mu.flatten().tolist(), "logits_sum": logits.sum().item(),
    "gradients": {name: {"sum": p.grad.sum().item(), "sum_of_squares": p.grad.pow(2).sum().item(),
                         "first": p.grad.flatten()[:4].tolist()} for name, p in params.items()},
}
with open("dlib_vae_reference.json", "w") as f:
    json.dump(out, f, indent=1)
print("total", out["total"], "rec", out["reconstruction"], "kl", sum(out["kl_per_latent"]))
