package dev.kqat.dsl

import dev.kqat.runtime.events.EvalMetrics
import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable
import org.apache.commons.math3.stat.descriptive.SummaryStatistics

/**
 * One configuration of a `search.json` evaluated after several BN calibrations (§2.8), each on its own
 * training batches. A low-bit subnet's top-1 moves by tenths of a point with the batches its BN statistics
 * came from; a comparison of two configurations is only as fine as that spread.
 */
@Serializable
data class CalibrationDraws(
    /** The configuration after calibration draw 0, the one every other evaluation of it takes. */
    val configuration: FoundConfiguration,
    @SerialName("bn_calibration_batches") val bnCalibrationBatches: Int,
    /** Test top-1 and loss after each draw, draw 0 first. */
    @SerialName("test_top1") val testTop1: List<Double>,
    @SerialName("test_loss") val testLoss: List<Double>,
    @SerialName("mean_test_top1") val meanTestTop1: Double,
    /** Sample standard deviation over the draws; 0 for one draw. */
    @SerialName("sd_test_top1") val sdTestTop1: Double,
) {
    companion object {
        /** From draw 0's evaluated [first] and the [others]' (top-1, loss). */
        fun of(first: FoundConfiguration, bnCalibrationBatches: Int, others: List<EvalMetrics>): CalibrationDraws {
            val top1 = listOf(first.testTop1) + others.map { it.top1() }
            val stats = SummaryStatistics().apply { top1.forEach(::addValue) }
            return CalibrationDraws(first, bnCalibrationBatches, top1, listOf(first.testLoss) + others.map { it.loss() },
                stats.mean, stats.standardDeviation)
        }
    }
}
