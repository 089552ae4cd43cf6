package dev.kqat.dsl

import dev.kqat.runtime.data.Dataset
import dev.kqat.runtime.data.FashionMnist
import dev.kqat.runtime.data.ImageFolderDataset
import dev.kqat.runtime.data.ImageFolderDataset.Transform
import dev.kqat.runtime.data.ImagePipeline
import dev.kqat.runtime.data.SyntheticDataset
import dev.kqat.runtime.models.Model
import dev.kqat.runtime.models.ModelInspector
import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.distill.Distillation
import dev.kqat.runtime.distill.OnlineTeacher
import dev.kqat.runtime.distill.StoredSoftLabels
import dev.kqat.runtime.quant.QuantizationPolicy
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.train.TrainingSetup
import java.nio.file.Path

/**
 * Resolves an [Experiment] into what the runtime runs: the model, data and each phase's
 * [TrainingSetup]. The settings are already the runtime's records; this binds them to a phase
 * (per-epoch schedules take its epoch count) and to the data (class count, image shape).
 */
object RuntimeMapping {
    /** Image height, width, channels and class count of the dataset, known without loading it. */
    fun dataShape(d: DatasetSpec): DataShape = when (d) {
        is DatasetSpec.FashionMnist -> DataShape(28, 28, 1, 10)
        is DatasetSpec.Synthetic -> DataShape(d.height, d.width, d.channels, d.classes)
        is DatasetSpec.ImageFolder ->
            DataShape(d.imageSize, d.imageSize, 3, ImageFolderDataset.classNames(Path.of(d.path, d.trainSplit)).size)
    }

    fun model(e: Experiment): Model = e.model.build(dataShape(e.data.dataset))

    fun layerNames(e: Experiment): List<String> = ModelInspector.inspect(model(e)).layerNames()

    /**
     * What a phase's graph is built from: QAT phases carry the oscillation control and the
     * distillation teacher ([init]: the checkpoint QAT starts from, the default teacher); PTQ (0
     * epochs) trains nothing to control.
     */
    fun setup(e: Experiment, phase: PhaseSpec, quantization: QuantizationPolicy?, init: Path? = null): TrainingSetup {
        val setup = TrainingSetup(
            model(e), quantization ?: QuantPolicy.FLOAT, phase.optimizer.forEpochs(phase.epochs),
            phase.quantizerOptimizer.forEpochs(phase.epochs), phase.labelSmoothing, e.seed,
        ).withDevice(e.device)
        if (quantization == null || phase.epochs == 0) return setup
        val withOscillations = setup.withOscillations((e.oscillations ?: OscillationSpec.NONE).forEpochs(phase.epochs))
        return e.distillation?.let { withOscillations.withDistillation(distillation(e, it, init)) } ?: withOscillations
    }

    /** What a supernet phase's graph is built from (algorithms.md §2). */
    fun supernetSetup(e: Experiment, s: SupernetSpec): TrainingSetup = TrainingSetup(
        model(e), s.policy(), s.optimizer.forEpochs(s.epochs), s.quantizerOptimizer.forEpochs(s.epochs), s.labelSmoothing, e.seed,
    ).withDevice(e.device)

    /**
     * The stored soft labels, or the teacher network and its checkpoint (validation has checked that
     * they exist and fit the data).
     */
    fun distillation(e: Experiment, d: DistillationSpec, init: Path?): Distillation {
        if (d.softLabels != null) return StoredSoftLabels(Path.of(d.softLabels), d.crops, d.decoding)
        val checkpoint = d.teacherCheckpoint?.let(Path::of)
            ?: requireNotNull(init) { "distill.teacherCheckpoint: no checkpoint to take the teacher from" }
        val teacher = (d.teacherModel ?: e.model).build(dataShape(e.data.dataset))
        return OnlineTeacher(teacher, checkpoint)
    }

    /**
     * Loads (train, test) with the experiment's limits applied. Image folders are indexed here and
     * decoded batch by batch; close them (they are [AutoCloseable]) when done.
     */
    fun loadData(e: Experiment): Pair<Dataset, Dataset> {
        val (train, test) = when (val d = e.data.dataset) {
            is DatasetSpec.FashionMnist -> Pair(
                FashionMnist.load(Path.of(d.path), true),
                FashionMnist.load(Path.of(d.path), false),
            )
            is DatasetSpec.Synthetic -> {
                val shape = intArrayOf(d.height, d.width, d.channels)
                Pair(
                    SyntheticDataset.generate(d.trainSize, shape, d.classes, d.noise, e.seed),
                    SyntheticDataset.generate(d.testSize, shape, d.classes, d.noise, e.seed + 1),
                )
            }
            is DatasetSpec.ImageFolder -> return imageFolders(d, e.data)
        }
        return Pair(
            e.data.trainLimit?.let { train.head(it) } ?: train,
            e.data.testLimit?.let { test.head(it) } ?: test,
        )
    }

    private fun imageFolders(d: DatasetSpec.ImageFolder, limits: DataSpec): Pair<Dataset, Dataset> {
        val classes = ImageFolderDataset.classNames(Path.of(d.path, d.trainSplit))
        fun pipeline() = ImagePipeline(d.imageSize, d.resizeSize, d.mean.toFloats(), d.std.toFloats())
        val train = ImageFolderDataset.open(Path.of(d.path, d.trainSplit), classes, Transform.TRAIN_AUGMENT, pipeline())
        val test = ImageFolderDataset.open(Path.of(d.path, d.valSplit), classes, Transform.EVAL_CENTER_CROP, pipeline())
        return Pair(
            limits.trainLimit?.let { train.limit(it) } ?: train,
            limits.testLimit?.let { test.limit(it) } ?: test,
        )
    }

    private fun List<Double>.toFloats() = FloatArray(size) { this[it].toFloat() }
}
