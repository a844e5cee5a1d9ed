#!/usr/bin/env python3
"""Reference values at extreme arguments for the special functions and every log-density of
pyro-rs, computed with mpmath at 700 significant digits (enough for the cancellations of
terms of size 1e308 that the naive formulas suffer) and rounded once to the nearest double.

Run once (the output is committed):

    python3 -m venv /tmp/venv-mp && /tmp/venv-mp/bin/pip install mpmath
    /tmp/venv-mp/bin/python tests/data/gen_reference.py > tests/data/reference.csv

Every argument is a double (Python float), read by mpmath exactly. Columns:
kind (fn or dist), name, args (';'-separated, the distribution's constructor arguments in order,
then the value), value (the reference, 'inf'/'-inf' allowed), rtol (the relative tolerance the
test applies; an absolute one of rtol is used where the reference is 0), note.
"""

import math
import sys

import mpmath as mp

mp.mp.dps = 700
F = mp.mpf
HALF_LN_2PI = mp.log(2 * mp.pi) / 2


def lgamma(x):
    x = F(x)
    if x > 0:
        return mp.loggamma(x)
    return mp.log(abs(mp.gamma(x)))


def stirlerr(n):
    n = F(n)
    return mp.loggamma(n + 1) - (n + F(1) / 2) * mp.log(n) + n - HALF_LN_2PI


def bd0(x, np):
    x, np = F(x), F(np)
    if x == 0:
        return np
    return x * mp.log(x / np) + np - x


def lbeta(a, b):
    return mp.loggamma(F(a)) + mp.loggamma(F(b)) - mp.loggamma(F(a) + F(b))


def log_choose(n, k):
    n, k = F(n), F(k)
    return mp.loggamma(n + 1) - mp.loggamma(k + 1) - mp.loggamma(n - k + 1)


def xlogy(x, y):
    return F(0) if x == 0 else x * mp.log(y)


def sigmoid(l):
    return 1 / (1 + mp.exp(-F(l)))


DISTS = {
    "Normal": lambda loc, s, x: -((F(x) - loc) / s) ** 2 / 2 - mp.log(s) - HALF_LN_2PI,
    "LogNormal": lambda loc, s, x: -((mp.log(x) - loc) / s) ** 2 / 2
    - mp.log(s)
    - HALF_LN_2PI
    - mp.log(x),
    "HalfNormal": lambda s, x: mp.log(2) - (F(x) / s) ** 2 / 2 - mp.log(s) - HALF_LN_2PI,
    "Laplace": lambda loc, s, x: -abs(F(x) - loc) / s - mp.log(2 * F(s)),
    "Exponential": lambda r, x: mp.log(r) - F(r) * x,
    "Cauchy": lambda loc, s, x: -mp.log(mp.pi) - mp.log(s) - mp.log1p(((F(x) - loc) / s) ** 2),
    "HalfCauchy": lambda s, x: mp.log(2) - mp.log(mp.pi) - mp.log(s) - mp.log1p((F(x) / s) ** 2),
    "StudentT": lambda nu, loc, s, x: mp.loggamma((F(nu) + 1) / 2)
    - mp.loggamma(F(nu) / 2)
    - mp.log(F(nu) * mp.pi) / 2
    - mp.log(s)
    - (F(nu) + 1) / 2 * mp.log1p(((F(x) - loc) / s) ** 2 / nu),
    "Gamma": lambda a, b, x: F(a) * mp.log(b) + xlogy(F(a) - 1, F(x)) - F(b) * x - mp.loggamma(a),
    "InverseGamma": lambda a, b, x: F(a) * mp.log(b)
    - (F(a) + 1) * mp.log(x)
    - F(b) / x
    - mp.loggamma(a),
    "Beta": lambda a, b, x: xlogy(F(a) - 1, F(x)) + xlogy(F(b) - 1, 1 - F(x)) - lbeta(a, b),
    "Uniform": lambda lo, hi, x: -mp.log(F(hi) - F(lo)) if lo <= x < hi else -mp.inf,
    "Poisson": lambda r, k: xlogy(F(k), F(r)) - r - mp.loggamma(F(k) + 1),
    "Binomial": lambda n, p, k: log_choose(n, k) + xlogy(F(k), F(p)) + xlogy(F(n) - k, 1 - F(p)),
    "BinomialLogits": lambda n, l, k: log_choose(n, k)
    + xlogy(F(k), sigmoid(l))
    + xlogy(F(n) - k, sigmoid(-F(l))),
    "NegativeBinomialLogits": lambda r, l, k: mp.loggamma(F(r) + k)
    - mp.loggamma(r)
    - mp.loggamma(F(k) + 1)
    + F(r) * mp.log(sigmoid(-F(l)))
    + xlogy(F(k), sigmoid(l)),
    "GammaPoisson": lambda a, b, k: mp.loggamma(F(a) + k)
    - mp.loggamma(a)
    - mp.loggamma(F(k) + 1)
    + F(a) * mp.log(F(b) / (1 + F(b)))
    - F(k) * mp.log(1 + F(b)),
    "Bernoulli": lambda p, x: mp.log(p) if x == 1 else mp.log(1 - F(p)),
    "BernoulliLogits": lambda l, x: mp.log(sigmoid(l)) if x == 1 else mp.log(sigmoid(-F(l))),
}


def dirichlet(*args):
    k = len(args) // 2
    a, x = [F(v) for v in args[:k]], [F(v) for v in args[k:]]
    return (
        sum((ai - 1) * mp.log(xi) for ai, xi in zip(a, x))
        + mp.loggamma(sum(a))
        - sum(mp.loggamma(ai) for ai in a)
    )


DISTS["Dirichlet"] = dirichlet

FNS = {
    "lgamma": lgamma,
    "digamma": lambda x: mp.digamma(F(x)),
    "trigamma": lambda x: mp.psi(1, F(x)),
    "stirlerr": stirlerr,
    "bd0": bd0,
    "lbeta": lbeta,
    "log1p_square": lambda z: mp.log1p(F(z) ** 2),
    "erf": lambda x: mp.erf(F(x)),
    "lgamma1p": lambda x: mp.loggamma(1 + F(x)),
}

ROOT = float(mp.findroot(mp.digamma, 1.46))

# (name, args, rtol, note)
FN_CASES = [
    *[("lgamma", (x,)) for x in (1e-308, 1e-300, 1e-10, 0.1, 0.5, 1 - 1e-10, 1 + 1e-10, 1.5,
                                   2 - 1e-10, 2 + 1e-10, 2.5, 10.3, 171.5, 1e10, 1e15, 1e17,
                                   1e100, 1e300, -0.5, -1.5, -2.5e-10, -10.3, -1e10 + 0.5)],
    *[("digamma", (x,)) for x in (1e-308, 1e-100, 1e-10, 0.1, 0.5, 1.0, ROOT, ROOT * (1 + 1e-12),
                                    ROOT - 1e-8, 1.7, 1.25, 1.7, 2.0, 9.99, 10.0, 12.5, 1e5,
                                    1e15, 1e300, -0.5, -2.3, -1e10 + 0.5, -1e-10)],
    *[("trigamma", (x,)) for x in (1e-150, 1e-10, 0.1, 0.5, 1.0, 1.5, 9.5, 10.5, 1e5, 1e15,
                                     1e300, -0.5, -2.3, -1e5 + 0.25)],
    *[("stirlerr", (n,)) for n in (1e-300, 1e-10, 0.3, 0.5, 1.0, 3.7, 6.99, 7.0, 7.25, 14.9,
                                     15.0, 15.5, 40.0, 100.5, 1e4, 1e10, 1e17, 1e300)],
    *[("bd0", (x, np)) for (x, np) in ((1e17, 1e17), (1e17, 1e17 + 16), (1e15, 1e15 + 3e7),
                                        (5.0, 5.5), (5.0, 50.0), (50.0, 5.0), (1e-300, 1.0),
                                        (1.0, 1e-300), (1e-308, 1e308), (1e308, 1e-308),
                                        (1.5e308, 1e308), (1e-10, 1e-10 * (1 + 1e-6)),
                                        (0.0, 2.5), (3.0, 2.5))],
    *[("lbeta", (a, b)) for (a, b) in ((1e15, 1e15), (1e-3, 1e-3), (1e-300, 1e-300),
                                        (0.5, 0.5), (2.0, 3.0), (5.0, 1e15), (1e-300, 1e300),
                                        (9.9, 10.1), (10.0, 10.0), (12.5, 1e5), (1e300, 1e300),
                                        (1.0, 1e308), (1e308, 1e308), (3e-5, 2.5))],
    *[("log1p_square", (z,)) for z in (0.0, 1e-200, 1e-10, 0.5, 1.0, 1e8, 1.5e8, 1e20, 1e154,
                                         1e200, 1e308, -1e300)],
    *[("lgamma1p", (x,)) for x in (1e-300, -1e-300, 1e-10, 0.1, -0.2, 0.2499, 0.25, 0.7, -0.7)],
    *[("erf", (x,)) for x in (1e-300, 1e-10, 0.5, 1.0, 3.0, -2.0)],
]

DIST_CASES = [
    # The defects of issue 10, item 7, first.
    ("Poisson", (1e17, 1e17)),
    ("Binomial", (1e15, 0.5, 5e14)),
    ("Beta", (1e15, 1e15, 0.5)),
    ("StudentT", (1e17, 0.0, 1.0, -1.04)),
    ("Cauchy", (0.0, 1.0, 1e200)),
    ("HalfCauchy", (1.0, 1e200)),
    ("StudentT", (1.0, 0.0, 1.0, 1e200)),
    ("Binomial", (10.0, 1.0, 10.0)),
    ("Binomial", (10.0, 0.0, 0.0)),
    ("BernoulliLogits", (-math.inf, 0.0)),
    ("BernoulliLogits", (math.inf, 1.0)),
    ("Uniform", (-1e308, 1e308, 0.0)),
    # Poisson
    ("Poisson", (1e17, 1e17 + 3e8)),
    ("Poisson", (1e15, 1e15 + 3e7)),
    ("Poisson", (1e10, 1e5)),
    ("Poisson", (1e5, 1e10)),
    ("Poisson", (3.5, 0.0)),
    ("Poisson", (3.5, 10.0)),
    ("Poisson", (1e-300, 0.0)),
    ("Poisson", (1e-300, 1.0)),
    ("Poisson", (1e-10, 5.0)),
    ("Poisson", (1e300, 0.0)),
    ("Poisson", (1e300, 1e300)),
    ("Poisson", (1e300, 1.0)),
    ("Poisson", (2.0, 1e300)),
    ("Poisson", (1e-300, 1e300)),
    # Binomial
    ("Binomial", (1e15, 0.5, 5e14 + 1e7)),
    ("Binomial", (1e15, 1e-10, 1e5)),
    ("Binomial", (100.0, 0.3, 30.0)),
    ("Binomial", (100.0, 0.3, 0.0)),
    ("Binomial", (100.0, 0.3, 100.0)),
    ("Binomial", (2.0**52, 0.25, 2.0**50)),
    ("Binomial", (1e6, 1 - 1e-12, 1e6)),
    ("Binomial", (1e6, 1e-12, 0.0)),
    ("Binomial", (1e6, 1e-300, 1.0)),
    ("Binomial", (10.0, 1.0, 9.0)),
    ("Binomial", (0.0, 0.3, 0.0)),
    ("BinomialLogits", (1e15, 0.0, 5e14)),
    ("BinomialLogits", (1e15, -30.0, 1e2)),
    ("BinomialLogits", (50.0, 800.0, 50.0)),
    ("BinomialLogits", (50.0, -800.0, 0.0)),
    ("BinomialLogits", (50.0, 800.0, 49.0)),
    # Bernoulli
    ("Bernoulli", (0.25, 1.0)),
    ("Bernoulli", (1e-300, 1.0)),
    ("Bernoulli", (1e-300, 0.0)),
    ("Bernoulli", (1.0, 1.0)),
    ("Bernoulli", (0.0, 0.0)),
    ("BernoulliLogits", (-800.0, 1.0)),
    ("BernoulliLogits", (800.0, 0.0)),
    ("BernoulliLogits", (1e-20, 1.0)),
    # Beta
    ("Beta", (1e15, 1e15, 0.5 + 1e-8)),
    ("Beta", (1e15, 3e15, 0.25)),
    ("Beta", (1e-3, 1e-3, 0.5)),
    ("Beta", (1e-3, 1e-3, 1e-300)),
    ("Beta", (1e-3, 1e-3, 1 - 2.0**-53)),
    ("Beta", (0.5, 0.5, 1e-300)),
    ("Beta", (1e10, 1.0, 1 - 1e-11)),
    ("Beta", (2.0, 3.0, 0.25)),
    ("Beta", (1e5, 1e-5, 0.99999)),
    ("Beta", (3.0, 1e15, 3e-15)),
    ("Beta", (1e-300, 1e-300, 0.5)),
    ("Beta", (1.0, 1.0, 0.3)),
    ("Beta", (2.5, 2.5, 1e-300)),
    ("Beta", (1e300, 1e-300, 0.5)),
    # Gamma and inverse gamma
    ("Gamma", (1e15, 1e15, 1.0)),
    ("Gamma", (1e15, 1.0, 1e15)),
    ("Gamma", (1e15, 1.0, 1e15 + 3e7)),
    ("Gamma", (1e-3, 1.0, 1e-300)),
    ("Gamma", (1e-300, 1.0, 1e-300)),
    ("Gamma", (0.5, 2.0, 3.0)),
    ("Gamma", (1e10, 1e-10, 1e20)),
    ("Gamma", (2.5, 1e300, 1e-300)),
    ("Gamma", (2.0, 1e-300, 1e-300)),
    ("Gamma", (1.0, 3.0, 0.0)),
    ("Gamma", (1.0, 1e-300, 1e300)),
    ("Gamma", (1e300, 1e300, 1.0)),
    ("InverseGamma", (1e15, 1e15, 1.0)),
    ("InverseGamma", (1e-3, 1.0, 1e300)),
    ("InverseGamma", (2.0, 3.0, 1.0)),
    ("InverseGamma", (0.5, 1e-300, 1e-300)),
    # Student t, Cauchy
    ("StudentT", (1e17, 0.0, 1.0, 5.0)),
    ("StudentT", (1e10, 0.0, 1.0, 5.0)),
    ("StudentT", (3.0, 0.0, 1.0, 1e300)),
    ("StudentT", (2.5, 1.0, 2.0, 3.0)),
    ("StudentT", (0.5, 0.0, 1.0, 1e150)),
    ("StudentT", (1e300, 0.0, 1.0, 1.0)),
    ("StudentT", (1e-300, 0.0, 1.0, 1.0)),
    ("StudentT", (4.0, 1e308, 1.0, -1e308)),
    ("StudentT", (4.0, 0.0, 1e-300, 1.0)),
    ("Cauchy", (0.0, 1.0, 1e308)),
    ("Cauchy", (0.0, 1e-300, 1.0)),
    ("Cauchy", (1e308, 1.0, -1e308)),
    ("Cauchy", (0.0, 1e300, 1e-300)),
    ("Cauchy", (2.0, 3.0, 1e9)),
    ("HalfCauchy", (1e-300, 1e300)),
    ("HalfCauchy", (2.0, 0.0)),
    # Location-scale families
    ("Normal", (0.0, 1e-300, 1e-300)),
    ("Normal", (1e308, 1.0, 1e308)),
    ("Normal", (0.0, 1e300, 1e300)),
    ("Normal", (0.0, 1.0, 1e150)),
    ("LogNormal", (0.0, 1.0, 1e-300)),
    ("LogNormal", (0.0, 1.0, 1e300)),
    ("LogNormal", (700.0, 1e-300, 1e304)),
    ("HalfNormal", (1e-300, 1e-300)),
    ("HalfNormal", (1e300, 0.0)),
    ("Laplace", (0.0, 1e-300, 1e-300)),
    ("Laplace", (-1e308, 1e308, 1e308)),
    ("Exponential", (1e-300, 1e300)),
    ("Exponential", (1e300, 1e-300)),
    ("Exponential", (2.0, 0.0)),
    ("Uniform", (-1e308, 1e308, 1e308)),
    ("Uniform", (0.0, 1e-300, 5e-301)),
    ("Uniform", (1.0, 1.0 + 2.0**-52, 1.0)),
    # Negative binomial (PyTorch's logits) and gamma-Poisson
    ("NegativeBinomialLogits", (1e15, 0.0, 1e15)),
    ("NegativeBinomialLogits", (1e15, -1.0, 367879441171442.0)),
    ("NegativeBinomialLogits", (0.5, 2.0, 3.0)),
    ("NegativeBinomialLogits", (1e-3, 0.0, 0.0)),
    ("NegativeBinomialLogits", (1e-3, 0.0, 7.0)),
    ("NegativeBinomialLogits", (10.0, 800.0, 5.0)),
    ("NegativeBinomialLogits", (10.0, -800.0, 0.0)),
    ("NegativeBinomialLogits", (10.0, -800.0, 3.0)),
    ("NegativeBinomialLogits", (1e300, 0.0, 1e300)),
    ("GammaPoisson", (1e15, 1.0, 1e15)),
    ("GammaPoisson", (2.0, 1e300, 0.0)),
    ("GammaPoisson", (2.0, 1e300, 1.0)),
    ("GammaPoisson", (2.0, 1e-300, 5.0)),
    ("GammaPoisson", (0.5, 0.5, 3.0)),
    ("GammaPoisson", (1e-300, 1.0, 0.0)),
    # Dirichlet: K concentrations then K values
    ("Dirichlet", (1e15, 2e15, 1e15, 0.25, 0.5, 0.25)),
    ("Dirichlet", (1e-3, 1e-3, 1e-3, 1e-300, 0.5, 0.5)),
    ("Dirichlet", (0.5, 2.0, 0.25, 0.75)),
    ("Dirichlet", (1.0, 1.0, 1.0, 0.25, 0.5, 0.25)),
    ("Dirichlet", (1e10, 1e10, 0.5, 0.5)),
]

# Looser bounds, and why. Keyed by (name, args).
LOOSE = {
    # lgamma has zeros at 1 and 2: libm's value next to them is accurate to about an ulp of
    # the arguments' distance, not of the tiny result.
    ("lgamma", (1 + 1e-10,)): (1e-6, "relative error near the zero at 1 is that of x - 1"),
    ("lgamma", (1 - 1e-10,)): (1e-6, "relative error near the zero at 1 is that of x - 1"),
    ("lgamma", (2 - 1e-10,)): (1e-6, "relative error near the zero at 2 is that of x - 2"),
    ("lgamma", (2 + 1e-10,)): (1e-6, "relative error near the zero at 2 is that of x - 2"),
}


def fmt(v):
    if mp.isnan(v):
        return "nan"
    f = float(v)
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    return repr(f)


def main():
    out = sys.stdout
    out.write("kind,name,args,value,rtol,note\n")
    for name, args in FN_CASES:
        rtol, note = LOOSE.get((name, args), (1e-10, ""))
        v = FNS[name](*args)
        out.write(f"fn,{name},{';'.join(repr(float(a)) for a in args)},{fmt(v)},{rtol},{note}\n")
    for name, args in DIST_CASES:
        rtol, note = LOOSE.get((name, args), (1e-10, ""))
        fargs = [F(a) for a in args]
        v = DISTS[name](*fargs)
        out.write(f"dist,{name},{';'.join(repr(float(a)) for a in args)},{fmt(v)},{rtol},{note}\n")


if __name__ == "__main__":
    main()
