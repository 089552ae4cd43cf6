package dev.kqat.scripts.notebook

import dev.kqat.runtime.events.EpochMetrics
import dev.kqat.runtime.events.EvalMetrics
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.events.StepMetrics

/**
 * A running experiment as one live line per phase in the cell's output: shown when the phase
 * starts, replaced every [everySteps] steps and after each evaluation, final when the phase ends.
 */
class NotebookProgress(private val runId: String, private val everySteps: Int = 20) : RunListener {
    private var epochs = 0
    private var line = ""
    private var searchShown = false

    private fun id(phase: String) = "kqat-$runId-$phase"

    override fun phaseStarted(phase: String, epochs: Int, stepsPerEpoch: Int, startEpoch: Int) {
        this.epochs = epochs
        line = if (epochs == 0) "post-training quantization: calibrating" else "$epochs epoch(s) × $stepsPerEpoch steps"
        NotebookDisplay.show(NotebookHtml.progress(phase, line), id(phase))
    }

    override fun stepEnded(step: StepMetrics) {
        if (step.stepInEpoch() % everySteps != 0 && step.stepInEpoch() != step.stepsPerEpoch()) return
        line = "epoch %d/%d step %d/%d loss %.4f acc %.3f lr %.2e %.0f img/s".format(
            step.epoch(), epochs, step.stepInEpoch(), step.stepsPerEpoch(), step.loss(), step.accuracy(),
            step.learningRate(), step.imagesPerSecond())
        NotebookDisplay.update(NotebookHtml.progress(step.phase(), line), id(step.phase()))
    }

    override fun evaluated(phase: String, epoch: Int, metrics: EvalMetrics) {
        if (epoch != 0) return
        line = (if (epochs == 0) "quantized, not trained" else "before training") +
            ": test top-1 %.4f loss %.4f".format(metrics.top1(), metrics.loss())
        NotebookDisplay.update(NotebookHtml.progress(phase, line), id(phase))
    }

    override fun epochEnded(epoch: EpochMetrics) {
        line = "epoch %d/%d: train loss %.4f top-1 %.4f | test loss %.4f top-1 %.4f".format(
            epoch.epoch(), epochs, epoch.trainLoss(), epoch.trainTop1(), epoch.test().loss(), epoch.test().top1())
        NotebookDisplay.update(NotebookHtml.progress(epoch.phase(), line), id(epoch.phase()))
    }

    /** A supernet search's lines replace one another in one live line of their own. */
    override fun searchReported(line: String) {
        if (!searchShown) NotebookDisplay.show(NotebookHtml.progress("search", line), id("search"))
        else NotebookDisplay.update(NotebookHtml.progress("search", line), id("search"))
        searchShown = true
    }

    override fun phaseEnded(phase: String) {
        NotebookDisplay.update(NotebookHtml.progress(phase, "done — $line"), id(phase))
    }
}
