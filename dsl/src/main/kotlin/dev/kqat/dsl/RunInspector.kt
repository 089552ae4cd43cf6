package dev.kqat.dsl

import dev.kqat.runtime.run.LayerInspection
import dev.kqat.runtime.run.PhaseRunner
import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/**
 * `kqat inspect`: one row per weight layer of a checkpoint's network. Bits are null where a side
 * stays floating point; BitOPs and size count such a side at 32 bits (algorithms.md §2.9).
 */
@Serializable
data class LayerRow(
    val name: String,
    val kind: String,
    val weights: Long,
    val macs: Long,
    @SerialName("weight_bits") val weightBits: Int?,
    @SerialName("activation_bits") val activationBits: Int?,
    @SerialName("weight_signed") val weightSigned: Boolean?,
    @SerialName("activation_signed") val activationSigned: Boolean?,
    @SerialName("per_channel") val perChannel: Boolean?,
    @SerialName("weight_step_min") val weightStepMin: Double?,
    @SerialName("weight_step_max") val weightStepMax: Double?,
    @SerialName("activation_step") val activationStep: Double?,
    @SerialName("oscillating_fraction") val oscillatingFraction: Double?,
    @SerialName("frozen_fraction") val frozenFraction: Double?,
    @SerialName("bit_ops") val bitOps: Double,
    @SerialName("size_bytes") val sizeBytes: Double,
)

/** Sums over the layers; the oscillating and frozen shares are over tracked weights (null without tracking). */
@Serializable
data class InspectionTotals(
    val weights: Long,
    val macs: Long,
    @SerialName("bit_ops") val bitOps: Double,
    @SerialName("size_bytes") val sizeBytes: Double,
    @SerialName("oscillating_fraction") val oscillatingFraction: Double?,
    @SerialName("frozen_fraction") val frozenFraction: Double?,
)

@Serializable
data class Inspection(
    val checkpoint: String,
    val phase: String,
    val epoch: Int,
    val layers: List<LayerRow>,
    val totals: InspectionTotals,
)

object RunInspector {
    /** Restores [target]'s checkpoint into its phase's graph and reads every layer back. */
    fun inspect(target: RunTarget): Inspection {
        val layers = PhaseRunner(target.setup()).use { runner ->
            runner.restore(target.checkpoint)
            runner.inspect()
        }
        val rows = layers.map(::row)
        val tracked = layers.mapNotNull { it.oscillation() }
        val trackedWeights = tracked.sumOf { it.weights() }.toDouble()
        fun share(of: (dev.kqat.runtime.events.OscillationMetrics.Layer) -> Double) =
            if (tracked.isEmpty()) null else tracked.sumOf { of(it) * it.weights() } / trackedWeights
        val totals = InspectionTotals(
            rows.sumOf { it.weights }, rows.sumOf { it.macs }, rows.sumOf { it.bitOps }, rows.sumOf { it.sizeBytes },
            share { it.oscillatingFraction() }, share { it.frozenFraction() },
        )
        return Inspection(target.checkpoint.toString(), target.phase, target.epoch, rows, totals)
    }

    private fun row(l: LayerInspection): LayerRow {
        val cost = l.cost()
        return LayerRow(
            cost.name(), cost.kind().name.lowercase().replace('_', '-'), cost.weights(), cost.macs(),
            l.weight()?.bits(), l.activation()?.bits(), l.weight()?.signed(), l.activation()?.signed(),
            l.weight()?.perChannel(), l.weight()?.minStep(), l.weight()?.maxStep(), l.activation()?.maxStep(),
            l.oscillation()?.oscillatingFraction(), l.oscillation()?.frozenFraction(),
            l.bitOps(), l.sizeBits() / 8.0,
        )
    }
}
