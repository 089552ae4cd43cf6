package dev.kqat.dsl

import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempfile
import io.kotest.matchers.collections.shouldContainExactlyInAnyOrder
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import java.nio.file.Files

/** `mixedPrecision { }` and `search { }`: every bad setting named by its field, the JSON round trip of a good one. */
class MixedPrecisionValidationSpec : FunSpec({
    test("bad supernet and search settings are all reported, each naming its field") {
        val e = shouldThrow<ExperimentValidationException> {
            experiment("bad-rfq") {
                data { fashionMnist() }
                model { tinyMbv2() }
                pretrain { epochs = 1 }
                mixedPrecision {
                    epochs = 0
                    candidates(6 downTo 1)
                    randomSubnets = -1
                    idm(-0.5)
                    ema(1.0)
                    gradientClip = 0.0
                    bnCalibrationBatches = 0
                    adaptiveRegionDecay(-1e-5)
                    evaluateUniform = listOf(4, 9)
                }
                search { bitops(uniform(9), Budget("fast")); startBits = 1; maxSteps = 0; score = "l1"; bnDraws = 0; random(samples = 0, keep = 2, tolerance = 1.5) }
            }
        }
        e.problems.map { it.field } shouldContainExactlyInAnyOrder listOf(
            "mixedPrecision.candidates", "mixedPrecision.epochs", "mixedPrecision.randomSubnets", "mixedPrecision.idmWeight",
            "mixedPrecision.emaDecay", "mixedPrecision.gradientClip", "mixedPrecision.bnCalibrationBatches", "mixedPrecision.adaptiveRegionDecay",
            "mixedPrecision.evaluateUniform", "search.budgets", "search.budgets", "search.startBits", "search.maxSteps", "search.samples", "search.keep", "search.tolerance",
            "search.score", "search.bnDraws",
        )
        e.message!! shouldContain "uniform:9: bits must lie in 2..8"
        e.message!! shouldContain "'fast' is not a budget"
        e.message!! shouldContain "got [6, 5, 4, 3, 2, 1]"
        e.message!! shouldContain "must be top1 or loss, got 'l1'"
    }

    test("the evolutionary search's settings are checked by name") {
        val e = shouldThrow<ExperimentValidationException> {
            experiment("bad-evolution") {
                data { fashionMnist() }
                model { tinyMbv2() }
                pretrain { epochs = 1 }
                mixedPrecision { epochs = 1 }
                search { evolution(population = 1, parents = 5, mutations = -1, generations = 0, mutationProbability = 0.0, floor = 1, keep = 9) }
            }
        }
        e.problems.map { it.field } shouldContainExactlyInAnyOrder listOf("search.evolution.population", "search.evolution.parents",
            "search.evolution.mutations", "search.evolution.generations", "search.evolution.mutationProbability",
            "search.evolution.floor", "search.keep")
        e.message!! shouldContain "must lie in 1..parents (5), got 9"
    }

    test("a supernet excludes quantize { }, needs an FP32 start, and search needs a supernet") {
        val e = shouldThrow<ExperimentValidationException> {
            experiment("conflicts") {
                data { fashionMnist() }
                mixedPrecision { epochs = 1 }
                quantize { weights { bits = 4 } }
                qat { epochs = 1 }
            }
        }
        e.problems.map { it.field } shouldContainExactlyInAnyOrder listOf("mixedPrecision", "mixedPrecision")
        e.message!! shouldContain "fromSearch"
        e.message!! shouldContain "starts from an FP32 network"
        val noSupernet = shouldThrow<ExperimentValidationException> {
            experiment("no-supernet") {
                data { fashionMnist() }
                pretrain { epochs = 1 }
                search { bitops(uniform(4)) }
            }
        }
        noSupernet.problems.map { it.field } shouldBe listOf("search")
    }

    test("the declared supernet and search survive experiment.json; fromSearch turns a search.json entry into layer bits") {
        val e = experiment("rfq") {
            data { fashionMnist() }
            pretrain { epochs = 1 }
            mixedPrecision { epochs = 2; candidates(5 downTo 3); ema(0.99); bitScheduler(false); idm(0.0); adaptiveRegionDecay(1e-5) }
            search { size(uniform(3), Budget("0.01")); batchSize = 32; random(samples = 100, keep = 3) }
        }
        val back = experimentFromJson(e.toJson())
        back.mixedPrecision shouldBe e.mixedPrecision
        back.search shouldBe e.search
        back.mixedPrecision!!.policy().candidates().lowest() shouldBe 3
        back.search!!.metric shouldBe "size"
        back.search!!.method shouldBe "random"
        back.search!!.keep shouldBe 3
        // startAtLevel: each budget's greedy search starts at its uniform level, not at startBits.
        val levelled = experiment("rfq") {
            data { fashionMnist() }; pretrain { epochs = 1 }; mixedPrecision { }
            search { bitops(uniform(3)); startBits = 5; startAtLevel = true }
        }.search!!
        experimentFromJson(e.copy(search = levelled).toJson()).search!!.startAtLevel shouldBe true
        MixedPrecisionChecks.settings(levelled, 3, 3).startBits() shouldBe 3
        // A budget between levels: the start is the level that reaches it, the weight target the closest.
        MixedPrecisionChecks.settings(levelled, 3, 4).let { it.startBits() to it.weightTargetBits() } shouldBe (4 to 3)
        MixedPrecisionChecks.settings(levelled.copy(startAtLevel = false), 3, 3).startBits() shouldBe 5
        // The graph's adaptive-region multiplier is that decay minus the optimizer's (default 2.5e-5).
        back.mixedPrecision!!.graphSpec().regionDecay() shouldBe (1e-5 - 2.5e-5 plusOrMinus 1e-12)
        experiment("reference") { data { fashionMnist() }; pretrain { epochs = 1 }; mixedPrecision { } }
            .mixedPrecision!!.graphSpec().regionDecay() shouldBe (-2.5e-5 plusOrMinus 1e-12)

        val file = tempfile("search", ".json").toPath()
        val found = SearchFile("rfq", "ckpt", "bitops", 8, 4, listOf(
            FoundConfiguration(0, "search", "uniform:4", "bitops", 1e6, 0.01, 4.0, 0.7, 0.9, 1.0, 3, layers =
                mapOf("block1/dw" to LayerBitsJson(3, 4), "block1/project" to LayerBitsJson(5, 2)))))
        Files.writeString(file, ExperimentJson.encodeToString(SearchFile.serializer(), found))
        val tuned = experiment("tuned") {
            data { fashionMnist() }
            pretrain { epochs = 1 }
            quantize { fromSearch("$file#0") }
            qat { epochs = 1 }
        }
        tuned.quantization!!.layers().mapValues { (_, o) -> o.weightBits() to o.inputBits() } shouldBe
            mapOf("block1/dw" to (3 to 4), "block1/project" to (5 to 2))
        val missing = shouldThrow<IllegalArgumentException> { experiment("x") { quantize { fromSearch("$file#3") } } }
        missing.message!! shouldContain "configurations 0..0, not #3"
    }
})
