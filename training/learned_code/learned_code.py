#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A learned binary code for palm-vein ROIs, trained on synthetic palms only (issue #7).

The network is a small CNN whose first layer is a Gabor bank that training may change (as in
CompNet: Liang, Yang, Fei, Teng, Zhang, "CompNet: Competitive Neural Network for Palmprint
Recognition Using Learnable Gabor Kernels", IEEE SPL 28, 2021). Its output is B channels on the
32x32 code grid of the hand-made families; their signs are B bit planes, compared like the
orientation code (bit agreement over the cells both ROIs have, best over translations), so that
1:1 and 1:N stay popcount engines. Training is deep hashing with a pairwise logistic loss on the
shift-searched soft agreement (genuine pairs up, impostor pairs down) plus bit balance.

Shipped weights come only from data the project makes: ROIs of `palmvein synth` frames cut by the
library's own ROI stage, with photometric and geometric randomisation (the research images'
licences forbid training what ships on them; they are only evaluated here, never stored).

    learned_code.py synth    --palmvein build/apps/palmvein --out SCRATCH [--palms 400 --samples 6 --seed 7001]  # both hands: 800 palms
    learned_code.py train    --out SCRATCH [--steps 1500] [--bits 4] [--freeze-gabor]  # SCRATCH/model.pt
    learned_code.py export   --out SCRATCH --onnx models/.../x.onnx    # ONNX for OpenCV dnn
    learned_code.py evaluate --out SCRATCH [--data ../shared/data]     # prints the table

The Python package (build/python) and Debian's python3-torch are needed (run with /usr/bin/python3).
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# --- All constants of the learned family, in one place --------------------------------------------
WORK = 64          # network input: the ROI area-downsampled to 64x64, as the hand-made families
GRID = 32          # output grid (cells per side), as the orientation code
BITS = 4           # bit planes
GABOR_ORIENT = 8   # first layer: GABOR_ORIENT orientations x (even, odd)
GABOR_SIZE = 11
TRAIN_SHIFT = 3    # translation search (cells) of the training loss
EVAL_SHIFT = 5     # ... of the evaluation, as the matcher's max_shift
LOSS_THRESHOLD = 0.25  # soft agreement in [-1, 1] between genuine and impostor pairs
LOSS_SCALE = 12.0
BALANCE_WEIGHT = 0.1
OUTSIDE_GREY = 2   # ROI pixels at or below this are outside the palm (the library's rule)


def fail(msg):
    print(f"learned_code.py: {msg}", file=sys.stderr)
    sys.exit(2)


def import_palmvein():
    sys.path.insert(0, os.path.join(REPO, "build", "python"))
    try:
        import palmvein  # noqa: F401
    except ImportError as e:
        fail(f"the palmvein Python package is not built ({e}); build the project first")
    return palmvein


def work_image(roi):
    """128x128 uint8 ROI -> 64x64 float32 (2x2 area mean), as the feature stage's work image."""
    r = roi.astype(np.float32)
    h, w = r.shape
    return r.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))


def read_rois(manifest, kind_default=None):
    """(work images, outside masks, labels, sessions, palmvein templates) of a manifest's images."""
    pv = import_palmvein()
    extractor = pv.TemplateExtractor()
    base = os.path.dirname(manifest)
    works, labels, sessions, templates, paths = [], [], [], [], []
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        kind = row.get("kind") or kind_default or "full-hand"
        image = pv.read_image(os.path.join(base, row["path"]))
        result = extractor.extract(image, pv.ImageKind.Roi if kind == "roi" else pv.ImageKind.FullHand)
        if not result.ok:
            continue
        works.append(work_image(result.roi.image.numpy()))
        labels.append(f'{row["subject"]}/{row.get("hand", "")}')
        sessions.append(row.get("session", ""))
        templates.append(result.template)
        paths.append(row["path"])
    return np.stack(works), labels, sessions, templates, paths


# --- synthetic training data ------------------------------------------------------------------------
def cmd_synth(args):
    os.makedirs(args.out, exist_ok=True)
    frames = os.path.join(args.out, "synth-frames")
    subprocess.run([args.palmvein, "synth", "--palms", str(args.palms), "--samples", str(args.samples),
                    "--seed", str(args.seed), "--hand", "both", "--out", frames], check=True, stdout=subprocess.DEVNULL)
    works, labels, _, _, _ = read_rois(os.path.join(frames, "MANIFEST.csv"))
    ids = {l: i for i, l in enumerate(sorted(set(labels)))}
    np.savez_compressed(os.path.join(args.out, "synth.npz"), works=works.astype(np.uint8),
                        labels=np.array([ids[l] for l in labels]))
    print(f"{len(works)} synthetic ROIs of {len(ids)} palms -> {args.out}/synth.npz")


# --- the network --------------------------------------------------------------------------------------
def gabor_bank(torch):
    """GABOR_ORIENT orientations x (even, odd) Gabor kernels, zero mean, unit norm."""
    half = GABOR_SIZE // 2
    y, x = np.mgrid[-half:half + 1, -half:half + 1].astype(np.float64)
    wavelength, sigma = 9.0, 3.5  # the orientation family's (features/feature_config.hpp)
    kernels = []
    for k in range(GABOR_ORIENT):
        theta = math.pi * k / GABOR_ORIENT
        u = x * math.cos(theta) + y * math.sin(theta)
        env = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
        for phase in (np.cos, np.sin):
            g = env * phase(2 * math.pi * u / wavelength)
            g -= g.mean()
            g /= np.linalg.norm(g)
            kernels.append(g)
    return torch.tensor(np.stack(kernels)[:, None], dtype=torch.float32)


def make_net(torch, bits=BITS):
    nn = torch.nn

    class LearnedCode(nn.Module):
        def __init__(self):
            super().__init__()
            self.gabor = nn.Conv2d(1, 2 * GABOR_ORIENT, GABOR_SIZE, padding=GABOR_SIZE // 2, bias=False)
            with torch.no_grad():
                self.gabor.weight.copy_(gabor_bank(torch))
            self.body = nn.Sequential(
                nn.BatchNorm2d(2 * GABOR_ORIENT), nn.ReLU(),
                nn.AvgPool2d(2),  # 64 -> 32: the code grid
                nn.Conv2d(2 * GABOR_ORIENT, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                nn.Conv2d(32, bits, 1))

        def forward(self, x):  # x: (N, 1, 64, 64), normalised per image
            return self.body(self.gabor(x))

    return LearnedCode()


def normalise(torch, x):
    """Per-image zero mean, unit standard deviation; (N, 1, H, W) float."""
    m = x.mean(dim=(2, 3), keepdim=True)
    s = x.std(dim=(2, 3), keepdim=True) + 1e-3
    return (x - m) / s


# --- training -----------------------------------------------------------------------------------------
def augment(torch, x, gen):
    """Photometric and geometric randomisation of a batch of 64x64 work images in [0, 255]."""
    F = torch.nn.functional
    n = x.shape[0]
    rnd = lambda *s: torch.rand(*s, generator=gen)
    # geometry: rotation +-8 deg, scale +-10 %, translation +-3 work pixels (residual ROI error)
    ang = (rnd(n) * 2 - 1) * math.radians(8)
    sc = torch.exp((rnd(n) * 2 - 1) * math.log(1.10))
    tx, ty = (rnd(n) * 2 - 1) * 3 / 32, (rnd(n) * 2 - 1) * 3 / 32
    theta = torch.stack([torch.stack([torch.cos(ang) / sc, -torch.sin(ang) / sc, tx], 1),
                         torch.stack([torch.sin(ang) / sc, torch.cos(ang) / sc, ty], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    # photometry: gamma 0.5..2, contrast x0.5..1.5, illumination ramp, blur, noise
    v = (x / 255).clamp(1e-3, 1)
    gamma = torch.exp((rnd(n, 1, 1, 1) * 2 - 1) * math.log(2))
    v = v ** gamma
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, WORK), torch.linspace(-1, 1, WORK), indexing="ij")
    a = (rnd(n, 1, 1, 1) * 2 - 1) * 0.35
    phi = rnd(n, 1, 1, 1) * 2 * math.pi
    v = v * (1 + a * (xx * torch.cos(phi) + yy * torch.sin(phi)))
    v = v * (0.5 + rnd(n, 1, 1, 1))
    blur = rnd(n) < 0.5
    if blur.any():
        k = torch.tensor([0.25, 0.5, 0.25])
        k2 = (k[:, None] * k[None, :])[None, None]
        v[blur] = F.conv2d(F.pad(v[blur], (1, 1, 1, 1), mode="replicate"), k2)
    v = v + torch.randn(v.shape, generator=gen) * (0.005 + 0.02 * rnd(n, 1, 1, 1))
    return v


def shifted_agreement(torch, a, b, shift):
    """Soft agreement of codes a (N, B, G, G) and b (M, B, G, G), summed over their overlap at each
    translation and divided by the overlap's size: (N, M, shifts). One convolution (MKL-DNN), since
    the generic BLAS of Debian's torch makes 2S+1 squared matrix products slow."""
    g = a.shape[-1]
    out = torch.nn.functional.conv2d(torch.nn.functional.pad(a, (shift,) * 4), b)
    span = torch.arange(-shift, shift + 1)
    size = (g - span.abs())[:, None] * (g - span.abs())[None, :] * a.shape[1]
    return (out / size).reshape(a.shape[0], b.shape[0], -1)


def cmd_train(args):
    import torch
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    data = os.path.join(args.out, "synth.npz")
    if not os.path.exists(data):
        fail(f"{data} is missing: run 'learned_code.py synth --out {args.out}' first")
    d = np.load(data)
    works = torch.tensor(d["works"], dtype=torch.float32)[:, None]
    labels = d["labels"]
    by_label = {}
    for i, l in enumerate(labels):
        by_label.setdefault(int(l), []).append(i)
    palms = [l for l, v in by_label.items() if len(v) >= args.per_palm]
    net = make_net(torch, args.bits)
    if args.freeze_gabor:
        net.gabor.weight.requires_grad_(False)
    opt = torch.optim.Adam([q for q in net.parameters() if q.requires_grad], lr=args.lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps)
    rng = np.random.default_rng(args.seed)
    t0 = time.time()
    for step in range(args.steps):
        chosen = rng.choice(len(palms), args.palms_per_batch, replace=False)
        idx, lab = [], []
        for c in chosen:
            s = rng.choice(by_label[palms[c]], args.per_palm, replace=False)
            idx += list(s)
            lab += [c] * args.per_palm
        x = normalise(torch, augment(torch, works[idx], gen))
        u = torch.tanh(net(x))
        sim = shifted_agreement(torch, u, u, TRAIN_SHIFT).amax(-1)
        lab_t = torch.tensor(lab)
        same = lab_t[:, None] == lab_t[None, :]
        upper = torch.triu(torch.ones_like(same), 1)
        gen_s, imp_s = sim[same & upper], sim[~same & upper]
        loss = (torch.nn.functional.softplus(-LOSS_SCALE * (gen_s - LOSS_THRESHOLD)).mean()
                + torch.nn.functional.softplus(LOSS_SCALE * (imp_s - LOSS_THRESHOLD)).mean()
                + BALANCE_WEIGHT * (u.mean(dim=(0, 2, 3)) ** 2).sum())
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step:5d} loss {loss.item():.4f} genuine {gen_s.mean().item():.3f} "
                  f"impostor {imp_s.mean().item():.3f} max impostor {imp_s.max().item():.3f} "
                  f"({time.time() - t0:.0f} s)", flush=True)
    torch.save({"bits": args.bits, "state": net.state_dict(), "args": vars(args)}, os.path.join(args.out, "model.pt"))
    print(f"model -> {args.out}/model.pt")


def load_net(torch, out):
    path = os.path.join(out, "model.pt")
    if not os.path.exists(path):
        fail(f"{path} is missing: run 'learned_code.py train --out {out}' first")
    saved = torch.load(path)
    net = make_net(torch, saved["bits"])
    net.load_state_dict(saved["state"])
    net.eval()
    return net


def cmd_export(args):
    import torch
    net = load_net(torch, args.out)
    x = torch.zeros(1, 1, WORK, WORK)
    os.makedirs(os.path.dirname(os.path.abspath(args.onnx)), exist_ok=True)
    torch.onnx.export(net, x, args.onnx, input_names=["work"], output_names=["code"], opset_version=11)
    print(f"ONNX -> {args.onnx}")


# --- evaluation -----------------------------------------------------------------------------------------
def codes_of(torch, net, works):
    with torch.no_grad():
        x = normalise(torch, torch.tensor(works, dtype=torch.float32)[:, None] / 255)
        code = torch.sign(net(x))
        code[code == 0] = 1
        # cells with palm: no outside (black) pixel in the cell's 2x2 work pixels
        inside = (torch.nn.functional.max_pool2d(-torch.tensor(works)[:, None], 2) < -OUTSIDE_GREY).float()
    return code, inside


def pair_scores(torch, code, inside, shift):
    """Bit-agreement fraction over the cells both have, best over translations: (N, N)."""
    a = code * inside
    m = inside.expand_as(code)
    agree = shifted_agreement(torch, a, a, shift)
    valid = shifted_agreement(torch, m, m, shift)
    frac = (valid + agree) / (2 * valid.clamp(min=1e-9))
    frac[valid < 0.25] = 0  # too little overlap: the lowest score, as the matcher
    return frac.amax(-1)


def split_part(labels, subjects_cut, part):
    keep = []
    for i, l in enumerate(labels):
        subj = int(l.split("/")[0].lstrip("o") or 0)
        if part == "all" or (part == "tune") == (subj <= subjects_cut):
            keep.append(i)
    return keep


def eer(gen, imp):
    s = np.concatenate([gen, imp])
    y = np.concatenate([np.ones(len(gen)), np.zeros(len(imp))])
    order = np.argsort(-s, kind="stable")
    y = y[order]
    fmr = np.cumsum(1 - y) / len(imp)
    fnmr = 1 - np.cumsum(y) / len(gen)
    i = np.argmin(np.abs(fmr - fnmr))
    return 100 * (fmr[i] + fnmr[i]) / 2


def fnmr_at(gen, imp, fmr):
    imp = np.sort(imp)[::-1]
    k = int(math.floor(fmr * len(imp)))
    thr = imp[k] if k < len(imp) else -np.inf  # accept strictly above the (k+1)-th impostor
    return 100 * np.mean(gen <= thr)


SETS = (("casia940-fullhand", 25), ("casia850-roi", 25), ("polyu-nir-roi", 125), ("put-sample", None))


def cmd_evaluate(args):
    import torch
    torch.set_num_threads(args.threads)
    pv = import_palmvein()
    net = load_net(torch, args.out)
    cache = {}
    for name, cut in SETS:
        manifest = os.path.join(args.data, name, "MANIFEST.csv")
        if not os.path.exists(manifest):
            print(f"{name}: absent, skipped", file=sys.stderr)
            continue
        works, labels, _, templates, _ = read_rois(manifest)
        parts = ("tune", "validate") if cut else ("all",)
        for part in parts:
            keep = split_part(labels, cut, part)
            if args.max_images and len(keep) > args.max_images:
                keep = keep[:args.max_images]
            lab = np.array([labels[i] for i in keep])
            code, inside = codes_of(torch, net, works[keep])
            learned = pair_scores(torch, code, inside, EVAL_SHIFT).numpy()
            base = np.array([pv.Matcher(templates[i]).scores([templates[j] for j in keep]) for i in keep])
            iu = np.triu_indices(len(keep), 1)
            same = (lab[:, None] == lab[None, :])[iu]
            cache[(name, part)] = (learned[iu], base[iu], same)
    # fusion weight and normalisation chosen on the tune parts only
    tune = [v for (n, p), v in cache.items() if p == "tune"]
    def znorm_params(k):
        imp = np.concatenate([v[k][~v[2]] for v in tune])
        return imp.mean(), imp.std()
    (ml, sl), (mb, sb) = znorm_params(0), znorm_params(1)
    def fused(v, w):
        return w * (v[1] - mb) / sb + (1 - w) * (v[0] - ml) / sl
    best_w, best = 1.0, None
    for w in np.linspace(0, 1, 21):
        e = np.mean([eer(fused(v, w)[v[2]], fused(v, w)[~v[2]]) for v in tune])
        if best is None or e < best - 1e-9:
            best_w, best = w, e
    print(f"fusion weight of the library's score, chosen on the tune parts: {best_w:.2f} "
          f"(mean tune EER {best:.3f} %)\n")
    print("| set | part | genuine / impostor | library EER / FNMR@1e-3 | learned EER / FNMR@1e-3 | fused EER / FNMR@1e-3 |")
    print("|---|---|---|---|---|---|")
    results = {}
    for (name, part), v in cache.items():
        g, i = v[2], ~v[2]
        f = fused(v, best_w)
        r = {k: (eer(s[g], s[i]), fnmr_at(s[g], s[i], 1e-3)) for k, s in (("library", v[1]), ("learned", v[0]), ("fused", f))}
        results[f"{name}/{part}"] = r
        cell = lambda k: f"{r[k][0]:.3f} / {r[k][1]:.2f} %"
        print(f"| {name} | {part} | {g.sum()} / {i.sum()} | {cell('library')} | {cell('learned')} | {cell('fused')} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"fusion_weight": best_w, "results": results}, f, indent=1)


def main():
    try:
        import torch  # noqa: F401
    except ImportError:
        fail("needs Debian's python3-torch (apt-get install python3-torch; run with /usr/bin/python3)")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("synth")
    s.add_argument("--palmvein", default=os.path.join(REPO, "build", "apps", "palmvein"))
    s.add_argument("--palms", type=int, default=400)
    s.add_argument("--samples", type=int, default=6)
    s.add_argument("--seed", type=int, default=7001)
    t = sub.add_parser("train")
    t.add_argument("--steps", type=int, default=1500)
    t.add_argument("--lr", type=float, default=3e-3)
    t.add_argument("--palms-per-batch", type=int, default=32)
    t.add_argument("--per-palm", type=int, default=4)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--bits", type=int, default=BITS)
    t.add_argument("--freeze-gabor", action="store_true", help="keep the first layer the fixed Gabor bank")
    e = sub.add_parser("export")
    e.add_argument("--onnx", required=True)
    v = sub.add_parser("evaluate")
    v.add_argument("--data", default=os.environ.get("PALMVEIN_DATA_DIR", os.path.join(REPO, "..", "shared", "data")))
    v.add_argument("--max-images", type=int, default=0)
    v.add_argument("--json")
    for q in (s, t, e, v):
        q.add_argument("--out", required=True, help="scratch folder (never inside the repository)")
        q.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    {"synth": cmd_synth, "train": cmd_train, "export": cmd_export, "evaluate": cmd_evaluate}[args.cmd](args)


if __name__ == "__main__":
    main()
