@file:UseSerializers(OptimizerSerializer::class)

package dev.kqat.dsl

import dev.kqat.runtime.mixed.EvolutionSearch
import dev.kqat.runtime.mixed.GreedySearch
import dev.kqat.runtime.mixed.RandomSearch
import dev.kqat.runtime.quant.BitRange
import dev.kqat.runtime.quant.MixedPrecisionPolicy
import dev.kqat.runtime.schedule.Schedule
import dev.kqat.runtime.train.OptimizerConfig
import dev.kqat.runtime.train.SupernetGraph
import dev.kqat.runtime.train.SupernetTrainer
import kotlinx.serialization.Serializable
import kotlinx.serialization.UseSerializers

/**
 * RFQuant's supernet phase (algorithms.md §2): one set of weights trained for every per-layer
 * bit-width configuration at once, from the FP32 network ([Experiment.initFrom] or this run's
 * pre-training). Defaults are the reference's (§2.7, §2.11).
 */
@Serializable
data class SupernetSpec(
    val epochs: Int = 1,
    /** Network weights: SGD, Nesterov, momentum 0.9, decay 2.5e-5 on convolution kernels only. */
    val optimizer: OptimizerConfig = OptimizerConfig.sgd(Schedule.Cosine(0.04, 1e-5, 0.0), 0.9, 2.5e-5, true),
    /** Step sizes: Adam 1e-5, cosine to 0. */
    val quantizerOptimizer: OptimizerConfig = OptimizerConfig.adam(Schedule.Cosine(1e-5, 0.0, 0.0), 0.0),
    val labelSmoothing: Double = 0.0,
    /** Candidate bit-widths of inner layers, highest first and consecutive (reference 6 downTo 2). */
    val candidates: List<Int> = listOf(6, 5, 4, 3, 2),
    /** Lowest bit-width of depth-wise layers. */
    val depthwiseLowest: Int = 3,
    /** Bits of the first and last layers (not searched). */
    val fixedBits: Int = 8,
    /** Random subnets per step besides the max one (K). */
    val randomSubnets: Int = SupernetGraph.Spec.DEFAULT.randomSubnets(),
    /** Weight of the information-distortion mitigation loss; 0: off. */
    val idmWeight: Double = SupernetGraph.Spec.DEFAULT.idmWeight(),
    /** Every gradient element is clipped to ± this. */
    val gradientClip: Double = SupernetGraph.Spec.DEFAULT.clip(),
    /** Decay of the model's moving average that evaluation and search use; 0: none. */
    val emaDecay: Double = 0.9997,
    /** Final weight of the random subnets' QE loss, a cosine from 0 (§2.5); 0: off. */
    val qeWeight: Double = SupernetGraph.Spec.DEFAULT.qeWeight(),
    /** Share of training after which the QE loss starts (the reference's epoch 40 of 150). */
    val qeStart: Double = SupernetGraph.Spec.DEFAULT.qeStart(),
    /**
     * Weight decay of the in-range weights of layers a random subnet drew at 2 bits (§2.5's adaptive
     * region; reference 0, i.e. none); the optimizer's decay elsewhere. Equal to it: no special region.
     */
    val adaptiveRegionDecay: Double = 0.0,
    /** The bit-width scheduler (§2.6). */
    val bitScheduler: Boolean = true,
    /** Training batches that initialise the step sizes. */
    val calibrationBatches: Int = 1,
    /** Training batches of the BN calibration of every evaluated configuration (§2.8). */
    val bnCalibrationBatches: Int = SupernetTrainer.DEFAULT_BN_CALIBRATION_BATCHES,
    /** Uniform subnets evaluated at the end of the phase. */
    val evaluateUniform: List<Int> = listOf(2, 3, 4, 5, 6),
) {
    /** The quantization policy of the supernet. */
    fun policy(): MixedPrecisionPolicy =
        MixedPrecisionPolicy(BitRange(candidates.min(), candidates.max()), depthwiseLowest, fixedBits)

    fun graphSpec(): SupernetGraph.Spec = SupernetGraph.Spec(randomSubnets, idmWeight, gradientClip, emaDecay, qeWeight, qeStart,
        adaptiveRegionDecay - optimizer.weightDecay())
}

/**
 * RFQuant's retraining-free search after the supernet phase (§2.10): for each budget the greedy
 * search's configuration, BN-calibrated and evaluated, into `search.json`. Budgets are
 * `uniform:4` (the cost of the uniform 4-bit subnet) or a number (GBitOPs, or MB with [metric] `size`).
 */
@Serializable
data class SearchSpec(
    val budgets: List<String> = listOf("uniform:4"),
    /** `bitops` (§2.9, the reference's) or `size`. */
    val metric: String = "bitops",
    /** Every layer's bits at the start of the search (reference 5). */
    val startBits: Int = 5,
    /** Images of the fresh training batch each greedy step scores on. */
    val batchSize: Int = 256,
    /** Greedy steps after which a budget counts as not reached. */
    val maxSteps: Int = 200,
    /**
     * `greedy` (§2.10, the reference's default), `random` (its alternative: [samples] scored on one batch)
     * or `evolution` (its other alternative, [evolution]'s settings, scored on one batch).
     */
    val method: String = "greedy",
    /** Random search: configurations within [tolerance] of the budget scored (reference 1,000). */
    val samples: Int = 1000,
    /** Random and evolutionary search: the best ones kept, each BN-calibrated and evaluated (reference 30). */
    val keep: Int = 30,
    /**
     * Random search: accepted cost distance from the budget, a share of it (reference ±0.1 G at 5.58 G);
     * evolutionary search: feasible costs lie in [budget·(1 − tolerance), budget].
     */
    val tolerance: Double = RandomSearch.Settings.REFERENCE_TOLERANCE,
    /**
     * Greedy search: a layer at the floor gets no moves. Off (the reference's), its up move is scored
     * and, when it wins, the step changes nothing; where it keeps winning the search stalls.
     */
    val freezeAtFloor: Boolean = false,
    /**
     * Greedy search: once under the budget, go on raising the layer whose up move errs least on a fresh
     * batch while one still fits. Off (the reference's), the search stops at the first configuration under it.
     */
    val fillBudget: Boolean = false,
    /**
     * Greedy search: each budget's search starts with every layer at that budget's uniform level (the
     * lowest uniform bit-width whose cost reaches it) instead of [startBits]; not the reference's.
     */
    val startAtLevel: Boolean = false,
    /** What configurations are scored by on a batch: `top1` (the reference's error) or `loss` (mean cross-entropy). */
    val score: String = "top1",
    val evolution: EvolutionSpec = EvolutionSpec(),
    /**
     * BN calibrations each searched configuration and every uniform subnet are evaluated over (`top1_over_draws`)
     * and compared over (`vs_uniform`'s mean difference); 1, the reference's, takes one calibration only.
     */
    val bnDraws: Int = 1,
) {
    /** Each bad field (`search.<field>`) with its problem; empty for a search that can run. */
    fun problems(): List<Pair<String, String>> = buildList { MixedPrecisionChecks.search(this@SearchSpec) { f, m -> add(f to m) } }
}

/** The evolutionary search's settings (§2.10; the reference's defaults). */
@Serializable
data class EvolutionSpec(
    val population: Int = 50,
    val parents: Int = 10,
    val mutations: Int = 25,
    val crossovers: Int = 25,
    val generations: Int = 20,
    val mutationProbability: Double = 0.2,
    /** Candidates below this many bits are left out (the reference drops 2 bits). */
    val floor: Int = 3,
)

@QatDsl
class MixedPrecisionBuilder internal constructor(start: SupernetSpec) {
    var epochs: Int = start.epochs
    var optimizer: OptimizerConfig = start.optimizer
    var quantizerOptimizer: OptimizerConfig = start.quantizerOptimizer
    var labelSmoothing: Double = start.labelSmoothing
    /** Random subnets per step besides the max one (K, reference 3). */
    var randomSubnets: Int = start.randomSubnets
    /** Every gradient element is clipped to ± this (reference 1). */
    var gradientClip: Double = start.gradientClip
    /** Training batches of each configuration's BN calibration (reference floor(7000/128)+1 = 55). */
    var bnCalibrationBatches: Int = start.bnCalibrationBatches
    /** Training batches that initialise the step sizes. */
    var calibrationBatches: Int = start.calibrationBatches
    /** Uniform subnets evaluated at the end of the phase, e.g. `listOf(2, 3, 4, 5, 6)`. */
    var evaluateUniform: List<Int> = start.evaluateUniform
    /** Lowest bit-width of depth-wise layers (reference 3). */
    var depthwiseLowest: Int = start.depthwiseLowest
    /** Bits of the first and last layers, which are not searched (reference 8). */
    var fixedBits: Int = start.fixedBits
    private var candidates = start.candidates
    private var idmWeight = start.idmWeight
    private var emaDecay = start.emaDecay
    private var bitScheduler = start.bitScheduler
    private var qeWeight = start.qeWeight
    private var qeStart = start.qeStart
    private var adaptiveRegionDecay = start.adaptiveRegionDecay

    /** Candidate bit-widths of inner layers, e.g. `candidates(6 downTo 2)`. */
    fun candidates(bits: IntProgression) {
        candidates = bits.toList()
    }

    /** Information-distortion mitigation at [weight] (reference 0.01); `idm(0.0)` turns it off. */
    fun idm(weight: Double = 0.01) {
        idmWeight = weight
    }

    /** The bit-width scheduler (§2.6); `bitScheduler(false)` samples every candidate all along. */
    fun bitScheduler(enabled: Boolean = true) {
        bitScheduler = enabled
    }

    /**
     * The QE loss of the random subnets (§2.5): its weight rises by a cosine from 0 at [start] (share of
     * training; the reference's epoch 40 of 150) to [weight] at the end; `qeLoss(0.0)` turns it off.
     */
    fun qeLoss(weight: Double = 0.1, start: Double = 40.0 / 150) {
        qeWeight = weight
        qeStart = start
    }

    /**
     * Weight decay of the in-range weights (within the 2-bit grid's clip range) of layers a random subnet
     * drew at 2 bits (§2.5; reference 0: none there); the optimizer's weight decay applies elsewhere.
     */
    fun adaptiveRegionDecay(decay: Double = 0.0) {
        adaptiveRegionDecay = decay
    }

    /**
     * The model's moving average that evaluation and search use (reference 0.9997); `ema(0.0)`: none.
     * After n steps the starting weights still weigh decay^n in it: a short run needs a smaller decay
     * (0.9997 over 1,000 steps keeps 74 % of the start; 0.99 keeps 0.004 %).
     */
    fun ema(decay: Double = 0.9997) {
        emaDecay = decay
    }

    internal fun build() = SupernetSpec(
        epochs = epochs, optimizer = optimizer, quantizerOptimizer = quantizerOptimizer, labelSmoothing = labelSmoothing,
        candidates = candidates, depthwiseLowest = depthwiseLowest, fixedBits = fixedBits, randomSubnets = randomSubnets,
        idmWeight = idmWeight, gradientClip = gradientClip, emaDecay = emaDecay, qeWeight = qeWeight, qeStart = qeStart,
        adaptiveRegionDecay = adaptiveRegionDecay, bitScheduler = bitScheduler, calibrationBatches = calibrationBatches, bnCalibrationBatches = bnCalibrationBatches,
        evaluateUniform = evaluateUniform,
    )
}

@QatDsl
class SearchBuilder internal constructor(start: SearchSpec) {
    private var budgets = start.budgets
    private var metric = start.metric
    var startBits: Int = start.startBits
    var batchSize: Int = start.batchSize
    var maxSteps: Int = start.maxSteps
    private var method = start.method
    private var samples = start.samples
    private var keep = start.keep
    private var evolution = start.evolution
    private var tolerance = start.tolerance
    /**
     * Greedy search: a layer at the floor (2 bits, 3 at budgets of 4 bits and up) gets no moves, so every
     * step changes a layer. Off, as the reference: a layer at the floor still has its up move scored, and
     * a step whose winner that is changes nothing (low budgets can stall there).
     */
    var freezeAtFloor: Boolean = start.freezeAtFloor
    /**
     * Greedy search: once under the budget, spend what the last move freed: each further step raises the
     * layer (weights or inputs) whose up move errs least on its batch, while one still fits under the
     * budget. Off, as the reference: the search stops at the first configuration under the budget.
     */
    var fillBudget: Boolean = start.fillBudget
    /**
     * Greedy search: start each budget's search at its uniform level (the lowest uniform bit-width whose cost
     * reaches the budget: 3 for `uniform(3)`, 4 for a budget between the 3- and 4-bit subnets' costs) instead
     * of [startBits], so that it descends from the uniform subnet at or just above the budget. Off, as the
     * reference: every budget starts at [startBits].
     */
    var startAtLevel: Boolean = start.startAtLevel
    /**
     * What a configuration is scored by on the search's batch: `"top1"` (the reference's top-1 error) or
     * `"loss"` (mean cross-entropy: finer-grained than top-1 on a small batch; not the reference's).
     */
    var score: String = start.score
    /**
     * Evaluate each searched configuration and every uniform subnet over this many BN calibrations, each on
     * its own training batches (`top1_over_draws`; uniform subnets ranked and the Pareto plot drawn by their
     * mean), and compare each searched one with its uniform subnet over them (`vs_uniform`: mean difference
     * and its standard error). A low-bit subnet's top-1 moves by tenths of a point with its calibration
     * batches, as much as configurations differ; 1 (the reference's) takes one calibration each. Each extra
     * draw costs one evaluation per entry and uniform subnet.
     */
    var bnDraws: Int = start.bnDraws

    /**
     * The random search instead of the greedy one (§2.10's alternative): [samples] configurations within
     * ±[tolerance] (a share) of each budget, scored on one batch of [batchSize]; the [keep] best are
     * BN-calibrated and evaluated (each one a full evaluation: keep few on a small machine).
     */
    fun random(samples: Int = 1000, keep: Int = 30, tolerance: Double = RandomSearch.Settings.REFERENCE_TOLERANCE) {
        method = "random"
        this.samples = samples
        this.keep = keep
        this.tolerance = tolerance
    }

    /**
     * The evolutionary search instead of the greedy one (§2.10's other alternative): a [population] of
     * configurations costing within [budget·(1 − [tolerance]), budget], for [generations] generations the
     * best [parents] so far breed [mutations] mutants (each layer's bits redrawn with [mutationProbability])
     * and [crossovers] children, topped up at random; candidates under [floor] bits left out. Fitness is
     * the score on one training batch of [batchSize] (the reference's, a BN-calibrated validation accuracy
     * per candidate, would take hours on a small machine); the [keep] best are BN-calibrated and evaluated.
     */
    fun evolution(population: Int = 50, parents: Int = 10, mutations: Int = 25, crossovers: Int = 25, generations: Int = 20,
                  mutationProbability: Double = 0.2, floor: Int = 3, keep: Int = 3,
                  tolerance: Double = RandomSearch.Settings.REFERENCE_TOLERANCE) {
        method = "evolution"
        evolution = EvolutionSpec(population, parents, mutations, crossovers, generations, mutationProbability, floor)
        this.keep = keep
        this.tolerance = tolerance
    }

    /** BitOPs budgets, e.g. `bitops(uniform(3), uniform(4), 0.02)` (numbers in GBitOPs). */
    fun bitops(vararg budgets: Budget) {
        metric = "bitops"
        this.budgets = budgets.map { it.text }
    }

    /** Weight-size budgets, e.g. `size(uniform(4))` (numbers in MB). */
    fun size(vararg budgets: Budget) {
        metric = "size"
        this.budgets = budgets.map { it.text }
    }

    /** The cost of the uniform [bits]-bit subnet (first and last layers at their fixed bits). */
    fun uniform(bits: Int) = Budget("uniform:$bits")

    internal fun build() = SearchSpec(budgets, metric, startBits, batchSize, maxSteps, method, samples, keep, tolerance, freezeAtFloor, fillBudget, startAtLevel, score, evolution, bnDraws)
}

/** A search budget as `search.json` and the command line write it: `uniform:4` or a number. */
class Budget(val text: String) {
    companion object {
        private val uniform = Regex("uniform:(\\d+)")

        /** The problem with [text] as a budget, or null when it is one. */
        fun problem(text: String): String? {
            val m = uniform.matchEntire(text.trim())
            if (m != null) {
                val bits = m.groupValues[1].toInt()
                return if (bits in 2..8) null else "uniform:$bits: bits must lie in 2..8"
            }
            val v = text.trim().toDoubleOrNull() ?: return "'$text' is not a budget; use uniform:B or a number"
            return if (v > 0 && v.isFinite()) null else "a budget must be > 0, got $text"
        }

        /** The uniform bit-width of `uniform:B`, or null for a number. */
        fun uniformBits(text: String): Int? = uniform.matchEntire(text.trim())?.groupValues?.get(1)?.toInt()
    }
}

/** Bounds of the supernet and search blocks, by field. */
internal object MixedPrecisionChecks {
    fun supernet(s: SupernetSpec, problem: (String, String) -> Unit) {
        val c = s.candidates
        if (c.isEmpty() || c.zipWithNext().any { (a, b) -> a - b != 1 } || c.min() < 2 || c.max() > 8) {
            problem("mixedPrecision.candidates", "must be consecutive bit-widths within 2..8, highest first (e.g. 6 downTo 2), got $c")
        } else {
            for ((field, message) in s.policy().problems()) problem("mixedPrecision.$field", message)
        }
        if (s.epochs < 1) problem("mixedPrecision.epochs", "must be >= 1, got ${s.epochs}")
        for ((field, message) in s.optimizer.problems()) problem("mixedPrecision.optimizer.$field", message)
        for ((field, message) in s.quantizerOptimizer.problems()) problem("mixedPrecision.quantizerOptimizer.$field", message)
        if (s.randomSubnets < 0) problem("mixedPrecision.randomSubnets", "must be >= 0, got ${s.randomSubnets}")
        if (s.idmWeight < 0 || !s.idmWeight.isFinite()) problem("mixedPrecision.idmWeight", "must be >= 0, got ${s.idmWeight}")
        if (s.gradientClip <= 0 || !s.gradientClip.isFinite()) {
            problem("mixedPrecision.gradientClip", "must be > 0, got ${s.gradientClip}")
        }
        if (s.emaDecay < 0 || s.emaDecay >= 1) problem("mixedPrecision.emaDecay", "must lie in [0, 1), got ${s.emaDecay}")
        if (s.qeWeight < 0 || !s.qeWeight.isFinite()) problem("mixedPrecision.qeWeight", "must be >= 0, got ${s.qeWeight}")
        if (s.qeStart < 0 || s.qeStart >= 1) problem("mixedPrecision.qeStart", "must lie in [0, 1), got ${s.qeStart}")
        if (s.adaptiveRegionDecay < 0 || !s.adaptiveRegionDecay.isFinite()) {
            problem("mixedPrecision.adaptiveRegionDecay", "must be >= 0, got ${s.adaptiveRegionDecay}")
        }
        if (s.calibrationBatches < 1) problem("mixedPrecision.calibrationBatches", "must be >= 1, got ${s.calibrationBatches}")
        if (s.bnCalibrationBatches < 1) {
            problem("mixedPrecision.bnCalibrationBatches", "must be >= 1, got ${s.bnCalibrationBatches}")
        }
        s.evaluateUniform.filter { it !in 2..8 }.takeIf { it.isNotEmpty() }?.let {
            problem("mixedPrecision.evaluateUniform", "bit-widths must lie in 2..8, got $it")
        }
    }

    fun search(s: SearchSpec, problem: (String, String) -> Unit) {
        if (s.budgets.isEmpty()) problem("search.budgets", "give at least one budget, e.g. bitops(uniform(4))")
        s.budgets.forEach { b -> Budget.problem(b)?.let { problem("search.budgets", it) } }
        if (s.metric !in setOf("bitops", "size")) problem("search.metric", "must be bitops or size, got '${s.metric}'")
        if (s.startBits !in 2..8) problem("search.startBits", "must lie in 2..8, got ${s.startBits}")
        if (s.batchSize < 1) problem("search.batchSize", "must be >= 1, got ${s.batchSize}")
        if (s.maxSteps < 1) problem("search.maxSteps", "must be >= 1, got ${s.maxSteps}")
        if (s.method !in setOf("greedy", "random", "evolution")) problem("search.method", "must be greedy, random or evolution, got '${s.method}'")
        if (s.samples < 1) problem("search.samples", "must be >= 1, got ${s.samples}")
        if (s.method == "evolution") {
            val v = s.evolution
            if (v.population < 2) problem("search.evolution.population", "must be >= 2, got ${v.population}")
            if (v.parents !in 2..maxOf(2, v.population)) problem("search.evolution.parents", "must lie in 2..population (${v.population}), got ${v.parents}")
            if (v.mutations < 0) problem("search.evolution.mutations", "must be >= 0, got ${v.mutations}")
            if (v.crossovers < 0) problem("search.evolution.crossovers", "must be >= 0, got ${v.crossovers}")
            if (v.generations < 1) problem("search.evolution.generations", "must be >= 1, got ${v.generations}")
            if (!(v.mutationProbability > 0 && v.mutationProbability <= 1)) {
                problem("search.evolution.mutationProbability", "must lie in (0, 1], got ${v.mutationProbability}")
            }
            if (v.floor !in 2..8) problem("search.evolution.floor", "must lie in 2..8, got ${v.floor}")
            if (s.keep !in 1..maxOf(1, v.parents)) problem("search.keep", "must lie in 1..parents (${v.parents}), got ${s.keep}")
        } else if (s.keep !in 1..maxOf(1, s.samples)) {
            problem("search.keep", "must lie in 1..samples (${s.samples}), got ${s.keep}")
        }
        if (!(s.tolerance > 0 && s.tolerance < 1)) problem("search.tolerance", "must lie in (0, 1), got ${s.tolerance}")
        if (s.score !in setOf("top1", "loss")) problem("search.score", "must be top1 or loss, got '${s.score}'")
        if (s.bnDraws < 1) problem("search.bnDraws", "must be >= 1, got ${s.bnDraws}")
    }

    /** Settings of the random search; draws are capped at 1,000 per sample to be scored. */
    fun randomSettings(s: SearchSpec) = RandomSearch.Settings(s.samples, s.keep, s.tolerance, 1000L * s.samples)

    /** Settings of the evolutionary search; random draws capped at 10,000 per population member over the whole search. */
    fun evolutionSettings(s: SearchSpec) = s.evolution.let { v ->
        EvolutionSearch.Settings(v.population, v.parents, v.mutations, v.crossovers, v.generations, v.mutationProbability,
            s.tolerance, v.floor, 10_000L * v.population)
    }

    /**
     * Settings of the greedy search at a budget whose uniform level is [level] (closest cost) and whose
     * cost the uniform [reaching]-bit subnet reaches ([GreedySearch.levelReaching]: the start of [SearchSpec.startAtLevel]).
     */
    fun settings(s: SearchSpec, level: Int, reaching: Int) =
        GreedySearch.Settings(if (s.startAtLevel) reaching else s.startBits, level, GreedySearch.floorFor(level), s.maxSteps,
            s.freezeAtFloor, s.fillBudget)
}
