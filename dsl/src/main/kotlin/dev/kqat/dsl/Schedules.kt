package dev.kqat.dsl

import dev.kqat.runtime.schedule.Schedule

// Schedules in scripts: values of training progress t = step / total steps (architecture.md rule 5),
// the runtime's [Schedule] records. The same type drives learning rates, dampening weights and
// freezing thresholds.

fun constant(value: Double): Schedule = Schedule.Constant(value)
fun linear(start: Double, end: Double): Schedule = Schedule.Linear(start, end)
/** Cosine from [start] to [end], held at [start] until progress [delay]. */
fun cosine(start: Double, end: Double = 0.0, delay: Double = 0.0): Schedule = Schedule.Cosine(start, end, delay)
/** [initial] multiplied by [factor] at each milestone (fractions of training). */
fun step(initial: Double, factor: Double, vararg milestones: Double): Schedule =
    Schedule.Step(initial, factor, milestones.toList())
/** Linear ramp from 0 over the first [fraction] of training, then [then]. */
fun warmup(fraction: Double, then: Schedule): Schedule = Schedule.Warmup(fraction, then)
/**
 * [schedule] held constant through each epoch at its value at the epoch's start, as PyTorch's
 * epoch-stepped schedulers (e.g. `CosineAnnealingLR` stepped once per epoch) behave, e.g.
 * `perEpoch(cosine(0.01))`; the epoch count is the phase's.
 */
fun perEpoch(schedule: Schedule): Schedule = Schedule.PerEpoch(schedule)
