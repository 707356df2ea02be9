// Document intake (文件导入): the review page's links between the structure and the source text.
// - A .yq-locate button (data-span="start end") scrolls the text to that passage and flashes its pieces.
// - Hovering a highlighted piece of the text outlines the items of the structure it belongs to; a click on it
//   scrolls the structure to the innermost of them. The piece's title attribute, written by the server, names them.
// Everything is delegated from the document, so the structure column may be replaced by htmx at any time.
(function () {
  "use strict";

  function parseSpan(value) {
    var parts = (value || "").split(" ");
    if (parts.length !== 2) {
      return null;
    }
    var start = parseInt(parts[0], 10);
    var end = parseInt(parts[1], 10);
    return isNaN(start) || isNaN(end) || end <= start ? null : { start: start, end: end };
  }

  function piecesOf(span) {
    var source = document.getElementById("source-text");
    if (!source) {
      return [];
    }
    return Array.prototype.filter.call(source.querySelectorAll("[data-start]"), function (el) {
      var start = parseInt(el.dataset.start, 10);
      var end = parseInt(el.dataset.end, 10);
      return start < span.end && end > span.start;
    });
  }

  function flash(pieces) {
    document.querySelectorAll("#source-text .yq-flash").forEach(function (el) {
      el.classList.remove("yq-flash");
    });
    pieces.forEach(function (el) {
      // Restart the animation on a piece flashed a moment ago.
      void el.offsetWidth;
      el.classList.add("yq-flash");
    });
    window.setTimeout(function () {
      pieces.forEach(function (el) { el.classList.remove("yq-flash"); });
    }, 1700);
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".yq-locate") : null;
    if (!button) {
      showItemOf(event.target.closest ? event.target.closest("#source-text mark[data-start]") : null);
      return;
    }
    var span = parseSpan(button.dataset.span);
    var pieces = span ? piecesOf(span) : [];
    if (!pieces.length) {
      return;
    }
    event.preventDefault();
    pieces[0].scrollIntoView({ block: "center", behavior: "smooth" });
    flash(pieces);
  });

  function linkedItems(piece) {
    var start = parseInt(piece.dataset.start, 10);
    var end = parseInt(piece.dataset.end, 10);
    var structure = document.getElementById("review-structure");
    if (!structure) {
      return [];
    }
    return Array.prototype.filter.call(structure.querySelectorAll("[data-span]:not(.yq-locate)"), function (el) {
      var span = parseSpan(el.dataset.span);
      return span && span.start <= start && span.end >= end;
    });
  }

  // A click on a highlighted piece shows the innermost item it belongs to in the structure column.
  function showItemOf(piece) {
    if (!piece) {
      return;
    }
    var items = linkedItems(piece);
    if (!items.length) {
      return;
    }
    var innermost = items.reduce(function (best, el) {
      var span = parseSpan(el.dataset.span);
      var bestSpan = parseSpan(best.dataset.span);
      return span.end - span.start < bestSpan.end - bestSpan.start ? el : best;
    });
    innermost.scrollIntoView({ block: "center", behavior: "smooth" });
    innermost.classList.add("yq-linked");
  }

  function clearLinked() {
    document.querySelectorAll("#review-structure .yq-linked").forEach(function (el) {
      el.classList.remove("yq-linked");
    });
  }

  document.addEventListener("mouseover", function (event) {
    var piece = event.target.closest ? event.target.closest("#source-text mark[data-start]") : null;
    if (!piece) {
      return;
    }
    clearLinked();
    linkedItems(piece).forEach(function (el) { el.classList.add("yq-linked"); });
  });

  // Adding an item: the number proposed follows the choice "after this item" / "under this item", unless typed.
  document.addEventListener("change", function (event) {
    var radio = event.target;
    if (!radio.matches || !radio.matches(".node-add-form input[name=where]")) {
      return;
    }
    var number = radio.form.querySelector("input[name=number]");
    if (!number || !number.dataset.after) {
      return;
    }
    var proposed = [number.dataset.after, number.dataset.under];
    if (!number.value || proposed.indexOf(number.value) !== -1) {
      number.value = radio.value === "under" ? number.dataset.under : number.dataset.after;
    }
  });

  document.addEventListener("mouseout", function (event) {
    var piece = event.target.closest ? event.target.closest("#source-text mark[data-start]") : null;
    if (piece && !(event.relatedTarget && piece.contains(event.relatedTarget))) {
      clearLinked();
    }
  });
})();
