# The PyTorch side of `untangle-bench scaling`: the training step of ../shared/reference/torch_vae_bench.py
# (disentanglement_lib conv encoder / deconv decoder, beta-VAE 4, Bernoulli loss, Adam 1e-4, Bernoulli(0.1)
# pixels) with the batch size as an argument, and the process's peak resident memory.
# Usage: python3 torch_vae_scaling.py THREADS STEPS BATCH
import resource, sys, time
import torch, torch.nn as nn, torch.nn.functional as F

threads, steps, batch = (int(a) for a in sys.argv[1:4])
torch.manual_seed(0)
torch.set_num_threads(threads)


class VAE(nn.Module):
    def __init__(s, z=10):
        super().__init__()
        s.e = nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(),
                            nn.Conv2d(32, 64, 2, 2), nn.ReLU(), nn.Conv2d(64, 64, 2, 2), nn.ReLU(), nn.Flatten(),
                            nn.Linear(1024, 256), nn.ReLU(), nn.Linear(256, 2 * z))
        s.d1 = nn.Sequential(nn.Linear(z, 256), nn.ReLU(), nn.Linear(256, 1024), nn.ReLU())
        s.d2 = nn.Sequential(nn.ConvTranspose2d(64, 64, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(64, 32, 4, 2, 1), nn.ReLU(),
                             nn.ConvTranspose2d(32, 32, 4, 2, 1), nn.ReLU(), nn.ConvTranspose2d(32, 1, 4, 2, 1))
        s.z = z

    def forward(s, x):
        h = s.e(x)
        mu, lv = h[:, :s.z], h[:, s.z:]
        zz = mu + torch.randn_like(mu) * torch.exp(0.5 * lv)
        logits = s.d2(s.d1(zz).view(-1, 64, 4, 4))
        rec = F.binary_cross_entropy_with_logits(logits, x, reduction='sum') / x.shape[0]
        kl = 0.5 * (mu.pow(2) + lv.exp() - lv - 1).sum(1).mean()
        return rec + 4.0 * kl


m = VAE()
opt = torch.optim.Adam(m.parameters(), lr=1e-4)
x = (torch.rand(batch, 1, 64, 64) > 0.9).float()
for _ in range(5):
    opt.zero_grad(); m(x).backward(); opt.step()
t = time.perf_counter()
for _ in range(steps):
    opt.zero_grad(); m(x).backward(); opt.step()
dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
print(f"torch {torch.__version__} threads={threads} batch={batch} images/s={batch * steps / dt:.0f} peak_rss_mib={peak:.0f}")
