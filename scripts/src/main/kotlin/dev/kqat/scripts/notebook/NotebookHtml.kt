package dev.kqat.scripts.notebook

import dev.kqat.dsl.Experiment
import dev.kqat.dsl.toJson
import kotlinx.html.TABLE
import kotlinx.html.b
import kotlinx.html.code
import kotlinx.html.details
import kotlinx.html.div
import kotlinx.html.img
import kotlinx.html.pre
import kotlinx.html.stream.createHTML
import kotlinx.html.summary
import kotlinx.html.table
import kotlinx.html.td
import kotlinx.html.th
import kotlinx.html.tr
import java.nio.file.Files
import java.util.Base64

/** The HTML a notebook shows for kqat values (the descriptor's renderers call these). */
object NotebookHtml {
    /** An experiment as a readable summary: one row per block, the full JSON folded below. */
    fun experiment(e: Experiment): String = createHTML().div {
        b { +"experiment ${e.name}" }
        table {
            row("data", "${e.data.dataset}, batch ${e.data.batchSize}" +
                (e.data.trainLimit?.let { ", first $it training images" } ?: ""))
            row("model", e.model.toString())
            e.pretrain?.let { row("pretrain", "${it.epochs} epoch(s), ${it.optimizer.kind()} lr ${it.optimizer.learningRate()}, weight decay ${it.optimizer.weightDecay()}") }
            e.quantization?.let {
                row("quantize", "W${it.weights()?.bits() ?: "fp"}A${it.activations()?.bits() ?: "fp"}, first/last layers ${it.firstLastBits()} bits, " +
                    (if (it.weights()?.perChannel() == true) "per-channel" else "per-tensor") + " weights, ${it.layers().size} layer exception(s)")
            }
            if (e.ptq) row("ptq", "calibrate and evaluate, no training")
            e.qat?.let { row("qat", "${it.epochs} epoch(s), ${it.optimizer.kind()} lr ${it.optimizer.learningRate()}, weight decay ${it.optimizer.weightDecay()}") }
            e.oscillations?.let { o ->
                row("oscillations", listOfNotNull(
                    o.tracking()?.let { "tracked (threshold ${it.threshold()})" },
                    o.dampening()?.let { "dampened (λ ${it.weight()})" },
                    o.freezing()?.let { "frozen (threshold ${it.threshold()})" },
                ).joinToString(", "))
            }
            if (e.evaluation.bnReestimationBatches > 0) row("evaluation", "BN re-estimation over ${e.evaluation.bnReestimationBatches} batches")
            row("device", e.device.toString())
        }
        details {
            summary { +"experiment.json" }
            pre { +e.toJson() }
        }
    }

    /** One phase's live progress line. */
    fun progress(phase: String, line: String): String = createHTML().div {
        code { +"[$phase] $line" }
    }

    /** A finished run: its report's figures, one row per phase, and its plots as images. */
    fun finishedRun(run: FinishedRun): String = createHTML().div {
        val r = run.report
        b { +"run ${r.experiment} in ${run.dir}" }
        table {
            row("test_top1", "%.4f".format(r.testTop1))
            r.ptqTestTop1?.let { row("ptq_test_top1", "%.4f".format(it)) }
            r.fp32TestTop1?.let { row("fp32_test_top1", "%.4f".format(it)) }
            r.testTop1NoBnReestimation?.let { row("test_top1_no_bn_reestimation", "%.4f".format(it)) }
            r.oscillatingFraction?.let { row("oscillating_fraction", "%.4f".format(it)) }
            r.frozenFraction?.let { row("frozen_fraction", "%.4f".format(it)) }
            row("train_images_per_sec", "%.0f".format(r.trainImagesPerSec))
        }
        table {
            tr { listOf("phase", "test top-1", "test loss", "steps", "images/s").forEach { th { +it } } }
            for (p in r.phases) tr {
                listOf(p.phase, "%.4f".format(p.testTop1), "%.4f".format(p.testLoss), "${p.steps}", "%.0f".format(p.trainImagesPerSec))
                    .forEach { td { +it } }
            }
        }
        for (plot in run.plots) {
            img(alt = plot.fileName.toString(), src = "data:image/png;base64," + Base64.getEncoder().encodeToString(Files.readAllBytes(plot)))
        }
    }

    private fun TABLE.row(name: String, value: String) = tr {
        th { +name }
        td { +value }
    }
}
