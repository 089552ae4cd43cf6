package dev.kqat.dsl

import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.train.CheckpointStore
import dev.kqat.runtime.run.PhaseRunner
import org.jetbrains.letsPlot.geom.geomHistogram
import org.jetbrains.letsPlot.geom.geomLine
import org.jetbrains.letsPlot.geom.geomPoint
import org.jetbrains.letsPlot.ggsize
import org.jetbrains.letsPlot.label.labs
import org.jetbrains.letsPlot.letsPlot
import org.jetbrains.letsPlot.scale.scaleXContinuous
import java.nio.file.Files
import java.nio.file.Path

/**
 * `kqat report RUN_DIR`: the oscillation evidence of a run as pictures in `RUN_DIR/plots/`:
 * the oscillating share of each tracked layer over the QAT epochs (from `metrics.jsonl`) and the
 * histogram of the final latent weights' distance to their bin centre (from the last QAT
 * checkpoint): oscillating weights pile up at the bin edges, ±0.5.
 */
object RunPlots {
    fun draw(runDir: Path, log: (String) -> Unit = {}): List<Path> {
        val file = runDir.resolve(ExperimentRunner.EXPERIMENT_FILE)
        require(Files.isRegularFile(file)) { "$runDir: not a kqat run directory (no ${ExperimentRunner.EXPERIMENT_FILE})" }
        val experiment = experimentFromJson(Files.readString(file))
        val plots = runDir.resolve("plots")
        val out = mutableListOf<Path>()
        val perLayer = oscillationsPerLayer(runDir)
        if (perLayer != null) {
            out.add(PngExport.save(perLayer, plots, "oscillating-share-per-layer"))
        } else {
            log("no per-layer oscillation figures in ${ExperimentRunner.METRICS_FILE} (the run tracked none)")
        }
        val distances = binDistances(experiment, runDir)
        if (distances != null) {
            out.add(PngExport.save(distances, plots, "latent-distance-to-bin-centre"))
        } else {
            log("no QAT checkpoint to read latent weights from")
        }
        return out
    }

    private fun oscillationsPerLayer(runDir: Path): org.jetbrains.letsPlot.intern.Plot? {
        val metrics = runDir.resolve(ExperimentRunner.METRICS_FILE)
        if (!Files.isRegularFile(metrics)) return null
        // A resumed run repeats the epoch it was killed in; its last lines count.
        val rows = MetricsEvents.read(metrics).filterIsInstance<MetricsEvent.Oscillation>()
            .associateBy { it.phase to it.epoch to it.layer }.values.toList()
        if (rows.isEmpty()) return null
        val data = mapOf(
            "epoch" to rows.map { it.epoch },
            "oscillating %" to rows.map { 100 * it.oscillatingFraction },
            "layer" to rows.map { it.layer },
        )
        val epochs = data.getValue("epoch").map { it as Int }.distinct().sorted()
        return letsPlot(data) { x = "epoch"; y = "oscillating %"; color = "layer" } +
            geomLine() + geomPoint() + scaleXContinuous(breaks = epochs) +
            ggsize(1000, 300 + 22 * rows.map { it.layer }.distinct().size) +
            labs(title = "Share of oscillating weights per layer", y = "weights with frequency above the threshold (%)")
    }

    /** Latent weights of the tracked (or, without tracking, ≤ 4-bit) weight quantizers, in units of their step. */
    private fun binDistances(e: Experiment, runDir: Path): org.jetbrains.letsPlot.intern.Plot? {
        val quantization = e.quantization ?: return null
        val qat = e.qat ?: return null
        val checkpoint = CheckpointStore(runDir.resolve("checkpoints").resolve("qat"), 2).latest().orElse(null) ?: return null
        val maxBits = (e.oscillations?.tracking() ?: OscillationSpec.Tracking.DEFAULT).maxBits()
        val distances = PhaseRunner(RuntimeMapping.setup(e, qat, quantization)).use { runner ->
            runner.restore(checkpoint)
            runner.weightsInSteps(maxBits).flatMap { w -> w.valuesInSteps().map { u -> u - Math.rint(u.toDouble()) } }
        }
        if (distances.isEmpty()) return null
        return letsPlot(mapOf("distance" to distances)) { x = "distance" } +
            geomHistogram(bins = 50) + ggsize(800, 450) +
            labs(
                title = "Latent weights' distance to their bin centre (${distances.size} weights of <= $maxBits bits)",
                x = "w/s − round(w/s)  (bin edges at ±0.5)", y = "weights",
            )
    }
}
