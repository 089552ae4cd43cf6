package dev.kqat.runtime.train

import dev.kqat.runtime.schedule.Schedule
import dev.kqat.runtime.fetchFloats
import dev.kqat.runtime.floats
import dev.kqat.runtime.tf.ParamRole
import dev.kqat.runtime.tf.ParamStore
import io.kotest.assertions.withClue
import io.kotest.core.spec.style.FunSpec
import io.kotest.matchers.doubles.plusOrMinus
import io.kotest.matchers.shouldBe
import org.tensorflow.Graph
import org.tensorflow.Session
import org.tensorflow.ndarray.Shape
import org.tensorflow.op.Ops
import org.tensorflow.op.core.Placeholder
import org.tensorflow.types.TFloat32

/**
 * [Optimizers] steps on a 3-element variable with fed gradients and learning rates, against the update rules
 * computed by hand in double precision: SGD with PyTorch-convention momentum (buf = m * buf + d, w -= lr * buf,
 * no dampening) and Adam as TensorFlow's ApplyAdam (lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t), epsilon added to
 * sqrt(v) without bias correction), both with weight decay as L2 added to the gradient (d = g + wd * w).
 */
class OptimizerStepsSpec : FunSpec({
    val start = floatArrayOf(1.0f, -0.5f, 2.0f)
    val gradients = listOf(
        floatArrayOf(0.3f, -0.2f, 0.05f),
        floatArrayOf(-0.1f, 0.4f, 0.05f),
        floatArrayOf(0.2f, 0.1f, -0.6f),
    )
    // A learning rate that changes between steps separates PyTorch's convention (w -= lr * buf) from the
    // one that folds lr into the buffer (buf = m * buf - lr * g; w += buf).
    val rates = listOf(0.1f, 0.05f, 0.2f)

    /** Runs the three steps; returns the variable after each step and, at the end, every slot by name. */
    fun steps(config: OptimizerConfig, shape: Shape = Shape.of(3), excludedFromDecay: Boolean = false): Pair<List<FloatArray>, Map<String, FloatArray>> = Graph().use { g ->
        val tf = Ops.create(g)
        val store = ParamStore(tf, 0)
        store.getOrCreate("w", shape, ParamRole.WEIGHT) { tf.floats(it, start) }
        if (excludedFromDecay) store.excludeFromDecay("w")
        val grad = tf.placeholder(TFloat32::class.java, Placeholder.shape(shape))
        val lr = tf.placeholder(TFloat32::class.java, Placeholder.shape(Shape.scalar()))
        val updates = Optimizers.apply(store, tf, "weights", config, listOf(store.get("w")), listOf(grad.output()), lr)
        Session(g).use { session ->
            session.initialize()
            val after = gradients.indices.map { t ->
                TFloat32.tensorOf(shape, org.tensorflow.ndarray.buffer.DataBuffers.of(gradients[t], true, false)).use { gt ->
                    TFloat32.scalarOf(rates[t]).use { lt ->
                        val r = session.runner().feed(grad, gt).feed(lr, lt)
                        updates.forEach { r.addTarget(it) }
                        r.run().close()
                    }
                }
                session.fetchFloats(store.get("w").variable())[0]
            }
            val slots = store.withRole(ParamRole.OPTIMIZER_SLOT)
            after to slots.associate { it.name() to session.fetchFloats(it.variable())[0] }
        }
    }

    fun sgdByHand(momentum: Double, weightDecay: Double, nesterov: Boolean): List<DoubleArray> {
        val w = DoubleArray(3) { start[it].toDouble() }
        val buf = DoubleArray(3)
        return gradients.indices.map { t ->
            for (i in 0 until 3) {
                val d = gradients[t][i] + weightDecay * w[i]
                buf[i] = if (t == 0) d else momentum * buf[i] + d
                w[i] -= rates[t] * (if (nesterov) d + momentum * buf[i] else buf[i])
            }
            w.copyOf()
        }
    }

    fun adamByHand(beta1: Double, beta2: Double, eps: Double, weightDecay: Double): List<DoubleArray> {
        val w = DoubleArray(3) { start[it].toDouble() }
        val m = DoubleArray(3)
        val v = DoubleArray(3)
        // The graph holds the betas as floats (1 - 0.999f is 1.3e-5 off 0.001 in relative terms), keeps the
        // powers b^t as float variables and forms 1 - b2^t in float: the same here, the rest in double.
        val b1 = beta1.toFloat().toDouble()
        val b2 = beta2.toFloat().toDouble()
        var b1Power = beta1.toFloat()
        var b2Power = beta2.toFloat()
        return gradients.indices.map { t ->
            val lrT = rates[t] * Math.sqrt((1f - b2Power).toDouble()) / (1f - b1Power).toDouble()
            b1Power *= beta1.toFloat()
            b2Power *= beta2.toFloat()
            for (i in 0 until 3) {
                val d = gradients[t][i] + weightDecay * w[i]
                m[i] = b1 * m[i] + (1 - b1) * d
                v[i] = b2 * v[i] + (1 - b2) * d * d
                w[i] -= lrT * m[i] / (Math.sqrt(v[i]) + eps)
            }
            w.copyOf()
        }
    }

    fun compare(actual: List<FloatArray>, expected: List<DoubleArray>) {
        for (t in expected.indices) for (i in 0 until 3) withClue("step ${t + 1}, element $i") {
            actual[t][i].toDouble() shouldBe (expected[t][i] plusOrMinus 1e-6)
        }
    }

    for ((momentum, weightDecay) in listOf(0.9 to 0.0, 0.9 to 0.05, 0.0 to 0.05)) {
        test("SGD momentum $momentum, weight decay $weightDecay: three steps as PyTorch's SGD") {
            val (after, slots) = steps(OptimizerConfig.sgd(Schedule.Constant(0.1), momentum, weightDecay))
            compare(after, sgdByHand(momentum, weightDecay, false))
            slots.keys shouldBe setOf("opt/weights/w/momentum")
        }
    }

    test("SGD Nesterov momentum 0.9, weight decay 0.05: w -= lr * (d + m * buf)") {
        val config = OptimizerConfig(OptimizerConfig.Kind.SGD, Schedule.Constant(0.1), 0.9, true, 0.05, 0.9, 0.999, 1e-8)
        compare(steps(config).first, sgdByHand(0.9, 0.05, true))
    }

    test("the first SGD step with weight decay, by hand: w = 1 - 0.1 * (0.3 + 0.05 * 1) = 0.965") {
        steps(OptimizerConfig.sgd(Schedule.Constant(0.1), 0.9, 0.05)).first[0][0].toDouble() shouldBe (0.965 plusOrMinus 1e-7)
    }

    for (weightDecay in listOf(0.0, 0.05)) {
        test("Adam (0.9, 0.999, 1e-8), weight decay $weightDecay: three steps as ApplyAdam; bias-correction powers advance") {
            val (after, slots) = steps(OptimizerConfig.adam(Schedule.Constant(0.1), weightDecay))
            compare(after, adamByHand(0.9, 0.999, 1e-8, weightDecay))
            // Each power starts at beta and is multiplied by beta after every step: beta^4 after three.
            slots.getValue("opt/weights/beta1_power").toList() shouldBe listOf(0.9f * 0.9f * 0.9f * 0.9f)
            slots.getValue("opt/weights/beta2_power").toList() shouldBe listOf(0.999f * 0.999f * 0.999f * 0.999f)
        }
    }

    test("Adam with a large epsilon follows TF's epsilon (added to sqrt(v), not to sqrt(v_hat) as in PyTorch)") {
        val eps = 0.1
        val config = OptimizerConfig(OptimizerConfig.Kind.ADAM, Schedule.Constant(0.1), 0.0, false, 0.0, 0.9, 0.999, eps)
        val after = steps(config).first
        compare(after, adamByHand(0.9, 0.999, eps, 0.0))
        // PyTorch's first step: w -= lr * g / (|g| + eps) (m_hat = g, sqrt(v_hat) = |g|): 1 - 0.1 * 0.3 / 0.4 = 0.925.
        // ApplyAdam's: lr_t = 0.1 * sqrt(0.001) / 0.1, m = 0.03, sqrt(v) = 0.3 * sqrt(0.001): a different value.
        val tfFirst = 1.0 - 0.1 * Math.sqrt(0.001) / 0.1 * 0.03 / (0.3 * Math.sqrt(0.001) + eps)
        after[0][0].toDouble() shouldBe (tfFirst plusOrMinus 1e-6)
        (Math.abs(after[0][0] - 0.925) > 0.05) shouldBe true
    }

    /** PyTorch's AdamW; the graph's float betas and float powers b^t mirrored, the rest in double. */
    fun adamWByHand(weightDecay: Double, decays: Boolean): List<DoubleArray> {
        val w = DoubleArray(3) { start[it].toDouble() }
        val m = DoubleArray(3)
        val v = DoubleArray(3)
        val b1 = 0.9f
        val b2 = 0.999f
        return gradients.indices.map { t ->
            val lr = rates[t].toDouble()
            val correction1 = (1f - Math.pow(b1.toDouble(), t + 1.0).toFloat()).toDouble()
            val correction2 = Math.sqrt((1f - Math.pow(b2.toDouble(), t + 1.0).toFloat()).toDouble())
            for (i in 0 until 3) {
                val g = gradients[t][i].toDouble()
                if (decays) w[i] *= 1 - lr * weightDecay
                m[i] = b1 * m[i] + (1 - b1.toDouble()) * g
                v[i] = b2 * v[i] + (1 - b2.toDouble()) * g * g
                w[i] -= lr / correction1 * m[i] / (Math.sqrt(v[i]) / correction2 + 1e-8)
            }
            w.copyOf()
        }
    }

    test("AdamW on a 2-D weight: decoupled decay w *= 1 - lr*wd, then Adam with bias correction and eps on sqrt(v_hat), three steps") {
        val (after, slots) = steps(OptimizerConfig.adamW(Schedule.Constant(0.1), 0.05), Shape.of(3, 1))
        compare(after, adamWByHand(0.05, decays = true))
        slots.getValue("opt/weights/step").toList() shouldBe listOf(3f)
        // The first step by hand: m_hat = g, sqrt(v_hat) = |g|, so w = 1 * (1 - 0.1 * 0.05) - 0.1 * 0.3 / (0.3 + 1e-8).
        after[0][0].toDouble() shouldBe (0.995 - 0.1 * 0.3 / (0.3 + 1e-8) plusOrMinus 1e-6)
    }

    test("AdamW leaves 1-D weights (biases, norms) and weights excluded by name (class token, position embedding) undecayed") {
        val plain = adamWByHand(0.05, decays = false)
        compare(steps(OptimizerConfig.adamW(Schedule.Constant(0.1), 0.05)).first, plain)
        compare(steps(OptimizerConfig.adamW(Schedule.Constant(0.1), 0.05), Shape.of(3, 1), excludedFromDecay = true).first, plain)
        // And the decay is what separates them.
        (Math.abs(adamWByHand(0.05, decays = true)[2][0] - plain[2][0]) > 1e-3) shouldBe true
    }
})
