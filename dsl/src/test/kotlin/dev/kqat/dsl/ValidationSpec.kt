package dev.kqat.dsl

import dev.kqat.runtime.distill.SoftLabelFile
import dev.kqat.runtime.distill.StoredCrop
import dev.kqat.runtime.oscillation.OscillationSpec.Aggregation
import dev.kqat.runtime.quant.BackwardConvention
import dev.kqat.runtime.quant.QuantMap
import dev.kqat.runtime.quant.QuantizerSpec
import dev.kqat.runtime.quant.RangeInit
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files

class ValidationSpec : FunSpec({
    test("every problem is reported at once, each naming its field") {
        val e = shouldThrow<ExperimentValidationException> {
            experiment("bad") {
                data { fashionMnist("/nonexistent/fmnist"); batchSize = 0 }
                model { tinyMbv2() }
                quantize {
                    weights { bits = 1 }
                    activations { bits = 17 }
                    layer("block9/dw") { weightBits = 8 }
                }
                qat { epochs = 0; optimizer = sgd(lr = cosine(-0.1), momentum = 1.5) }
            }
        }
        e.problems.map { it.field } shouldContainExactlyInAnyOrder listOf(
            "data.batchSize",
            "data.dataset.path",
            "qat.epochs",
            "qat.optimizer.learningRate",
            "qat.optimizer.momentum",
            "quantization.weights.bits",
            "quantization.activations.bits",
            "quantization.layers[block9/dw]",
        )
        e.message shouldContain "bits must be in 2..16, got 1"
        e.message shouldContain "no layer is called 'block9/dw'"
        e.message shouldContain "Fashion-MNIST folder not found: /nonexistent/fmnist"
    }

    test("a QAT phase without quantization, and an empty experiment, are rejected") {
        shouldThrow<ExperimentValidationException> {
            experiment { data { synthetic() }; qat { } }
        }.problems.map { it.field } shouldBe listOf("quantization")
        shouldThrow<ExperimentValidationException> {
            experiment { data { synthetic() } }
        }.problems.map { it.field } shouldBe listOf("pretrain")
    }

    test("an image folder without its val split, or with a resize below the crop, is rejected") {
        val root = tempdir("kqat-nofolder").toPath()
        java.nio.file.Files.createDirectories(root.resolve("train/cat"))
        val e = shouldThrow<ExperimentValidationException> {
            experiment {
                data { imageFolder(root.toString(), imageSize = 64, resizeSize = 32) }
                model { resnet18() }
                pretrain { }
            }
        }
        e.problems.map { it.field } shouldContainExactlyInAnyOrder listOf("data.dataset.path", "data.dataset.resizeSize")
        e.message shouldContain "image folder split not found: $root/val"
    }

    test("nonsense oscillation control is rejected, each problem naming its field") {
        val e = shouldThrow<ExperimentValidationException> {
            experiment {
                data { synthetic() }
                quantize { }
                qat { }
                oscillations {
                    track(threshold = 1.5, maxBits = 1)
                    dampen(weight = cosine(0.0, -0.1))
                    freeze(threshold = cosine(2.0, 0.01), after = 1.0)
                }
                evaluate { bnReestimation(batches = -5) }
            }
        }
        e.problems.map { it.field } shouldContainExactlyInAnyOrder listOf(
            "oscillations.tracking.threshold", "oscillations.tracking.maxBits", "oscillations.dampening.weight",
            "oscillations.freezing.threshold", "oscillations.freezing.after", "evaluation.bnReestimationBatches",
        )
        shouldThrow<ExperimentValidationException> {
            experiment { data { synthetic() }; pretrain { }; oscillations { dampen() } }
        }.problems.map { it.field } shouldBe listOf("oscillations")
    }

    test("an experiment round-trips through experiment.json") {
        val e = experiment("round-trip") {
            seed = 3
            data { synthetic(trainSize = 64, testSize = 32); batchSize = 16 }
            model { tinyMbv2() }
            pretrain { epochs = 2; optimizer = sgd(lr = warmup(0.1, cosine(0.05, 0.0, delay = 0.2)), nesterov = true) }
            quantize {
                weights { bits = 3; perChannel = true; convention = BackwardConvention.CLAMP_THEN_ROUND }
                activations { bits = 4; init = RangeInit.MIN_MAX }
                layer("block2/dw") { weightBits = 8 }
            }
            qat { epochs = 1; optimizer = sgd(lr = step(0.01, 0.1, 0.5, 0.75)) }
            oscillations { track(threshold = 0.01); dampen(aggregation = Aggregation.SUM); freeze(useEma = false); binRegularizer() }
            evaluate { bnReestimation(20) }
        }
        experimentFromJson(e.toJson()) shouldBe e
    }

    test("vision transformers: settings round-trip, and a patch that does not divide the image is named under model") {
        val vit = experiment("vit") {
            data { synthetic(trainSize = 64, testSize = 32); batchSize = 16 }
            model { tinyVit(dropPath = 0.05) }
            pretrain { epochs = 1; optimizer = adamW(lr = warmup(0.1, cosine(1e-3)), weightDecay = 0.05) }
        }
        experimentFromJson(vit.toJson()) shouldBe vit
        val swin = experiment("swin") {
            data { synthetic(trainSize = 64, testSize = 32, height = 224, width = 224, channels = 3); batchSize = 16 }
            model { swinTiny(dropPath = 0.1) }
            pretrain { epochs = 1 }
        }
        experimentFromJson(swin.toJson()) shouldBe swin
        swin.toJson() shouldContain "\"swin-tiny\""
        vit.toJson() shouldContain "\"tiny-vit\""
        vit.toJson() shouldContain "\"kind\": \"adamw\""

        val e = shouldThrow<ExperimentValidationException> {
            experiment("deit-on-28px") {
                data { synthetic(trainSize = 64, testSize = 32); batchSize = 16 }
                model { deitTiny(dropPath = 1.5) }
                pretrain { epochs = 1 }
            }
        }
        e.problems.map { it.field } shouldBe listOf("model.dropPath")
        val p = shouldThrow<ExperimentValidationException> {
            experiment("deit-on-28px") {
                data { synthetic(trainSize = 64, testSize = 32); batchSize = 16 }
                model { deitTiny() }
                pretrain { epochs = 1 }
            }
        }
        p.problems.map { it.field } shouldBe listOf("model")
        p.message shouldContain "image size 28x28 is not a multiple of the patch size 16"
    }

    test("quantize { vvtq() }: VVTQ's quantizers at the bits set after it, round-trips; on a CNN the map is named; bad slot bits and weight offsets are named") {
        val vit = experiment("vvtq") {
            data { synthetic(trainSize = 64, testSize = 32); batchSize = 16 }
            model { tinyVit() }
            quantize {
                vvtq()
                weights { bits = 3 }
                activations { bits = 3; offset = true }
            }
            qat { epochs = 1 }
        }
        val q = vit.quantization!!
        q.map() shouldBe QuantMap.VVTQ
        q.calibrationImages() shouldBe 64
        q.weights() shouldBe QuantizerSpec.vvtqWeights(3)
        q.activations() shouldBe QuantizerSpec.vvtqActivations(3).withOffset(true)
        vit.toJson() shouldContain "\"map\": \"vvtq\""
        vit.toJson() shouldContain "\"gradientScaling\": \"vvtq\""
        experimentFromJson(vit.toJson()) shouldBe vit

        val e = shouldThrow<ExperimentValidationException> {
            experiment("vvtq-on-cnn") {
                data { synthetic(trainSize = 64, testSize = 32); batchSize = 16 }
                model { tinyMbv2() }
                quantize {
                    vvtq()
                    weights { bits = 9; offset = true }
                }
                qat { epochs = 1 }
            }
        }
        e.problems.map { it.field } shouldBe listOf("quantization.weights.bits", "quantization.weights.offset", "quantization.map")
        e.message shouldContain "a step size per bit-width covers 2..8 bits, got 9"
    }

    test("distill: needs QAT, a teacher checkpoint that exists (or one QAT starts from), and a teacher model that fits the data") {
        val e = shouldThrow<ExperimentValidationException> {
            experiment("kd-wrong") {
                data { synthetic(trainSize = 64, testSize = 32); batchSize = 16 }
                model { tinyMbv2() }
                pretrain { epochs = 1 }
                distill { teacher("/nonexistent/checkpoint") { deitTiny() } }
            }
        }
        e.problems.map { it.field } shouldBe listOf("distillation", "distillation.teacherCheckpoint", "distillation.teacherModel")
        e.message shouldContain "image size 28x28 is not a multiple of the patch size 16"
        val f = shouldThrow<ExperimentValidationException> {
            experiment("kd-no-teacher") {
                data { synthetic(trainSize = 64, testSize = 32); batchSize = 16 }
                model { tinyMbv2() }
                quantize { }
                qat { epochs = 1 }
                distill { teacher() }
            }
        }
        f.problems.map { it.field } shouldBe listOf("distillation.teacherCheckpoint")
    }

    test("distill { softLabels }: the file must exist and be a soft-label file, crops within what it stores") {
        val missing = shouldThrow<ExperimentValidationException> {
            experiment("kd-no-file") {
                data { synthetic(trainSize = 64, testSize = 32); batchSize = 16 }
                model { tinyMbv2() }
                quantize { }
                qat { epochs = 1 }
                distill { softLabels("/nonexistent/labels.kqsl", crops = 0) }
            }
        }
        missing.problems.map { it.field } shouldBe listOf("distillation.crops", "distillation.softLabels")
        missing.message shouldContain "/nonexistent/labels.kqsl: no such soft-label file"
        val dir = tempdir("kqat-kqsl-validation").toPath()
        val corrupt = dir.resolve("corrupt.kqsl").also { Files.writeString(it, "not soft labels") }
        val header = SoftLabelFile.Header(64, 2, 10, 5, intArrayOf(28, 28, 1), 0, "t", 0, 0.08, 1.0)
        val small = dir.resolve("small.kqsl")
        SoftLabelFile.Writer(small, header).use { w ->
            repeat(64) { w.append(List(2) { StoredCrop(0f, 0f, 1f, 1f, false, IntArray(5) { it }, FloatArray(5) { 0.1f }) }) }
            w.finish()
        }
        shouldThrow<ExperimentValidationException> {
            experiment("kd-corrupt") {
                data { synthetic(trainSize = 64, testSize = 32); batchSize = 16 }
                model { tinyMbv2() }
                quantize { }
                qat { epochs = 1 }
                distill { softLabels(corrupt.toString()) }
            }
        }.message shouldContain "corrupt.kqsl: not a kqat soft-label file"
        val tooMany = shouldThrow<ExperimentValidationException> {
            experiment("kd-crops") {
                data { synthetic(trainSize = 64, testSize = 32); batchSize = 16 }
                model { tinyMbv2() }
                quantize { }
                qat { epochs = 1 }
                distill { softLabels(small.toString(), crops = 4) }
            }
        }
        tooMany.problems.map { it.field } shouldBe listOf("distillation.crops")
        tooMany.message shouldContain "4 crops per image asked, $small stores 2"
    }

    test("initFrom a .safetensors file: it must exist, and the model must be a vision transformer") {
        val e = shouldThrow<ExperimentValidationException> {
            experiment("timm-into-cnn") {
                data { synthetic(trainSize = 64, testSize = 32); batchSize = 16 }
                model { tinyMbv2() }
                initFrom = "/nonexistent/deit_tiny.safetensors"
                pretrain { epochs = 1 }
            }
        }
        e.problems.map { it.field } shouldBe listOf("initFrom", "initFrom")
        e.message shouldContain "safetensors weights file not found: /nonexistent/deit_tiny.safetensors"
        e.message shouldContain "the model must be a vision transformer"
    }
})
