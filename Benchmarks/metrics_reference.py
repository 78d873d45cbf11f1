"""numpy / scikit-learn reference of Untangle's sample metrics, on the codes that
`untangle-bench metrics RUN --codes DIR` saved (codes_train.npy, factors_train.npy,
codes_eval.npy, factors_eval.npy, class_counts.npy). Same definitions as
disentanglement_lib (and as Sources/Metrics), same learners where dlib prescribes them:
  MIG, modularity: 20-bin histogram discretisation, sklearn mutual_info_score
  SAP: one-latent classifiers (sklearn DecisionTreeClassifier of the same depth/leaf rule)
  DCI: RandomForestClassifier(50 trees, depth 8, all features) importances
  explicitness: LogisticRegression + one-vs-rest roc_auc_score
  unsupervised: Gaussian total correlation, mean off-diagonal MI
Prints each metric and its seconds, then the total.
    python3 Benchmarks/metrics_reference.py DIR
"""
import math, sys, time
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mutual_info_score, roc_auc_score
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

d = sys.argv[1]
zt, yt = np.load(f"{d}/codes_train.npy"), np.load(f"{d}/factors_train.npy")
ze, ye = np.load(f"{d}/codes_eval.npy"), np.load(f"{d}/factors_eval.npy")
Z, F = zt.shape[1], yt.shape[1]

def discretize(x, bins=20):
    return np.stack([np.digitize(x[:, i], np.histogram(x[:, i], bins)[1][:-1]) for i in range(x.shape[1])], 1)

def mi_matrix(z, y):
    zd = discretize(z)
    return np.array([[mutual_info_score(y[:, j], zd[:, i]) for j in range(F)] for i in range(Z)])

timings = {}
def timed(name, f):
    t = time.perf_counter(); v = f(); timings[name] = time.perf_counter() - t
    print(f"{name:14s} {v}  ({timings[name]:.2f} s)")

def mig():
    m = mi_matrix(zt, yt); h = np.array([mutual_info_score(yt[:, j], yt[:, j]) for j in range(F)])
    s = np.sort(m, axis=0)[::-1]
    return np.mean((s[0] - s[1]) / h)

def sap():
    M = np.zeros((Z, F))
    for i in range(Z):
        for j in range(F):
            k = len(np.unique(yt[:, j]))
            c = DecisionTreeClassifier(max_depth=math.ceil(math.log2(k)) + 3, class_weight="balanced",
                                       min_weight_fraction_leaf=0.01).fit(zt[:, i:i+1], yt[:, j])
            M[i, j] = np.mean(c.predict(ze[:, i:i+1]) == ye[:, j])
    s = np.sort(M, axis=0)
    return np.mean(s[-1] - s[-2])

def dci():
    R = np.zeros((Z, F))
    for j in range(F):
        f = RandomForestClassifier(n_estimators=50, max_depth=8, max_features=None, random_state=0).fit(zt, yt[:, j])
        R[:, j] = np.abs(f.feature_importances_)
    def ent(p, base): p = p / p.sum(); p = p[p > 0]; return -(p * np.log(p)).sum() / math.log(base)
    rho = R.sum(1) / R.sum(); D = sum(rho[i] * (1 - ent(R[i], F)) for i in range(Z) if R[i].sum() > 0)
    rho = R.sum(0) / R.sum(); C = sum(rho[j] * (1 - ent(R[:, j], Z)) for j in range(F) if R[:, j].sum() > 0)
    return D, C

def modularity():
    m = mi_matrix(zt, yt) ** 2; mx = m.max(1)
    return np.mean(1 - (m.sum(1) - mx) / (mx * (F - 1)))

def explicitness():
    sc = StandardScaler().fit(zt); a, b = sc.transform(zt), sc.transform(ze); out = []
    for j in range(F):
        lr = LogisticRegression(max_iter=300).fit(a, yt[:, j]); p = lr.predict_proba(b)
        out.append(np.mean([roc_auc_score(ye[:, j] == c, p[:, k]) for k, c in enumerate(lr.classes_)]))
    return np.mean(out)

def unsupervised():
    cov = np.cov(zt.T, ddof=0); tc = 0.5 * (np.log(np.diag(cov)).sum() - np.linalg.slogdet(cov)[1])
    zd = discretize(zt)
    mi = np.array([[mutual_info_score(zd[:, i], zd[:, j]) for j in range(Z)] for i in range(Z)])
    np.fill_diagonal(mi, 0)
    return tc, mi.sum() / (Z * Z - Z)

for name, f in [("mig", mig), ("sap", sap), ("dci", dci), ("modularity", modularity),
                ("explicitness", explicitness), ("unsupervised", unsupervised)]:
    timed(name, f)
print(f"total {sum(timings.values()):.2f} s")
