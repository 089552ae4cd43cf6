package dev.kqat.dsl

import dev.kqat.runtime.run.PhaseRunner
import dev.kqat.runtime.train.PhasePlan
import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/** `kqat eval`: a checkpoint's test figures with its stored BN statistics and after BN re-estimation. */
@Serializable
data class CheckpointReport(
    val checkpoint: String,
    val phase: String,
    val epoch: Int,
    @SerialName("test_top1") val testTop1: Double,
    @SerialName("test_loss") val testLoss: Double,
    @SerialName("bn_reestimation_batches") val bnReestimationBatches: Int,
    /** Null when the model has no BN or [bnReestimationBatches] is 0. */
    @SerialName("test_top1_bn_reestimated") val testTop1BnReestimated: Double?,
    @SerialName("test_loss_bn_reestimated") val testLossBnReestimated: Double?,
)

object CheckpointEvaluator {
    /** BN re-estimation batches when the experiment sets none: the published 50 (algorithms.md §1.8). */
    const val DEFAULT_BN_BATCHES = 50

    /**
     * Evaluates [target]'s checkpoint on the experiment's test data in the graph of its phase;
     * [bnBatches] (default: the experiment's, else [DEFAULT_BN_BATCHES]) training batches re-estimate BN.
     */
    fun evaluate(target: RunTarget, bnBatches: Int? = null): CheckpointReport {
        val e = target.experiment
        val batches = bnBatches ?: e.evaluation.bnReestimationBatches.takeIf { it > 0 } ?: DEFAULT_BN_BATCHES
        val (train, test) = RuntimeMapping.loadData(e)
        try {
            val plan = PhasePlan(target.phase, 1, e.data.batchSize, train, test, null, 0, false, batches)
            val result = PhaseRunner(target.setup()).use { it.evaluate(target.checkpoint, plan) }
            return CheckpointReport(
                target.checkpoint.toString(), target.phase, target.epoch,
                result.stored().top1(), result.stored().loss(), batches,
                result.bnReestimated()?.top1(), result.bnReestimated()?.loss(),
            )
        } finally {
            (train as? AutoCloseable)?.close()
            (test as? AutoCloseable)?.close()
        }
    }
}
