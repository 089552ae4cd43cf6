package dev.kqat.runtime.models

import dev.kqat.runtime.floats
import dev.kqat.runtime.nn.ModelState
import dev.kqat.runtime.nn.NetContext
import dev.kqat.runtime.tf.ParamStore
import dev.kqat.runtime.nn.PassMode
import dev.kqat.runtime.nn.QuantHooks
import dev.kqat.runtime.quant.FakeQuantKernel
import dev.kqat.runtime.quant.QuantPolicy
import dev.kqat.runtime.runGraph
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import org.tensorflow.ndarray.Shape
import kotlin.random.Random

class ModelsSpec : FunSpec({
    // torchvision's and timm's published weight counts at 1000 classes (BN affine included, running statistics not).
    val published = listOf(
        MobileNetV2(1.0, 1000, 224, 3) to 3_504_872L,
        MobileNetV3.small(1.0, 1000, 224, 3) to 2_542_856L,
        MobileNetV3.large(1.0, 1000, 224, 3) to 5_483_032L,
        EfficientNetLite0(1000, 224, 3) to 4_652_008L,
        ResNet18(1000, 224, 3) to 11_689_512L,
        VisionTransformer("deit-tiny", VisionTransformer.Config.deitTiny(0.1), 1000, intArrayOf(224, 224, 3)) to 5_717_416L,
        VisionTransformer("deit-small", VisionTransformer.Config.deitSmall(0.1), 1000, intArrayOf(224, 224, 3)) to 22_050_664L,
        SwinTransformer("swin-tiny", SwinTransformer.Config.tiny(0.2), 1000, intArrayOf(224, 224, 3)) to 28_288_354L,
    )
    for ((model, count) in published) {
        test("${model.name()} has the published $count weights") {
            ModelInspector.inspect(model).trainableParameters() shouldBe count
        }
    }

    test("weight layers: squeeze-excite is two dense layers per SE block, first and last layer are stem and classifier") {
        val small = ModelInspector.inspect(MobileNetV3.small(1.0, 10, 64, 3)).layers()
        small.first().name() shouldBe "stem"
        small.last().name() shouldBe "classifier"
        small.count { it.name().endsWith("/se_reduce") } shouldBe 9
        ModelInspector.inspect(MobileNetV3.large(1.0, 10, 64, 3)).layers().count { it.name().endsWith("/se_expand") } shouldBe 8
        // EfficientNet-lite0: stem, 16 blocks (the first without expansion: 2 convs, the others 3), head, classifier.
        ModelInspector.inspect(EfficientNetLite0(10, 64, 3)).layers().size shouldBe 1 + 2 + 15 * 3 + 1 + 1
    }

    test("each new architecture maps a batch of images to finite logits of the right shape") {
        val models = listOf(MobileNetV3.small(0.75, 7, 64, 3), MobileNetV3.large(1.0, 7, 64, 3), EfficientNetLite0(7, 64, 3))
        for (model in models) {
            val random = Random(3)
            val logits = runGraph { tf ->
                val ctx = NetContext(ModelState(ParamStore(tf, 0), QuantPolicy.FLOAT, listOf(), FakeQuantKernel.TF_OPS, QuantHooks.NONE), PassMode.EVAL, null)
                listOf(model.forward(ctx, tf.floats(Shape.of(2, 64, 64, 3), FloatArray(2 * 64 * 64 * 3) { random.nextFloat() })))
            }.single()
            logits.size shouldBe 2 * 7
            logits.all { it.isFinite() } shouldBe true
            (logits.toSet().size > 1) shouldBe true
        }
    }

    test("the tiny ViT: 49 patches and a class token, at most 2x tiny-MBV2's multiply-accumulates per image, attention products included") {
        val config = VisionTransformer.Config.tiny(0.0)
        val vit = ModelInspector.inspect(VisionTransformer("tiny-vit", config, 10, intArrayOf(28, 28, 1)))
        val tokens = 28 / config.patch() * (28 / config.patch()) + 1
        tokens shouldBe 50
        // Weight layers (patch projection once per patch, linears once per token) plus q k^T and A v: 2 T^2 C per block.
        val attentionProducts = config.depth().toLong() * 2 * tokens * tokens * config.dim()
        val vitMacs = vit.costs().sumOf { it.macs() } + attentionProducts
        val mbv2Macs = ModelInspector.inspect(TinyMbv2()).costs().sumOf { it.macs() }
        println("tiny ViT: ${vit.trainableParameters()} weights, $vitMacs MACs per image; tiny-MBV2 $mbv2Macs (ratio ${vitMacs.toDouble() / mbv2Macs})")
        (vitMacs <= 2 * mbv2Macs) shouldBe true
        vit.layers().first().name() shouldBe "patch_embed"
        vit.layers().last().name() shouldBe "head"
        // Per block: q, k, v, proj, fc1, fc2.
        vit.layers().size shouldBe 2 + 6 * config.depth()
    }
})
