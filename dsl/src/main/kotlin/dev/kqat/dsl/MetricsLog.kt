package dev.kqat.dsl

import dev.kqat.runtime.events.EpochMetrics
import dev.kqat.runtime.events.EvalMetrics
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.events.StepMetrics
import kotlinx.serialization.json.JsonArray
import kotlinx.serialization.json.JsonObjectBuilder
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.buildJsonObject
import kotlinx.serialization.json.put
import java.io.BufferedWriter
import java.nio.file.Files
import java.nio.file.Path
import java.nio.file.StandardOpenOption

/**
 * Appends one JSON object per event to `metrics.jsonl` (appending, so a resumed run continues the
 * same file). Steps are logged every [stepEvery] steps to keep the file small.
 */
class MetricsLog(file: Path, private val stepEvery: Int = 10) : RunListener, AutoCloseable {
    private val out: BufferedWriter = Files.newBufferedWriter(
        file, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE,
    ).also { w ->
        // A run killed in the middle of a line leaves it unterminated; the resumed run starts a new line.
        if (Files.size(file) > 0 && lastByte(file) != '\n'.code) {
            w.newLine()
            w.flush()
        }
    }

    private fun lastByte(file: Path): Int = java.io.RandomAccessFile(file.toFile(), "r").use { f ->
        f.seek(f.length() - 1)
        f.read()
    }

    private fun write(event: String, fill: JsonObjectBuilder.() -> Unit) {
        val line = buildJsonObject {
            put("event", event)
            put("time", System.currentTimeMillis() / 1000.0)
            fill()
        }
        out.write(line.toString())
        out.newLine()
        out.flush()
    }

    override fun phaseStarted(phase: String, epochs: Int, stepsPerEpoch: Int, startEpoch: Int) = write("phase_start") {
        put("phase", phase); put("epochs", epochs); put("steps_per_epoch", stepsPerEpoch); put("start_epoch", startEpoch)
    }

    override fun weightsImported(phase: String, file: Path, loaded: Int, skipped: List<String>) = write("weights_imported") {
        put("phase", phase); put("file", file.toString()); put("loaded", loaded)
        put("skipped", JsonArray(skipped.map(::JsonPrimitive)))
    }

    override fun calibrated(phase: String, quantizers: Int, seconds: Double) = write("calibrated") {
        put("phase", phase); put("quantizers", quantizers); put("seconds", seconds)
    }

    override fun stepEnded(step: StepMetrics) {
        if (step.globalStep() % stepEvery != 0L) return
        write("step") {
            put("phase", step.phase()); put("epoch", step.epoch()); put("step", step.globalStep())
            put("loss", step.loss()); put("accuracy", step.accuracy()); put("lr", step.learningRate())
            put("images_per_sec", step.imagesPerSecond())
        }
    }

    override fun evaluated(phase: String, epoch: Int, metrics: EvalMetrics) = write("eval") {
        put("phase", phase); put("epoch", epoch); put("test_loss", metrics.loss()); put("test_top1", metrics.top1())
    }

    override fun epochEnded(epoch: EpochMetrics) {
        write("epoch") {
            put("phase", epoch.phase()); put("epoch", epoch.epoch())
            put("train_loss", epoch.trainLoss()); put("train_top1", epoch.trainTop1())
            put("test_loss", epoch.test().loss()); put("test_top1", epoch.test().top1())
            epoch.testWithoutBnReestimation()?.let { put("test_top1_no_bn_reestimation", it.top1()) }
            put("images_per_sec", epoch.imagesPerSecond()); put("train_seconds", epoch.trainSeconds())
            epoch.oscillations()?.let { o ->
                put("oscillating_fraction", o.oscillatingFraction()); put("mean_oscillation_frequency", o.meanFrequency())
                put("frozen_fraction", o.frozenFraction()); put("oscillating_unfrozen_fraction", o.oscillatingUnfrozenFraction())
            }
        }
        // One line per tracked layer: what `kqat report` plots over training.
        epoch.oscillations()?.layers()?.forEach { l ->
            write("oscillation") {
                put("phase", epoch.phase()); put("epoch", epoch.epoch()); put("layer", l.name()); put("weights", l.weights())
                put("oscillating_fraction", l.oscillatingFraction()); put("mean_frequency", l.meanFrequency())
                put("frozen_fraction", l.frozenFraction()); put("oscillating_unfrozen_fraction", l.oscillatingUnfrozenFraction())
            }
        }
    }

    override fun checkpointSaved(phase: String, epoch: Int, dir: Path) = write("checkpoint") {
        put("phase", phase); put("epoch", epoch); put("path", dir.toString())
    }

    override fun close() = out.close()
}
