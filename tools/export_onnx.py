#!/usr/bin/env python3
"""Export a CLIP ViT checkpoint to the CTGI model folder (see tools/README.md and src/main/ml/models.ts).

Sources:
  * OpenAI CLIP (the JIT archive ViT-B-16.pt, or a plain state dict) and open_clip state dicts of the
    same layout (visual.*, transformer.*, token_embedding.*, ...);
  * IRRA / RDE checkpoints ({"model": {"base_model.visual...": ...}}): the CLIP backbone fine-tuned at
    384x128; their extra heads (MLM, cross-attention, RDE's TSE) are not exported;
  * --random-init: the real architecture (ViT-B/16 unless told otherwise) with seeded random weights,
    for tests and benchmarks.

The architecture is written out here (a compact re-implementation of OpenAI's model.py), so that neither
open_clip nor transformers is needed: only torch and onnx.

Writes vision_model.onnx (pixel_values [batch,3,H,W] -> image_embeds [batch,D]), text_model.onnx
(input_ids [batch,seq] int64 -> text_embeds [batch,D]), ctgi-model.json and, with --vocab, a copy of
bpe_simple_vocab_16e6.txt.gz. Embeddings are not normalised (the app does that).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import time
from collections import OrderedDict

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError as err:  # pragma: no cover - the message is the point
    sys.exit(
        f"export_onnx.py needs PyTorch and NumPy ({err}). On Debian/Ubuntu: "
        "apt-get install python3-torch python3-onnx python3-numpy, then run it with /usr/bin/python3."
    )

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
EOT_TOKEN = 49407
PES_KEEP = 20


class Failure(Exception):
    """An error the user can act on; printed without a traceback."""


# --------------------------------------------------------------------------------------------------
# The architecture (OpenAI CLIP, model.py), with the same parameter names so state dicts load as is.


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    """nn.MultiheadAttention's parameters (in_proj_weight/bias, out_proj), batch-first maths.

    Written out rather than calling nn.MultiheadAttention so that the ONNX graph is plain
    MatMul/Softmax without the sequence-first transposes, and identical in torch and ONNX."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        b, n, d = x.shape
        h = self.heads
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias).reshape(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        # As nn.MultiheadAttention: q is scaled before the product.
        att = (q * (d // h) ** -0.5) @ k.transpose(-2, -1)
        if mask is not None:
            att = att + mask
        out = (att.softmax(dim=-1) @ v).transpose(1, 2).reshape(b, n, d)
        return self.out_proj(out)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width: int, heads: int, act: str):
        super().__init__()
        self.attn = Attention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            OrderedDict(
                [
                    ("c_fc", nn.Linear(width, width * 4)),
                    ("gelu", QuickGELU() if act == "quickgelu" else nn.GELU()),
                    ("c_proj", nn.Linear(width * 4, width)),
                ]
            )
        )
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), mask)
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int, act: str):
        super().__init__()
        self.width = width
        self.layers = layers
        self.resblocks = nn.ModuleList([ResidualAttentionBlock(width, heads, act) for _ in range(layers)])

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        for block in self.resblocks:
            x = block(x, mask)
        return x


class VisionTransformer(nn.Module):
    def __init__(self, grid: tuple[int, int], patch: int, width: int, layers: int, heads: int, embed_dim: int, act: str):
        super().__init__()
        self.grid = grid
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch, stride=patch, bias=False)
        scale = width**-0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid[0] * grid[1] + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = Transformer(width, layers, heads, act)
        self.ln_post = nn.LayerNorm(width)
        self.proj = nn.Parameter(scale * torch.randn(width, embed_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        x = x.flatten(2).transpose(1, 2)  # [batch, grid, width]
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding
        x = self.transformer(self.ln_pre(x))
        # Only the class token is pooled; ln_post is per token, so applying it to that token alone is exact.
        return self.ln_post(x[:, 0, :]) @ self.proj


class TextTransformer(nn.Module):
    """CLIP's text side. Parameter names are the top-level ones of OpenAI's CLIP module."""

    def __init__(self, context: int, vocab: int, width: int, layers: int, heads: int, embed_dim: int, act: str):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, width)
        self.positional_embedding = nn.Parameter(torch.empty(context, width))
        self.transformer = Transformer(width, layers, heads, act)
        self.ln_final = nn.LayerNorm(width)
        self.text_projection = nn.Parameter(torch.empty(width, embed_dim))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        n = ids.shape[1]
        x = self.token_embedding(ids) + self.positional_embedding[:n]
        # The causal mask is built for the actual length, so nothing in the graph is pinned to 77.
        mask = torch.full((n, n), float("-inf"), device=ids.device).triu(1)
        x = self.ln_final(self.transformer(x, mask))
        # Pool at the end token, the highest id in each row (float: exact below 2^24, and ArgMax on
        # float is supported by every runtime).
        eot = ids.to(torch.float32).argmax(dim=-1)
        pooled = x.gather(1, eot.view(-1, 1, 1).expand(-1, 1, x.shape[-1])).squeeze(1)
        return pooled @ self.text_projection


# --------------------------------------------------------------------------------------------------
# Checkpoints


def load_raw(path: str) -> tuple[dict, str]:
    """The checkpoint's tensors with a normalised key layout, and that layout's name."""
    if not os.path.isfile(path):
        raise Failure(f"{path} is not a file. Pass the checkpoint file (e.g. ViT-B-16.pt or IRRA's best.pth).")
    sd = None
    try:
        sd = torch.jit.load(path, map_location="cpu").state_dict()  # OpenAI's JIT archives
    except Exception:
        pass
    if sd is None:
        try:
            sd = torch.load(path, map_location="cpu")
        except Exception as err:
            raise Failure(f"{path} is neither a TorchScript archive nor a torch.save() file: {err}") from err
    for wrapper in ("model", "state_dict", "module"):
        if isinstance(sd, dict) and isinstance(sd.get(wrapper), dict):
            sd = sd[wrapper]
    if not isinstance(sd, dict):
        raise Failure(f"{path} holds a {type(sd).__name__}, not a state dict.")
    sd = {k: v for k, v in sd.items() if isinstance(v, torch.Tensor)}
    if sd and all(k.startswith("module.") for k in sd):
        sd = {k[len("module.") :]: v for k, v in sd.items()}
    if any(k.startswith("base_model.") for k in sd):
        return {k[len("base_model.") :]: v for k, v in sd.items() if k.startswith("base_model.")}, "irra"
    if any(k.startswith("vision_model.") or k.startswith("text_model.") for k in sd):
        raise Failure(
            f"{path} is a Hugging Face transformers CLIP checkpoint (vision_model.*, text_model.*). This tool reads "
            "OpenAI/open_clip and IRRA/RDE layouts; export transformers models with optimum "
            "(optimum-cli export onnx) and add ctgi-model.json by hand."
        )
    if "visual.proj" not in sd and "visual.conv1.weight" not in sd:
        example = ", ".join(sorted(sd)[:6])
        raise Failure(
            f"{path} does not look like a CLIP ViT checkpoint: no visual.conv1.weight / visual.proj. Its first keys: "
            f"{example or '(none)'}. Expected OpenAI/open_clip keys (visual.*, transformer.*) or IRRA/RDE's base_model.*."
        )
    return sd, "openai"


def infer_arch(sd: dict) -> dict:
    need = ["visual.conv1.weight", "visual.positional_embedding", "visual.proj", "text_projection",
            "positional_embedding", "token_embedding.weight", "ln_final.weight"]
    missing = [k for k in need if k not in sd]
    if missing:
        raise Failure(f"The checkpoint lacks keys needed to tell its size: {', '.join(missing)}.")
    count = lambda prefix: len({k.split(".")[3 if prefix else 2] for k in sd if k.startswith(f"{prefix}transformer.resblocks.")})
    return {
        "embed_dim": sd["text_projection"].shape[1],
        "vision_width": sd["visual.conv1.weight"].shape[0],
        "patch": sd["visual.conv1.weight"].shape[-1],
        "vision_layers": count("visual."),
        "vision_tokens": sd["visual.positional_embedding"].shape[0],
        "text_width": sd["ln_final.weight"].shape[0],
        "text_layers": count(""),
        "context": sd["positional_embedding"].shape[0],
        "vocab": sd["token_embedding.weight"].shape[0],
    }


VIT_B16 = dict(embed_dim=512, vision_width=768, patch=16, vision_layers=12, vision_tokens=197,
               text_width=512, text_layers=12, context=77, vocab=49408)


def random_checkpoint(seed: int, layers: int | None, act: str) -> dict:
    """A stock-shaped ViT-B/16 state dict (224x224, 77 tokens) with OpenAI's initialisation, seeded."""
    torch.manual_seed(seed)
    a = dict(VIT_B16)
    if layers:
        a["vision_layers"] = a["text_layers"] = layers
    vis = VisionTransformer((14, 14), a["patch"], a["vision_width"], a["vision_layers"], a["vision_width"] // 64, a["embed_dim"], act)
    txt = TextTransformer(a["context"], a["vocab"], a["text_width"], a["text_layers"], a["text_width"] // 64, a["embed_dim"], act)
    nn.init.normal_(txt.token_embedding.weight, std=0.02)
    nn.init.normal_(txt.positional_embedding, std=0.01)
    for t in (vis.transformer, txt.transformer):
        proj_std = (t.width**-0.5) * ((2 * t.layers) ** -0.5)
        for blk in t.resblocks:
            nn.init.normal_(blk.attn.in_proj_weight, std=t.width**-0.5)
            nn.init.normal_(blk.attn.out_proj.weight, std=proj_std)
            nn.init.normal_(blk.mlp.c_fc.weight, std=(2 * t.width) ** -0.5)
            nn.init.normal_(blk.mlp.c_proj.weight, std=proj_std)
    nn.init.normal_(txt.text_projection, std=txt.transformer.width**-0.5)
    sd = {f"visual.{k}": v for k, v in vis.state_dict().items()}
    sd.update(txt.state_dict())
    sd["logit_scale"] = torch.tensor(math.log(1 / 0.07))
    return sd


def resize_pos_embed(pe: torch.Tensor, grid: tuple[int, int], mode: str) -> torch.Tensor:
    """IRRA's resize_pos_embed: keep the class row, interpolate the square patch grid to grid (rows, cols)."""
    tok, old = pe[:1], pe[1:]
    side = int(math.isqrt(old.shape[0]))
    if side * side != old.shape[0]:
        raise Failure(
            f"The checkpoint's vision positional table has {old.shape[0]} patch rows, which is not a square grid, and "
            f"the requested image size needs {grid[0]}x{grid[1]}: pass --image-size for the size it was trained at."
        )
    g = old.reshape(1, side, side, -1).permute(0, 3, 1, 2)
    kw = {} if mode == "nearest" else {"align_corners": False}
    g = F.interpolate(g, size=grid, mode=mode, **kw)
    return torch.cat([tok, g.permute(0, 2, 3, 1).reshape(grid[0] * grid[1], -1)], dim=0)


def pes_stretch(P: torch.Tensor) -> torch.Tensor:
    """ALGORITHMS.md §2 (Long-CLIP): 77 -> 248 rows, float32, each term divided by 4 separately."""
    rows, dim = P.shape
    P = P.to(torch.float32)
    N = torch.zeros(4 * rows - 3 * PES_KEEP, dim, dtype=torch.float32)
    N[:PES_KEEP] = P[:PES_KEEP]
    for i in range(rows - 1 - PES_KEEP):
        a, b = P[PES_KEEP + i], P[PES_KEEP + i + 1]
        N[PES_KEEP + 4 * i] = a
        for r in (1, 2, 3):
            N[PES_KEEP + 4 * i + r] = (4 - r) * a / 4 + r * b / 4
    last, prev = P[rows - 1], P[rows - 2]
    for k in range(4):
        N[N.shape[0] - 4 + k] = last + k * (last - prev) / 4
    return N


def take(module: nn.Module, sd: dict, prefix: str, missing: list[str]) -> dict:
    """The module's tensors from the checkpoint; absent keys are appended to `missing`."""
    out = {}
    for k, ref in module.state_dict().items():
        if prefix + k not in sd:
            missing.append(prefix + k)
            continue
        v = sd[prefix + k].to(torch.float32)
        if v.shape != ref.shape:
            raise Failure(f"{prefix + k} has shape {list(v.shape)} in the checkpoint but the model needs {list(ref.shape)}.")
        out[k] = v
    return out


def build(sd: dict, layout: str, args) -> tuple[VisionTransformer, TextTransformer, dict]:
    a = infer_arch(sd)
    h, w = args.image_size or ([384, 128] if layout == "irra" else [int(math.isqrt(a["vision_tokens"] - 1)) * a["patch"]] * 2)
    if h % a["patch"] or w % a["patch"]:
        raise Failure(f"--image-size {h} {w} is not a multiple of the patch size {a['patch']}.")
    grid = (h // a["patch"], w // a["patch"])
    vis = VisionTransformer(grid, a["patch"], a["vision_width"], a["vision_layers"], a["vision_width"] // 64, a["embed_dim"], args.act)
    context = args.context or (248 if args.pes else a["context"])
    txt = TextTransformer(context, a["vocab"], a["text_width"], a["text_layers"], a["text_width"] // 64, a["embed_dim"], args.act)
    sd = dict(sd)
    notes = []
    pe = sd["visual.positional_embedding"]
    if pe.shape[0] != grid[0] * grid[1] + 1:
        sd["visual.positional_embedding"] = resize_pos_embed(pe.to(torch.float32), grid, args.pos_resize)
        notes.append(f"vision positional table resized {pe.shape[0]} -> {grid[0] * grid[1] + 1} rows ({args.pos_resize}, as IRRA)")
    tp = sd["positional_embedding"]
    if args.pes:
        if tp.shape[0] != 77 or context != 248:
            raise Failure(f"--pes stretches a 77-row text positional table to 248; this one has {tp.shape[0]} rows (context {context}).")
        sd["positional_embedding"] = pes_stretch(tp)
        notes.append("text positional table stretched 77 -> 248 (PES)")
    elif tp.shape[0] < context:
        raise Failure(
            f"The text positional table has {tp.shape[0]} rows but --context is {context}: a longer context needs --pes "
            "(77 -> 248) or a checkpoint trained for it."
        )
    elif tp.shape[0] > context:
        sd["positional_embedding"] = tp[:context]
    missing: list[str] = []
    vis_sd, txt_sd = take(vis, sd, "visual.", missing), take(txt, sd, "", missing)
    if missing:
        shown = ", ".join(missing[:12]) + (f" … and {len(missing) - 12} more" if len(missing) > 12 else "")
        raise Failure(
            f"The checkpoint is incomplete: {len(missing)} key(s) missing: {shown}"
            + (" (IRRA/RDE keys carry the prefix base_model.)" if layout == "irra" else "")
            + ". Is it a whole CLIP ViT checkpoint (OpenAI/open_clip keys, or IRRA/RDE's base_model.*)?"
        )
    vis.load_state_dict(vis_sd)
    txt.load_state_dict(txt_sd)
    vis.eval()
    txt.eval()
    info = dict(a, image_size=[h, w], context=context, notes=notes)
    return vis, txt, info


# --------------------------------------------------------------------------------------------------
# Export


def export(module: nn.Module, example: torch.Tensor, path: str, in_name: str, out_name: str, opset: int) -> None:
    with torch.no_grad():
        torch.onnx.export(
            module,
            (example,),
            path,
            input_names=[in_name],
            output_names=[out_name],
            dynamic_axes={in_name: {0: "batch"} if in_name == "pixel_values" else {0: "batch", 1: "sequence"}, out_name: {0: "batch"}},
            opset_version=opset,
            do_constant_folding=True,
        )


def example_ids(batch: int, context: int, lengths: list[int]) -> torch.Tensor:
    ids = torch.zeros(batch, context, dtype=torch.long)
    g = torch.Generator().manual_seed(1)
    for r in range(batch):
        n = max(2, min(context, lengths[r % len(lengths)]))
        ids[r, 0] = 49406
        ids[r, 1 : n - 1] = torch.randint(256, 49000, (n - 2,), generator=g)
        ids[r, n - 1] = EOT_TOKEN
    return ids


def check_with_ort(out: str, vis, txt, towers: str, h: int, w: int, context: int) -> None:
    try:
        import onnxruntime as ort  # type: ignore
    except ImportError:
        print("--check: onnxruntime (Python) is not installed; skipped. The app's own loader checks the folder.")
        return
    torch.manual_seed(2)
    if towers in ("both", "vision"):
        px = torch.randn(3, 3, h, w)
        ref = vis(px).detach().numpy()
        got = ort.InferenceSession(os.path.join(out, "vision_model.onnx"), providers=["CPUExecutionProvider"]).run(None, {"pixel_values": px.numpy()})[0]
        print(f"--check vision: min cosine torch vs onnxruntime {min_cos(ref, got):.7f}")
    if towers in ("both", "text"):
        ids = example_ids(3, context, [5, context // 2, context])
        ref = txt(ids).detach().numpy()
        got = ort.InferenceSession(os.path.join(out, "text_model.onnx"), providers=["CPUExecutionProvider"]).run(None, {"input_ids": ids.numpy()})[0]
        print(f"--check text: min cosine torch vs onnxruntime {min_cos(ref, got):.7f}")


def min_cos(a: np.ndarray, b: np.ndarray) -> float:
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return float((a * b).sum(axis=1).min())


def time_torch(vis: nn.Module, batch: int, iters: int, h: int, w: int, threads: int) -> dict:
    torch.set_num_threads(threads)
    x = torch.randn(batch, 3, h, w)
    with torch.inference_mode():
        vis(x)  # warm-up: first-run allocations and kernel choice
        t0 = time.perf_counter()
        for _ in range(iters):
            vis(x)
        dt = time.perf_counter() - t0
    return {"images_per_s": batch * iters / dt, "batch": batch, "iters": iters, "threads": threads, "seconds": dt,
            "torch": torch.__version__}


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="OpenAI JIT/state-dict, open_clip, or IRRA/RDE checkpoint file")
    src.add_argument("--random-init", action="store_true", help="seeded random weights of the real architecture (tests, benchmarks)")
    p.add_argument("--out", help="model folder to write (created); optional with --time-torch")
    p.add_argument("--name", help="model name for ctgi-model.json (default: the folder name)")
    p.add_argument("--image-size", type=int, nargs=2, metavar=("H", "W"), help="default: 384 128 for IRRA/RDE, else the checkpoint's (224 224)")
    p.add_argument("--context", type=int, choices=[77, 248], help="text context; 248 needs --pes unless the checkpoint has 248 rows")
    p.add_argument("--pes", action="store_true", help="stretch the text positional table 77 -> 248 (ALGORITHMS.md §2) and export for 248 tokens")
    p.add_argument("--resize", choices=["irra", "clip"], help="preprocessing in the manifest (default: irra for non-square or IRRA, else clip)")
    p.add_argument("--act", choices=["quickgelu", "gelu"], default="quickgelu", help="MLP activation: quickgelu for OpenAI/IRRA/RDE, gelu for open_clip's LAION ViT-B-16")
    p.add_argument("--pos-resize", choices=["bilinear", "bicubic"], default="bilinear", help="vision positional grid interpolation when the image size changes (IRRA: bilinear)")
    p.add_argument("--towers", choices=["both", "vision", "text"], default="both", help="which ONNX files to write (the app needs both)")
    p.add_argument("--vocab", help="bpe_simple_vocab_16e6.txt.gz to copy into the folder (else the app uses its bundled copy)")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--seed", type=int, default=0, help="--random-init seed")
    p.add_argument("--layers", type=int, help="--random-init: transformer depth of both towers (default 12; fewer for fast tests)")
    p.add_argument("--save-checkpoint", metavar="PATH", help="--random-init: also save the random weights as a checkpoint")
    p.add_argument("--checkpoint-layout", choices=["openai", "irra"], default="openai", help="layout for --save-checkpoint")
    p.add_argument("--check", action="store_true", help="compare torch with onnxruntime-python, if installed")
    p.add_argument("--reference-pixels", help=".npy [n,3,H,W] float32: write torch's image embeddings for it to --reference-out")
    p.add_argument("--reference-ids", help=".npy [n,seq] integer: write torch's text embeddings for it to --reference-out")
    p.add_argument("--reference-out", help="JSON file for the reference embeddings")
    p.add_argument("--time-torch", action="store_true", help="time the image tower in PyTorch and print JSON (benchmarks)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--iters", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = p.parse_args(argv)
    if args.pes and args.context == 77:
        p.error("--pes exports for 248 tokens; drop --context 77")
    if (args.reference_pixels or args.reference_ids) and not args.reference_out:
        p.error("--reference-pixels/--reference-ids need --reference-out")
    if not args.out and not args.time_torch and not args.reference_out:
        p.error("--out is required")

    try:
        if args.random_init:
            sd, layout = random_checkpoint(args.seed, args.layers, args.act), "openai"
            if args.save_checkpoint:
                saved = sd if args.checkpoint_layout == "openai" else {"model": {f"base_model.{k}": v for k, v in sd.items()}}
                torch.save(saved, args.save_checkpoint)
        else:
            sd, layout = load_raw(args.checkpoint)
        vis, txt, info = build(sd, layout, args)
        h, w = info["image_size"]
        context = info["context"]

        if args.out:
            out = os.path.abspath(args.out)
            os.makedirs(out, exist_ok=True)
            t0 = time.perf_counter()
            if args.towers in ("both", "vision"):
                export(vis, torch.randn(2, 3, h, w), os.path.join(out, "vision_model.onnx"), "pixel_values", "image_embeds", args.opset)
            if args.towers in ("both", "text"):
                export(txt, example_ids(2, context, [7, context]), os.path.join(out, "text_model.onnx"), "input_ids", "text_embeds", args.opset)
            resize = args.resize or ("irra" if layout == "irra" or h != w else "clip")
            manifest = {
                "name": args.name or os.path.basename(out),
                "imageSize": [h, w],
                "resize": resize,
                "mean": CLIP_MEAN,
                "std": CLIP_STD,
                "contextLength": context,
                "embeddingDim": info["embed_dim"],
            }
            with open(os.path.join(out, "ctgi-model.json"), "w") as f:
                json.dump(manifest, f, indent=2)
                f.write("\n")
            if args.vocab:
                shutil.copyfile(args.vocab, os.path.join(out, "bpe_simple_vocab_16e6.txt.gz"))
            source = "random init (seed %d)" % args.seed if args.random_init else f"{args.checkpoint} ({layout} layout)"
            print(
                f"Exported {source}: ViT patch {info['patch']}, vision {info['vision_layers']}x{info['vision_width']}, "
                f"text {info['text_layers']}x{info['text_width']}, embeddings {info['embed_dim']}, image {h}x{w}, "
                f"context {context}, in {time.perf_counter() - t0:.1f}s -> {out}"
            )
            for n in info["notes"]:
                print(f"  note: {n}")
            if args.check:
                check_with_ort(out, vis, txt, args.towers, h, w, context)

        if args.reference_out:
            ref = {}
            with torch.inference_mode():
                if args.reference_pixels:
                    ref["image_embeds"] = vis(torch.from_numpy(np.load(args.reference_pixels).astype(np.float32))).tolist()
                if args.reference_ids:
                    ref["text_embeds"] = txt(torch.from_numpy(np.load(args.reference_ids).astype(np.int64))).tolist()
            with open(args.reference_out, "w") as f:
                json.dump(ref, f)

        if args.time_torch:
            print(json.dumps(time_torch(vis, args.batch, args.iters, h, w, args.threads)))
    except Failure as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
