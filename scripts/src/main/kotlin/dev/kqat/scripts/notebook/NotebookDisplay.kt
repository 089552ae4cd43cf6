package dev.kqat.scripts.notebook

/**
 * Where a notebook shows things while a cell runs. The kqat library descriptor's init code wires
 * it to the Kotlin kernel's `DISPLAY(HTML(html), id)` and `UPDATE_DISPLAY(HTML(html), id)`;
 * outside a notebook it shows nothing.
 */
object NotebookDisplay {
    private var show: (html: String, id: String) -> Unit = { _, _ -> }
    private var update: (html: String, id: String) -> Unit = { _, _ -> }

    fun install(show: (html: String, id: String) -> Unit, update: (html: String, id: String) -> Unit) {
        this.show = show
        this.update = update
    }

    /** Shows [html] as a new output of the running cell, later replaced through [update] with the same [id]. */
    fun show(html: String, id: String) = show.invoke(html, id)

    fun update(html: String, id: String) = update.invoke(html, id)
}
