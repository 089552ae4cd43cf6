package dev.kqat.scripts

import dev.kqat.runtime.events.EpochMetrics
import dev.kqat.runtime.events.EvalMetrics
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.events.StepMetrics
import me.tongfei.progressbar.ProgressBar
import me.tongfei.progressbar.ProgressBarBuilder
import me.tongfei.progressbar.ProgressBarStyle
import java.io.PrintStream
import java.nio.file.Path

/**
 * Shows training progress: a live progress bar (loss, accuracy, images/s) on a terminal, plain
 * lines every [lineEvery] steps otherwise (CI logs, pipes).
 */
class ConsoleProgress(
    private val out: PrintStream = System.err,
    private val interactive: Boolean = System.console() != null,
    private val lineEvery: Int = 100,
) : RunListener {
    private var bar: ProgressBar? = null
    private var postTraining = false

    override fun phaseStarted(phase: String, epochs: Int, stepsPerEpoch: Int, startEpoch: Int) {
        postTraining = epochs == 0
        val from = if (startEpoch > 0) " (resuming after epoch $startEpoch)" else ""
        out.println(if (postTraining) "[$phase] post-training quantization: calibrate and evaluate, no training"
            else "[$phase] $epochs epoch(s) × $stepsPerEpoch steps$from")
    }

    override fun weightsImported(phase: String, file: Path, loaded: Int, skipped: List<String>) {
        out.println("[$phase] $loaded variables from $file")
        skipped.forEach { out.println("[$phase]   left at initial values: $it") }
    }

    override fun calibrated(phase: String, quantizers: Int, seconds: Double) {
        out.println("[$phase] initialised $quantizers quantizer ranges in ${"%.1f".format(seconds)} s")
    }

    override fun stepEnded(step: StepMetrics) {
        val text = "loss %.4f acc %.3f lr %.2e %.0f img/s".format(
            step.loss(), step.accuracy(), step.learningRate(), step.imagesPerSecond(),
        )
        if (interactive) {
            val b = bar ?: ProgressBarBuilder()
                .setTaskName("${step.phase()} ${step.epoch()}")
                .setInitialMax(step.stepsPerEpoch().toLong())
                .setStyle(ProgressBarStyle.ASCII)
                .setConsumer(me.tongfei.progressbar.ConsoleProgressBarConsumer(out))
                .build().also { bar = it }
            b.stepTo(step.stepInEpoch().toLong())
            b.setExtraMessage(text)
        } else if (step.stepInEpoch() % lineEvery == 0 || step.stepInEpoch() == step.stepsPerEpoch()) {
            out.println("[${step.phase()}] epoch ${step.epoch()} step ${step.stepInEpoch()}/${step.stepsPerEpoch()} $text")
        }
    }

    override fun evaluated(phase: String, epoch: Int, metrics: EvalMetrics) {
        closeBar()
        // Sub-phases (`supernet/W4A4`, `search/3`) report subnets evaluated without an epoch of their own.
        val what = when {
            phase.startsWith("search/") -> "BN-calibrated, not retrained"
            epoch > 0 && '/' in phase -> "after training, BN-calibrated"
            epoch > 0 -> return
            postTraining -> "quantized, not trained"
            else -> "before training"
        }
        out.println("[$phase] $what: test top-1 %.4f loss %.4f".format(metrics.top1(), metrics.loss()))
    }

    override fun epochEnded(epoch: EpochMetrics) {
        val noBn = epoch.testWithoutBnReestimation()?.let { " (%.4f before BN re-estimation)".format(it.top1()) } ?: ""
        out.println(
            "[%s] epoch %d: train loss %.4f top-1 %.4f | test loss %.4f top-1 %.4f%s | %.0f img/s".format(
                epoch.phase(), epoch.epoch(), epoch.trainLoss(), epoch.trainTop1(),
                epoch.test().loss(), epoch.test().top1(), noBn, epoch.imagesPerSecond(),
            ),
        )
        epoch.oscillations()?.let { o ->
            // Frozen weights keep their decaying frequency for a while: say how many are still free to flip.
            val unfrozen = if (o.frozenFraction() > 0) " (%.2f %% oscillating and not frozen)".format(100 * o.oscillatingUnfrozenFraction()) else ""
            out.println(
                "[%s] oscillating %.2f %% of %d tracked weights (frequency > %s), mean frequency %.4f, frozen %.2f %%%s".format(
                    epoch.phase(), 100 * o.oscillatingFraction(), o.layers().sumOf { it.weights() }, o.threshold(),
                    o.meanFrequency(), 100 * o.frozenFraction(), unfrozen,
                ),
            )
        }
    }

    override fun checkpointSaved(phase: String, epoch: Int, dir: Path) {
        out.println("[$phase] checkpoint $dir")
    }

    override fun searchReported(line: String) {
        closeBar()
        out.println("[search] $line")
    }

    override fun phaseEnded(phase: String) = closeBar()

    private fun closeBar() {
        bar?.close()
        bar = null
    }
}
