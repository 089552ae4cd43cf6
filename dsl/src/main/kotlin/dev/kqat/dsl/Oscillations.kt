package dev.kqat.dsl

import dev.kqat.runtime.oscillation.OscillationSpec
import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/**
 * Oscillation control of the QAT phase (algorithms.md §1.4–1.7): tracking, dampening and freezing,
 * each off unless declared. Freezing tracks too.
 */
@Serializable
data class OscillationsSpec(
    val tracking: TrackingSpec? = null,
    val dampening: DampeningSpec? = null,
    val freezing: FreezingSpec? = null,
) {
    /** The runtime form for a QAT phase of [epochs] epochs. */
    fun toRuntime(epochs: Int) = OscillationSpec(
        tracking?.let { OscillationSpec.Tracking(it.maxBits, it.momentum, it.threshold, it.countEvaluationPasses) },
        dampening?.let { OscillationSpec.Dampening(it.weight.toRuntime(epochs), it.aggregation.runtime, it.after) },
        freezing?.let { OscillationSpec.Freezing(it.threshold.toRuntime(epochs), it.after, it.useEma) },
    )
}

/**
 * @param threshold EMA frequency above which a weight counts as oscillating in reports
 * @param maxBits weights quantized to at most this many bits are tracked (and may be frozen)
 * @param momentum EMA momentum of the frequency (and of the frozen value's running average)
 * @param countEvaluationPasses also count evaluation and BN re-estimation passes (reference parity)
 */
@Serializable
data class TrackingSpec(
    val threshold: Double = OscillationSpec.Tracking.DEFAULT.threshold(),
    val maxBits: Int = OscillationSpec.Tracking.DEFAULT.maxBits(),
    val momentum: Double = OscillationSpec.Tracking.DEFAULT.momentum(),
    val countEvaluationPasses: Boolean = OscillationSpec.Tracking.DEFAULT.countEvaluationPasses(),
)

// The builders' defaults are the specs' defaults, written once.
private val defaultTracking = TrackingSpec()
private val defaultDampening = DampeningSpec()
private val defaultFreezing = FreezingSpec()

enum class DampeningAggregation(val runtime: OscillationSpec.Aggregation) {
    @SerialName("sum") SUM(OscillationSpec.Aggregation.SUM),
    @SerialName("mean") MEAN(OscillationSpec.Aggregation.MEAN),
    @SerialName("kernel-mean") KERNEL_MEAN(OscillationSpec.Aggregation.KERNEL_MEAN),
}

/**
 * @param weight λ over the active part of training (after [after]); before it, `weight` at 0
 * @param aggregation how each layer's squared distances are reduced
 */
@Serializable
data class DampeningSpec(
    val weight: ScheduleSpec = ScheduleSpec.Cosine(0.0, 0.1),
    val aggregation: DampeningAggregation = DampeningAggregation.KERNEL_MEAN,
    val after: Double = 0.25,
)

/**
 * @param threshold frequency threshold over the active part of training; freezing is off before [after]
 * @param useEma freeze at the rounded running average of the integer (else at its current value)
 */
@Serializable
data class FreezingSpec(
    val threshold: ScheduleSpec = ScheduleSpec.Cosine(0.1, 0.01),
    val after: Double = 0.25,
    val useEma: Boolean = true,
)

/** How the QAT phase evaluates. */
@Serializable
data class EvaluationSpec(
    /** Training batches whose BN statistics replace the running ones before each evaluation (§1.8); 0: off. */
    val bnReestimationBatches: Int = 0,
)

@QatDsl
class OscillationsBuilder internal constructor(start: OscillationsSpec) {
    private var tracking = start.tracking
    private var dampening = start.dampening
    private var freezing = start.freezing

    /** Tracks oscillations of the weights of at most [maxBits] bits and reports them each epoch. */
    fun track(
        threshold: Double = defaultTracking.threshold,
        maxBits: Int = defaultTracking.maxBits,
        momentum: Double = defaultTracking.momentum,
        countEvaluationPasses: Boolean = defaultTracking.countEvaluationPasses,
    ) {
        tracking = TrackingSpec(threshold, maxBits, momentum, countEvaluationPasses)
    }

    /** Adds λ·Σ AGG((sg(q(W)) − clip(W))²) to the loss; λ follows [weight] after [after] of training. */
    fun dampen(
        weight: ScheduleSpec = defaultDampening.weight,
        aggregation: DampeningAggregation = defaultDampening.aggregation,
        after: Double = defaultDampening.after,
    ) {
        dampening = DampeningSpec(weight, aggregation, after)
    }

    /** Freezes weights whose oscillation frequency passes [threshold], from [after] of training on. */
    fun freeze(
        threshold: ScheduleSpec = defaultFreezing.threshold,
        after: Double = defaultFreezing.after,
        useEma: Boolean = defaultFreezing.useEma,
    ) {
        freezing = FreezingSpec(threshold, after, useEma)
    }

    internal fun build() = OscillationsSpec(tracking, dampening, freezing)
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
