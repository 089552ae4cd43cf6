package dev.kqat.dsl

import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.oscillation.OscillationSpec.Aggregation
import dev.kqat.runtime.oscillation.OscillationSpec.Dampening
import dev.kqat.runtime.oscillation.OscillationSpec.Freezing
import dev.kqat.runtime.oscillation.OscillationSpec.Tracking
import dev.kqat.runtime.schedule.Schedule
import kotlinx.serialization.Serializable

/** How the QAT phase evaluates. */
@Serializable
data class EvaluationSpec(
    /** Training batches whose BN statistics replace the running ones before each evaluation (§1.8); 0: off. */
    val bnReestimationBatches: Int = 0,
)

/**
 * Oscillation control of the QAT phase (algorithms.md §1.4–1.7): tracking, dampening and freezing,
 * each off unless declared; freezing tracks too. Defaults are the runtime records' (`DEFAULT`).
 */
@QatDsl
class OscillationsBuilder internal constructor(start: OscillationSpec) {
    private var tracking = start.tracking()
    private var dampening = start.dampening()
    private var freezing = start.freezing()
    private var binRegularizer = start.binRegularizer()

    /**
     * Tracks oscillations of the weights of at most [maxBits] bits and reports them each epoch: a
     * weight oscillates when its EMA ([momentum]) flip frequency passes [threshold];
     * [countEvaluationPasses] also counts evaluation and BN re-estimation passes (reference parity).
     */
    fun track(
        threshold: Double = Tracking.DEFAULT.threshold(),
        maxBits: Int = Tracking.DEFAULT.maxBits(),
        momentum: Double = Tracking.DEFAULT.momentum(),
        countEvaluationPasses: Boolean = Tracking.DEFAULT.countEvaluationPasses(),
    ) {
        tracking = Tracking(maxBits, momentum, threshold, countEvaluationPasses)
    }

    /**
     * Adds λ·Σ AGG((sg(q(W)) − clip(W))²) to the loss; λ follows [weight] over the part of training
     * after [after], each layer's squared distances reduced by [aggregation].
     */
    fun dampen(
        weight: Schedule = Dampening.DEFAULT.weight(),
        aggregation: Aggregation = Dampening.DEFAULT.aggregation(),
        after: Double = Dampening.DEFAULT.after(),
    ) {
        dampening = Dampening(weight, aggregation, after)
    }

    /**
     * Freezes weights whose oscillation frequency passes [threshold] (a schedule over the part of
     * training after [after]); [useEma] freezes at the rounded running average of the integer.
     */
    fun freeze(
        threshold: Schedule = Freezing.DEFAULT.threshold(),
        after: Double = Freezing.DEFAULT.after(),
        useEma: Boolean = Freezing.DEFAULT.useEma(),
    ) {
        freezing = Freezing(threshold, after, useEma)
    }

    /**
     * VVTQ's bin regulariser (algorithms.md §3.3): adds λ·Σ_layers [mean((sg(wq) − wc)²) + the unbiased
     * variance of the latent weights in each bin] to the loss; λ follows [weight] (VVTQ: cosine 0 → 0.01
     * from a quarter of the epochs, evaluated once per epoch).
     */
    fun binRegularizer(weight: Schedule = OscillationSpec.BinRegularizer.DEFAULT.weight()) {
        binRegularizer = OscillationSpec.BinRegularizer(weight)
    }

    internal fun build() = OscillationSpec(tracking, dampening, freezing, binRegularizer)
}

@QatDsl
class EvaluationBuilder internal constructor(start: EvaluationSpec) {
    private var bnReestimationBatches = start.bnReestimationBatches

    /** Re-estimates BN statistics from [batches] training batches before each QAT evaluation. */
    fun bnReestimation(batches: Int = 50) {
        bnReestimationBatches = batches
    }

    internal fun build() = EvaluationSpec(bnReestimationBatches)
}
