// Sorting and filtering for the textmine report. Reads only textContent and data-* attributes
// and never writes HTML, so citizen text stays text.
(function () {
  "use strict";
  var officeSel = document.getElementById("f-office");
  var themeSel = document.getElementById("f-theme");
  var search = document.getElementById("f-text");
  var status = document.getElementById("f-status");

  function hasTheme(el, theme) {
    var themes = (el.getAttribute("data-themes") || "").split(" ");
    return themes.indexOf(theme) !== -1;
  }

  function applyFilters() {
    var office = officeSel ? officeSel.value : "";
    var theme = themeSel ? themeSel.value : "";
    var text = search ? search.value.trim().toLowerCase() : "";
    var rows = document.querySelectorAll("table.filterable tbody tr");
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      var show = true;
      if (office && row.hasAttribute("data-office") && row.getAttribute("data-office") !== office) { show = false; }
      if (show && theme && row.hasAttribute("data-themes") && !hasTheme(row, theme)) { show = false; }
      if (show && text && row.textContent.toLowerCase().indexOf(text) === -1) { show = false; }
      row.classList.toggle("hidden", !show);
    }
    var sections = document.querySelectorAll("article.office");
    var shown = 0;
    for (var j = 0; j < sections.length; j++) {
      var sec = sections[j];
      var visible = true;
      if (office && sec.getAttribute("data-office") !== office) { visible = false; }
      if (visible && theme && !hasTheme(sec, theme)) { visible = false; }
      if (visible && text && sec.textContent.toLowerCase().indexOf(text) === -1) { visible = false; }
      sec.classList.toggle("hidden", !visible);
      if (visible) { shown += 1; }
    }
    if (status) { status.textContent = "显示 " + shown + " / " + sections.length + " 个单位"; }
  }

  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    return cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
  }

  function sortTable(th) {
    var table = th.closest("table");
    var tbody = table.tBodies[0];
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var heads = th.parentNode.children;
    for (var k = 0; k < heads.length; k++) { heads[k].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(tbody.rows);
    var numeric = rows.every(function (r) { var v = cellValue(r, index); return v === "" || !isNaN(Number(v)); });
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index);
      var c = numeric ? (Number(x || 0) - Number(y || 0)) : x.localeCompare(y, "zh-CN");
      return ascending ? c : -c;
    });
    rows.forEach(function (r) { tbody.appendChild(r); });
  }

  var sortable = document.querySelectorAll("th.sortable");
  for (var s = 0; s < sortable.length; s++) {
    sortable[s].addEventListener("click", function () { sortTable(this); });
    sortable[s].addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortTable(this); }
    });
  }
  [officeSel, themeSel].forEach(function (el) { if (el) { el.addEventListener("change", applyFilters); } });
  if (search) { search.addEventListener("input", applyFilters); }
  var reset = document.getElementById("f-reset");
  if (reset) {
    reset.addEventListener("click", function () {
      if (officeSel) { officeSel.value = ""; }
      if (themeSel) { themeSel.value = ""; }
      if (search) { search.value = ""; }
      applyFilters();
    });
  }
  var links = document.querySelectorAll("a[data-office-link]");
  for (var l = 0; l < links.length; l++) {
    links[l].addEventListener("click", function () {
      if (officeSel && officeSel.value && officeSel.value !== this.getAttribute("data-office-link")) {
        officeSel.value = "";
        applyFilters();
      }
    });
  }
  applyFilters();
  document.documentElement.setAttribute("data-ready", "1");
})();
