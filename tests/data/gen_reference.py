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


def log_ndtr_diff(a, b):
    # ln(Phi(b) - Phi(a)) for a < b: on the side where both are tails, by symmetry
    # (Phi(b) - Phi(a) = Phi(-a) - Phi(-b)), so that the difference of two numbers near 1 is
    # never taken (Phi(1001) - Phi(1000) would need 200,000 digits).
    if a > 0:
        return mp.log(mp.ncdf(-a) - mp.ncdf(-b))
    return mp.log(mp.ncdf(b) - mp.ncdf(a))


def truncated_normal(loc, s, lo, hi, x):
    loc, s, lo, hi, x = F(loc), F(s), F(lo), F(hi), F(x)
    if not (lo <= x <= hi):
        return -mp.inf
    z = (x - loc) / s
    return -z * z / 2 - HALF_LN_2PI - mp.log(s) - log_ndtr_diff((lo - loc) / s, (hi - loc) / s)


def von_mises(loc, k, x):
    loc, k, x = F(loc), F(k), F(x)
    return k * mp.cos(x - loc) - mp.log(2 * mp.pi) - mp.log(mp.besseli(0, k))


def lkj_cholesky(dim, eta, *l):
    # Density of the Cholesky factor (PyTorch/NumPyro/Stan): prod_{i>=1} L_ii^(n - i - 1 +
    # 2(eta - 1)) over the LKJ normaliser.
    n, eta = int(dim), F(eta)
    diag = [F(l[i * n + i]) for i in range(n)]
    unnorm = sum((n - i - 1 + 2 * (eta - 1)) * mp.log(diag[i]) for i in range(1, n))
    dm1 = n - 1
    alpha = eta + F(dm1) / 2
    denominator = mp.loggamma(alpha) * dm1
    # mvlgamma(alpha - 1/2, dm1)
    numerator = F(dm1) * (dm1 - 1) / 4 * mp.log(mp.pi) + sum(
        mp.loggamma(alpha - F(1) / 2 + F(1 - j) / 2) for j in range(1, dm1 + 1))
    pi_constant = F(dm1) / 2 * mp.log(mp.pi)
    return unnorm - (pi_constant + numerator - denominator)


def mvn(k, *rest):
    # k, then loc (k), scale_tril (k*k, row-major), value (k)
    k = int(k)
    loc = [F(v) for v in rest[:k]]
    tril = [[F(rest[k + i * k + j]) for j in range(k)] for i in range(k)]
    x = [F(v) for v in rest[k + k * k:]]
    d = [x[i] - loc[i] for i in range(k)]
    z = []
    for i in range(k):
        z.append((d[i] - sum(tril[i][j] * z[j] for j in range(i))) / tril[i][i])
    return -sum(v * v for v in z) / 2 - sum(mp.log(tril[i][i]) for i in range(k)) - k * HALF_LN_2PI


def multinomial(n, *rest):
    kk = len(rest) // 2
    p, x = [F(v) for v in rest[:kk]], [F(v) for v in rest[kk:]]
    tot = sum(p)
    return mp.loggamma(F(n) + 1) - sum(mp.loggamma(v + 1) for v in x) + sum(
        xlogy(xi, pi / tot) for xi, pi in zip(x, p))


def multinomial_logits(n, *rest):
    kk = len(rest) // 2
    l, x = [F(v) for v in rest[:kk]], [F(v) for v in rest[kk:]]
    lse = mp.log(sum(mp.exp(v) for v in l))
    return mp.loggamma(F(n) + 1) - sum(mp.loggamma(v + 1) for v in x) + sum(
        (xi * (li - lse) if xi != 0 else F(0)) for xi, li in zip(x, l))


def categorical(*rest):
    p, x = [F(v) for v in rest[:-1]], int(rest[-1])
    return mp.log(p[x] / sum(p))


def categorical_logits(*rest):
    l, x = [F(v) for v in rest[:-1]], int(rest[-1])
    return l[x] - mp.log(sum(mp.exp(v) for v in l))


def one_hot(*rest):
    kk = len(rest) // 2
    p, x = [F(v) for v in rest[:kk]], list(rest[kk:])
    return mp.log(p[x.index(1.0)] / sum(p))


def zip_probs(g, r, k):
    g, r, k = F(g), F(r), F(k)
    if k == 0:
        return mp.log(g + (1 - g) * mp.exp(-r))
    return mp.log(1 - g) + xlogy(k, r) - r - mp.loggamma(k + 1)


def zip_logits(l, r, k):
    g = sigmoid(l)
    r, k = F(r), F(k)
    if k == 0:
        return mp.log(g + sigmoid(-F(l)) * mp.exp(-r))
    return mp.log(sigmoid(-F(l))) + xlogy(k, r) - r - mp.loggamma(k + 1)


def negative_binomial(r, p, k):
    r, p, k = F(r), F(p), F(k)
    return mp.loggamma(r + k) - mp.loggamma(r) - mp.loggamma(k + 1) + r * mp.log(1 - p) + xlogy(k, p)


def mixture_normal(kk, *rest):
    # K, then mixing logits (K), component locs (K), scales (K), value
    kk = int(kk)
    l = [F(v) for v in rest[:kk]]
    loc = [F(v) for v in rest[kk:2 * kk]]
    sc = [F(v) for v in rest[2 * kk:3 * kk]]
    x = F(rest[-1])
    lse = mp.log(sum(mp.exp(v) for v in l))
    return mp.log(sum(mp.exp(l[i] - lse - ((x - loc[i]) / sc[i]) ** 2 / 2 - mp.log(sc[i])
                             - HALF_LN_2PI) for i in range(kk)))


def delta(v, x):
    return F(0) if F(v) == F(x) else -mp.inf


DISTS.update({
    "TruncatedNormal": truncated_normal,
    "VonMises": von_mises,
    "LKJCholesky": lkj_cholesky,
    "MultivariateNormal": mvn,
    "Multinomial": multinomial,
    "MultinomialLogits": multinomial_logits,
    "Categorical": categorical,
    "CategoricalLogits": categorical_logits,
    "OneHotCategorical": one_hot,
    "ZeroInflatedPoisson": zip_probs,
    "ZeroInflatedPoissonLogits": zip_logits,
    "NegativeBinomial": negative_binomial,
    "MixtureSameFamily": mixture_normal,
    "Delta": delta,
})

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

def R(v):
    """The double nearest to sqrt(1 - v^2): a unit-norm row's diagonal."""
    return float(mp.sqrt(1 - F(v) ** 2))


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

    # Truncated normal: loc, scale, low, high, value
    ("TruncatedNormal", (0.0, 1.0, 0.0, math.inf, 1.0)),
    ("TruncatedNormal", (0.0, 1.0, -math.inf, math.inf, 0.3)),
    ("TruncatedNormal", (0.0, 1.0, 8.0, math.inf, 8.5)),
    ("TruncatedNormal", (0.0, 1.0, 30.0, 31.0, 30.2)),
    ("TruncatedNormal", (0.0, 1.0, -40.0, -39.0, -39.5)),
    ("TruncatedNormal", (0.0, 1.0, 1000.0, 1001.0, 1000.001)),
    ("TruncatedNormal", (0.0, 1.0, 9000.0, math.inf, 9000.0)),
    ("TruncatedNormal", (0.0, 1.0, 0.5, 0.5 + 1e-9, 0.5 + 5e-10)),
    ("TruncatedNormal", (0.0, 1.0, 50.0, 50.0 + 1e-12, 50.0)),
    ("TruncatedNormal", (1e300, 1e300, 0.0, 2e300, 1e300)),
    ("TruncatedNormal", (0.0, 1e-300, -1e-300, 2e-300, 1e-300)),
    ("TruncatedNormal", (3.0, 2.0, -1.0, 4.0, 5.0)),
    ("TruncatedNormal", (0.0, 1.0, -1e-10, 1e-10, 0.0)),
    # Von Mises: loc, concentration, value
    ("VonMises", (0.0, 0.0, 1.0)),
    ("VonMises", (0.0, 1.0, 0.5)),
    ("VonMises", (0.0, 29.9, 3.0)),
    ("VonMises", (0.0, 30.1, 0.01)),
    ("VonMises", (0.0, 1e-300, 2.0)),
    ("VonMises", (0.0, 1e3, 1e-3)),
    ("VonMises", (0.0, 1e10, 1e-5)),
    ("VonMises", (0.0, 1e15, 1e-8)),
    ("VonMises", (0.0, 1e300, 1e-151)),
    ("VonMises", (0.0, 1e300, 0.0)),
    ("VonMises", (1.0, 5.0, 1.0 + math.pi)),
    ("VonMises", (1e300, 2.0, -1e300)),
    ("VonMises", (0.0, 2.0, 1e10)),
    # LKJ Cholesky: dim, concentration, then the factor row-major
    ("LKJCholesky", (2.0, 1.0, 1.0, 0.0, 0.6, 0.8)),
    ("LKJCholesky", (2.0, 1e-3, 1.0, 0.0, 0.6, 0.8)),
    ("LKJCholesky", (2.0, 1e10, 1.0, 0.0, 1e-5, R(1e-5))),
    ("LKJCholesky", (2.0, 1e15, 1.0, 0.0, 1e-8, R(1e-8))),
    ("LKJCholesky", (2.0, 1e300, 1.0, 0.0, 0.0, 1.0)),
    ("LKJCholesky", (2.0, 0.5, 1.0, 0.0, 1 - 1e-15, R(1 - 1e-15))),
    ("LKJCholesky", (3.0, 2.0, 1.0, 0.0, 0.0, 0.6, 0.8, 0.0, 0.0, 0.6, 0.8)),
    ("LKJCholesky", (3.0, 1e-300, 1.0, 0.0, 0.0, 0.6, 0.8, 0.0, 0.0, 0.6, 0.8)),
    ("LKJCholesky", (4.0, 1e12, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1e-6, 0.0, R(1e-6), 0.0,
                     0.0, 0.0, 0.0, 1.0)),
    # Multivariate normal: k, loc (k), scale_tril (k x k), value (k)
    ("MultivariateNormal", (2.0, 0.0, 0.0, 1.0, 0.0, 0.5, 2.0, 1.0, -1.0)),
    ("MultivariateNormal", (2.0, 1e308, -1e308, 1e308, 0.0, 1e308, 1e308, -1e308, 1e308)),
    ("MultivariateNormal", (2.0, 0.0, 0.0, 1e-300, 0.0, 1e-300, 1e-300, 1e-300, -1e-300)),
    ("MultivariateNormal", (2.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1e150, 1e150)),
    ("MultivariateNormal", (3.0, 1.0, 2.0, 3.0, 2.0, 0.0, 0.0, 0.3, 1.5, 0.0, -0.2, 0.4, 0.7,
                            0.5, 2.5, 3.5)),
    # Multinomial: n, probs (k), counts (k)
    ("Multinomial", (10.0, 0.2, 0.3, 0.5, 2.0, 3.0, 5.0)),
    ("Multinomial", (1e15, 0.5, 0.5, 5e14, 5e14)),
    ("Multinomial", (1e15, 0.25, 0.25, 0.5, 2.5e14, 2.5e14 + 1e7, 5e14 - 1e7)),
    ("Multinomial", (100.0, 1e-300, 0.5, 0.5, 0.0, 50.0, 50.0)),
    ("Multinomial", (100.0, 1e-300, 0.5, 0.5, 1.0, 49.0, 50.0)),
    ("Multinomial", (3.0, 0.0, 0.5, 0.5, 0.0, 1.0, 2.0)),
    ("MultinomialLogits", (10.0, 0.0, 1.0, -1.0, 2.0, 3.0, 5.0)),
    ("MultinomialLogits", (50.0, 800.0, -800.0, 50.0, 0.0)),
    ("MultinomialLogits", (1e15, 0.0, 0.0, 5e14, 5e14)),
    # Categorical: probs or logits (k), value
    ("Categorical", (0.2, 0.8, 1.0)),
    ("Categorical", (1e-300, 1.0, 0.0)),
    ("Categorical", (1e-300, 1.0, 1.0)),
    ("CategoricalLogits", (800.0, -800.0, 1.0)),
    ("CategoricalLogits", (0.0, 1e-20, 0.0)),
    ("CategoricalLogits", (-1e300, 0.0, 1.0)),
    ("OneHotCategorical", (0.25, 0.75, 0.0, 1.0)),
    ("OneHotCategorical", (1e-300, 1.0, 1.0, 0.0)),
    # Zero-inflated Poisson: gate (or gate logit), rate, value
    ("ZeroInflatedPoisson", (0.25, 2.0, 0.0)),
    ("ZeroInflatedPoisson", (0.25, 2.0, 3.0)),
    ("ZeroInflatedPoisson", (1e-300, 1e-300, 0.0)),
    ("ZeroInflatedPoisson", (1e-20, 50.0, 0.0)),
    ("ZeroInflatedPoisson", (0.0, 1e17, 1e17)),
    ("ZeroInflatedPoisson", (1.0, 3.0, 0.0)),
    ("ZeroInflatedPoisson", (0.5, 1e-10, 0.0)),
    ("ZeroInflatedPoissonLogits", (0.0, 2.0, 0.0)),
    ("ZeroInflatedPoissonLogits", (-800.0, 1e-300, 0.0)),
    ("ZeroInflatedPoissonLogits", (800.0, 3.0, 2.0)),
    ("ZeroInflatedPoissonLogits", (-50.0, 1e15, 1e15)),
    # Negative binomial from probabilities: total_count, probs, value
    ("NegativeBinomial", (2.0, 0.5, 3.0)),
    ("NegativeBinomial", (1e15, 0.5, 1e15)),
    ("NegativeBinomial", (1e-3, 1e-300, 0.0)),
    ("NegativeBinomial", (10.0, 1 - 1e-12, 1e13)),
    # Mixture of normals: K, mixing logits, locs, scales, value
    ("MixtureSameFamily", (2.0, 0.0, 0.0, -1.0, 1.0, 1.0, 1.0, 0.0)),
    ("MixtureSameFamily", (2.0, 0.0, -800.0, 0.0, 0.0, 1.0, 1.0, 40.0)),
    ("MixtureSameFamily", (2.0, 0.0, 0.0, 0.0, 1e3, 1.0, 1.0, 1e3)),
    ("MixtureSameFamily", (2.0, 0.0, 0.0, 0.0, 0.0, 1e-300, 1e300, 1.0)),
    # Delta
    ("Delta", (1.5, 1.5)),
    ("Delta", (1.5, 1.5000000000000002)),
]

# Looser bounds, and why. Keyed by (name, args).
LOOSE = {
    # lgamma has zeros at 1 and 2: libm's value next to them is accurate to about an ulp of
    # the arguments' distance, not of the tiny result.
    ("lgamma", (1 + 1e-10,)): (1e-6, "relative error near the zero at 1 is that of x - 1"),
    ("lgamma", (1 - 1e-10,)): (1e-6, "relative error near the zero at 1 is that of x - 1"),
    ("lgamma", (2 - 1e-10,)): (1e-6, "relative error near the zero at 2 is that of x - 2"),
    ("lgamma", (2 + 1e-10,)): (1e-6, "relative error near the zero at 2 is that of x - 2"),
    # 9000 scales out, ln phi(z) and the tail ln Phi(-alpha) are both near -4.05e7 and the
    # implementation subtracts them: each carries an absolute rounding of ~4e-9, about 5e-10 of
    # the result 9.1. (A (z - alpha)(z + alpha) form would keep the digits; not done yet.)
    ("TruncatedNormal", (0.0, 1.0, 9000.0, math.inf, 9000.0)): (
        1e-9, "difference of two log-terms near -4.05e7 (9000 scales out)"),
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
