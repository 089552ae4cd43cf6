package dev.kqat.dsl

import dev.kqat.runtime.events.TensorBoardWriter

/**
 * The run's figures as TensorBoard scalars, from the same [MetricsEvent] records as `metrics.jsonl`.
 * Tags are `<phase>/<figure>`; the x axis is the phase's optimizer step. Per logged step: loss,
 * accuracy, learning rate; per epoch: train and test figures, accuracy before BN re-estimation,
 * whole-model and per-layer oscillating share, frozen share, bin regulariser and bin spread.
 */
class TensorBoardSink(private val writer: TensorBoardWriter) {
    fun write(event: MetricsEvent) {
        val p = event.phase + "/"
        when (event) {
            is MetricsEvent.Step -> {
                writer.scalar(p + "loss", event.step, event.loss)
                writer.scalar(p + "accuracy", event.step, event.accuracy)
                writer.scalar(p + "learning_rate", event.step, event.lr)
            }
            is MetricsEvent.Epoch -> {
                val at = event.step
                writer.scalar(p + "train_loss", at, event.trainLoss)
                writer.scalar(p + "train_top1", at, event.trainTop1)
                writer.scalar(p + "test_loss", at, event.testLoss)
                writer.scalar(p + "test_top1", at, event.testTop1)
                writer.scalar(p + "images_per_sec", at, event.imagesPerSec)
                event.testTop1NoBnReestimation?.let { writer.scalar(p + "test_top1_no_bn_reestimation", at, it) }
                event.oscillatingFraction?.let { writer.scalar(p + "oscillating_fraction", at, it) }
                event.meanOscillationFrequency?.let { writer.scalar(p + "mean_oscillation_frequency", at, it) }
                event.frozenFraction?.let { writer.scalar(p + "frozen_fraction", at, it) }
                event.oscillatingUnfrozenFraction?.let { writer.scalar(p + "oscillating_unfrozen_fraction", at, it) }
                event.binRegularizer?.let { writer.scalar(p + "bin_regularizer", at, it) }
                event.binRegularizerWeight?.let { writer.scalar(p + "bin_regularizer_weight", at, it) }
                event.binSpread?.let { writer.scalar(p + "bin_spread", at, it) }
                writer.flush()
            }
            is MetricsEvent.Oscillation -> writer.scalar(p + "oscillating_share/" + event.layer, event.step, event.oscillatingFraction)
            is MetricsEvent.Bins -> {
                writer.scalar(p + "bin_regularizer/" + event.layer, event.step, event.regularizer)
                writer.scalar(p + "bin_spread/" + event.layer, event.step, event.spread)
            }
            // The per-layer lines follow their epoch line; the checkpoint after them closes the epoch.
            is MetricsEvent.Checkpoint -> writer.flush()
            is MetricsEvent.PhaseStart, is MetricsEvent.WeightsImported, is MetricsEvent.Calibrated,
            is MetricsEvent.Eval -> Unit
        }
    }
}
