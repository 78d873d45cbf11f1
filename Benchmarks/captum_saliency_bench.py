"""Captum reference for `untangle-bench saliency`: per-image time of the saliency methods on
Untangle's pixel CNN (conv 16 4x4 s2 -> conv 32 4x4 s2 -> conv 32 4x4 s2, ReLU, padding 1 ->
FC 64 ReLU -> FC 2), 64x64x1 images, the score being the log-odds logit_1 - logit_0, with the
same settings as Untangle's registry:
  gradient           Saliency(abs=True)
  smoothgrad         NoiseTunnel(Saliency(abs=False)), 10 samples, stdev 0.15 (images in [0, 1])
  ig-gausslegendre   IntegratedGradients, baseline 0, 50 Gauss-Legendre steps (one batch)
  occlusion          Occlusion 8x8 window, stride 4, baseline 0 (225 windows); timed with Captum's
                     default perturbations_per_eval=1 and with 64; the faster is `occlusion`
  grad-cam           LayerGradCam on the last conv layer's ReLU, then nearest upsampling to 64x64
Prints `method ms_per_image` lines (median over repeats), then the torch/captum versions.
    python3 Benchmarks/captum_saliency_bench.py THREADS IMAGES REPEATS
"""
import statistics, sys, time, warnings
import torch, torch.nn as nn
import captum
from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, NoiseTunnel, Occlusion, Saliency

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
images = int(sys.argv[2]) if len(sys.argv) > 2 else 8
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 5
warnings.filterwarnings("ignore")
torch.manual_seed(0)
torch.set_num_threads(threads)

relu3 = nn.ReLU()
cnn = nn.Sequential(nn.Conv2d(1, 16, 4, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 4, 2, 1), nn.ReLU(),
                    nn.Conv2d(32, 32, 4, 2, 1), relu3, nn.Flatten(), nn.Linear(2048, 64), nn.ReLU(),
                    nn.Linear(64, 2)).eval()


def log_odds(x):
    logits = cnn(x)
    return logits[:, 1] - logits[:, 0]


x = torch.rand(images, 1, 64, 64)
methods = {
    "gradient": lambda: Saliency(log_odds).attribute(x, abs=True),
    "smoothgrad": lambda: NoiseTunnel(Saliency(log_odds)).attribute(x, nt_type="smoothgrad", nt_samples=10,
                                                                    stdevs=0.15, abs=False),
    "ig-gausslegendre": lambda: IntegratedGradients(log_odds).attribute(x, baselines=torch.zeros_like(x), n_steps=50,
                                                                        method="gausslegendre"),
    "occlusion-default": lambda: Occlusion(log_odds).attribute(x, sliding_window_shapes=(1, 8, 8), strides=(1, 4, 4),
                                                               baselines=0),
    "occlusion-batched": lambda: Occlusion(log_odds).attribute(x, sliding_window_shapes=(1, 8, 8), strides=(1, 4, 4),
                                                               baselines=0, perturbations_per_eval=64),
    "grad-cam": lambda: LayerAttribution.interpolate(LayerGradCam(log_odds, relu3).attribute(x), (64, 64)),
}
times = {}
for name, run in methods.items():
    run()  # warm-up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000 / images)
    times[name] = statistics.median(samples)
times["occlusion"] = min(times["occlusion-default"], times["occlusion-batched"])
for name, ms in times.items():
    print(f"{name} {ms:.3f}")
print(f"torch {torch.__version__} captum {captum.__version__} threads={threads} images={images} repeats={repeats}")
