// algorithms.md §1.12 (the paper's §2): one latent weight fitted to w* = 0.6 through a grid of step
// 1 under the straight-through estimator. Plain STE: the weight hovers at the decision threshold
// 0.5 and its integer flips on 80 % of steps. Dampening (λ rising past 0.4) pulls it into bin 1;
// freezing pins its integer at rint(running average) = 1.
//   ./kqat run examples/toy-regression.qat.kts --out runs/toy     (writes toy.json and plots/toy-trajectory.png)
toyRegression {
    target = 0.6
    gridStep = 1.0
    initial = 0.6
    learningRate = 0.01
    steps = 5000
    variant("plain STE") { }
    variant("dampening") { dampen(weight = cosine(0.0, 0.8), after = 0.25) }
    variant("freezing") { freeze(threshold = constant(0.1), after = 0.0) }
}
