// An editable table marked .single-click-edit (the 数字表): one click on a cell starts editing it.
// Gradio's table only edits on a double click, and Chinese typed through an input method into a
// cell that is merely selected is lost.
(() => {
  document.addEventListener("click", (event) => {
    const target = event.target;
    if (!(target instanceof Element) || target.closest(".cell-menu-button")) return;
    const cell = target.closest(".single-click-edit [role=gridcell]");
    if (!cell || cell.querySelector("input, textarea")) return;
    cell.dispatchEvent(new MouseEvent("dblclick", { bubbles: true, cancelable: true, view: window }));
  });
})();
