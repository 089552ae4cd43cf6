package dev.kqat.dsl

import dev.kqat.runtime.events.EpochMetrics
import dev.kqat.runtime.events.EvalMetrics
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.events.StepMetrics
import java.nio.file.Path

/**
 * Turns the trainer's events into [MetricsEvent] records once and hands each to every sink
 * (the metrics log, TensorBoard, ...). Steps are recorded every [stepEvery] optimizer steps.
 */
class MetricsRecorder(private val sinks: List<(MetricsEvent) -> Unit>, private val stepEvery: Int = 10) : RunListener {
    private val lastStep = mutableMapOf<String, Long>()

    private fun now() = System.currentTimeMillis() / 1000.0

    private fun emit(event: MetricsEvent) = sinks.forEach { it(event) }

    override fun phaseStarted(phase: String, epochs: Int, stepsPerEpoch: Int, startEpoch: Int) =
        emit(MetricsEvent.PhaseStart(now(), phase, epochs, stepsPerEpoch, startEpoch))

    override fun weightsImported(phase: String, file: Path, loaded: Int, skipped: List<String>) =
        emit(MetricsEvent.WeightsImported(now(), phase, file.toString(), loaded, skipped))

    override fun calibrated(phase: String, quantizers: Int, seconds: Double) =
        emit(MetricsEvent.Calibrated(now(), phase, quantizers, seconds))

    override fun stepEnded(step: StepMetrics) {
        lastStep[step.phase()] = step.globalStep()
        if (step.globalStep() % stepEvery != 0L) return
        emit(MetricsEvent.Step(now(), step.phase(), step.epoch(), step.globalStep(), step.loss(), step.accuracy(),
            step.learningRate(), step.imagesPerSecond()))
    }

    override fun evaluated(phase: String, epoch: Int, metrics: EvalMetrics) =
        emit(MetricsEvent.Eval(now(), phase, epoch, metrics.loss(), metrics.top1()))

    override fun epochEnded(epoch: EpochMetrics) {
        val time = now()
        val step = lastStep[epoch.phase()] ?: epoch.epoch().toLong()
        val o = epoch.oscillations()
        val b = epoch.binRegularizer()
        emit(MetricsEvent.Epoch(
            time, epoch.phase(), epoch.epoch(), step, epoch.trainLoss(), epoch.trainTop1(), epoch.test().loss(),
            epoch.test().top1(), epoch.testWithoutBnReestimation()?.top1(), epoch.imagesPerSecond(), epoch.trainSeconds(),
            o?.oscillatingFraction(), o?.meanFrequency(), o?.frozenFraction(), o?.oscillatingUnfrozenFraction(),
            b?.total(), b?.weight(), b?.meanSpread(),
        ))
        o?.layers()?.forEach { l ->
            emit(MetricsEvent.Oscillation(time, epoch.phase(), epoch.epoch(), step, l.name(), l.weights(),
                l.oscillatingFraction(), l.meanFrequency(), l.frozenFraction(), l.oscillatingUnfrozenFraction()))
        }
        b?.layers()?.forEach { l ->
            emit(MetricsEvent.Bins(time, epoch.phase(), epoch.epoch(), step, l.name(), l.weights(), l.term(), l.spread()))
        }
    }

    override fun checkpointSaved(phase: String, epoch: Int, dir: Path) =
        emit(MetricsEvent.Checkpoint(now(), phase, epoch, dir.toString()))
}
