package dev.kqat.dsl

import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.tf.DeviceSetting
import dev.kqat.runtime.train.TrainingSetup

import dev.kqat.runtime.data.Dataset
import dev.kqat.runtime.data.FashionMnist
import dev.kqat.runtime.data.ImageFolderDataset
import dev.kqat.runtime.data.ImageFolderDataset.Transform
import dev.kqat.runtime.data.ImagePipeline
import dev.kqat.runtime.data.InMemoryDataset
import dev.kqat.runtime.data.SyntheticDataset
import dev.kqat.runtime.models.EfficientNetLite0
import dev.kqat.runtime.models.MobileNetV2
import dev.kqat.runtime.models.MobileNetV3
import dev.kqat.runtime.models.Model
import dev.kqat.runtime.models.ModelInspector
import dev.kqat.runtime.models.ResNet18
import dev.kqat.runtime.models.TinyMbv2
import dev.kqat.runtime.nn.Layers
import dev.kqat.runtime.quant.BackwardConvention
import dev.kqat.runtime.quant.InputQuantPolicy
import dev.kqat.runtime.quant.LayerOverride
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.quant.QuantizerSpec
import dev.kqat.runtime.quant.RangeInit
import dev.kqat.runtime.train.OptimizerConfig
import java.nio.file.Path

/** Turns the declarative [Experiment] into runtime objects; the only place the two vocabularies meet. */
object RuntimeMapping {
    val architectures = listOf(
        "tiny-mbv2", "mobilenet-v2", "mobilenet-v3-small", "mobilenet-v3-large", "efficientnet-lite0", "resnet18",
    )

    /** Architectures that take `model.bnEpsilon` (the others keep their own). */
    val bnEpsilonArchitectures = setOf("mobilenet-v2")

    /** Image height, width, channels and class count of the dataset, known without loading it. */
    fun dataShape(d: DatasetSpec): IntArray = when (d) {
        is DatasetSpec.FashionMnist -> intArrayOf(28, 28, 1, 10)
        is DatasetSpec.Synthetic -> intArrayOf(d.height, d.width, d.channels, d.classes)
        is DatasetSpec.ImageFolder ->
            intArrayOf(d.imageSize, d.imageSize, 3, ImageFolderDataset.classNames(Path.of(d.path, d.trainSplit)).size)
    }

    fun model(e: Experiment): Model {
        val (h, w, c, k) = dataShape(e.data.dataset)
        val classes = e.model.classes ?: k
        return when (e.model.architecture) {
            "tiny-mbv2" -> TinyMbv2(classes, intArrayOf(h, w, c))
            "mobilenet-v2" -> MobileNetV2(
                e.model.widthMultiplier, classes, h, c, (e.model.bnEpsilon ?: Layers.BN_EPSILON.toDouble()).toFloat(),
            )
            "mobilenet-v3-small" -> MobileNetV3.small(e.model.widthMultiplier, classes, h, c)
            "mobilenet-v3-large" -> MobileNetV3.large(e.model.widthMultiplier, classes, h, c)
            "efficientnet-lite0" -> EfficientNetLite0(classes, h, c)
            "resnet18" -> ResNet18(classes, h, c)
            else -> throw IllegalArgumentException("model.architecture: unknown '${e.model.architecture}'")
        }
    }

    fun layerNames(e: Experiment): List<String> = ModelInspector.inspect(model(e)).layerNames()

    fun policy(q: QuantizationSpec?): QuantPolicy {
        if (q == null) return QuantPolicy.FLOAT
        val overrides = q.layers.mapValues { (_, o) -> LayerOverride(o.weightBits, o.inputBits, o.floatingPoint) }
        return InputQuantPolicy(q.weights?.let(::quantizer), q.activations?.let(::quantizer), q.firstLastBits, overrides)
    }

    fun quantizer(d: QuantizerDef) = QuantizerSpec(
        d.bits,
        d.perChannel,
        when (d.convention) {
            Convention.ROUND_THEN_CLAMP -> BackwardConvention.ROUND_THEN_CLAMP
            Convention.CLAMP_THEN_ROUND -> BackwardConvention.CLAMP_THEN_ROUND
        },
        d.gradientScaling,
        when (d.init) {
            RangeInitKind.MSE -> RangeInit.MSE
            RangeInitKind.MIN_MAX -> RangeInit.MIN_MAX
        },
        d.candidates,
        d.learnable,
    )

    fun optimizer(o: OptimizerSpec, epochs: Int): OptimizerConfig {
        val kind = when (o.kind) {
            OptimizerKind.SGD -> OptimizerConfig.Kind.SGD
            OptimizerKind.ADAM -> OptimizerConfig.Kind.ADAM
        }
        return OptimizerConfig(kind, o.learningRate.toRuntime(epochs), o.momentum, o.nesterov, o.weightDecay, 0.9, 0.999, 1e-8)
    }

    /** The runtime's device setting; call [deviceProblems] first (its constructor rejects bad values). */
    fun device(d: DeviceSpec): DeviceSetting = DeviceSetting(deviceKind(d), d.index, d.intraOpThreads, d.interOpThreads)

    /** What [DeviceSetting] rejects in [d], by field name under `device` (`index`, `intraOpThreads`, `interOpThreads`). */
    fun deviceProblems(d: DeviceSpec): Map<String, String> =
        DeviceSetting.problems(deviceKind(d), d.index, d.intraOpThreads, d.interOpThreads)

    private fun deviceKind(d: DeviceSpec) = when (d.type) {
        DeviceKind.CPU -> DeviceSetting.Kind.CPU
        DeviceKind.GPU -> DeviceSetting.Kind.GPU
        DeviceKind.AUTO -> DeviceSetting.Kind.AUTO
    }

    /** What a phase's training graph is built from: QAT phases carry the oscillation control. */
    fun setup(e: Experiment, phase: PhaseSpec, quantization: QuantizationSpec?): TrainingSetup {
        val setup = TrainingSetup(
            model(e), policy(quantization), optimizer(phase.optimizer, phase.epochs), optimizer(phase.quantizerOptimizer, phase.epochs),
            phase.labelSmoothing, e.seed,
        ).withDevice(device(e.device))
        return if (quantization == null) setup else setup.withOscillations(e.oscillations?.toRuntime(phase.epochs) ?: OscillationSpec.NONE)
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
