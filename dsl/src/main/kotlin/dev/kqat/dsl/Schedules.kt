package dev.kqat.dsl

import dev.kqat.runtime.schedule.Schedule
import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable

/**
 * A value over training progress t = step / total steps (architecture.md rule 4). The same type
 * drives learning rates and, later, dampening weights and freezing thresholds.
 */
@Serializable
sealed interface ScheduleSpec {
    /** The runtime schedule of a phase of [epochs] epochs (only [PerEpoch] needs the count). */
    fun toRuntime(epochs: Int): Schedule

    @Serializable @SerialName("constant")
    data class Constant(val value: Double) : ScheduleSpec {
        override fun toRuntime(epochs: Int) = Schedule.Constant(value)
    }

    @Serializable @SerialName("linear")
    data class Linear(val start: Double, val end: Double) : ScheduleSpec {
        override fun toRuntime(epochs: Int) = Schedule.Linear(start, end)
    }

    /** Cosine from [start] to [end], held at [start] until progress [delay]. */
    @Serializable @SerialName("cosine")
    data class Cosine(val start: Double, val end: Double, val delay: Double = 0.0) : ScheduleSpec {
        override fun toRuntime(epochs: Int) = Schedule.Cosine(start, end, delay)
    }

    /** [initial] multiplied by [factor] at each milestone (fractions of training). */
    @Serializable @SerialName("step")
    data class Step(val initial: Double, val factor: Double, val milestones: List<Double>) : ScheduleSpec {
        override fun toRuntime(epochs: Int) = Schedule.Step(initial, factor, milestones.toDoubleArray())
    }

    /** Linear ramp from 0 over the first [fraction] of training, then [after]. */
    @Serializable @SerialName("warmup")
    data class Warmup(val fraction: Double, val after: ScheduleSpec) : ScheduleSpec {
        override fun toRuntime(epochs: Int) = Schedule.Warmup(fraction, after.toRuntime(epochs))
    }

    /**
     * [schedule] held constant through each epoch at its value at the epoch's start, as PyTorch's
     * epoch-stepped schedulers (e.g. `CosineAnnealingLR` stepped once per epoch) behave.
     */
    @Serializable @SerialName("per-epoch")
    data class PerEpoch(val schedule: ScheduleSpec) : ScheduleSpec {
        override fun toRuntime(epochs: Int) = Schedule.PerEpoch(schedule.toRuntime(epochs), epochs)
    }
}

fun constant(value: Double): ScheduleSpec = ScheduleSpec.Constant(value)
fun linear(start: Double, end: Double): ScheduleSpec = ScheduleSpec.Linear(start, end)
fun cosine(start: Double, end: Double = 0.0, delay: Double = 0.0): ScheduleSpec = ScheduleSpec.Cosine(start, end, delay)
fun step(initial: Double, factor: Double, vararg milestones: Double): ScheduleSpec =
    ScheduleSpec.Step(initial, factor, milestones.toList())
fun warmup(fraction: Double, then: ScheduleSpec): ScheduleSpec = ScheduleSpec.Warmup(fraction, then)
/** [schedule] stepped once per epoch, e.g. `perEpoch(cosine(0.01))` for PyTorch's per-epoch cosine. */
fun perEpoch(schedule: ScheduleSpec): ScheduleSpec = ScheduleSpec.PerEpoch(schedule)

/** Every number a schedule can produce is one of these (all shapes are monotone between them). */
internal fun ScheduleSpec.extremes(): List<Double> = when (this) {
    is ScheduleSpec.Constant -> listOf(value)
    is ScheduleSpec.Linear -> listOf(start, end)
    is ScheduleSpec.Cosine -> listOf(start, end)
    is ScheduleSpec.Step -> listOf(initial) + milestones.indices.map { initial * Math.pow(factor, it + 1.0) }
    is ScheduleSpec.Warmup -> listOf(0.0) + after.extremes()
    is ScheduleSpec.PerEpoch -> schedule.extremes()
}
