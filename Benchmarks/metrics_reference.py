"""numpy / scikit-learn reference of Untangle's sample metrics, on the codes that
`untangle-bench metrics RUN --codes DIR` saved (codes_train.npy, factors_train.npy,
codes_eval.npy, factors_eval.npy, class_counts.npy). Same definitions as
disentanglement_lib (and as Sources/Metrics), same learners where dlib prescribes them:
  MIG, modularity: 20-bin histogram discretisation, sklearn mutual_info_score
  SAP: one-latent LinearSVC(C=0.01, class_weight="balanced") as dlib (`sap`), and
       DecisionTreeClassifier of Untangle's depth/leaf rule (`sap_tree`)
  DCI: GradientBoostingClassifier() importances as dlib (`dci.*`), and
       RandomForestClassifier(50 trees, depth 8, all features) (`dci_forest.*`)
  modularity: dlib's rule, 0 for a latent without information
  explicitness: LogisticRegression on raw codes as dlib (`explicitness`) and on standardised
       codes (`explicitness_standardized`), one-vs-rest roc_auc_score
  unsupervised: Gaussian total correlation, mean off-diagonal MI
Prints `score value (seconds)` per score key (the keys of Untangle's evaluation.json), then the total.
    python3 Benchmarks/metrics_reference.py DIR
"""
import math, sys, time
import numpy as np
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.svm import LinearSVC
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
    for key, value in (v.items() if isinstance(v, dict) else [(name, v)]):
        print(f"{key:28s} {float(value):.6f}  ({timings[name]:.2f} s)")

def mig():
    m = mi_matrix(zt, yt); h = np.array([mutual_info_score(yt[:, j], yt[:, j]) for j in range(F)])
    s = np.sort(m, axis=0)[::-1]
    return np.mean((s[0] - s[1]) / h)

def sap(make):
    M = np.zeros((Z, F))
    for i in range(Z):
        for j in range(F):
            c = make(len(np.unique(yt[:, j]))).fit(zt[:, i:i+1], yt[:, j])
            M[i, j] = np.mean(c.predict(ze[:, i:i+1]) == ye[:, j])
    s = np.sort(M, axis=0)
    return np.mean(s[-1] - s[-2])

def tree(k):
    return DecisionTreeClassifier(max_depth=math.ceil(math.log2(k)) + 3, class_weight="balanced", min_weight_fraction_leaf=0.01)

def dci(make, prefix):
    R = np.zeros((Z, F)); train, test = [], []
    for j in range(F):
        f = make().fit(zt, yt[:, j])
        R[:, j] = np.abs(f.feature_importances_)
        train.append(np.mean(f.predict(zt) == yt[:, j])); test.append(np.mean(f.predict(ze) == ye[:, j]))
    def ent(p, base): p = p / p.sum(); p = p[p > 0]; return -(p * np.log(p)).sum() / math.log(base)
    rho = R.sum(1) / R.sum(); D = sum(rho[i] * (1 - ent(R[i], F)) for i in range(Z) if R[i].sum() > 0)
    rho = R.sum(0) / R.sum(); C = sum(rho[j] * (1 - ent(R[:, j], Z)) for j in range(F) if R[:, j].sum() > 0)
    return {f"{prefix}.disentanglement": D, f"{prefix}.completeness": C,
            f"{prefix}.informativeness_train": np.mean(train), f"{prefix}.informativeness_test": np.mean(test)}

def modularity():
    m = mi_matrix(zt, yt) ** 2; mx = m.max(1)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 1 - (m.sum(1) - mx) / (mx * (F - 1))
    score[mx == 0] = 0
    return np.mean(score)

def explicitness(standardize):
    a, b = zt, ze
    if standardize:
        sc = StandardScaler().fit(zt); a, b = sc.transform(zt), sc.transform(ze)
    out = []
    for j in range(F):
        lr = LogisticRegression(max_iter=300).fit(a, yt[:, j]); p = lr.predict_proba(b)
        out.append(np.mean([roc_auc_score(ye[:, j] == c, p[:, k]) for k, c in enumerate(lr.classes_)]))
    return np.mean(out)

def unsupervised():
    cov = np.cov(zt.T, ddof=0); tc = 0.5 * (np.log(np.diag(cov)).sum() - np.linalg.slogdet(cov)[1])
    zd = discretize(zt)
    mi = np.array([[mutual_info_score(zd[:, i], zd[:, j]) for j in range(Z)] for i in range(Z)])
    np.fill_diagonal(mi, 0)
    return {"gaussian_total_correlation": tc, "mutual_info_score": mi.sum() / (Z * Z - Z)}

timed("mig", mig)
timed("sap", lambda: sap(lambda k: LinearSVC(C=0.01, class_weight="balanced")))
timed("sap_tree", lambda: sap(tree))
timed("dci", lambda: dci(lambda: GradientBoostingClassifier(), "dci"))
timed("dci_forest", lambda: dci(lambda: RandomForestClassifier(n_estimators=50, max_depth=8, max_features=None, random_state=0), "dci_forest"))
timed("modularity", modularity)
timed("explicitness", lambda: explicitness(False))
timed("explicitness_standardized", lambda: explicitness(True))
timed("unsupervised", unsupervised)
print(f"total {sum(timings.values()):.2f} s")
