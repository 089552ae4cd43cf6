@file:UseSerializers(OscillationSerializer::class)

package dev.kqat.dsl

import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.oscillation.ToyRegression
import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable
import kotlinx.serialization.UseSerializers
import org.jetbrains.letsPlot.geom.geomHLine
import org.jetbrains.letsPlot.facet.facetGrid
import org.jetbrains.letsPlot.geom.geomLine
import org.jetbrains.letsPlot.geom.geomStep
import org.jetbrains.letsPlot.ggsize
import org.jetbrains.letsPlot.label.labs
import org.jetbrains.letsPlot.letsPlot
import java.nio.file.Files
import java.nio.file.Path

/**
 * The toy regression of algorithms.md §1.12 as a study: the same one-weight problem under several
 * oscillation-control variants, e.g. plain STE, dampening and freezing.
 */
@Serializable
data class ToyStudy(
    val name: String = "toy-regression",
    /** w*, the value to fit. */
    val target: Double = 0.6,
    /** The grid's fixed step s. */
    val gridStep: Double = 1.0,
    val initial: Double = 0.6,
    val learningRate: Double = 0.01,
    val steps: Int = 5000,
    val variants: Map<String, OscillationSpec> = emptyMap(),
)

/** Per variant: the trajectory and its summary, as written to `toy.json`. */
@Serializable
data class ToyOutcome(
    val variant: String,
    /** Integer changes per step over the last 80 % of steps. */
    @SerialName("flips_per_step") val flipsPerStep: Double,
    /** Share of steps with the integer above the decision threshold's lower bin. */
    @SerialName("upper_state_share") val upperStateShare: Double,
    @SerialName("final_frequency") val finalFrequency: Double,
    @SerialName("final_latent") val finalLatent: Double,
    @SerialName("frozen_at_step") val frozenAtStep: Int?,
    val latent: List<Float>,
    val integer: List<Float>,
    val frequency: List<Float>,
)

/**
 * Declares a toy-regression study; `kqat run` runs it and draws the latent weight's trajectory.
 *
 * ```
 * toyRegression {
 *     variant("plain STE") { }
 *     variant("dampening") { dampen(weight = cosine(0.0, 0.8)) }
 *     variant("freezing") { freeze(threshold = constant(0.1), after = 0.0) }
 * }
 * ```
 */
fun toyRegression(name: String = "toy-regression", block: ToyStudyBuilder.() -> Unit): ToyStudy {
    val study = ToyStudyBuilder(name).apply(block).build()
    val problems = buildList {
        if (study.steps < 2) add("steps: must be >= 2, got ${study.steps}")
        if (!(study.gridStep > 0)) add("gridStep: must be > 0, got ${study.gridStep}")
        if (!(study.learningRate > 0)) add("learningRate: must be > 0, got ${study.learningRate}")
        if (study.variants.isEmpty()) add("variants: declare at least one variant(\"name\") { }")
        for ((variant, spec) in study.variants) spec.problems().forEach { (field, message) -> add("variants[$variant].$field: $message") }
    }
    require(problems.isEmpty()) { "the toy study has problems:\n" + problems.joinToString("\n") { "  - $it" } }
    return study
}

@QatDsl
class ToyStudyBuilder internal constructor(var name: String) {
    var target = 0.6
    var gridStep = 1.0
    var initial = 0.6
    var learningRate = 0.01
    var steps = 5000
    private val variants = linkedMapOf<String, OscillationSpec>()

    /** A run of the toy with this oscillation control (tracking is always on). */
    fun variant(name: String, block: OscillationsBuilder.() -> Unit) {
        variants[name] = OscillationsBuilder(OscillationSpec.DEFAULT).apply(block).build()
    }

    internal fun build() = ToyStudy(name, target, gridStep, initial, learningRate, steps, variants.toMap())
}

/**
 * Runs a [ToyStudy] into a directory's `toy.json`; [draw] turns that into
 * `plots/toy-trajectory.png` (latent weight over training) and `plots/toy-integers.png` (the
 * quantized weight the forward pass used, last 100 steps).
 */
object ToyRunner {
    const val RESULT_FILE = "toy.json"

    fun run(study: ToyStudy, dir: Path): List<ToyOutcome> {
        Files.createDirectories(dir)
        val outcomes = study.variants.map { (name, spec) ->
            val t = ToyRegression(study.target, study.gridStep, study.initial, study.learningRate, study.steps,
                spec.forEpochs(1)).run() // one "epoch": the toy has steps only
            val from = study.steps / 5
            ToyOutcome(
                name, t.flipsPerStep(from, study.steps), t.shareAbove(Math.floor(study.target / study.gridStep)),
                t.frequency().last().toDouble(), t.latent().last().toDouble(),
                t.frozen().indexOfFirst { it }.takeIf { it >= 0 },
                t.latent().toList(), t.integer().toList(), t.frequency().toList(),
            )
        }
        AtomicFiles.write(dir.resolve(RESULT_FILE), ExperimentJson.encodeToString(ToyResult.serializer(), ToyResult(study, outcomes)))
        return outcomes
    }

    /** Draws both pictures from `toy.json`. */
    fun draw(dir: Path): List<Path> {
        val result = ExperimentJson.decodeFromString(ToyResult.serializer(), Files.readString(dir.resolve(RESULT_FILE)))
        val study = result.study
        val data = mapOf(
            "step" to result.outcomes.flatMap { o -> o.latent.indices.map { it + 1 } },
            "latent weight" to result.outcomes.flatMap { it.latent },
            "variant" to result.outcomes.flatMap { o -> List(o.latent.size) { o.variant } },
        )
        val s = study.gridStep
        val threshold = (Math.floor(study.target / s) + 0.5) * s
        val figure = letsPlot(data) { x = "step"; y = "latent weight"; color = "variant" } + geomLine() +
            geomHLine(yintercept = threshold, linetype = "dashed") +
            geomHLine(yintercept = study.target, linetype = "dotted") +
            ggsize(900, 450) +
            labs(title = "Toy regression: w* = ${study.target} between grid points (step ${study.gridStep})",
                subtitle = "dashed: decision threshold between bins; dotted: w*")
        val window = 100
        val last = mapOf(
            "step" to result.outcomes.flatMap { o -> (o.integer.size - window until o.integer.size).map { it + 1 } },
            "quantized weight" to result.outcomes.flatMap { o -> o.integer.takeLast(window).map { it * s } },
            "variant" to result.outcomes.flatMap { o -> List(window) { o.variant } },
        )
        val integers = letsPlot(last) { x = "step"; y = "quantized weight"; color = "variant" } + geomStep() +
            facetGrid(y = "variant") + ggsize(900, 150 + 120 * result.outcomes.size) +
            labs(title = "The quantized weight s·round(w/s) over the last $window steps")
        return listOf(
            PngExport.save(figure, dir.resolve("plots"), "toy-trajectory"),
            PngExport.save(integers, dir.resolve("plots"), "toy-integers"),
        )
    }
}

/** `toy.json`: the study and each variant's outcome. */
@Serializable
data class ToyResult(val study: ToyStudy, val outcomes: List<ToyOutcome>)
