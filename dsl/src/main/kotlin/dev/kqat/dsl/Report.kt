package dev.kqat.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable
import java.nio.file.Files
import java.nio.file.Path

/** Outcome of one phase, kept next to its checkpoints so a resumed run can report it. */
@Serializable
data class PhaseOutcome(
    val phase: String,
    @SerialName("test_top1") val testTop1: Double,
    @SerialName("test_loss") val testLoss: Double,
    @SerialName("train_images_per_sec") val trainImagesPerSec: Double,
    val steps: Long,
    /** The final checkpoint of the phase. */
    val checkpoint: String,
    /** Top-1 with the running BN statistics of training, when the phase re-estimates them. */
    @SerialName("test_top1_no_bn_reestimation") val testTop1NoBnReestimation: Double? = null,
    /**
     * Quantized phases: top-1 of the network right after calibration, before any training, with the
     * running BN statistics (the post-training-quantized network, as the published loop evaluates it).
     */
    @SerialName("ptq_test_top1") val ptqTestTop1: Double? = null,
    /** Share of tracked weights oscillating after the last epoch, when the phase tracks them. */
    @SerialName("oscillating_fraction") val oscillatingFraction: Double? = null,
    @SerialName("mean_oscillation_frequency") val meanOscillationFrequency: Double? = null,
    /** Share of tracked weights frozen, when the phase freezes. */
    @SerialName("frozen_fraction") val frozenFraction: Double? = null,
    /** Share of tracked weights oscillating and not frozen (equals the oscillating share without freezing). */
    @SerialName("oscillating_unfrozen_fraction") val oscillatingUnfrozenFraction: Double? = null,
    /** A supernet phase: top-1 of each evaluated uniform subnet (e.g. `W4A4`), BN-calibrated, from the EMA when kept. */
    @SerialName("uniform_top1") val uniformTop1: Map<String, Double>? = null,
    /** The same of the FP32 network quantized before the first supernet step (absent when the phase was resumed). */
    @SerialName("uniform_top1_before_training") val uniformTop1BeforeTraining: Map<String, Double>? = null,
)

/** `report.json`: the figures of benchmark.md for the run's last phase, plus each phase's outcome. */
@Serializable
data class Report(
    val experiment: String,
    @SerialName("test_top1") val testTop1: Double,
    @SerialName("test_loss") val testLoss: Double,
    /** Training throughput of the last phase, data loading included, compile and evaluation excluded. */
    @SerialName("train_images_per_sec") val trainImagesPerSec: Double,
    @SerialName("peak_rss_mb") val peakRssMb: Double,
    @SerialName("fp32_test_top1") val fp32TestTop1: Double? = null,
    @SerialName("test_top1_no_bn_reestimation") val testTop1NoBnReestimation: Double? = null,
    /** The last phase's [PhaseOutcome.ptqTestTop1]: the same network before QAT, beside [testTop1]. */
    @SerialName("ptq_test_top1") val ptqTestTop1: Double? = null,
    @SerialName("oscillating_fraction") val oscillatingFraction: Double? = null,
    @SerialName("frozen_fraction") val frozenFraction: Double? = null,
    @SerialName("oscillating_unfrozen_fraction") val oscillatingUnfrozenFraction: Double? = null,
    val phases: List<PhaseOutcome>,
)

/** Peak resident memory of this process (VmHWM), in MiB; 0 where /proc is unavailable. */
fun peakRssMb(): Double = runCatching {
    Files.readAllLines(Path.of("/proc/self/status"))
        .first { it.startsWith("VmHWM:") }
        .split(Regex("\\s+"))[1].toDouble() / 1024.0
}.getOrDefault(0.0)
