package dev.kqat.runtime.distill

import dev.kqat.runtime.toFloatArray
import org.tensorflow.Graph
import org.tensorflow.Session
import org.tensorflow.op.Ops
import org.tensorflow.types.TFloat32

/** The teacher's probabilities on [crops] of [images], cut by the graph's crop op as training cuts them. */
fun teacherOnCrops(teacher: OnlineTeacher, images: TFloat32, crops: CropBatch, shape: IntArray): FloatArray =
    Graph().use { g ->
        Session(g).use { s ->
            val tf = Ops.create(g)
            val cut = SoftLabelGenerator.cropAndResize(tf, tf.constantOf(images), tf.constantOf(crops.boxes()),
                tf.constantOf(crops.boxImages()), shape)
            val t = Teacher(tf, teacher, cut)
            s.initialize()
            t.load(s)
            s.runner().fetch(t.probabilities()).run().use { (it.get(0) as TFloat32).toFloatArray() }
        }
    }
