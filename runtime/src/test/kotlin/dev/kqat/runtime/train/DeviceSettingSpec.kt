package dev.kqat.runtime.train

import dev.kqat.runtime.data.SyntheticDataset
import dev.kqat.runtime.events.RunListener
import dev.kqat.runtime.models.Model
import dev.kqat.runtime.models.TinyMbv2
import dev.kqat.runtime.nn.NetContext
import dev.kqat.runtime.quant.FakeQuantKernel
import dev.kqat.runtime.quant.QuantizationPolicy
import dev.kqat.runtime.quant.QuantizerSpec
import dev.kqat.runtime.schedule.Schedule
import dev.kqat.runtime.tf.DeviceSetting
import dev.kqat.runtime.tf.VisibleDevices
import io.kotest.assertions.throwables.shouldThrow
import io.kotest.core.spec.style.FunSpec
import io.kotest.engine.spec.tempdir
import io.kotest.matchers.collections.shouldBeEmpty
import io.kotest.matchers.collections.shouldContain
import io.kotest.matchers.ints.shouldBeGreaterThan
import io.kotest.matchers.maps.shouldContainExactly
import io.kotest.matchers.shouldBe
import io.kotest.matchers.string.shouldContain
import org.tensorflow.Graph
import org.tensorflow.GraphOperation
import org.tensorflow.Operand
import org.tensorflow.op.Ops
import org.tensorflow.types.TFloat32

/** Ops of [graph] whose device is not [device], as "name (device)". */
private fun misplaced(graph: Graph, device: String): List<String> =
    graph.operations().asSequence().filter { it.device() != device }.map { "${it.name()} (${it.device()})" }.toList()

private fun Graph.opCount() = operations().asSequence().count()

/** A model that counts every call, to show that nothing of it was built. */
private class CountingModel(private val inner: Model) : Model {
    var calls = 0
    override fun name(): String { calls++; return inner.name() }
    override fun inputShape(): IntArray { calls++; return inner.inputShape() }
    override fun numClasses(): Int { calls++; return inner.numClasses() }
    override fun forward(ctx: NetContext, images: Operand<TFloat32>): Operand<TFloat32> { calls++; return inner.forward(ctx, images) }
}

class DeviceSettingSpec : FunSpec({
    val noGpu = VisibleDevices.gpus().isEmpty()
    val sgd = OptimizerConfig.sgd(Schedule.Constant(0.01), 0.9, 0.0)
    val adam = OptimizerConfig.adam(Schedule.Constant(1e-5), 0.0)
    val w4a4 = QuantizationPolicy.DEFAULT
    fun setup(model: Model = TinyMbv2(3, intArrayOf(8, 8, 1))) = TrainingSetup(model, w4a4, sgd, adam, 0.0, 0)

    test("bounds: a bad thread count or GPU index is listed by field and refused before it is used") {
        shouldThrow<IllegalArgumentException> { DeviceSetting.cpu().withThreads(-1, 0).resolve() }.message shouldBe
            "DeviceSetting: intraOpThreads: must be in 0..1024 (0: TensorFlow's default), got -1"
        shouldThrow<IllegalArgumentException> { DeviceSetting.auto().withThreads(0, 1025).resolve() }.message shouldContain
            "interOpThreads: must be in 0..1024 (0: TensorFlow's default), got 1025"
        shouldThrow<IllegalArgumentException> { DeviceSetting.gpu(-1).resolve() }.message shouldContain "index: a GPU index must be >= 0, got -1"
        DeviceSetting(DeviceSetting.Kind.CPU, 2, -3, 4).problems() shouldContainExactly mapOf(
            "index" to "only a GPU has an index, got 2 for cpu",
            "intraOpThreads" to "must be in 0..1024 (0: TensorFlow's default), got -3",
        )
        DeviceSetting(DeviceSetting.Kind.GPU, 1, 0, DeviceSetting.MAX_THREADS).problems() shouldBe emptyMap()
        DeviceSetting.cpu().withThreads(2, 1).toString() shouldBe "cpu() threads(intraOp = 2, interOp = 1)"
    }

    test("the session config carries the thread counts and soft placement; a CPU session has no GPU") {
        val cpu = DeviceSetting.cpu().withThreads(2, 1).resolve().sessionConfig()
        cpu.intraOpParallelismThreads shouldBe 2
        cpu.interOpParallelismThreads shouldBe 1
        cpu.allowSoftPlacement shouldBe true
        cpu.deviceCountMap shouldContainExactly mapOf("GPU" to 0)
        val gpu = DeviceSetting.gpu(1).withThreads(0, 3).resolve(listOf(0, 1)).sessionConfig()
        gpu.intraOpParallelismThreads shouldBe 0
        gpu.interOpParallelismThreads shouldBe 3
        gpu.allowSoftPlacement shouldBe true
        gpu.deviceCountMap shouldBe emptyMap()
        // The graph's session is made from the setup's device.
        TrainingGraph(setup().withDevice(DeviceSetting.cpu().withThreads(3, 2))).use { g ->
            g.setup().device().sessionConfig().intraOpParallelismThreads shouldBe 3
            g.setup().device().sessionConfig().interOpParallelismThreads shouldBe 2
        }
    }

    test("auto is GPU 0 where TensorFlow sees one and the CPU otherwise; a GPU becomes its device string") {
        DeviceSetting.auto().withThreads(4, 0).resolve(listOf(0, 1)) shouldBe DeviceSetting.gpu(0).withThreads(4, 0)
        DeviceSetting.auto().withThreads(4, 0).resolve(listOf()) shouldBe DeviceSetting.cpu().withThreads(4, 0)
        DeviceSetting.gpu(1).resolve(listOf(0, 1)).tfDevice() shouldBe "/device:GPU:1"
        DeviceSetting.cpu().tfDevice() shouldBe "/device:CPU:0"
        shouldThrow<IllegalStateException> { DeviceSetting.auto().tfDevice() }
    }

    test("the fused fake-quant kernel is replaced by plain ops on a GPU, kept on the CPU") {
        FakeQuantKernel.FUSED.on(DeviceSetting.gpu(0)) shouldBe FakeQuantKernel.TF_OPS
        FakeQuantKernel.FUSED.on(DeviceSetting.cpu()) shouldBe FakeQuantKernel.FUSED
        FakeQuantKernel.TF_OPS.on(DeviceSetting.cpu()) shouldBe FakeQuantKernel.TF_OPS
    }

    test("TensorFlow's device list names the CPU") {
        VisibleDevices.all() shouldContain "/device:CPU:0"
    }

    test("gradient ops come without a device and placeUnplacedOps gives them the chosen one") {
        Graph().use { g ->
            val tf = Ops.create(g).withDevice(DeviceSetting.cpu().deviceSpec())
            val x = tf.placeholder(TFloat32::class.java)
            val loss = tf.reduceSum(tf.math.mul(x, x), tf.constant(0))
            tf.gradients(loss, listOf(x))
            val unplaced = g.operations().asSequence().count { it.device().isEmpty() }
            unplaced shouldBeGreaterThan 0
            DeviceSetting.cpu().placeUnplacedOps(g) shouldBe unplaced
            misplaced(g, "/device:CPU:0").shouldBeEmpty()
        }
    }

    test("cpu: every op of a W4A4 training graph is on /device:CPU:0, through a training epoch and its checkpoint") {
        val data = SyntheticDataset.generate(64, intArrayOf(8, 8, 1), 3, 0.5, 1)
        TrainingGraph(setup().withDevice(DeviceSetting.cpu().withThreads(1, 1))).use { g ->
            g.graph().opCount() shouldBeGreaterThan 1000
            misplaced(g.graph(), "/device:CPU:0").shouldBeEmpty()
            g.newSession().use { s ->
                val store = CheckpointStore(tempdir("kqat-device").toPath(), 1)
                val result = Trainer(g, s, object : RunListener {}).run(PhasePlan("qat", 1, 32, data, data, store, 1, false), null, null)
                result.steps() shouldBe 2L
                store.latest().isPresent shouldBe true
            }
            // Checkpoint and evaluation ops added while training are placed too.
            misplaced(g.graph(), "/device:CPU:0").shouldBeEmpty()
        }
    }

    test("auto builds on the CPU on a machine without a GPU").config(enabled = noGpu) {
        DeviceSetting.auto().resolve() shouldBe DeviceSetting.cpu()
        TrainingGraph(setup().withDevice(DeviceSetting.auto())).use { g ->
            g.setup().device() shouldBe DeviceSetting.cpu()
            g.setup().kernel() shouldBe FakeQuantKernel.preferred()
            misplaced(g.graph(), "/device:CPU:0").shouldBeEmpty()
        }
    }

    test("gpu(0) without a visible GPU fails with what TensorFlow lists, before the model is touched").config(enabled = noGpu) {
        val model = CountingModel(TinyMbv2(3, intArrayOf(8, 8, 1)))
        val e = shouldThrow<IllegalStateException> { TrainingGraph(setup(model).withDevice(DeviceSetting.gpu(0))) }
        e.message shouldContain "no GPU visible to TensorFlow for gpu(0): it lists /device:CPU:0"
        e.message shouldContain "CUDA 12 + cuDNN 9"
        if (!VisibleDevices.gpuNatives()) e.message shouldContain "this build uses the CPU natives; build with -Pgpu"
        model.calls shouldBe 0
    }
})
