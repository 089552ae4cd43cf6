@file:Suppress("FunctionName")

package dev.kqat.scripts.kernel

/**
 * The Kotlin Jupyter kernel's functions that kqat's library descriptor calls, with the kernel's
 * signatures (`HTML` of `org.jetbrains.kotlinx.jupyter.api`, `DISPLAY` and `UPDATE_DISPLAY` of
 * its script template), recording what a notebook would show. The kernel itself is distributed
 * through PyPI and conda, which the build machines cannot reach.
 */
fun HTML(text: String, isolated: Boolean = false): Map<String, String> = mapOf("text/html" to text)

fun DISPLAY(value: Any, id: String? = null) {
    KernelOutputs.events += KernelOutputs.Event("display", id, value)
}

fun UPDATE_DISPLAY(value: Any, id: String?) {
    KernelOutputs.events += KernelOutputs.Event("update", id, value)
}

object KernelOutputs {
    data class Event(val kind: String, val id: String?, val value: Any)

    val events = mutableListOf<Event>()

    /** The value a renderer is applied to (the kernel's `$it`). */
    @JvmStatic
    var rendered: Any? = null
}
