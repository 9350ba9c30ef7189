// Small progressive enhancements shared by every page; each page's own script adds the rest.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Ask before destructive buttons (they work without this when JavaScript is off).
  for (const button of document.querySelectorAll("button.danger[type=submit]")) {
    button.addEventListener("click", (event) => {
      const question = button.dataset.confirm;
      if (question && !window.confirm(question)) event.preventDefault();
    });
  }
  // Close the user menu when clicking elsewhere.
  const menu = document.querySelector("details.usermenu");
  if (menu) {
    document.addEventListener("click", (event) => {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  }
});
