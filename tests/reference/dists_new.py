"""Reference values for tests/distributions_new.rs.

Run with a Python that has scipy, torch and pyro (the project used /work/venv-peers: scipy 1.17.1,
torch 2.15, pyro 1.9.2):

    python tests/reference/dists_new.py

Each line printed is `name = value` with 17 significant digits; the Rust tests quote them.
"""
import math

import numpy as np
import scipy.special as sp
import scipy.stats as st
import torch
import torch.distributions as td
import pyro.distributions as pd

torch.set_default_dtype(torch.float64)


def out(name, v):
    print(f"{name} = {float(v):.17g}")


# Multinomial
out("multinomial_2031", st.multinomial.logpmf([2, 0, 3, 1], n=6, p=[0.1, 0.2, 0.3, 0.4]))
out("multinomial_zero_cat", st.multinomial.logpmf([1, 0, 2], n=3, p=[0.5, 0.0, 0.5]))
out("multinomial_torch", td.Multinomial(6, probs=torch.tensor([0.1, 0.2, 0.3, 0.4])).log_prob(torch.tensor([2., 0., 3., 1.])))

# NegativeBinomial (torch: successes before total_count failures, success probability probs)
for r, p, k in [(3.5, 0.3, 0.0), (3.5, 0.3, 4.0), (3.5, 0.3, 17.0), (0.5, 0.9, 1000.0)]:
    t = td.NegativeBinomial(total_count=torch.tensor(r), probs=torch.tensor(p)).log_prob(torch.tensor(k))
    s = st.nbinom.logpmf(k, r, 1.0 - p)
    assert abs(float(t) - s) < 1e-12 * (1 + abs(s)), (t, s)
    out(f"negbin_r{r}_p{p}_k{int(k)}", s)
d = td.NegativeBinomial(total_count=torch.tensor(3.5), probs=torch.tensor(0.3))
out("negbin_mean", d.mean)
out("negbin_var", d.variance)

# GammaPoisson (Pyro): NB with total_count = concentration, probs = 1 / (1 + rate)
for a, b, k in [(2.5, 0.7, 0.0), (2.5, 0.7, 3.0), (0.3, 4.0, 12.0)]:
    t = pd.GammaPoisson(torch.tensor(a), torch.tensor(b)).log_prob(torch.tensor(k))
    s = st.nbinom.logpmf(k, a, b / (1.0 + b))
    assert abs(float(t) - s) < 1e-12 * (1 + abs(s)), (t, s)
    out(f"gammapoisson_a{a}_b{b}_k{int(k)}", s)

# ZeroInflatedPoisson (Pyro)
for g, lam, k in [(0.3, 2.5, 0.0), (0.3, 2.5, 4.0), (0.0, 2.5, 0.0)]:
    t = pd.ZeroInflatedPoisson(torch.tensor(lam), gate=torch.tensor(g)).log_prob(torch.tensor(k))
    pois = st.poisson.pmf(k, lam)
    s = math.log((g if k == 0 else 0.0) + (1 - g) * pois)
    assert abs(float(t) - s) < 1e-12 * (1 + abs(s)), (t, s)
    out(f"zip_g{g}_l{lam}_k{int(k)}", s)
t = pd.ZeroInflatedPoisson(torch.tensor(2.5), gate_logits=torch.tensor(-0.8)).log_prob(torch.tensor([0.0, 3.0]))
out("zip_logits_k0", t[0])
out("zip_logits_k3", t[1])

# TruncatedNormal (scipy's truncnorm takes standardised bounds)
cases = [
    (0.0, 1.0, 8.0, 9.0, 8.1),
    (0.0, 1.0, -9.0, -8.0, -8.5),
    (0.0, 1.0, 30.0, 31.0, 30.02),
    (1.0, 2.0, -1.0, 4.0, 0.3),
    (0.5, 1.5, 0.0, math.inf, 2.0),
    (0.0, 1.0, -math.inf, -40.0, -40.01),
    (0.0, 1.0, 20.0, 20.5, 20.1),
]
import mpmath as mp  # noqa: E402

mp.mp.dps = 60


def truncnorm_mp(m, s, lo, hi, x):
    """logpdf, mean and variance at 60 digits (scipy's lose up to 7 digits in the far tails)."""
    a, b = (mp.mpf(lo) - m) / s, (mp.mpf(hi) - m) / s
    z = mp.ncdf(-a) - mp.ncdf(-b) if a > 0 else mp.ncdf(b) - mp.ncdf(a)
    pa = mp.npdf(a) if mp.isfinite(a) else 0
    pb = mp.npdf(b) if mp.isfinite(b) else 0
    apa = a * pa if mp.isfinite(a) else 0
    bpb = b * pb if mp.isfinite(b) else 0
    lp = -((mp.mpf(x) - m) / s) ** 2 / 2 - mp.log(s) - mp.log(mp.sqrt(2 * mp.pi)) - mp.log(z)
    mean = m + s * (pa - pb) / z
    var = s**2 * (1 + (apa - bpb) / z - ((pa - pb) / z) ** 2)
    return lp, mean, var


for i, (m, s, lo, hi, x) in enumerate(cases):
    a, b = (lo - m) / s, (hi - m) / s
    out(f"truncnorm_{i}_logpdf_scipy", st.truncnorm.logpdf(x, a, b, loc=m, scale=s))
    mean, var = st.truncnorm.stats(a, b, loc=m, scale=s, moments="mv")
    out(f"truncnorm_{i}_mean_scipy", mean)
    out(f"truncnorm_{i}_var_scipy", var)
    lp, mean, var = truncnorm_mp(m, s, lo, hi, x)
    out(f"truncnorm_{i}_logpdf", lp)
    out(f"truncnorm_{i}_mean", mean)
    out(f"truncnorm_{i}_var", var)
# (scipy's own log_ndtr is off by 6e-14 at 30: the 60-digit mpmath values are the reference)
for x in [-45.0, -20.5, -10.0, -1.0, 0.0, 2.0, 7.0, 30.0]:
    out(f"log_ndtr_{x}", sp.log_ndtr(x))
    out(f"log_ndtr_{x}_mpmath", mp.log(mp.ncdf(x)) if x < 8 else -mp.ncdf(-x))
for p in [1e-300, 1e-20, 1e-5, 0.2, 0.5]:
    out(f"ndtri_{p}", sp.ndtri(p))
out("ndtri_exp_-1000", sp.ndtri_exp(-1000.0))

# VonMises and log I0
for k in [1e-3, 0.5, 5.0, 29.9, 30.1, 100.0, 1e4, 1e6]:
    out(f"log_i0_{k}", math.log(sp.i0e(k)) + k)
    out(f"i1_over_i0_{k}", sp.i1e(k) / sp.i0e(k))
for loc, kappa, x in [(0.3, 0.5, -2.0), (0.3, 5.0, 0.1), (-1.0, 50.0, -1.2), (2.0, 500.0, 2.01)]:
    out(f"vonmises_{loc}_{kappa}_{x}", st.vonmises.logpdf(x, kappa, loc=loc))

# LKJCholesky (torch)
def corr_chol(c):
    return torch.linalg.cholesky(torch.tensor(c))
c3 = [[1.0, 0.3, -0.2], [0.3, 1.0, 0.5], [-0.2, 0.5, 1.0]]
c4 = [[1.0, 0.3, -0.2, 0.1], [0.3, 1.0, 0.5, 0.0], [-0.2, 0.5, 1.0, -0.4], [0.1, 0.0, -0.4, 1.0]]
for name, c, eta in [("3_2.5", c3, 2.5), ("3_1", c3, 1.0), ("4_0.5", c4, 0.5)]:
    L = corr_chol(c)
    out(f"lkj_{name}", td.LKJCholesky(len(c), torch.tensor(eta)).log_prob(L))

# MixtureSameFamily (torch)
mix = td.Categorical(probs=torch.tensor([0.2, 0.5, 0.3]))
comp = td.Normal(torch.tensor([-2.0, 0.0, 3.0]), torch.tensor([0.5, 1.0, 2.0]))
out("msf_normal_1.2", td.MixtureSameFamily(mix, comp).log_prob(torch.tensor(1.2)))
comp2 = td.Independent(td.Normal(torch.tensor([[-1.0, 0.0], [1.0, 2.0], [0.0, -3.0]]), torch.tensor([[1.0, 0.5], [2.0, 1.0], [0.7, 0.7]])), 1)
out("msf_indep_normal", td.MixtureSameFamily(mix, comp2).log_prob(torch.tensor([0.5, -0.5])))

# MultivariateNormal from a covariance / precision (scipy)
cov = np.array([[2.0, 0.3, -0.4], [0.3, 1.0, 0.2], [-0.4, 0.2, 1.5]])
mean = np.array([0.1, -0.2, 0.3])
xv = np.array([0.5, 0.5, -1.0])
out("mvn_cov", st.multivariate_normal.logpdf(xv, mean, cov))
out("mvn_prec", st.multivariate_normal.logpdf(xv, mean, np.linalg.inv(cov)))

# Cholesky gradient (torch autograd): d/dA sum(W * cholesky(A)) for symmetric A
A = torch.tensor(cov, requires_grad=True)
W = torch.tensor([[0.7, 0.0, 0.0], [-1.1, 0.4, 0.0], [0.5, 1.3, -0.9]])
(W * torch.linalg.cholesky(A)).sum().backward()
g = A.grad
g = 0.5 * (g + g.T)
for i in range(3):
    for j in range(3):
        out(f"chol_grad_{i}{j}", g[i, j])

# Moments (mean, variance, excess kurtosis) for the sampling tests
def mvk(name, dist):
    m, v, _, k = dist.stats(moments="mvsk")
    out(f"{name}_mean", m)
    out(f"{name}_var", v)
    out(f"{name}_kurt", k)

mvk("nb_3.5_0.3", st.nbinom(3.5, 0.7))
mvk("gp_2.5_0.7", st.nbinom(2.5, 0.7 / 1.7))
ks = np.arange(0, 200)
zp = (1 - 0.3) * st.poisson.pmf(ks, 2.5)
zp[0] += 0.3
zm = (ks * zp).sum()
zv = ((ks - zm) ** 2 * zp).sum()
out("zip_0.3_2.5_mean", zm)
out("zip_0.3_2.5_var", zv)
out("zip_0.3_2.5_kurt", ((ks - zm) ** 4 * zp).sum() / zv**2 - 3)
for i in [0, 3, 4, 2]:
    m, s, lo, hi, _ = cases[i]
    mvk(f"tn_{i}", st.truncnorm((lo - m) / s, (hi - m) / s, loc=m, scale=s))
