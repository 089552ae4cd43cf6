package dev.kqat.dsl

import dev.kqat.runtime.io.KerasH5Weights
import java.nio.file.Files
import java.nio.file.Path

/** One thing wrong with an experiment: the field path, what is wrong, and where it was written. */
data class Problem(val field: String, val message: String, val location: String? = null) {
    override fun toString() = (location?.let { "$it: " } ?: "") + "$field: $message"
}

/** An experiment that cannot run; [problems] lists every issue found, not just the first. */
class ExperimentValidationException(val problems: List<Problem>) :
    IllegalArgumentException(
        "the experiment has ${problems.size} problem${if (problems.size == 1) "" else "s"}:\n" +
            problems.joinToString("\n") { "  - $it" },
    )

/** Whole-experiment checks, run before any data is loaded or graph built. */
object Validation {
    private val cacheKeyPattern = Regex("[A-Za-z0-9._-]+")

    fun requireValid(e: Experiment) {
        val problems = check(e)
        if (problems.isNotEmpty()) throw ExperimentValidationException(problems)
    }

    fun check(e: Experiment): List<Problem> {
        val out = mutableListOf<Problem>()
        fun problem(field: String, message: String) {
            val block = field.substringBefore('.').substringBefore('[')
            val line = e.sourceLines[block] ?: e.sourceLines["experiment"]
            val where = if (e.sourceFile != null && line != null) "${e.sourceFile}:$line" else null
            out += Problem(field, message, where)
        }
        if (e.name.isBlank()) problem("name", "must not be blank")
        // The bounds are the runtime's (DeviceSetting); only the field path is added here.
        for ((field, message) in RuntimeMapping.deviceProblems(e.device)) problem("device.$field", message)
        checkData(e.data, ::problem)
        val layerNames = checkModel(e, ::problem)
        e.pretrain?.let { checkPhase("pretrain", it, ::problem) }
        e.qat?.let { checkPhase("qat", it, ::problem) }
        if (e.qat?.cacheKey != null) problem("qat.cacheKey", "only pre-training results are cached")
        e.pretrain?.cacheKey?.let {
            if (!cacheKeyPattern.matches(it)) problem("pretrain.cacheKey", "use letters, digits, '.', '_' or '-', got '$it'")
        }
        if (e.pretrain == null && e.qat == null) problem("pretrain", "nothing to train: declare pretrain { } and/or qat { }")
        if (e.qat != null && e.quantization == null) problem("quantization", "qat { } needs a quantize { } block")
        if (e.quantization != null && e.qat == null) problem("qat", "quantize { } is set but there is no qat { } phase")
        e.quantization?.let { checkQuantization(it, layerNames, ::problem) }
        e.oscillations?.let {
            if (e.qat == null) problem("oscillations", "oscillation control acts during QAT: add qat { } and quantize { }")
            checkOscillations(it, ::problem)
        }
        if (e.evaluation.bnReestimationBatches < 0) {
            problem("evaluation.bnReestimationBatches", "must be >= 1 (or 0: off), got ${e.evaluation.bnReestimationBatches}")
        }
        e.initFrom?.let {
            val p = Path.of(it)
            if (KerasH5Weights.isH5(p)) {
                if (!Files.isRegularFile(p)) problem("initFrom", "Keras weights file not found: $it")
            } else if (!Files.isDirectory(p)) {
                problem("initFrom", "checkpoint folder not found: $it (or give a Keras .h5 weights file)")
            }
        }
        return out
    }

    private fun checkData(d: DataSpec, problem: (String, String) -> Unit) {
        if (d.batchSize < 1) problem("data.batchSize", "must be >= 1, got ${d.batchSize}")
        d.trainLimit?.let { if (it < d.batchSize) problem("data.trainLimit", "must hold at least one batch (${d.batchSize}), got $it") }
        d.testLimit?.let { if (it < 1) problem("data.testLimit", "must be >= 1, got $it") }
        when (val ds = d.dataset) {
            is DatasetSpec.FashionMnist -> if (!Files.isDirectory(Path.of(ds.path))) {
                problem("data.dataset.path", "Fashion-MNIST folder not found: ${ds.path} (apt-get install dataset-fashion-mnist)")
            }
            is DatasetSpec.ImageFolder -> {
                for (split in listOf(ds.trainSplit, ds.valSplit)) {
                    val dir = Path.of(ds.path, split)
                    if (!Files.isDirectory(dir)) problem("data.dataset.path", "image folder split not found: $dir (expected $split/<class>/<image>)")
                }
                if (ds.imageSize < 8) problem("data.dataset.imageSize", "must be >= 8, got ${ds.imageSize}")
                if (ds.resizeSize < ds.imageSize) problem("data.dataset.resizeSize", "must be >= imageSize (${ds.imageSize}), got ${ds.resizeSize}")
                if (ds.mean.size != 3) problem("data.dataset.mean", "needs 3 (RGB) values, got ${ds.mean.size}")
                if (ds.std.size != 3 || ds.std.any { it <= 0 }) problem("data.dataset.std", "needs 3 positive (RGB) values, got ${ds.std}")
            }
            is DatasetSpec.Synthetic -> {
                if (ds.trainSize < 1 || ds.testSize < 1) problem("data.dataset", "synthetic sizes must be >= 1")
                if (ds.classes < 2) problem("data.dataset.classes", "needs at least 2 classes, got ${ds.classes}")
                if (ds.height < 1 || ds.width < 1 || ds.channels < 1) problem("data.dataset", "image dimensions must be >= 1")
            }
        }
    }

    private fun checkModel(e: Experiment, problem: (String, String) -> Unit): List<String>? {
        val m = e.model
        if (m.architecture !in RuntimeMapping.architectures) {
            problem("model.architecture", "unknown '${m.architecture}'; known: ${RuntimeMapping.architectures.joinToString()}")
            return null
        }
        if (m.widthMultiplier <= 0) problem("model.widthMultiplier", "must be > 0, got ${m.widthMultiplier}")
        m.classes?.let { if (it < 2) problem("model.classes", "needs at least 2 classes, got $it") }
        m.bnEpsilon?.let {
            if (m.architecture !in RuntimeMapping.bnEpsilonArchitectures) {
                problem("model.bnEpsilon", "'${m.architecture}' keeps its own epsilon; only ${RuntimeMapping.bnEpsilonArchitectures.joinToString()} take one")
            } else if (!(it > 0.0 && it < 1.0)) {
                problem("model.bnEpsilon", "must be in (0, 1), got $it")
            }
        }
        return runCatching { RuntimeMapping.layerNames(e) }.getOrNull()
    }

    private fun checkPhase(name: String, p: PhaseSpec, problem: (String, String) -> Unit) {
        if (p.epochs < 1) problem("$name.epochs", "must be >= 1, got ${p.epochs}")
        if (p.labelSmoothing < 0 || p.labelSmoothing >= 1) problem("$name.labelSmoothing", "must be in [0, 1), got ${p.labelSmoothing}")
        checkOptimizer("$name.optimizer", p.optimizer, problem)
        checkOptimizer("$name.quantizerOptimizer", p.quantizerOptimizer, problem)
    }

    private fun checkOptimizer(field: String, o: OptimizerSpec, problem: (String, String) -> Unit) {
        val rates = o.learningRate.extremes()
        if (rates.any { !it.isFinite() || it < 0 }) problem("$field.learningRate", "must be finite and >= 0, got $rates")
        if (o.momentum < 0 || o.momentum >= 1) problem("$field.momentum", "must be in [0, 1), got ${o.momentum}")
        if (o.weightDecay < 0) problem("$field.weightDecay", "must be >= 0, got ${o.weightDecay}")
        val lr = o.learningRate
        if (lr is ScheduleSpec.Cosine && (lr.delay < 0 || lr.delay >= 1)) problem("$field.learningRate.delay", "must be in [0, 1), got ${lr.delay}")
        if (lr is ScheduleSpec.Warmup && (lr.fraction < 0 || lr.fraction >= 1)) problem("$field.learningRate.fraction", "must be in [0, 1), got ${lr.fraction}")
    }

    private fun checkQuantization(q: QuantizationSpec, layers: List<String>?, problem: (String, String) -> Unit) {
        fun bits(field: String, b: Int?) {
            if (b != null && b !in 2..16) problem(field, "bits must be in 2..16, got $b")
        }
        q.weights?.let { bits("quantization.weights.bits", it.bits); candidates("quantization.weights", it, problem) }
        q.activations?.let {
            bits("quantization.activations.bits", it.bits)
            candidates("quantization.activations", it, problem)
            if (it.perChannel) problem("quantization.activations.perChannel", "activations are quantized per tensor")
        }
        bits("quantization.firstLastBits", q.firstLastBits)
        if (q.calibrationBatches < 1) problem("quantization.calibrationBatches", "must be >= 1, got ${q.calibrationBatches}")
        for ((name, o) in q.layers) {
            bits("quantization.layers[$name].weightBits", o.weightBits)
            bits("quantization.layers[$name].inputBits", o.inputBits)
            if (layers != null && name !in layers) {
                val near = layers.filter { it.contains(name) || name.contains(it) }.take(5)
                problem("quantization.layers[$name]", "no layer is called '$name'" +
                    if (near.isNotEmpty()) "; similar: ${near.joinToString()}" else "; layers: ${layers.take(8).joinToString()}, …")
            }
        }
    }

    private fun checkOscillations(o: OscillationsSpec, problem: (String, String) -> Unit) {
        o.tracking?.let {
            if (!(it.threshold in 0.0..1.0)) problem("oscillations.tracking.threshold", "a frequency: must be in [0, 1], got ${it.threshold}")
            if (it.maxBits !in 2..16) problem("oscillations.tracking.maxBits", "bits must be in 2..16, got ${it.maxBits}")
            if (!(it.momentum > 0 && it.momentum <= 1)) problem("oscillations.tracking.momentum", "must be in (0, 1], got ${it.momentum}")
        }
        o.dampening?.let {
            val weights = it.weight.extremes()
            if (weights.any { w -> !w.isFinite() || w < 0 }) problem("oscillations.dampening.weight", "must be finite and >= 0, got $weights")
            if (!(it.after >= 0 && it.after < 1)) problem("oscillations.dampening.after", "must be in [0, 1), got ${it.after}")
        }
        o.freezing?.let {
            val thresholds = it.threshold.extremes()
            if (thresholds.any { t -> !(t > 0 && t <= 1) }) problem("oscillations.freezing.threshold", "frequencies: must be in (0, 1], got $thresholds")
            if (!(it.after >= 0 && it.after < 1)) problem("oscillations.freezing.after", "must be in [0, 1), got ${it.after}")
        }
    }

    private fun candidates(field: String, d: QuantizerDef, problem: (String, String) -> Unit) {
        if (d.candidates < 1) problem("$field.candidates", "must be >= 1, got ${d.candidates}")
    }
}
