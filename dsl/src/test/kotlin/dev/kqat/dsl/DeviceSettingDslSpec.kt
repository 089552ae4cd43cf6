package dev.kqat.dsl

import dev.kqat.runtime.tf.DeviceSetting
import dev.kqat.runtime.tf.VisibleDevices
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.doubles.shouldBeGreaterThan
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import io.kotest.matchers.string.shouldStartWith
import java.nio.file.Files
import kotlinx.serialization.SerializationException
import kotlinx.serialization.json.Json
import kotlinx.serialization.json.jsonObject

class DeviceSettingDslSpec : FunSpec({
    val noGpu = VisibleDevices.gpus().isEmpty()

    fun tiny(name: String, settings: ExperimentBuilder.() -> Unit) = experiment(name) {
        data { synthetic(trainSize = 64, testSize = 32, height = 8, width = 8, classes = 3, noise = 0.5); batchSize = 32 }
        model { tinyMbv2() }
        pretrain { epochs = 1; optimizer = sgd(lr = cosine(0.05)) }
        settings()
    }

    test("device = gpu(1) and threads(...) make a typed device that round-trips through experiment.json") {
        val e = tiny("typed") { threads(intraOp = 2, interOp = 1); device = gpu(1) }
        e.device shouldBe DeviceSetting(DeviceSetting.Kind.GPU, 1, 2, 1)
        val json = e.toJson()
        Json.parseToJsonElement(json).jsonObject["device"].toString() shouldBe
            """{"type":"gpu","index":1,"intraOpThreads":2,"interOpThreads":1}"""
        experimentFromJson(json).device shouldBe e.device
        tiny("default") { }.device shouldBe DeviceSetting(DeviceSetting.Kind.CPU, 0, 0, 0)
        tiny("auto") { device = auto() }.device shouldBe DeviceSetting(DeviceSetting.Kind.AUTO, 0, 0, 0)
    }

    test("the words cpu, gpu, gpu:N and auto read as devices (--set device=..., older experiment.json); others are refused") {
        fun read(word: String) = ExperimentJson.decodeFromString(DeviceSpecSerializer, "\"$word\"")
        read("cpu") shouldBe DeviceSetting(DeviceSetting.Kind.CPU, 0, 0, 0)
        read("gpu") shouldBe DeviceSetting(DeviceSetting.Kind.GPU, 0, 0, 0)
        read("gpu:3") shouldBe DeviceSetting(DeviceSetting.Kind.GPU, 3, 0, 0)
        read("auto") shouldBe DeviceSetting(DeviceSetting.Kind.AUTO, 0, 0, 0)
        shouldThrow<SerializationException> { read("tpu") }.message shouldBe
            "device: 'tpu' is not a device; use cpu, gpu, gpu:N or auto"
    }

    test("validation reports the runtime's device bounds under the device field") {
        val e = shouldThrow<ExperimentValidationException> { tiny("bad-threads") { threads(intraOp = -1, interOp = 2000) } }
        e.problems.map { it.field } shouldBe listOf("device.intraOpThreads", "device.interOpThreads")
        // The message is DeviceSetting's own: the bounds are not written twice.
        val runtime = DeviceSetting.cpu().withThreads(-1, 2000).problems()
        e.problems.map { it.message } shouldBe listOf(runtime.getValue("intraOpThreads"), runtime.getValue("interOpThreads"))
        e.message shouldContain "device.intraOpThreads: must be in 0..1024 (0: TensorFlow's default), got -1"
        shouldThrow<ExperimentValidationException> { tiny("bad-index") { device = gpu(-2) } }
            .problems.single().toString() shouldBe "device.index: a GPU index must be >= 0, got -2"
    }

    test("the device and threads reach the phase's TrainingSetup") {
        val e = tiny("mapped") { device = auto(); threads(intraOp = 3, interOp = 2) }
        RuntimeMapping.setup(e, e.pretrain!!, null).device() shouldBe DeviceSetting.auto().withThreads(3, 2)
        RuntimeMapping.setup(tiny("cpu") { }, e.pretrain!!, null).device() shouldBe DeviceSetting.cpu()
    }

    test("device = gpu(0) through ExperimentRunner fails with the clear message before the run directory is written").config(enabled = noGpu) {
        val dir = tempdir("kqat-gpu").toPath().resolve("run")
        val error = shouldThrow<IllegalStateException> { ExperimentRunner(tiny("gpu") { device = gpu(0) }, dir).run() }
        error.message shouldStartWith "device: no GPU visible to TensorFlow for gpu(0): it lists /device:CPU:0"
        error.message shouldContain "CUDA 12 + cuDNN 9"
        Files.exists(dir) shouldBe false
    }

    test("device = auto() with one thread each trains on the CPU through ExperimentRunner").config(enabled = noGpu) {
        val dir = tempdir("kqat-auto").toPath().resolve("run")
        val report = ExperimentRunner(tiny("auto-run") { device = auto(); threads(intraOp = 1, interOp = 1) }, dir).run()
        report.trainImagesPerSec shouldBeGreaterThan 0.0
        readExperimentFile(dir.resolve("experiment.json")).device shouldBe DeviceSetting(DeviceSetting.Kind.AUTO, 0, 1, 1)
    }
})
