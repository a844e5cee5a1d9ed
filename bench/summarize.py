#!/usr/bin/env python3
"""Turns the raw output of bench/compare.sh into bench/RESULTS.md (Python standard library only).

Usage: python3 bench/summarize.py OUT_DIR > bench/RESULTS.md

OUT_DIR holds WORKLOAD__SIDE__RUN.jsonl files (side: ours, pyro, numpyro), each with a first line
{"_loadavg": ...} and then the JSON lines the command printed, plus meta.txt.
"""
import glob
import json
import os
import platform
import re
import statistics
import sys


def load(out):
    """{(workload, side): [ (run, loadavg, [json objects]) ]}"""
    res = {}
    for path in sorted(glob.glob(os.path.join(out, "*.jsonl"))):
        m = re.match(r"(.+)__(ours|pyro|numpyro)__(\d+)\.jsonl$", os.path.basename(path))
        if not m:
            continue
        workload, side, run = m.group(1), m.group(2), int(m.group(3))
        objs, load_avg = [], "?"
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    o = json.loads(line)
                except ValueError:
                    continue
                if "_loadavg" in o:
                    load_avg = o["_loadavg"]
                else:
                    objs.append(o)
        res.setdefault((workload, side), []).append((run, load_avg, objs))
    return res


def meta(out):
    d = {}
    try:
        with open(os.path.join(out, "meta.txt")) as f:
            for line in f:
                k, _, v = line.partition(":")
                d[k.strip()] = v.strip()
    except OSError:
        pass
    return d


def cpu():
    model, flags = "?", set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                k = k.strip()
                if k == "model name" and model == "?":
                    model = v.strip()
                elif k == "flags" and not flags:
                    flags = set(v.split())
    except OSError:
        pass
    wanted = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "amx_tile"]
    return model, os.cpu_count(), [x for x in wanted if x in flags]


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ---- extractors: (workload, side) runs -> {row: value per run} ----------------------------------

def ours_lines(runs, bench, variant=None):
    out = []
    for _, _, objs in runs:
        for o in objs:
            if o.get("bench") == bench and (variant is None or o.get("variant") == variant) and "skipped" not in o:
                out.append(o)
    return out


def peer_variant(runs, variant, key):
    vals = []
    for _, _, objs in runs:
        for o in objs:
            v = o.get("variants", {}).get(variant, {})
            if key in v:
                vals.append(v[key])
    return vals


def peer_flat(runs, key):
    return [o[key] for _, _, objs in runs for o in objs if key in o]


def medpos(xs):
    """Median of the positive values (a negative CPU time means "not measured")."""
    return med([x for x in xs if x is not None and x >= 0])


def first(xs):
    return xs[0] if xs else None


def fmt(x, nd=None):
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, (int, float)):
        if nd is not None:
            return "{:.{}f}".format(x, nd)
        a = abs(x)
        if a >= 1000:
            return "{:.0f}".format(x)
        if a >= 100:
            return "{:.1f}".format(x)
        if a >= 10:
            return "{:.2f}".format(x)
        return "{:.3g}".format(x)
    return str(x)


def ratio(ours, theirs):
    if ours is None or theirs in (None, 0):
        return "-"
    r = ours / theirs
    return "{:.3g}".format(r)


TIMING_KEYS = re.compile(r"(^bench$|^variant$|^runs$|^steps$|^epochs$|_runs$|^us_per_step|^ms_per|^s_per|"
                         r"^sec_per|^allocs|^bytes|^particles$|per_step$)")


def us_of(o):
    """Microseconds per step of one of our JSON lines (us_per_step, or ms_per_step)."""
    if o.get("us_per_step") is not None:
        return o["us_per_step"]
    if o.get("ms_per_step") is not None:
        return o["ms_per_step"] * 1e3
    return None


def fmt_acc(v):
    if isinstance(v, float):
        return "{:.7g}".format(v)
    if isinstance(v, (list, dict)):
        return json.dumps(v)
    return fmt(v)


def accuracy_of_ours(o):
    """The non-timing fields of one of our JSON lines."""
    return ", ".join("{}={}".format(k, fmt_acc(v))
                     for k, v in o.items() if not TIMING_KEYS.search(k))


def main():
    out = sys.argv[1]
    data = load(out)
    m = meta(out)
    model, ncpu, flags = cpu()
    R = lambda w, s: data.get((w, s), [])

    rows = []   # (workload, unit, ours, pyro, np_loop, np_fused, acc_ours, acc_pyro, acc_np)
    notes = []
    cpu_rows = []  # (workload, unit, ours, pyro, np_loop, np_fused): CPU time, all threads

    # coin
    for variant in ("loop", "plate"):
        ours = ours_lines(R("coin", "ours"), "coin", variant)
        if not ours and not R("coin", "pyro"):
            continue
        o_us = med([o.get("us_per_step") for o in ours])
        p_us = med(peer_variant(R("coin", "pyro"), variant, "us_per_step_median"))
        nl = med(peer_variant(R("coin", "numpyro"), variant + "_pyloop", "us_per_step_median"))
        nf = med(peer_variant(R("coin", "numpyro"), variant + "_scan", "us_per_step_median"))
        acc = lambda v: "{} / {}".format(fmt(v[0], 4), fmt(v[1], 4)) if v[0] is not None else "-"
        a_o = acc((first([o.get("post_mean") for o in ours]), first([o.get("post_std") for o in ours])))
        a_p = acc((first(peer_variant(R("coin", "pyro"), variant, "post_mean")),
                   first(peer_variant(R("coin", "pyro"), variant, "post_std"))))
        a_n = acc((first(peer_variant(R("coin", "numpyro"), variant + "_pyloop", "post_mean")),
                   first(peer_variant(R("coin", "numpyro"), variant + "_pyloop", "post_std"))))
        rows.append(("coin " + variant, "us/step", o_us, p_us, nl, nf, "mean/std " + a_o, a_p, a_n))
        cpu_rows.append(("coin " + variant, "us/step", medpos([o.get("cpu_us_per_step") for o in ours]),
                         medpos(peer_variant(R("coin", "pyro"), variant, "cpu_us_per_step_median")),
                         medpos(peer_variant(R("coin", "numpyro"), variant + "_pyloop", "cpu_us_per_step_median")),
                         medpos(peer_variant(R("coin", "numpyro"), variant + "_scan", "cpu_us_per_step_median"))))
        allocs = first([o.get("allocs_per_step") for o in ours])
        if allocs is not None:
            notes.append("coin {}: {} heap allocations ({} bytes) per SVI step (counting global allocator "
                         "in examples/bench_coin.rs).".format(variant, fmt(allocs), fmt(first(
                             [o.get("bytes_per_step") for o in ours]))))

    # logreg
    ours = ours_lines(R("logreg", "ours"), "logreg")
    if ours or R("logreg", "pyro"):
        o_us = med([us_of(o) for o in ours])
        p_us = med(peer_variant(R("logreg", "pyro"), "default", "us_per_step_median"))
        nl = med(peer_variant(R("logreg", "numpyro"), "pyloop", "us_per_step_median"))
        nf = med(peer_variant(R("logreg", "numpyro"), "scan", "us_per_step_median"))
        a_p = first(peer_variant(R("logreg", "pyro"), "default", "corr_loc_vs_map"))
        a_n = first(peer_variant(R("logreg", "numpyro"), "pyloop", "corr_loc_vs_map"))
        cpu_rows.append(("logreg", "us/step", medpos([o.get("cpu_us_per_step") for o in ours]),
                         medpos(peer_variant(R("logreg", "pyro"), "default", "cpu_us_per_step_median")),
                         medpos(peer_variant(R("logreg", "numpyro"), "pyloop", "cpu_us_per_step_median")),
                         medpos(peer_variant(R("logreg", "numpyro"), "scan", "cpu_us_per_step_median"))))
        rows.append(("logreg", "us/step", o_us, p_us, nl, nf, accuracy_of_ours(ours[0]) if ours else "-",
                     "corr_map=" + fmt(a_p, 5) if a_p is not None else "-",
                     "corr_map=" + fmt(a_n, 5) if a_n is not None else "-"))

    # vae-digits
    ours = ours_lines(R("vae", "ours"), "vae-digits")
    if ours or R("vae", "pyro"):
        o_ms = med([o.get("ms_per_epoch") for o in ours])
        p_ms = med([x * 1e3 for x in peer_flat(R("vae", "pyro"), "sec_per_epoch_median")])
        n_ms = med([x * 1e3 for x in peer_flat(R("vae", "numpyro"), "sec_per_epoch_median")])
        a_o = med([o.get("test_elbo_per_image") for o in ours])
        a_p = med(peer_flat(R("vae", "pyro"), "test_elbo_per_datum_median"))
        a_n = med(peer_flat(R("vae", "numpyro"), "test_elbo_per_datum_median"))
        cpu_rows.append(("vae-digits", "ms/epoch", medpos([o.get("cpu_ms_per_epoch") for o in ours]),
                         medpos([x * 1e3 for x in peer_flat(R("vae", "pyro"), "cpu_sec_per_epoch_median")]),
                         medpos([x * 1e3 for x in peer_flat(R("vae", "numpyro"), "cpu_sec_per_epoch_median")]), None))
        rows.append(("vae-digits", "ms/epoch", o_ms, p_ms, n_ms, None,
                     "test ELBO " + fmt(a_o, 2) if a_o is not None else "-",
                     fmt(a_p, 2), fmt(a_n, 2)))
    mn = ours_lines(R("vae", "ours"), "vae-mnist")
    if mn:
        notes.append("vae-mnist (pyro-rs only, no peer script): " + json.dumps(mn[0]))

    # hmm
    ours = ours_lines(R("hmm", "ours"), "hmm")
    if ours or R("hmm", "pyro"):
        o_us = med([us_of(o) for o in ours])
        p_us = med(peer_variant(R("hmm", "pyro"), "default", "us_per_step_median"))
        # markov: NumPyro's scan HMM computes a wrong enumerated loss (peers/hmm_numpyro.py).
        nl = med(peer_variant(R("hmm", "numpyro"), "markov_pyloop", "us_per_step_median"))
        nf = med(peer_variant(R("hmm", "numpyro"), "markov_fused", "us_per_step_median"))
        lp = lambda runs, v: "loss {} -> {} (initial loss exact: {})".format(
            fmt(first(peer_variant(runs, v, "first_loss")), 2), fmt(first(peer_variant(runs, v, "final_loss")), 2),
            fmt(first(peer_variant(runs, v, "first_loss_matches_exact"))))
        cpu_rows.append(("hmm", "us/step", medpos([o.get("cpu_us_per_step") for o in ours]),
                         medpos(peer_variant(R("hmm", "pyro"), "default", "cpu_us_per_step_median")),
                         medpos(peer_variant(R("hmm", "numpyro"), "markov_pyloop", "cpu_us_per_step_median")),
                         medpos(peer_variant(R("hmm", "numpyro"), "markov_fused", "cpu_us_per_step_median"))))
        rows.append(("hmm", "us/step", o_us, p_us, nl, nf, accuracy_of_ours(ours[0]) if ours else "-",
                     lp(R("hmm", "pyro"), "default"), lp(R("hmm", "numpyro"), "markov_pyloop")))

    # extra peer variants, when PEERS_FULL=1
    extras = []
    for (w, side), runs in sorted(data.items()):
        if side == "ours":
            continue
        names = sorted({k for _, _, objs in runs for o in objs for k in o.get("variants", {})})
        for v in names:
            us = med(peer_variant(runs, v, "us_per_step_median"))
            comp = med(peer_variant(runs, v, "compile_s_median"))
            err = first(peer_variant(runs, v, "error"))
            exact = first(peer_variant(runs, v, "first_loss_matches_exact"))
            extras.append("| {} | {} | {} | {} | {} | {} |".format(
                w, side, v, fmt(us) if err is None else "error: " + err,
                fmt(comp) if comp is not None else "-", fmt(exact) if exact is not None else "-"))

    # versions
    versions = {}
    for (w, side), runs in data.items():
        for _, _, objs in runs:
            for o in objs:
                for k, v in o.get("versions", {}).items():
                    versions.setdefault(k, v)
    loads = sorted({(w, s, r, la) for (w, s), runs in data.items() for r, la, _ in runs})

    p = print
    p("# Benchmark results")
    p()
    p("Produced by `bench/compare.sh` (raw output: `{}`); the workloads are those of "
      "`bench/README.md`. Each figure is the median over {} alternating runs "
      "(pyro-rs, Pyro, NumPyro, pyro-rs, ...) on the same machine.".format(out, m.get("runs", "?")))
    p()
    p("- date: {}".format(m.get("date", "?")))
    p("- commit: {}".format(m.get("git", "?")))
    p("- machine: {} logical cores, {}; flags: {}; {} {}".format(
        ncpu, model, " ".join(flags) or "-", platform.system(), platform.release()))
    p("- load: {} at the start, {} at the end (other jobs were running: treat ratios as rough "
      "when the load average is above the core count)".format(m.get("uptime_start", "?").split("load average:")[-1].strip(),
                                                             m.get("uptime_end", "?").split("load average:")[-1].strip()))
    p("- versions: {}; {}".format(m.get("rustc", "?"), ", ".join("{} {}".format(k, v) for k, v in sorted(versions.items()))))
    p()
    p("Time ratio = pyro-rs time / peer time: below 1 means pyro-rs is faster (the targets of ARCHITECTURE.md, "
      "\"Decisions and their reasons\": at most 0.01 against Pyro and 0.1 against NumPyro on small models, below 1 against "
      "both on the VAE and HMM). NumPyro is given as a jitted step called from a Python loop (\"step "
      "loop\", the analogue of `svi.step`) and as all steps fused into one XLA program (\"fused\"), "
      "compile time excluded.")
    p()
    p("| workload | unit | pyro-rs | Pyro | NumPyro step loop | NumPyro fused | ratio vs Pyro | ratio vs NumPyro loop | ratio vs NumPyro fused |")
    p("|---|---|---|---|---|---|---|---|---|")
    for w, unit, o, py, nl, nf, *_ in rows:
        p("| {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            w, unit, fmt(o), fmt(py), fmt(nl), fmt(nf), ratio(o, py), ratio(o, nl), ratio(o, nf)))
    p()
    p("CPU time (user + system of the process, all threads; pyro-rs: the benchmark thread), which "
      "is less sensitive than wall time to other jobs on the machine. Pyro's figure includes its "
      "intra-op threads; `-` where a benchmark does not report it.")
    p()
    p("| workload | unit | pyro-rs | Pyro | NumPyro step loop | NumPyro fused | ratio vs Pyro | ratio vs NumPyro loop | ratio vs NumPyro fused |")
    p("|---|---|---|---|---|---|---|---|---|")
    for w, unit, o, py, nl, nf in cpu_rows:
        p("| {} | {} | {} | {} | {} | {} | {} | {} | {} |".format(
            w, unit, fmt(o), fmt(py), fmt(nl), fmt(nf), ratio(o, py), ratio(o, nl), ratio(o, nf)))
    p()
    p("Accuracy, side by side (first run):")
    p()
    p("| workload | pyro-rs | Pyro | NumPyro |")
    p("|---|---|---|---|")
    for w, _, _, _, _, _, ao, ap, an in rows:
        p("| {} | {} | {} | {} |".format(w, ao, ap, an))
    p()
    p("Targets: coin posterior mean/std within 0.01 of 0.5333 / 0.0896; logreg correlation with the "
      "MAP above 0.999; vae-digits test ELBO near -24.3; hmm loss at the initial values 17624.07 and "
      "about 10393.5 after 200 steps.")
    if notes:
        p()
        for n in notes:
            p("- " + n)
    if extras:
        p()
        p("All peer variants run (median us per step; compile seconds for NumPyro; for hmm, whether "
          "the loss at the initial values equals the exact forward algorithm's: NumPyro's `scan` "
          "HMM does not, see `peers/hmm_numpyro.py`):")
        p()
        p("| workload | peer | variant | us/step | compile s | hmm loss exact |")
        p("|---|---|---|---|---|---|")
        for e in extras:
            p(e)
    nuts_section(R("nuts", "ours"), R("nuts", "numpyro"), p)
    eng = [o for _, _, objs in R("engine", "ours") for o in objs]
    if eng:
        p()
        p("Tensor-engine micro-benchmarks (`examples/bench_engine.rs`, one run):")
        p()
        p("```")
        for o in eng:
            p(json.dumps(o))
        p("```")
    notes_file = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ANALYSIS.md")
    if os.path.exists(notes_file):
        p()
        with open(notes_file) as f:
            p(f.read().rstrip())
    p()
    p("## Load average before each command")
    p()
    p("```")
    for w, s, r, la in loads:
        p("{:<8} {:<8} run {}  {}".format(w, s, r, la))
    p("```")


def nuts_section(ours_runs, peer_runs, p):
    """The NUTS table: ESS per second side by side (ours at 1 and 4 threads, NumPyro sequential)."""
    ours = [o for _, _, objs in ours_runs for o in objs if o.get("bench") == "nuts"]
    peer = [o for _, _, objs in peer_runs for o in objs if o.get("bench") == "nuts"]
    if not ours and not peer:
        return
    p()
    p("## NUTS")
    p()
    p("4 chains x (1000 warm-up + 1000 draws), max tree depth 10, target acceptance 0.8, diagonal "
      "mass matrix (`examples/bench_nuts.rs`, `peers/nuts_numpyro.py`). Medians over runs. ESS is the "
      "minimum over all scalar latent entries; \"NumPyro's ESS\" is "
      "`numpyro.diagnostics.effective_sample_size` (no split, no ranks), computed the same way on "
      "both sides, and ESS/s uses it; \"bulk ESS\" is ArviZ's rank-normalised one. NumPyro's wall "
      "time excludes its compilation (given separately); pyro-rs has none. NumPyro runs its chains "
      "one after the other on one thread; pyro-rs is given at 1 thread (the same) and at 4 threads "
      "(chains on threads; on a 2-core machine at most 2 run at once).")
    p()
    p("| workload | side | threads | wall s | compile s | NumPyro's ESS | bulk ESS | ESS/s | max R-hat | divergences | us/grad | ESS/s ratio ours/NumPyro |")
    p("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for w in ("eight-schools", "logreg"):
        pw = [o for o in peer if o.get("workload") == w]
        p_eps = med([o.get("ess_per_s") for o in pw])
        if pw:
            p("| {} | NumPyro {} | 1 | {} | {} | {} | - | {} | {} | {} | - | - |".format(
                w, pw[0].get("numpyro", ""), fmt(med([o.get("wall_s") for o in pw])),
                fmt(med([o.get("compile_s") for o in pw])), fmt(med([o.get("min_ess_bulk") for o in pw])),
                fmt(p_eps), fmt(med([o.get("max_rhat") for o in pw]), 4),
                fmt(med([o.get("divergences") for o in pw]))))
        for t in sorted({o.get("threads") for o in ours if o.get("workload") == w}):
            ow = [o for o in ours if o.get("workload") == w and o.get("threads") == t]
            o_eps = med([o.get("ess_per_s_numpyro") for o in ow])
            p("| {} | pyro-rs | {} | {} | - | {} | {} | {} | {} | {} | {} | {} |".format(
                w, t, fmt(med([o.get("wall_s") for o in ow])), fmt(med([o.get("min_ess_numpyro") for o in ow])),
                fmt(med([o.get("min_ess_bulk") for o in ow])), fmt(o_eps),
                fmt(med([o.get("max_rhat") for o in ow]), 4), fmt(med([o.get("divergences") for o in ow])),
                fmt(med([o.get("us_per_grad") for o in ow])),
                "{:.3g}".format(o_eps / p_eps) if o_eps and p_eps else "-"))
    p()
    p("Posterior means, first run (first entries of each site):")
    p()
    p("| workload | pyro-rs | NumPyro |")
    p("|---|---|---|")
    for w in ("eight-schools", "logreg"):
        ow = [o for o in ours if o.get("workload") == w]
        pw = [o for o in peer if o.get("workload") == w]
        if ow or pw:
            p("| {} | {} | {} |".format(w, json.dumps(ow[0].get("means")) if ow else "-",
                                       json.dumps(pw[0].get("means")) if pw else "-"))
    p()
    p("Targets (issue #14): ESS/s at least 10x NumPyro's on eight-schools and 2x on logreg. The "
      "logreg data differ (NumPyro draws them with NumPy, pyro-rs with its own seeded generator, "
      "as `examples/bench_logreg.rs`): same sizes and distribution, not the same numbers.")


if __name__ == "__main__":
    main()
