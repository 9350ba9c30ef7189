// A scan's page follows the scan while it runs: it asks the JSON API for the scan's state every
// two seconds, moves the progress bar and the counts, and reloads the page once the scan has
// ended. Without JavaScript the page refreshes itself instead (a <noscript> refresh).
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const box = document.querySelector("[data-scan-id]");
  if (!box || box.dataset.active !== "true") return;
  const address = `/api/v1/scans/${encodeURIComponent(box.dataset.scanId)}`;
  const bar = box.querySelector("progress[data-progress]");
  const done = box.querySelector("[data-done]");
  const total = box.querySelector("[data-total]");
  const numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);
  const status = box.dataset.status;

  async function poll() {
    let delay = 2000;
    try {
      const response = await fetch(address, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) {
        delay = 10000; // signed out, or a server problem: ask less often
      } else {
        const scan = await response.json();
        if (scan.status !== "queued" && scan.status !== "running") {
          window.location.reload(); // finished or failed: show the results or the reason
          return;
        }
        if (scan.status !== status) {
          window.location.reload(); // queued → running: the page's wording changes
          return;
        }
        if (bar && scan.total) {
          bar.max = scan.total;
          bar.value = scan.done;
          bar.textContent = `${scan.percent}%`;
        }
        if (done) done.textContent = numbers.format(scan.done);
        if (total && scan.total !== null) total.textContent = numbers.format(scan.total);
      }
    } catch (error) {
      delay = 10000; // the network is away for a moment
    }
    window.setTimeout(poll, delay);
  }
  window.setTimeout(poll, 1500);
});
