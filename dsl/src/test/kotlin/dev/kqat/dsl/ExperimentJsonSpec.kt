package dev.kqat.dsl

import dev.kqat.runtime.oscillation.OscillationSpec
import dev.kqat.runtime.quant.BackwardConvention
import dev.kqat.runtime.quant.QuantizerSpec
import dev.kqat.runtime.schedule.Schedule
import dev.kqat.runtime.tf.DeviceSetting
import dev.kqat.runtime.train.OptimizerConfig
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.shouldBe
import kotlinx.serialization.SerializationException
import kotlinx.serialization.json.jsonObject

/** `experiment.json` of the runtime's settings records: words for enums, "type" for schedules, defaults from `DEFAULT`. */
class ExperimentJsonSpec : FunSpec({
    test("settings records are written as the script reads") {
        val e = experiment("words") {
            data { synthetic() }
            model { mobilenetV2(widthMultiplier = 0.5) }
            quantize { weights { bits = 3; convention = BackwardConvention.CLAMP_THEN_ROUND } }
            qat { optimizer = sgd(lr = perEpoch(cosine(0.01))) }
            oscillations { dampen() }
        }
        val tree = ExperimentJson.parseToJsonElement(e.toJson()).jsonObject
        tree["model"].toString() shouldBe """{"type":"mobilenet-v2","widthMultiplier":0.5,"bnEpsilon":null,"classes":null}"""
        tree["quantization"]!!.jsonObject["weights"].toString() shouldBe
            """{"bits":3,"perChannel":false,"convention":"clamp-then-round","gradientScaling":"off","init":"mse","candidates":100,"learnable":true,"signedness":"from-data","offset":false,"perBitWidth":false,"minStepSize":1.0E-8}"""
        tree["qat"]!!.jsonObject["optimizer"]!!.jsonObject["learningRate"].toString() shouldBe
            """{"type":"per-epoch","schedule":{"type":"cosine","start":0.01,"end":0.0,"delay":0.0},"epochs":null}"""
        tree["oscillations"]!!.jsonObject["dampening"]!!.jsonObject["aggregation"].toString() shouldBe "\"kernel-mean\""
        experimentFromJson(e.toJson()) shouldBe e
    }

    test("missing fields take the records' defaults; files from before the model family still read") {
        val e = experimentFromJson(
            """{"model": {"architecture": "resnet18", "widthMultiplier": 1.0}, "device": "gpu:1",
               "quantization": {"weights": {"bits": 3}}, "qat": {"optimizer": {"kind": "adam"}},
               "oscillations": {"freezing": {"threshold": {"type": "constant", "value": 0.05}}}}""",
        )
        e.model shouldBe ModelSpec.ResNet18Spec()
        e.device shouldBe DeviceSetting.gpu(1)
        e.quantization!!.weights() shouldBe QuantizerSpec.lsq(3)
        e.quantization!!.activations() shouldBe QuantizerSpec.DEFAULT
        e.qat!!.optimizer.kind() shouldBe OptimizerConfig.Kind.ADAM
        e.qat!!.optimizer.learningRate() shouldBe OptimizerConfig.DEFAULT.learningRate()
        e.qat!!.quantizerOptimizer shouldBe OptimizerConfig.QUANTIZER_DEFAULT
        e.oscillations!!.freezing() shouldBe
            OscillationSpec.Freezing(Schedule.Constant(0.05), OscillationSpec.Freezing.DEFAULT.after(), true)
        // Freezing tracks: the runtime record fills in the default tracking.
        e.oscillations!!.tracking() shouldBe OscillationSpec.Tracking.DEFAULT
    }

    test("a value that does not fit names its place") {
        fun error(json: String) = shouldThrow<SerializationException> { experimentFromJson(json) }.message
        error("""{"quantization": {"weights": {"bits": "x"}}}""") shouldBe "weights.bits: expected an integer, got \"x\""
        error("""{"quantization": {"weights": {"convention": "round"}}}""") shouldBe
            "weights.convention: expected one of round-then-clamp, clamp-then-round, got \"round\""
        error("""{"qat": {"optimizer": {"learningRate": {"type": "exp"}}}}""") shouldBe
            "learningRate.type: unknown 'exp'; known: constant, linear, cosine, step, warmup, per-epoch"
        error("""{"qat": {"optimizer": {"learningRate": {"type": "cosine", "start": 0.1}}}}""") shouldBe
            "learningRate.end: missing"
    }
})
