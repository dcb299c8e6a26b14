"""Expected values of crates/core/tests/stats.rs, from SciPy.

Run with the project's venv (make setup; pip install scipy):
    ~/.cache/twinnet/torch-2.13.0/bin/python3 crates/core/tests/stats_expected.py
and paste its output into CASES.
"""
import scipy
from scipy import stats

CASES = [
    ("textbook", [1, 2, 3, 4], [2, 4, 6, 8, 10]),
    ("ten seeds", [0.8537, 0.8601, 0.8455, 0.8622, 0.8400, 0.8573, 0.8499, 0.8610, 0.8588, 0.8526],
     [0.8449, 0.8512, 0.8388, 0.8584, 0.8402, 0.8471, 0.8430, 0.8505, 0.8461, 0.8420]),
    ("ties", [0.91, 0.92, 0.92, 0.93, 0.95, 0.95], [0.90, 0.92, 0.93, 0.93, 0.94, 0.96, 0.97]),
    ("small exact", [3.1, 4.2, 5.0], [1.0, 2.5, 2.7, 3.0]),
    ("separated", [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0, 18.0],
     [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]),
]

print(f"// scipy {scipy.__version__}")
for name, x, y in CASES:
    w = stats.ttest_ind(x, y, equal_var=False)
    ci = w.confidence_interval(0.95)
    u = stats.mannwhitneyu(x, y, alternative="two-sided")
    f = lambda v: repr(float(v))
    xs, ys = [float(v) for v in x], [float(v) for v in y]
    print(f'    ("{name}", &{xs}, &{ys}, {f(w.statistic)}, {f(w.df)}, {f(w.pvalue)}, ({f(ci.low)}, {f(ci.high)}), {f(u.statistic)}, {f(u.pvalue)}),')
