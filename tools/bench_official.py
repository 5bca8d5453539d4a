#!/usr/bin/env python3
"""Time the OFFICIAL VAR or CoDe code (PyTorch, CPU, float32) on official-shape checkpoints: seconds per image
split into transformer + sampling and VQVAE decode, warm-up then repeats (median, min, max), peak RSS.

The official code is not part of this repository: check out FoundationVision/VAR or czg1225/CoDe anywhere
and give its directory with --src. The tool imports that checkout's `models` package (and its `dist.py`),
builds the models with the checkout's own builder, loads the checkpoints with `load_state_dict(strict=True)`
and calls the checkout's own inference functions unchanged:

    # VAR (VAR-d16 or VAR-d30 alone): VAR.autoregressive_infer_cfg, cfg 4, top-k 900, top-p 0.95
    python3 tools/bench_official.py --src VAR_CHECKOUT --vae vae.pth --var var_d16.pth --batch 1 8
    # CoDe: drafter VAR.autoregressive_infer_cfg_draft + refiner VAR.autoregressive_infer_cfg_refine with the
    # settings of the CoDe inference script (cfg 4, top-k 600 per scale, top-p 0.95, temperature 1.1 x 7 then 1.0)
    python3 tools/bench_official.py --src CODE_CHECKOUT --vae vae.pth --var var_d30.pth \
        --refiner var_d16.pth --draft-steps 8 --batch 1
    # tokens of one run, in the run format of tools/reference_generate.py (for tools/compare_run.py)
    python3 tools/bench_official.py --src VAR_CHECKOUT --vae vae.pth --var var_d16.pth \
        --class 207 --seed 0 --save-tokens official.safetensors

What is changed around the official code (setup only, nothing inside a timed call):
  * `VAR.init_weights` is skipped while building (the checkpoint overwrites every weight; d30's random init
    alone takes minutes);
  * checkpoints are read with `torch.load(map_location="cpu")` as in the official demo, and handed to
    `load_state_dict(strict=True, assign=True)`: the loaded tensors become the parameters instead of being
    copied into freshly allocated ones, so the process never holds two copies of d30's 8 GB (peak RSS then
    measures inference, as var-gen's does);
  * `vae.fhat_to_img` is wrapped by a timer (the same call, timed), and for --save-tokens a forward pre-hook
    on the VQVAE codebook embedding records the token indices each scale looks up (the default path,
    more_smooth off, embeds exactly the sampled indices).
The CoDe script runs under CUDA autocast (float16); on the CPU there is no such autocast and everything is
float32, as in var-gen's float32 path.

Output: one Markdown row per batch size and a line `#json {...}` per batch size for scripts.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
PATCH_NUMS = (1, 2, 3, 4, 5, 6, 8, 10, 13, 16)


def proc_status_mb(field):
    """VmRSS / VmHWM of this process in MB (Linux), else None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def depth_of(state_dict):
    """Official VARs have depth = number of blocks and width = 64 x depth."""
    blocks = {int(k.split(".")[1]) for k in state_dict if k.startswith("blocks.")}
    if not blocks:
        sys.exit("checkpoint has no 'blocks.N.*' keys: not an official VAR state dict")
    depth = max(blocks) + 1
    width = state_dict["class_emb.weight"].shape[1]
    if width != 64 * depth:
        sys.exit(f"checkpoint: depth {depth} but width {width} (official models have width 64 x depth)")
    return depth


def load(path):
    if not os.path.isfile(path):
        sys.exit(f"{path}: no such file")
    return torch.load(path, map_location="cpu", weights_only=True)


def import_official(src, want_code):
    if not os.path.isfile(os.path.join(src, "models", "var.py")):
        sys.exit(f"--src {src}: not a VAR/CoDe checkout (no models/var.py)")
    sys.path.insert(0, os.path.abspath(src))
    import models  # noqa: E402  (the checkout's package)
    from models.var import VAR  # noqa: E402
    if want_code and not hasattr(VAR, "autoregressive_infer_cfg_draft"):
        sys.exit(f"--src {src}: --refiner needs the CoDe checkout (czg1225/CoDe); this VAR has no "
                 "autoregressive_infer_cfg_draft")
    VAR.init_weights = lambda self, *a, **k: None     # setup only: every weight comes from the checkpoint
    return models


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--src", required=True, help="checkout of FoundationVision/VAR (or czg1225/CoDe for --refiner)")
    ap.add_argument("--vae", required=True)
    ap.add_argument("--var", required=True, help="VAR checkpoint (the drafter with --refiner)")
    ap.add_argument("--refiner", help="CoDe refiner checkpoint (needs the CoDe checkout)")
    ap.add_argument("--draft-steps", type=int, default=8)
    ap.add_argument("--batch", type=int, nargs="+", default=[1])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--class", dest="classes", type=int, action="append",
                    help="class label (repeat for a batch); default 0, 1, … for the timed batches")
    ap.add_argument("--save-tokens", help="run once (first --batch, --class, --seed) and write tokens + image")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    code = a.refiner is not None
    models = import_official(a.src, code)

    t_load = time.perf_counter()
    sd_vae, sd_var = load(a.vae), load(a.var)
    sd_ref = load(a.refiner) if code else None
    D = depth_of(sd_var)
    if code:
        Dr = depth_of(sd_ref)
        vae, var, refiner = models.build_vae_var_ctf(
            V=4096, Cvae=32, ch=160, share_quant_resi=4, device="cpu", patch_nums=PATCH_NUMS,
            num_classes=1000, depth_draft=D, depth_refine=Dr, shared_aln=False)
    else:
        vae, var = models.build_vae_var(
            V=4096, Cvae=32, ch=160, share_quant_resi=4, device="cpu", patch_nums=PATCH_NUMS,
            num_classes=1000, depth=D, shared_aln=False)
        refiner = None
    vae.load_state_dict(sd_vae, strict=True, assign=True)
    var.load_state_dict(sd_var, strict=True, assign=True)
    if code:
        refiner.load_state_dict(sd_ref, strict=True, assign=True)
    del sd_vae, sd_var, sd_ref
    gc.collect()
    for m in (vae, var, refiner):
        if m is not None:
            m.eval()
            for p in m.parameters():
                p.requires_grad_(False)
    t_load = time.perf_counter() - t_load
    rss_loaded = proc_status_mb("VmRSS")

    decode_time = [0.0]
    fhat_to_img = vae.fhat_to_img

    def timed_decode(f_hat):
        t = time.perf_counter()
        out = fhat_to_img(f_hat)
        decode_time[0] += time.perf_counter() - t
        return out
    vae.fhat_to_img = timed_decode          # the official code calls self.vae_proxy[0].fhat_to_img

    N = a.draft_steps
    S = len(PATCH_NUMS)
    if code:
        top_k, top_p, temp = [600] * S, 0.95, [1.1] * 7 + [1.0] * (S - 7)
        sampling = f"cfg 4, top-k 600, top-p 0.95, temperature 1.1x7 then 1.0 (CoDe script), N={N}"
    else:
        top_k, top_p = 900, 0.95
        sampling = "cfg 4, top-k 900, top-p 0.95 (VAR demo)"

    def run(labels, seed):
        B = len(labels)
        label_B = torch.tensor(labels, dtype=torch.long)
        with torch.inference_mode():
            if code:
                f_hat, hub = var.autoregressive_infer_cfg_draft(
                    B=B, label_B=label_B, cfg=4, top_k=top_k, top_p=top_p, g_seed=seed, more_smooth=False,
                    exit_num=N, temp=temp)
                return refiner.autoregressive_infer_cfg_refine(
                    B=B, label_B=label_B, cfg=4, top_k=top_k, top_p=top_p, g_seed=seed, more_smooth=False,
                    draft=hub, f_hat=f_hat, entry_num=N, temp=temp)
            return var.autoregressive_infer_cfg(B=B, label_B=label_B, g_seed=seed, cfg=4, top_k=top_k,
                                                top_p=top_p, more_smooth=False)

    mkl = torch.backends.mkl.is_available()
    head = (f"# official {'CoDe' if code else 'VAR'} from {os.path.basename(os.path.abspath(a.src))}: "
            f"d{D}" + (f" -> d{Dr}" if code else "") + f"; {sampling}; torch {torch.__version__}, "
            f"threads {a.threads}, CPU capability {torch.backends.cpu.get_cpu_capability()}, MKL {mkl}, "
            f"{platform.machine()}; load {t_load:.1f} s, RSS after load {rss_loaded:.0f} MB")
    print(head, flush=True)

    if a.save_tokens:
        sys.path.insert(0, HERE)
        from varref import st  # noqa: E402  (the project's own safetensors writer)
        looked_up = []
        hook = vae.quantize.embedding.register_forward_pre_hook(lambda m, args: looked_up.append(args[0].clone()))
        labels = a.classes or [0] * a.batch[0]
        img = run(labels, a.seed)
        hook.remove()
        if len(looked_up) != S:
            sys.exit(f"expected {S} codebook look-ups (one per scale), saw {len(looked_up)}")
        t = {f"run.tokens.s{si}": idx.to(torch.int64).reshape(len(labels), -1) for si, idx in enumerate(looked_up)}
        t["run.image"] = img.float().contiguous()
        t["run.labels"] = torch.tensor(labels, dtype=torch.int64)
        st.write(a.save_tokens, t, {"command": " ".join(sys.argv), "source": "official"})
        print(f"wrote {a.save_tokens}: labels {labels}, seed {a.seed}, {S} scales", flush=True)
        return

    print("| batch | s/image total (median [min, max]) | transformer + sampling | VQVAE decode | peak RSS MB |")
    print("|---|---|---|---|---|")
    for B in a.batch:
        labels = a.classes if a.classes and len(a.classes) == B else list(range(B))
        tot, tt, td = [], [], []
        for r in range(a.warmup + a.repeats):
            decode_time[0] = 0.0
            t0 = time.perf_counter()
            img = run(labels, a.seed + r)
            t1 = time.perf_counter()
            if r >= a.warmup:
                tot.append((t1 - t0) / B)
                td.append(decode_time[0] / B)
                tt.append((t1 - t0 - decode_time[0]) / B)
            del img
        med = statistics.median
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"| {B} | {med(tot):.3f} [{min(tot):.3f}, {max(tot):.3f}] | {med(tt):.3f} | {med(td):.3f} | "
              f"{peak:.0f} |", flush=True)
        rec = {"code": "official-CoDe" if code else "official-VAR", "depth": D, "refiner_depth": Dr if code else None,
               "draft_steps": N if code else None, "batch": B, "threads": a.threads, "torch": torch.__version__,
               "seconds_per_image": tot, "transformer_sampling": tt, "decode": td,
               "peak_rss_mb": round(peak), "rss_after_load_mb": round(rss_loaded), "load_s": round(t_load, 2)}
        print("#json " + json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
