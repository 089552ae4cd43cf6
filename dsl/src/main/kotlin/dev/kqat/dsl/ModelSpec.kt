package dev.kqat.dsl

import dev.kqat.runtime.models.EfficientNetLite0
import dev.kqat.runtime.models.MobileNetV2
import dev.kqat.runtime.models.MobileNetV3
import dev.kqat.runtime.models.Model
import dev.kqat.runtime.models.ResNet18
import dev.kqat.runtime.models.SwinTransformer
import dev.kqat.runtime.models.TinyMbv2
import dev.kqat.runtime.models.VisionTransformer
import dev.kqat.runtime.nn.Layers
import kotlinx.serialization.SerialName
import kotlinx.serialization.Serializable
import kotlinx.serialization.SerializationException
import kotlinx.serialization.descriptors.elementNames
import kotlinx.serialization.json.JsonElement
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.JsonTransformingSerializer
import kotlinx.serialization.json.jsonObject
import kotlinx.serialization.json.jsonPrimitive

/** Image height, width, channels and class count of a dataset. */
data class DataShape(val height: Int, val width: Int, val channels: Int, val classes: Int)

/**
 * The model zoo as settings: one record per architecture, holding only the settings that
 * architecture takes, and the factory of its runtime [Model]. The sealed family is the registry:
 * its serial names (`"type"` in `experiment.json`) are the architecture names.
 */
@Serializable
sealed interface ModelSpec {
    /** Number of classes; null: the dataset's. */
    val classes: Int?

    fun withClasses(classes: Int?): ModelSpec

    /** The runtime model for images of [shape] (its class count unless [classes] is set). */
    fun build(shape: DataShape): Model

    /** What is wrong with these settings, by field name below `model`; empty when they are valid. */
    fun problems(): Map<String, String> = buildMap {
        classes?.let { if (it < 2) put("classes", "needs at least 2 classes, got $it") }
        if (this@ModelSpec is Scalable && !(widthMultiplier > 0)) put("widthMultiplier", "must be > 0, got $widthMultiplier")
    }

    /** Architectures with a width multiplier. */
    sealed interface Scalable : ModelSpec {
        val widthMultiplier: Double
    }

    /** The reference task's 86,634-parameter MobileNetV2 (benchmark.md). */
    @Serializable @SerialName("tiny-mbv2")
    data class TinyMbv2Spec(override val classes: Int? = null) : ModelSpec {
        override fun withClasses(classes: Int?) = copy(classes = classes)
        override fun build(shape: DataShape) =
            TinyMbv2(classes ?: shape.classes, intArrayOf(shape.height, shape.width, shape.channels))
    }

    /** MobileNetV2 in the ImageNet layout; [bnEpsilon] null: 1e-5 (Keras weights want 1e-3). */
    @Serializable @SerialName("mobilenet-v2")
    data class MobileNetV2Spec(
        override val widthMultiplier: Double = 1.0,
        val bnEpsilon: Double? = null,
        override val classes: Int? = null,
    ) : Scalable {
        override fun withClasses(classes: Int?) = copy(classes = classes)
        override fun build(shape: DataShape) = MobileNetV2(
            widthMultiplier, classes ?: shape.classes, shape.height, shape.channels,
            (bnEpsilon ?: Layers.BN_EPSILON.toDouble()).toFloat(),
        )

        override fun problems() = super.problems() + buildMap {
            bnEpsilon?.let { if (!(it > 0.0 && it < 1.0)) put("bnEpsilon", "must be in (0, 1), got $it") }
        }
    }

    /** MobileNetV3-Small (squeeze-excite, hard-swish, BN ε 1e-3 as torchvision and Keras). */
    @Serializable @SerialName("mobilenet-v3-small")
    data class MobileNetV3SmallSpec(override val widthMultiplier: Double = 1.0, override val classes: Int? = null) : Scalable {
        override fun withClasses(classes: Int?) = copy(classes = classes)
        override fun build(shape: DataShape) =
            MobileNetV3.small(widthMultiplier, classes ?: shape.classes, shape.height, shape.channels)
    }

    @Serializable @SerialName("mobilenet-v3-large")
    data class MobileNetV3LargeSpec(override val widthMultiplier: Double = 1.0, override val classes: Int? = null) : Scalable {
        override fun withClasses(classes: Int?) = copy(classes = classes)
        override fun build(shape: DataShape) =
            MobileNetV3.large(widthMultiplier, classes ?: shape.classes, shape.height, shape.channels)
    }

    /** EfficientNet-lite0 as timm's `efficientnet_lite0` (no width multiplier). */
    @Serializable @SerialName("efficientnet-lite0")
    data class EfficientNetLite0Spec(override val classes: Int? = null) : ModelSpec {
        override fun withClasses(classes: Int?) = copy(classes = classes)
        override fun build(shape: DataShape) = EfficientNetLite0(classes ?: shape.classes, shape.height, shape.channels)
    }

    @Serializable @SerialName("resnet18")
    data class ResNet18Spec(override val classes: Int? = null) : ModelSpec {
        override fun withClasses(classes: Int?) = copy(classes = classes)
        override fun build(shape: DataShape) = ResNet18(classes ?: shape.classes, shape.height, shape.channels)
    }

    /** Vision transformers: their one setting besides the class count is the stochastic-depth rate. */
    sealed interface Transformer : ModelSpec {
        /** Stochastic-depth rate of the last block (rising linearly from 0 at the first). */
        val dropPath: Double

        override fun problems() = buildMap {
            putAll(super.problems())
            if (!(dropPath >= 0.0 && dropPath < 1.0)) put("dropPath", "must be in [0, 1), got $dropPath")
        }
    }

    /** ViT / DeiT layouts ([VisionTransformer]). */
    sealed interface Vit : Transformer {
        val config: VisionTransformer.Config

        override fun build(shape: DataShape): Model =
            VisionTransformer(architecture, config, classes ?: shape.classes, intArrayOf(shape.height, shape.width, shape.channels))
    }

    /** DeiT-Tiny (patch 16, width 192, 12 blocks, 3 heads; VVTQ trains it with drop-path 0.1). */
    @Serializable @SerialName("deit-tiny")
    data class DeitTinySpec(override val dropPath: Double = 0.1, override val classes: Int? = null) : Vit {
        override val config get() = VisionTransformer.Config.deitTiny(dropPath)
        override fun withClasses(classes: Int?) = copy(classes = classes)
    }

    /** DeiT-Small (patch 16, width 384, 12 blocks, 6 heads). */
    @Serializable @SerialName("deit-small")
    data class DeitSmallSpec(override val dropPath: Double = 0.1, override val classes: Int? = null) : Vit {
        override val config get() = VisionTransformer.Config.deitSmall(dropPath)
        override fun withClasses(classes: Int?) = copy(classes = classes)
    }

    /** The Fashion-MNIST reference ViT (patch 4, width 64, 3 blocks of 4 heads; docs/benchmarks.md). */
    @Serializable @SerialName("tiny-vit")
    data class TinyVitSpec(override val dropPath: Double = 0.0, override val classes: Int? = null) : Vit {
        override val config get() = VisionTransformer.Config.tiny(dropPath)
        override fun withClasses(classes: Int?) = copy(classes = classes)
    }

    /** Swin-T (patch 4, width 96, depths 2-2-6-2, heads 3-6-12-24, window 7; timm's default drop-path 0.2). */
    @Serializable @SerialName("swin-tiny")
    data class SwinTinySpec(override val dropPath: Double = 0.2, override val classes: Int? = null) : Transformer {
        override fun withClasses(classes: Int?) = copy(classes = classes)
        override fun build(shape: DataShape): Model = SwinTransformer(
            architecture, SwinTransformer.Config.tiny(dropPath), classes ?: shape.classes, intArrayOf(shape.height, shape.width, shape.channels))
    }

    companion object {
        /** The architecture names, as the registry (the sealed family's serial names) holds them. */
        val architectures: List<String> by lazy {
            serializer().descriptor.getElementDescriptor(1).elementNames.toList()
        }
    }
}

/** The architecture name of this model, e.g. `tiny-mbv2`. */
val ModelSpec.architecture: String
    get() = ExperimentJson.encodeToJsonElement(ModelSpec.serializer(), this).jsonObject[RecordJson.DISCRIMINATOR]!!.jsonPrimitive.content

/**
 * [ModelSpec] in `experiment.json`: an unknown architecture is named with the known ones, and files
 * written before the model family (`"architecture": "tiny-mbv2"`) still read.
 */
object ModelSpecSerializer : JsonTransformingSerializer<ModelSpec>(ModelSpec.serializer()) {
    override fun transformDeserialize(element: JsonElement): JsonElement {
        val obj = element as? JsonObject ?: return element
        val renamed = if (RecordJson.DISCRIMINATOR !in obj && "architecture" in obj) {
            JsonObject(obj - "architecture" + (RecordJson.DISCRIMINATOR to obj.getValue("architecture")))
        } else {
            obj
        }
        val type = (renamed[RecordJson.DISCRIMINATOR] as? JsonPrimitive)?.content
        if (type !in ModelSpec.architectures) {
            throw SerializationException("model.type: unknown '$type'; known: ${ModelSpec.architectures.joinToString()}")
        }
        return renamed
    }
}
