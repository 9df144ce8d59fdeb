// On a phone a data table is shown as one card per row (static/css, under
// 640 px); each cell is labelled with its column's heading, copied here.
(function () {
  var tables = document.querySelectorAll("table.data");
  for (var t = 0; t < tables.length; t++) {
    var table = tables[t];
    var head = table.tHead && table.tHead.rows[0];
    if (!head) continue;
    var labels = [];
    for (var h = 0; h < head.cells.length; h++) {
      var cell = head.cells[h];
      var text = (cell.getAttribute("data-label") || cell.textContent).replace(/[▲▼]/g, "").trim();
      for (var s = 0; s < (cell.colSpan || 1); s++) labels.push(text);
    }
    var rows = table.tBodies.length ? table.tBodies[0].rows : [];
    for (var b = 0; b < table.tBodies.length; b++) {
      rows = table.tBodies[b].rows;
      for (var r = 0; r < rows.length; r++) {
        var col = 0;
        for (var c = 0; c < rows[r].cells.length; c++) {
          var td = rows[r].cells[c];
          if (labels[col] && !td.hasAttribute("data-label")) td.setAttribute("data-label", labels[col]);
          col += td.colSpan || 1;
        }
      }
    }
    table.classList.add("labelled");
  }
})();

// A box that scrolls sideways (a wide table kept whole) can be reached and
// scrolled from the keyboard, and is named after its table.
(function () {
  var boxes = document.querySelectorAll(".scroll");
  for (var i = 0; i < boxes.length; i++) {
    var box = boxes[i];
    if (box.scrollWidth <= box.clientWidth + 1 || box.hasAttribute("tabindex")) continue;
    box.tabIndex = 0;
    if (!box.hasAttribute("role")) box.setAttribute("role", "region");
    if (!box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")) {
      var caption = box.querySelector("caption");
      var scope = box.closest("section, article, main");
      var heading = scope && scope.querySelector("h1, h2, h3");
      var name = (caption || heading || document.querySelector("h1") || {}).textContent;
      if (name) box.setAttribute("aria-label", name.trim());
    }
  }
})();
