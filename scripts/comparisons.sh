#!/usr/bin/env bash
# The comparisons results/README.md quotes, each by `twinnet compare`, into results/comparisons.md
# (written whole: a temporary file renamed into place). Usage: scripts/comparisons.sh [BIN]
set -euo pipefail
bin=${1:-target/release/twinnet}
out=results/comparisons.md
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
pairs=(
    # the framework, from the same starting weights (twinnet's generator on both backends)
    "ablation:numpy ablation:numpy-tch"
    "ablation:pytorch ablation:pytorch-tch"
    "ablation:pytorch-with-softmax ablation:pytorch-with-softmax-tch"
    # whose generator draws the starting weights (one backend, 30 seeds each)
    "init-rng:twinnet-rng init-rng:torch-rng"
    # one factor at a time from the NumPy model
    "ablation:numpy ablation:numpy-with-minibatch"
    "ablation:numpy ablation:numpy-with-symmetric"
    "ablation:numpy ablation:numpy-with-torch-init"
    "ablation:numpy ablation:numpy-with-double-softmax"
    # one factor at a time from the PyTorch model
    "ablation:pytorch ablation:pytorch-with-full-batch"
    "ablation:pytorch ablation:pytorch-with-unit"
    "ablation:pytorch ablation:pytorch-with-uniform-init"
    "ablation:pytorch ablation:pytorch-with-softmax"
    # the same, on Fashion-MNIST (ndarray backend)
    "fashion-ablation:numpy fashion-ablation:numpy-with-minibatch"
    "fashion-ablation:numpy fashion-ablation:numpy-with-symmetric"
    "fashion-ablation:numpy fashion-ablation:numpy-with-torch-init"
    "fashion-ablation:numpy fashion-ablation:numpy-with-double-softmax"
    "fashion-ablation:pytorch fashion-ablation:pytorch-with-full-batch"
    "fashion-ablation:pytorch fashion-ablation:pytorch-with-unit"
    "fashion-ablation:pytorch fashion-ablation:pytorch-with-uniform-init"
    "fashion-ablation:pytorch fashion-ablation:pytorch-with-softmax"
    # Nielsen's networks: the framework, from the same starting weights
    "nielsen:ch1-30 nielsen:ch1-30-tch"
    "nielsen:ch3-30 nielsen:ch3-30-tch"
    # the report's models under other optimizers, against SGD at lr 0.1 (the report's)
    "optimizers:numpy-sgd optimizers:numpy-momentum"
    "optimizers:numpy-sgd optimizers:numpy-nesterov"
    "optimizers:numpy-sgd optimizers:numpy-adam"
    "optimizers:numpy-sgd optimizers:numpy-adamw"
    "optimizers:pytorch-sgd optimizers:pytorch-momentum"
    "optimizers:pytorch-sgd optimizers:pytorch-nesterov"
    "optimizers:pytorch-sgd optimizers:pytorch-adam"
    "optimizers:pytorch-sgd optimizers:pytorch-adamw"
)
{
    echo "# Comparisons"
    echo
    echo "Made by \`make comparisons\` (\`scripts/comparisons.sh\`): \`twinnet compare A B\` on each pair of"
    echo "configurations the findings in [README.md](README.md) compare. B − A is in the units of the metric"
    echo "(percentage points for accuracies and recalls); p-values are two-sided."
    for pair in "${pairs[@]}"; do
        read -r a b <<<"$pair"
        echo
        echo "## \`$a\` vs \`$b\`"
        echo
        "$bin" compare "results/$a" "results/$b"
    done
} >"$tmp"
chmod 644 "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
