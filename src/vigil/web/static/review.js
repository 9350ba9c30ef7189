// Keyboard for the review queue and the listing page. Every action here also has a link or a
// button that works without JavaScript; this only saves reaching for the mouse.
//   queue:   j / k  next / previous row     x  select the row
//            c / d  confirm / dismiss the selected rows (or the current one)
//            o, Enter  open the current row    ?  show or hide the help
//   listing: c / d / u  confirm / dismiss / reopen      q  back to the queue
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const help = document.getElementById("shortcuts");
  const table = document.querySelector("table[data-queue]");
  const bulk = document.getElementById("bulk");
  const reviewForm = document.querySelector("form[data-review-form]");
  const back = document.querySelector("a[data-back]");
  const rows = table ? Array.from(table.querySelectorAll("tbody tr[data-listing]")) : [];
  let current = -1;

  function focusRow(index) {
    if (!rows.length) return;
    if (current >= 0) rows[current].classList.remove("current");
    current = Math.max(0, Math.min(rows.length - 1, index));
    const row = rows[current];
    row.classList.add("current");
    row.scrollIntoView({ block: "nearest" });
  }

  function boxOf(row) {
    return row.querySelector('input[type=checkbox][name=listing]');
  }

  function markSelected(row) {
    const box = boxOf(row);
    row.classList.toggle("selected", Boolean(box && box.checked));
  }

  function decide(decision) {
    if (!bulk) return;
    const ticked = rows.filter((row) => boxOf(row) && boxOf(row).checked);
    if (!ticked.length) {
      if (current < 0 || !boxOf(rows[current])) return;
      boxOf(rows[current]).checked = true; // no selection: decide on the current row
    }
    const button = bulk.querySelector(`button[name=decision][value=${decision}]`);
    if (button) bulk.requestSubmit(button);
  }

  for (const row of rows) {
    const box = boxOf(row);
    if (box) box.addEventListener("change", () => markSelected(row));
    row.addEventListener("click", (event) => {
      if (event.target.closest("a, input, button, label")) return;
      focusRow(rows.indexOf(row));
    });
  }

  const selectAll = table ? table.querySelector("input[data-select-all]") : null;
  if (selectAll) {
    selectAll.hidden = false; // only useful with the script
    selectAll.addEventListener("change", () => {
      for (const row of rows) {
        const box = boxOf(row);
        if (box) box.checked = selectAll.checked;
        markSelected(row);
      }
    });
  }

  function reviewListing(decision) {
    if (!reviewForm) return;
    const button = reviewForm.querySelector(`button[name=decision][value=${decision}]`);
    if (button) reviewForm.requestSubmit(button);
  }

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target instanceof HTMLElement && target.closest("input, select, textarea, [contenteditable]")) {
      return; // typing in the filter bar
    }
    const key = event.key;
    if (key === "?") {
      if (help) {
        help.open = !help.open;
        if (help.open) help.scrollIntoView({ block: "nearest" });
      }
    } else if (table) {
      if (key === "j") focusRow(current + 1);
      else if (key === "k") focusRow(current < 0 ? 0 : current - 1);
      else if (key === "x" && current >= 0) {
        const box = boxOf(rows[current]);
        if (box) {
          box.checked = !box.checked;
          markSelected(rows[current]);
        }
      } else if (key === "c") decide("confirmed");
      else if (key === "d") decide("dismissed");
      else if ((key === "o" || key === "Enter") && current >= 0) {
        window.location.assign(rows[current].dataset.href);
      } else return;
    } else if (reviewForm || back) {
      if (key === "c") reviewListing("confirmed");
      else if (key === "d") reviewListing("dismissed");
      else if (key === "u") reviewListing("open");
      else if (key === "q" && back) window.location.assign(back.href);
      else return;
    } else return;
    event.preventDefault();
  });
});
