#!/usr/bin/python3
"""The earlier pipelines' way of measuring heads, as a baseline for bench/run_capture_bench.sh: an eager
plain-torch GPT-2 (bench/python_prefill.py), a forward hook on every layer's attention input that
recomputes the attention probabilities from the layer's q/k weights, the four metrics of the earlier
pipeline (query norm, entropy, max attention, k_eff with a full sort), appended row by row to a CSV
`sample_id,layer,head,token_pos,query_norm,entropy,max_attn,k_eff`. Run with Debian's /usr/bin/python3.

usage: python_capture_baseline.py --model DIR --prompts FILE.jsonl --out FILE.csv --threads N"""
import argparse, csv, json, math, os, sys, time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import python_prefill  # noqa: E402  (the plain-torch forward passes)


def metrics_rows(sample_id, layer, q, probs, writer):
    """q [head, token, dim]; probs [head, token, key]. One CSV row per (head, token), as the earlier pipeline."""
    heads, tokens, _ = probs.shape
    query_norm = q.norm(dim=-1)
    logs = torch.where(probs > 0, probs.log(), torch.zeros_like(probs))
    entropy = -(probs * logs).sum(-1)
    max_attn = probs.max(-1).values
    ordered = probs.sort(dim=-1, descending=True).values
    k_eff = ((ordered.cumsum(-1) < 0.9).sum(-1) + 1).clamp(max=torch.arange(1, tokens + 1))
    for h in range(heads):
        for t in range(tokens):
            entropy_value = float("nan") if t < 2 else float(entropy[h, t])  # "insufficient context"
            writer.writerow([sample_id, layer, h, t, float(query_norm[h, t]), entropy_value, float(max_attn[h, t]), int(k_eff[h, t])])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--prompts", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, cfg = python_prefill.load(args.model)
    if cfg["model_type"] != "gpt2":
        sys.exit("the baseline implements the GPT-2 hook path only")
    w, e, h = model.w, cfg["n_embd"], cfg["n_head"]
    d = e // h
    prompts = [json.loads(line) for line in open(args.prompts) if line.strip()]
    start = time.time()
    tokens_done = 0
    with open(args.out, "w", newline="") as out, torch.no_grad():
        writer = csv.writer(out)
        writer.writerow(["sample_id", "layer", "head", "token_pos", "query_norm", "entropy", "max_attn", "k_eff"])
        for prompt in prompts:
            ids = torch.tensor([prompt["ids"]])
            t = ids.shape[1]
            hooks = []

            def hook(layer, normed):  # a forward hook on attention: recompute its probabilities
                qkv = torch.addmm(w[f"transformer.h.{layer}.attn.c_attn.bias"], normed.view(-1, e),
                                  w[f"transformer.h.{layer}.attn.c_attn.weight"]).view(1, t, 3 * e)
                q, k, _ = (z.view(1, t, h, d).transpose(1, 2) for z in qkv.split(e, dim=2))
                scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + python_prefill.causal_mask(t)
                probs = torch.softmax(scores, dim=-1, dtype=torch.float32)
                metrics_rows(prompt["id"], layer, q[0], probs[0], writer)

            x = w["transformer.wte.weight"][ids] + w["transformer.wpe.weight"][:t]
            mask = python_prefill.causal_mask(t)
            eps = cfg.get("layer_norm_epsilon", 1e-5)
            for layer in range(cfg["n_layer"]):
                p = f"transformer.h.{layer}."
                a = F.layer_norm(x, (e,), w[p + "ln_1.weight"], w[p + "ln_1.bias"], eps)
                hook(layer, a)
                qkv = torch.addmm(w[p + "attn.c_attn.bias"], a.view(-1, e), w[p + "attn.c_attn.weight"]).view(1, t, 3 * e)
                q, k, v = (z.view(1, t, h, d).transpose(1, 2) for z in qkv.split(e, dim=2))
                probs = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d) + mask, dim=-1, dtype=torch.float32)
                o = torch.matmul(probs, v).transpose(1, 2).reshape(1, t, e)
                x = x + torch.addmm(w[p + "attn.c_proj.bias"], o.view(-1, e), w[p + "attn.c_proj.weight"]).view(1, t, e)
                m = F.layer_norm(x, (e,), w[p + "ln_2.weight"], w[p + "ln_2.bias"], eps)
                inner = python_prefill.gelu_new(torch.addmm(w[p + "mlp.c_fc.bias"], m.view(-1, e), w[p + "mlp.c_fc.weight"]))
                x = x + torch.addmm(w[p + "mlp.c_proj.bias"], inner, w[p + "mlp.c_proj.weight"]).view(1, t, e)
            tokens_done += t
    seconds = time.time() - start
    print("python-hooks-csv samples %d tokens %d seconds %.3f tokens_per_s %.1f csv_bytes %d" %
          (len(prompts), tokens_done, seconds, tokens_done / seconds, os.path.getsize(args.out)))


if __name__ == "__main__":
    main()
