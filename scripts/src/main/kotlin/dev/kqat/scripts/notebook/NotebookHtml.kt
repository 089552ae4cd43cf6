package dev.kqat.scripts.notebook

import dev.kqat.dsl.Experiment
import dev.kqat.dsl.SearchFile
import dev.kqat.dsl.toJson
import kotlinx.html.DIV
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
            e.mixedPrecision?.let { m ->
                row("mixedPrecision", "supernet of ${m.candidates.joinToString("/")} bits (depth-wise from ${m.depthwiseLowest}, first/last " +
                    "layers ${m.fixedBits}), ${m.epochs} epoch(s), max + ${m.randomSubnets} random subnets per step, IDM ${m.idmWeight}" +
                    (if (m.bitScheduler) ", bit-width scheduler" else ""))
            }
            e.search?.let { s ->
                row("search", "${s.method} at ${s.metric} ${s.budgets.joinToString(", ")}, batch ${s.batchSize}" +
                    (if (s.startAtLevel) ", from each budget's level" else ", from ${s.startBits} bits") +
                    (if (s.fillBudget) ", filling the budget" else "") +
                    (if (s.bnDraws > 1) ", compared with uniform over ${s.bnDraws} BN calibrations" else ""))
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
        for (p in r.phases) p.uniformTop1?.let { uniform ->
            table { row("${p.phase}: uniform subnets", uniform.entries.joinToString("  ") { (bits, top1) -> "$bits %.4f".format(top1) }) }
        }
        run.search?.let { search(it) }
        for (plot in run.plots) {
            img(alt = plot.fileName.toString(), src = "data:image/png;base64," + Base64.getEncoder().encodeToString(Files.readAllBytes(plot)))
        }
    }

    /** search.json: one row per configuration, searched ones against their uniform subnet. */
    private fun DIV.search(file: SearchFile) {
        b { +"search.json" }
        table {
            tr { listOf("#", "kind", "budget", "MBitOPs", "mean bits", "test top-1", "vs uniform", "McNemar p", "over calibrations").forEach { th { +it } } }
            for (c in file.configurations) tr {
                val vs = c.vsUniform
                listOf("${c.index}", c.kind, c.budget ?: "", "%.2f".format(c.bitops / 1e6), "%.2f".format(c.meanBits),
                    "%.4f".format(c.testTop1) + (c.top1OverDraws?.let { " (mean of ${it.size}: %.4f)".format(c.meanTop1()) } ?: ""),
                    vs?.let { "W${it.bits}A${it.bits} %+.2f points".format(100 * it.top1Difference) } ?: "",
                    vs?.pValue?.let { "%.3g".format(it) } ?: "",
                    vs?.meanTop1Difference?.let { "%+.2f ± %.2f points (${vs.bnDraws})".format(100 * it, 100 * vs.seTop1Difference!!) } ?: "",
                ).forEach { td { +it } }
            }
        }
    }

    private fun TABLE.row(name: String, value: String) = tr {
        th { +name }
        td { +value }
    }
}
