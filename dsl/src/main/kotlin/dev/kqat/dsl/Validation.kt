package dev.kqat.dsl

import dev.kqat.runtime.io.KerasH5Weights
import dev.kqat.runtime.models.ModelInspector
import dev.kqat.runtime.io.SafetensorsFile
import dev.kqat.runtime.quant.QuantizationPolicy
import dev.kqat.runtime.quant.QuantMap
import dev.kqat.runtime.train.PhasePlan
import dev.kqat.runtime.distill.SoftLabelFile
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
        // Bounds of the runtime's settings records live in the records (Settings.problems); this adds the field path.
        fun nested(field: String, problems: Map<String, String>) {
            for ((name, message) in problems) problem("$field.$name", message)
        }
        nested("device", e.device.problems())
        checkData(e.data, ::problem)
        val layerNames = checkModel(e, ::problem)
        e.pretrain?.let { checkPhase("pretrain", it, ::problem) }
        e.qat?.let { checkPhase("qat", it, ::problem) }
        if (e.qat?.cacheKey != null) problem("qat.cacheKey", "only pre-training results are cached")
        e.pretrain?.cacheKey?.let {
            if (!cacheKeyPattern.matches(it)) problem("pretrain.cacheKey", "use letters, digits, '.', '_' or '-', got '$it'")
        }
        if (e.pretrain == null && e.qat == null && !e.ptq && e.mixedPrecision == null) {
            problem("pretrain", "nothing to run: declare pretrain { }, ptq() and/or qat { }, or mixedPrecision { }")
        }
        e.mixedPrecision?.let { mp ->
            MixedPrecisionChecks.supernet(mp, ::problem)
            if (e.quantization != null) {
                problem("mixedPrecision", "a supernet trains every bit-width: drop quantize { } here and fine-tune a " +
                    "found configuration in another script with quantize { fromSearch(\"RUN/search.json#N\") }")
            }
            if (e.distillation != null) problem("distillation", "the supernet distils in place from its max subnet; drop distill { }")
            if (e.pretrain == null && e.initFrom == null) {
                problem("mixedPrecision", "a supernet starts from an FP32 network: add pretrain { } or initFrom = a checkpoint")
            }
            e.initFrom?.let { if (SafetensorsFile.isSafetensors(Path.of(it))) {
                problem("initFrom", "a supernet starts from a kqat checkpoint or Keras .h5 weights of a CNN, not timm .safetensors")
            } }
        }
        e.search?.let {
            MixedPrecisionChecks.search(it, ::problem)
            if (e.mixedPrecision == null) problem("search", "search { } needs a mixedPrecision { } supernet to search in")
        }
        if (e.qat != null && e.quantization == null) problem("quantization", "qat { } needs a quantize { } block")
        if (e.ptq && e.quantization == null) problem("quantization", "ptq() needs a quantize { } block")
        if (e.quantization != null && e.qat == null && !e.ptq) {
            problem("qat", "quantize { } is set but there is no qat { } or ptq() phase")
        }
        e.quantization?.let {
            nested("quantization", it.problems())
            checkLayerNames(it, layerNames, ::problem)
            if (it.map() == QuantMap.VVTQ && e.model !is ModelSpec.Transformer) {
                problem("quantization.map", "the VVTQ map quantizes transformer attention and MLPs: use a ViT, DeiT or Swin model")
            }
        }
        e.oscillations?.let {
            if (e.qat == null) problem("oscillations", "oscillation control acts during QAT: add qat { } and quantize { }")
            nested("oscillations", it.problems())
        }
        // A phase plan's bounds are PhasePlan's; the batch size and BN re-estimation batches come from these fields.
        val planFields = mapOf("batchSize" to "data.batchSize", "bnReestimationBatches" to "evaluation.bnReestimationBatches")
        for ((field, message) in PhasePlan.problems(1, e.data.batchSize, e.evaluation.bnReestimationBatches)) {
            problem(planFields.getValue(field), message)
        }
        e.distillation?.let { checkDistillation(e, it, ::problem) }
        e.initFrom?.let {
            val p = Path.of(it)
            if (KerasH5Weights.isH5(p)) {
                if (!Files.isRegularFile(p)) problem("initFrom", "Keras weights file not found: $it")
            } else if (SafetensorsFile.isSafetensors(p)) {
                if (!Files.isRegularFile(p)) problem("initFrom", "safetensors weights file not found: $it")
                if (e.model !is ModelSpec.Transformer) problem("initFrom", "safetensors files are read as timm ViT/DeiT/Swin checkpoints: the model must be a vision transformer")
            } else if (!Files.isDirectory(p)) {
                problem("initFrom", "checkpoint folder not found: $it (or give a Keras .h5 or timm .safetensors weights file)")
            }
        }
        return out
    }

    private fun checkData(d: DataSpec, problem: (String, String) -> Unit) {
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

    private fun checkDistillation(e: Experiment, d: DistillationSpec, problem: (String, String) -> Unit) {
        if (e.qat == null) problem("distillation", "distillation acts during QAT: add qat { } and quantize { }")
        if (d.softLabels != null) {
            checkSoftLabels(e, d, problem)
            return
        }
        val checkpoint = d.teacherCheckpoint
        if (checkpoint != null) {
            if (!Files.isDirectory(Path.of(checkpoint))) problem("distillation.teacherCheckpoint", "checkpoint folder not found: $checkpoint")
        } else if (e.pretrain == null && e.initFrom == null) {
            problem("distillation.teacherCheckpoint",
                "teacher() takes the FP32 weights QAT starts from: declare pretrain { } or initFrom, or name a checkpoint")
        }
        val model = d.teacherModel ?: return
        val bad = model.problems()
        for ((field, message) in bad) problem("distillation.teacherModel.$field", message)
        if (bad.isEmpty()) {
            try {
                ModelInspector.inspect(model.build(RuntimeMapping.dataShape(e.data.dataset)))
            } catch (x: IllegalArgumentException) {
                problem("distillation.teacherModel", x.message ?: x.toString())
            }
        }
    }

    private fun checkSoftLabels(e: Experiment, d: DistillationSpec, problem: (String, String) -> Unit) {
        if (d.teacherCheckpoint != null || d.teacherModel != null) {
            problem("distillation", "a teacher or stored soft labels, not both")
        }
        if (d.crops < 1) problem("distillation.crops", "must be >= 1, got ${d.crops}")
        val header = try {
            SoftLabelFile.open(Path.of(d.softLabels!!)).use { it.header() }
        } catch (x: RuntimeException) {
            problem("distillation.softLabels", x.message ?: x.toString())
            return
        }
        if (d.crops > header.crops()) {
            problem("distillation.crops", "${d.crops} crops per image asked, ${d.softLabels} stores ${header.crops()}")
        }
    }

    private fun checkModel(e: Experiment, problem: (String, String) -> Unit): List<String>? {
        val bad = e.model.problems()
        for ((field, message) in bad) problem("model.$field", message)
        if (bad.isNotEmpty()) return null
        return try {
            RuntimeMapping.layerNames(e)
        } catch (x: IllegalArgumentException) {
            // The architecture does not fit the data (e.g. an image size that is no multiple of the patch).
            problem("model", x.message ?: x.toString())
            null
        } catch (x: RuntimeException) {
            null // the build reports it with its context
        }
    }

    private fun checkPhase(name: String, p: PhaseSpec, problem: (String, String) -> Unit) {
        PhasePlan.problems(p.epochs, 1, 0)["epochs"]?.let { problem("$name.epochs", it) }
        if (p.labelSmoothing < 0 || p.labelSmoothing >= 1) problem("$name.labelSmoothing", "must be in [0, 1), got ${p.labelSmoothing}")
        for ((field, message) in p.optimizer.problems()) problem("$name.optimizer.$field", message)
        for ((field, message) in p.quantizerOptimizer.problems()) problem("$name.quantizerOptimizer.$field", message)
    }

    private fun checkLayerNames(q: QuantizationPolicy, layers: List<String>?, problem: (String, String) -> Unit) {
        if (layers == null) return
        for (name in q.layers().keys) {
            if (name !in layers) {
                val near = layers.filter { it.contains(name) || name.contains(it) }.take(5)
                problem("quantization.layers[$name]", "no layer is called '$name'" +
                    if (near.isNotEmpty()) "; similar: ${near.joinToString()}" else "; layers: ${layers.take(8).joinToString()}, …")
            }
        }
    }
}
