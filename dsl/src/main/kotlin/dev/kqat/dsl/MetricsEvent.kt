package dev.kqat.dsl

import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable
import kotlinx.serialization.SerializationException
import kotlinx.serialization.json.Json
import java.nio.file.Files
import java.nio.file.Path

/**
 * One line of `metrics.jsonl`: a record per kind of event, written and read by the same
 * serializer ([MetricsEvents]). The key `event` names the kind; `time` is seconds since the epoch.
 * The metrics log, the TensorBoard scalars and `kqat report` all consume these records.
 */
@Serializable
sealed interface MetricsEvent {
    val time: Double
    val phase: String

    /** A phase begins, possibly resumed at [startEpoch]. */
    @Serializable @SerialName("phase_start")
    data class PhaseStart(
        override val time: Double,
        override val phase: String,
        val epochs: Int,
        @SerialName("steps_per_epoch") val stepsPerEpoch: Int,
        @SerialName("start_epoch") val startEpoch: Int,
    ) : MetricsEvent

    /** The phase starts from Keras weights; [skipped] classifier variables kept their initial values. */
    @Serializable @SerialName("weights_imported")
    data class WeightsImported(
        override val time: Double,
        override val phase: String,
        val file: String,
        val loaded: Int,
        val skipped: List<String>,
    ) : MetricsEvent

    /** Quantizer ranges were initialised. */
    @Serializable @SerialName("calibrated")
    data class Calibrated(override val time: Double, override val phase: String, val quantizers: Int, val seconds: Double) :
        MetricsEvent

    /** One optimizer step (logged every few steps). */
    @Serializable @SerialName("step")
    data class Step(
        override val time: Double,
        override val phase: String,
        val epoch: Int,
        val step: Long,
        val loss: Double,
        val accuracy: Double,
        val lr: Double,
        @SerialName("images_per_sec") val imagesPerSec: Double,
    ) : MetricsEvent

    /** An evaluation on the test set ([epoch] 0: before training). */
    @Serializable @SerialName("eval")
    data class Eval(
        override val time: Double,
        override val phase: String,
        val epoch: Int,
        @SerialName("test_loss") val testLoss: Double,
        @SerialName("test_top1") val testTop1: Double,
    ) : MetricsEvent

    /** An epoch's figures; the oscillation fields are there when the phase tracks oscillations. */
    @Serializable @SerialName("epoch")
    data class Epoch(
        override val time: Double,
        override val phase: String,
        val epoch: Int,
        /** The phase's optimizer step at the end of the epoch (TensorBoard's x axis). */
        val step: Long,
        @SerialName("train_loss") val trainLoss: Double,
        @SerialName("train_top1") val trainTop1: Double,
        @SerialName("test_loss") val testLoss: Double,
        @SerialName("test_top1") val testTop1: Double,
        @SerialName("test_top1_no_bn_reestimation") val testTop1NoBnReestimation: Double? = null,
        @SerialName("images_per_sec") val imagesPerSec: Double,
        @SerialName("train_seconds") val trainSeconds: Double,
        @SerialName("oscillating_fraction") val oscillatingFraction: Double? = null,
        @SerialName("mean_oscillation_frequency") val meanOscillationFrequency: Double? = null,
        @SerialName("frozen_fraction") val frozenFraction: Double? = null,
        @SerialName("oscillating_unfrozen_fraction") val oscillatingUnfrozenFraction: Double? = null,
        /** VVTQ's bin regulariser Σ_layers R (the loss adds its weight times this), when the phase uses it. */
        @SerialName("bin_regularizer") val binRegularizer: Double? = null,
        @SerialName("bin_regularizer_weight") val binRegularizerWeight: Double? = null,
        /** The bins' variance in steps², averaged over the regularised layers by their numbers of weights. */
        @SerialName("bin_spread") val binSpread: Double? = null,
    ) : MetricsEvent

    /** One regularised layer's bin-regulariser term R and bin spread (steps²) after an epoch. */
    @Serializable @SerialName("bins")
    data class Bins(
        override val time: Double,
        override val phase: String,
        val epoch: Int,
        val step: Long,
        val layer: String,
        val weights: Long,
        val regularizer: Double,
        val spread: Double,
    ) : MetricsEvent

    /** One tracked layer's oscillation figures after an epoch: what `kqat report` plots. */
    @Serializable @SerialName("oscillation")
    data class Oscillation(
        override val time: Double,
        override val phase: String,
        val epoch: Int,
        val step: Long,
        val layer: String,
        val weights: Long,
        @SerialName("oscillating_fraction") val oscillatingFraction: Double,
        @SerialName("mean_frequency") val meanFrequency: Double,
        @SerialName("frozen_fraction") val frozenFraction: Double,
        @SerialName("oscillating_unfrozen_fraction") val oscillatingUnfrozenFraction: Double,
    ) : MetricsEvent

    /** A checkpoint was written atomically. */
    @Serializable @SerialName("checkpoint")
    data class Checkpoint(override val time: Double, override val phase: String, val epoch: Int, val path: String) :
        MetricsEvent
}

/** The one serializer of `metrics.jsonl` lines, both ways. */
object MetricsEvents {
    private val json = Json {
        classDiscriminator = "event"
        encodeDefaults = true
        explicitNulls = false
        ignoreUnknownKeys = true
    }

    fun encode(event: MetricsEvent): String = json.encodeToString(MetricsEvent.serializer(), event)

    fun decode(line: String): MetricsEvent = json.decodeFromString(MetricsEvent.serializer(), line)

    /**
     * Every event of a `metrics.jsonl` file, in order. A line that does not decode (a run killed in
     * the middle of writing it) is skipped.
     */
    fun read(file: Path): List<MetricsEvent> = Files.readAllLines(file).filter { it.isNotBlank() }.mapNotNull {
        try {
            decode(it)
        } catch (_: SerializationException) {
            null
        } catch (_: IllegalArgumentException) {
            null
        }
    }
}
